package notify_test

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/platform/jobs"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// env is one test's database and workspace.
type env struct {
	pool *pgxpool.Pool
	q    *db.Queries
	ws   uuid.UUID
	jobs *jobs.Client // inserts only
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pool, _ := dbtest.New(t)
	ws := uuid.New()
	_, err := db.New(pool).CreateWorkspace(t.Context(), db.CreateWorkspaceParams{
		ID: ws, Slug: "ws-" + strings.ToLower(rand.Text()[:8]), Name: "Notify test",
	})
	require.NoError(t, err)
	inserter, err := jobs.New(pool, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	return &env{pool: pool, q: db.New(pool), ws: ws, jobs: inserter}
}

// fastRetries is the test configuration: retries milliseconds apart instead of minutes. The
// test receivers listen on loopback, which the default guard denies: it is allowed explicitly.
func fastRetries() notify.Config {
	return notify.Config{RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond, HTTPTimeout: 5 * time.Second,
		Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
}

// startWorker starts a River client working notify.Queue, stopped when the test ends.
func (e *env) startWorker(t *testing.T, cfg notify.Config) {
	t.Helper()
	workers := river.NewWorkers()
	require.NoError(t, notify.QueueOf(cfg, nil).Register(workers))
	client, err := river.NewClient(riverpgxv5.New(e.pool), &river.Config{
		Queues:            map[string]river.QueueConfig{notify.Queue: {MaxWorkers: 4}},
		Workers:           workers,
		FetchCooldown:     5 * time.Millisecond,
		FetchPollInterval: 20 * time.Millisecond, // snoozed jobs are found by polling
		Logger:            slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
	})
	require.NoError(t, err)
	require.NoError(t, client.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, client.Stop(ctx))
	})
}

// enqueue queues m for the test's workspace in a transaction of its own and commits it.
func (e *env) enqueue(t *testing.T, m notify.Message) uuid.UUID {
	t.Helper()
	m.WorkspaceID = e.ws
	var id uuid.UUID
	err := pgx.BeginFunc(t.Context(), e.pool, func(tx pgx.Tx) error {
		var err error
		id, err = notify.Enqueue(t.Context(), e.jobs, tx, m)
		return err
	})
	require.NoError(t, err)
	return id
}

// waitDone waits until the delivery is no longer queued and returns it.
func (e *env) waitDone(t *testing.T, id uuid.UUID) db.NotificationDelivery {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		d, err := e.q.GetDelivery(t.Context(), db.GetDeliveryParams{WorkspaceID: e.ws, ID: id})
		require.NoError(t, err)
		if d.Status != notify.StatusQueued {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery %s still queued after %d attempts; last error %v", id, d.Attempts, ptr(d.LastError))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) attempts(t *testing.T, id uuid.UUID) []db.NotificationAttempt {
	t.Helper()
	a, err := e.q.ListDeliveryAttempts(t.Context(), db.ListDeliveryAttemptsParams{WorkspaceID: e.ws, DeliveryID: id})
	require.NoError(t, err)
	return a
}

// jobStates returns the states of the River jobs of the notify queue.
func (e *env) jobStates(t *testing.T) []string {
	t.Helper()
	rows, err := e.pool.Query(t.Context(), "SELECT state::text FROM river_job WHERE queue = $1 ORDER BY id", notify.Queue)
	require.NoError(t, err)
	states, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	return states
}

func ptr[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}
