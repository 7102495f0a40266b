package notify_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/notify"
)

// Old finished deliveries go with their attempts; queued ones stay, however old.
func TestPruneForgetsOldFinishedDeliveries(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	msg := notify.Message{Channel: notify.ChannelWebhook, Target: "http://127.0.0.1:9/hook", Subject: "s", Text: "t"}
	sent, queued, recent := e.enqueue(t, msg), e.enqueue(t, msg), e.enqueue(t, msg)
	_, err := e.pool.Exec(ctx, "UPDATE notification_deliveries SET created_at = now() - interval '100 days' WHERE id = ANY($1)", []any{sent, queued})
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, "UPDATE notification_deliveries SET status = 'sent' WHERE id = ANY($1)", []any{sent, recent})
	require.NoError(t, err)
	_, err = e.pool.Exec(ctx, `INSERT INTO notification_attempts (workspace_id, delivery_id, attempt, ok, error, duration_ms)
		VALUES ($1, $2, 1, true, '', 1)`, e.ws, sent)
	require.NoError(t, err)

	n, err := notify.Prune(ctx, e.q, time.Now().Add(-90*24*time.Hour))
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)
	var left []string
	rows, err := e.pool.Query(ctx, "SELECT id::text FROM notification_deliveries ORDER BY id")
	require.NoError(t, err)
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		left = append(left, id)
	}
	assert.ElementsMatch(t, []string{queued.String(), recent.String()}, left)
	var attempts int
	require.NoError(t, e.pool.QueryRow(ctx, "SELECT count(*) FROM notification_attempts").Scan(&attempts))
	assert.Zero(t, attempts)
}
