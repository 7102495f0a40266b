package remote

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
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
