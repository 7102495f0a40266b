package batch_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/platform/batch"
)

// Batches go at their size, or after `every` for a partial one; what is queued at shutdown
// is flushed, and nothing is lost or handed twice.
func TestQueueBatchesBySizeTimeAndDrain(t *testing.T) {
	q := batch.New[int](100)
	var mu sync.Mutex
	var got [][]int
	flush := func(_ context.Context, b []int) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, append([]int(nil), b...)) // Run reuses the slice
	}
	batches := func() [][]int {
		mu.Lock()
		defer mu.Unlock()
		return append([][]int(nil), got...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx, 3, 50*time.Millisecond, flush) }()

	for i := range 4 {
		require.NoError(t, q.Add(ctx, i))
	}
	require.Eventually(t, func() bool { return len(batches()) == 2 }, 2*time.Second, 5*time.Millisecond)
	assert.Equal(t, [][]int{{0, 1, 2}, {3}}, batches(), "a full batch at once, the rest after the delay")

	for i := 4; i < 6; i++ {
		require.NoError(t, q.Add(ctx, i))
	}
	cancel()
	<-done
	var all []int
	for _, b := range batches() {
		all = append(all, b...)
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, all)
}

// After cancellation an item still goes in while there is room; a full queue refuses it.
func TestAddAfterCancelWhileThereIsRoom(t *testing.T) {
	q := batch.New[int](2)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, q.Add(ctx, 1))
	require.NoError(t, q.Add(ctx, 2))
	assert.ErrorIs(t, q.Add(ctx, 3), context.Canceled)
	assert.Equal(t, 2, q.Len())
}
