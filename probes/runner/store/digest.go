package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/platform/metrics"
)

// FreshMargin is how much older than one interval plus the timeout a location's last run may
// be and still count for N-of-M confirmation (DigestRuns; the evaluator's FailingLocations
// names the same locations): the time a result takes from its run to its digest, with room
// for a claim that comes a poll late.
const FreshMargin = 10 * time.Second

// RunsHook sees, inside the digest's transaction, every check whose status or failure streak
// its runs just changed, with its state before and after (a check whose runs change nothing
// is not shown: see DigestRuns). What it writes commits or rolls back with the digest, so it
// sees each change exactly once (the incident evaluator is one).
type RunsHook func(ctx context.Context, tx pgx.Tx, runs []db.DigestRunsRow) error

// Digester folds committed result batches into the state derived from them. Any number of
// processes may run one: an advisory lock lets one digest at a time, and a batch is deleted
// in the transaction that digests it.
type Digester struct {
	pool      *pgxpool.Pool
	log       *slog.Logger
	kick      chan struct{}
	hooks     []RunsHook
	PollEvery time.Duration // how often to look for batches written by other processes
	// MaxBatches is how many batches one transaction digests (1). More would spread the
	// per-transaction cost thinner, but PostgreSQL estimates the rows of a batch from the
	// statistics of check_results, in which the newest batch ids never appear yet: it plans
	// for one row and chooses nested loops whose cost grows with the square of the rows.
	// A digest that fell behind then took 50 batches at once and ran for 15–25 s, which
	// held the leases of thousands of checks and made it fall further behind (10,000 checks
	// at 10 s ran at a third of their schedule). One batch (at most the writer's BatchSize)
	// keeps each digest short whatever the plan.
	MaxBatches int32
	Metrics    *metrics.Metrics
}

// NewDigester returns a digester; call Run to start it.
func NewDigester(pool *pgxpool.Pool, log *slog.Logger, hooks ...RunsHook) *Digester {
	return &Digester{pool: pool, log: log, kick: make(chan struct{}, 1), hooks: hooks, PollEvery: 500 * time.Millisecond, MaxBatches: 1}
}

// Kick asks for a digest now (a batch was just written); it never blocks.
func (d *Digester) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run digests whenever kicked or polled, until ctx ends.
func (d *Digester) Run(ctx context.Context) {
	tick := time.NewTicker(d.PollEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-d.kick:
		case <-tick.C:
		}
		if err := d.DigestAll(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("digesting results failed; will retry", "err", err)
		}
	}
}

// DigestAll digests until no batch is left (or another process holds the digest lock).
//
// One bad batch must not stall every check: a failed pass is retried one batch at a time,
// and a batch that the hooks refuse with a database error about its data (not an outage or
// a deadlock, which pass) is digested without its hooks, with an error in the log. Its
// results still count for latest, rollups and leases; only its incident evaluation is lost.
func (d *Digester) DigestAll(ctx context.Context) error {
	for {
		n, err := d.once(ctx, d.MaxBatches, true)
		if err != nil && ctx.Err() == nil {
			n, err = d.once(ctx, 1, true)
			if err != nil && poisonous(err) {
				d.log.Error("a result batch fails its hooks; digesting it without them", "err", err)
				n, err = d.once(ctx, 1, false)
			}
		}
		if err != nil || n == 0 {
			return err
		}
	}
}

// poisonous reports an error that retrying will not cure: PostgreSQL refused the data, as
// opposed to connection loss, deadlocks, lock timeouts, lack of resources or shutdown.
func poisonous(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || len(pgErr.Code) < 2 {
		return false
	}
	switch pgErr.Code[:2] {
	case "08", "40", "53", "55", "57", "58":
		return false
	}
	return true
}

// Once digests up to MaxBatches batches in one transaction and says how many it took.
func (d *Digester) Once(ctx context.Context) (batches int, err error) {
	return d.once(ctx, d.MaxBatches, true)
}

func (d *Digester) once(ctx context.Context, max int32, withHooks bool) (batches int, err error) {
	var taken []db.TakeResultBatchesRow
	err = pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		locked, err := q.TryDigestLock(ctx)
		if err != nil || !locked {
			return err
		}
		taken, err = q.TakeResultBatches(ctx, max)
		if err != nil || len(taken) == 0 {
			return err
		}
		batches = len(taken)
		return d.digest(ctx, tx, taken, withHooks)
	})
	if err != nil {
		return 0, err
	}
	// Committed: each batch's results are now visible as latest results, rollups and incidents.
	now := time.Now()
	for _, b := range taken {
		d.Metrics.DigestLag(now.Sub(b.FirstTime))
	}
	return batches, nil
}

func (d *Digester) digest(ctx context.Context, tx pgx.Tx, taken []db.TakeResultBatchesRow, withHooks bool) error {
	q := db.New(tx)
	ids := make([]int64, len(taken))
	first, last := taken[0].FirstTime, taken[0].LastTime
	records := 0
	for i, b := range taken {
		ids[i] = b.ID
		first, last = earliest(first, b.FirstTime), latest(last, b.LastTime)
		records += int(b.Records)
	}
	t0 := time.Now()
	if err := q.DigestRollups(ctx, db.DigestRollupsParams{
		BatchIds: ids, FirstTime: first, LastTime: last,
		Ok: int16(probes.OK), Warning: int16(probes.Warning), Critical: int16(probes.Critical),
	}); err != nil {
		return fmt.Errorf("rollups: %w", err)
	}
	if err := q.DigestLatest(ctx, db.DigestLatestParams{BatchIds: ids, FirstTime: first, LastTime: last}); err != nil {
		return fmt.Errorf("latest: %w", err)
	}
	if err := q.DigestSchedules(ctx, db.DigestSchedulesParams{BatchIds: ids, FirstTime: first, LastTime: last, Ok: int16(probes.OK)}); err != nil {
		return fmt.Errorf("schedules: %w", err)
	}
	runs, err := q.DigestRuns(ctx, db.DigestRunsParams{FreshMarginSec: int32(FreshMargin / time.Second), BatchIds: ids, FirstTime: first, LastTime: last})
	if err != nil {
		return fmt.Errorf("runs: %w", err)
	}
	if withHooks {
		for _, hook := range d.hooks {
			if err := hook(ctx, tx, runs); err != nil {
				return err
			}
		}
	}
	if err := q.DigestWorkerRuns(ctx, db.DigestWorkerRunsParams{BatchIds: ids, FirstTime: first, LastTime: last}); err != nil {
		return fmt.Errorf("worker counters: %w", err)
	}
	if err := q.DeleteResultBatches(ctx, ids); err != nil {
		return fmt.Errorf("batches: %w", err)
	}
	d.log.Debug("results digested", "batches", len(taken), "records", records, "checks", len(runs), "took", time.Since(t0))
	return nil
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
