package worker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/probes/runner/worker"
)

// endlessSource is a backend with more work than any worker can hold: each claim gets all
// the runs it asks for, due one after another at a fixed rate from where the last claim's
// ended (a schedule of runs/s). It records how many runs each claim asked for.
type endlessSource struct {
	every time.Duration // between two runs' due times

	mu      sync.Mutex
	nextDue time.Time
	asked   []int
	results int
}

func (s *endlessSource) Heartbeat(context.Context) error                        { return nil }
func (s *endlessSource) Release(context.Context, map[uuid.UUID]time.Time) error { return nil }
func (s *endlessSource) Start(context.Context) error                            { return nil }
func (s *endlessSource) Run(_, flush context.Context)                           { <-flush.Done() }

func (s *endlessSource) Claim(_ context.Context, max int) ([]worker.Claim, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, max)
	now := time.Now()
	if s.nextDue.Before(now) {
		s.nextDue = now
	}
	claims := make([]worker.Claim, max)
	for i := range claims {
		// A type no probe has: the runner answers Unknown at once, with no traffic.
		claims[i] = worker.Claim{CheckID: uuid.New(), RunID: uuid.New(), CheckType: "none", TimeoutSec: 1, DueIn: s.nextDue.Sub(now)}
		s.nextDue = s.nextDue.Add(s.every)
	}
	return claims, nil
}

func (s *endlessSource) Add(context.Context, store.Record) error {
	s.mu.Lock()
	s.results++
	s.mu.Unlock()
	return nil
}

// TestClaimsComeInBatches: a worker that holds all it may (a schedule busier than its limit)
// claims again once a quarter of a batch is free, not a few runs at each start: a claim
// costs nearly as much for a few rows as for many. The runs still start on their schedule.
func TestClaimsComeInBatches(t *testing.T) {
	// 100 runs/s: each 50-ms group of starts frees 5 places, below a quarter batch (10).
	src := &endlessSource{every: 10 * time.Millisecond}
	const batch = 40 // so the worker holds at most 4 + 2*40 runs
	w := worker.NewWith(src, worker.Options{Name: "batches", Concurrency: 4, ClaimBatch: batch, PollEvery: 50 * time.Millisecond, Log: quiet})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.NoError(t, w.Run(ctx))

	src.mu.Lock()
	defer src.mu.Unlock()
	require.Greater(t, len(src.asked), 10, "the worker claimed again and again")
	for i, n := range src.asked {
		assert.GreaterOrEqual(t, n, batch/4, "claim %d asked for %d runs", i, n)
	}
	// 2 s at 100 runs/s, the first due at once: about 200 runs; the held ones that were not
	// due yet when the worker stopped were handed back, not run.
	assert.InDelta(t, 200, src.results, 40, "the runs kept to their schedule")
}
