// Package jobs builds a process's one River client. River is the job queue SecuMon keeps in
// PostgreSQL: a job inserted in a transaction exists exactly when that transaction commits,
// survives restarts, and LISTEN/NOTIFY wakes the process that works it.
//
// The parts that work jobs (notification deliveries, AI analysis steps, run-now requests)
// each contribute a Queue; the parts that only insert jobs are given the client. The
// composition root (package server) builds the client once per process from the queues the
// process works.
package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// Client is the River client every part of a process shares.
type Client = river.Client[pgx.Tx]

// Queue is a queue a process works and the job workers that work it.
type Queue struct {
	Name       string
	MaxWorkers int
	// Register adds the queue's workers (river.AddWorkerSafely for each job kind).
	Register func(*river.Workers) error
}

// rescueAfter is how long a running job may go without finishing before River retries it on
// the assumption that its process died. It must exceed every worker's Timeout: the longest is
// an AI analysis step (3.5 min by default).
const rescueAfter = 5 * time.Minute

// New returns the client over pool that works queues (none: an insert-only client, which
// cannot be started).
func New(pool *pgxpool.Pool, log *slog.Logger, queues ...Queue) (*Client, error) {
	cfg := &river.Config{
		Logger: log.With("component", "river"), RescueStuckJobsAfter: rescueAfter,
		// A process inserts jobs that other processes work (`serve --no-worker` queues run-now
		// requests for `secumon worker`), so a kind it has no worker for is not an error.
		SkipUnknownJobCheck: true,
	}
	if len(queues) > 0 {
		cfg.Workers = river.NewWorkers()
		cfg.Queues = make(map[string]river.QueueConfig, len(queues))
		for _, q := range queues {
			if err := q.Register(cfg.Workers); err != nil {
				return nil, fmt.Errorf("jobs: queue %s: %w", q.Name, err)
			}
			cfg.Queues[q.Name] = river.QueueConfig{MaxWorkers: q.MaxWorkers}
		}
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return c, nil
}

// Begin opens a transaction on the database of the River client running the job of ctx, so
// a worker needs no pool of its own and cannot be pointed at a different database.
func Begin(ctx context.Context) (pgx.Tx, error) {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return nil, err
	}
	execTx, err := client.Driver().GetExecutor().Begin(ctx)
	if err != nil {
		return nil, err
	}
	return client.Driver().UnwrapTx(execTx), nil
}
