package store

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/server/platform/batch"
	"github.com/secuaas/secumon/server/platform/metrics"
)

// Writer batches records from many probe goroutines into few transactions: a batch is written
// when it reaches BatchSize or FlushEvery after its first record, whichever comes first.
type Writer struct {
	pool       *pgxpool.Pool
	log        *slog.Logger
	queue      *batch.Queue[Record]
	BatchSize  int
	FlushEvery time.Duration
	Written    func() // called after each batch commits (to kick the Digester); may be nil
	Metrics    *metrics.Metrics
}

// NewWriter returns a writer; call Run to start it.
func NewWriter(pool *pgxpool.Pool, log *slog.Logger) *Writer {
	return &Writer{pool: pool, log: log, queue: batch.New[Record](4096), BatchSize: 1000, FlushEvery: 200 * time.Millisecond}
}

// Add queues r; it blocks while the queue is full (back-pressure on the probes) or until ctx ends.
func (w *Writer) Add(ctx context.Context, r Record) error { return w.queue.Add(ctx, r) }

// Run writes batches until ctx ends, then writes what is still queued. A failed batch is
// retried with backoff (the database may be restarting) rather than dropped.
func (w *Writer) Run(ctx context.Context) {
	w.queue.Run(ctx, w.BatchSize, w.FlushEvery, w.writeWithRetry)
}

func (w *Writer) writeWithRetry(ctx context.Context, batch []Record) {
	backoff := 100 * time.Millisecond
	for {
		t0 := time.Now()
		err := Write(ctx, w.pool, batch)
		if err == nil {
			w.log.Debug("results written", "records", len(batch), "took", time.Since(t0), "queued", w.queue.Len())
			w.Metrics.ResultsWritten(len(batch))
			if w.Written != nil {
				w.Written()
			}
			return
		}
		if ctx.Err() != nil {
			w.log.Error("results lost at shutdown", "records", len(batch), "err", err)
			return
		}
		w.log.Warn("writing results failed; retrying", "records", len(batch), "err", err, "in", backoff)
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}
