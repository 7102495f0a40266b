package remote

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/worker"
)

var quiet = slog.New(slog.DiscardHandler)

func TestCheckServerURL(t *testing.T) {
	for _, ok := range []string{"https://secumon.example.com", "https://10.0.0.12:8443/", "http://127.0.0.1:8080", "http://[::1]:8080", "http://localhost:8080"} {
		assert.NoError(t, CheckServerURL(ok), ok)
	}
	for _, bad := range []string{"http://secumon.example.com", "http://10.0.0.12:8080", "ftp://127.0.0.1", "127.0.0.1:8080", ""} {
		assert.Error(t, CheckServerURL(bad), bad)
	}
}

func batchOf(n int) client.WorkerResultBatch {
	b := client.WorkerResultBatch{Name: "w"}
	for range n {
		b.Results = append(b.Results, client.WorkerResult{WorkspaceId: uuid.New(), CheckId: uuid.New(), RunId: uuid.New(), Time: time.Now()})
	}
	return b
}

// The spool gives batches back oldest first, each with the key it was given once, survives a
// restart, and drops the oldest batches beyond its cap.
func TestSpool(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := openSpool(dir, 1<<20, quiet)
	require.NoError(t, err)
	b1, b2 := batchOf(1), batchOf(2)
	s.put(b1)
	s.put(b2)
	e1, ok := s.oldest(ctx)
	require.True(t, ok)
	assert.Equal(t, b1.Results[0].RunId, e1.Batch.Results[0].RunId)
	again, _ := s.oldest(ctx)
	assert.Equal(t, e1.Key, again.Key, "a batch keeps its Idempotency-Key until acknowledged")

	// A new process finds the batches, in order.
	s2, err := openSpool(dir, 1<<20, quiet)
	require.NoError(t, err)
	r1, _ := s2.oldest(ctx)
	assert.Equal(t, e1.Key, r1.Key)
	s2.remove(r1)
	r2, _ := s2.oldest(ctx)
	assert.Equal(t, b2.Results[1].RunId, r2.Batch.Results[1].RunId)
	s2.remove(r2)
	s2.close()
	_, ok = s2.oldest(ctx)
	assert.False(t, ok, "closed and empty")
	left, _ := os.ReadDir(dir)
	assert.Empty(t, left)

	// Bounded: a spool of ~3 batches keeps the newest ones.
	one := batchOf(10)
	small, err := openSpool(t.TempDir(), 1, quiet)
	require.NoError(t, err)
	small.put(one)
	size := small.total
	small, err = openSpool(t.TempDir(), 3*size+size/2, quiet)
	require.NoError(t, err)
	var last client.WorkerResultBatch
	for range 10 {
		last = batchOf(10)
		small.put(last)
	}
	assert.Equal(t, 3, small.len())
	assert.Equal(t, 7, small.dropped)
	var got []uuid.UUID
	for small.len() > 0 {
		e, _ := small.oldest(ctx)
		got = append(got, e.Batch.Results[0].RunId)
		small.remove(e)
	}
	assert.Equal(t, last.Results[0].RunId, got[2], "the newest batch is kept")
}

// TestHeartbeatPacedByServer: the worker heartbeats as often as the server's heartbeat answer
// says (heartbeat_every_sec), not at its own default of 10 s.
func TestHeartbeatPacedByServer(t *testing.T) {
	var beats atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v2/worker/heartbeat":
			beats.Add(1)
			_, _ = w.Write([]byte(`{"worker_id":"9a8b7c6d-1234-4abc-9def-aabbccddeeff","heartbeat_every_sec":1,"lease_margin_sec":20}`))
		case "/api/v2/worker/claims":
			_, _ = w.Write([]byte(`{"checks":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	w, err := New(Options{Server: srv.URL, Token: "wrk_test", SpoolDir: t.TempDir()}, worker.Options{Name: "paced", Log: quiet})
	require.NoError(t, err)
	ctx, stop := context.WithTimeout(context.Background(), 3500*time.Millisecond)
	defer stop()
	require.NoError(t, w.Run(ctx))
	// One to register, then one a second: 4 in 3.5 s (3 on a slow start), where the default
	// pace would have sent only the first.
	assert.GreaterOrEqual(t, beats.Load(), int32(3))
	assert.LessOrEqual(t, beats.Load(), int32(5))
}
