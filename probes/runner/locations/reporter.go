// Package locations reports the locations that no live worker serves. A check pinned to
// locations runs in each of them by the workers started there; when a location has none (never
// had one, or its workers died or were retired), its schedules would silently stop running.
// The reporter, run by `secumon serve`, writes instead one UNKNOWN result per interval for each
// such schedule ("no live worker in location X"), with that location and no worker, so that
// the check's results and GET /workers/locations show the gap. Those results confirm nothing
// for N-of-M (DigestRuns lets them move no schedule's state).
package locations

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
)

// Options of a Reporter; zero values take the defaults in parentheses.
type Options struct {
	// StaleAfter: a worker whose heartbeat is older is not live (required).
	StaleAfter time.Duration
	// MinGrace: a schedule is reported when overdue by more than one interval and at least
	// this (30 s), so that a worker's usual lateness is never taken for its absence.
	MinGrace time.Duration
	// Every: how often to look (5 s).
	Every time.Duration
	// MaxPerRound bounds the schedules reported per look (1000); the rest come next time.
	MaxPerRound int32
	Log         *slog.Logger
}

// Reporter finds unserved schedules and reports them. The result partitions it writes to are
// kept ahead by the process's worker, or by the process itself when it runs none (server.App).
type Reporter struct {
	pool *pgxpool.Pool
	o    Options
}

// New returns a reporter; call Run to start it.
func New(pool *pgxpool.Pool, o Options) *Reporter {
	if o.MinGrace <= 0 {
		o.MinGrace = 30 * time.Second
	}
	if o.Every <= 0 {
		o.Every = 5 * time.Second
	}
	if o.MaxPerRound <= 0 {
		o.MaxPerRound = 1000
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Reporter{pool: pool, o: o}
}

// Run reports until ctx ends; a failed round is logged and retried at the next tick.
func (r *Reporter) Run(ctx context.Context) {
	t := time.NewTicker(r.o.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
				r.o.Log.Warn("reporting unserved locations", "err", err)
			}
		}
	}
}

// Once reports the schedules unserved now and returns how many. The claim moves each one on
// by an interval in its own statement, before the results are written: a crash in between
// loses that interval's report rather than repeating it.
func (r *Reporter) Once(ctx context.Context) (int, error) {
	rows, err := db.New(r.pool).ClaimUnservedSchedules(ctx, db.ClaimUnservedSchedulesParams{
		MinGraceSec:   int32(r.o.MinGrace / time.Second),
		StaleAfterSec: int32(r.o.StaleAfter / time.Second),
		MaxRows:       r.o.MaxPerRound,
	})
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	now := time.Now().UTC()
	batch := make([]store.Record, len(rows))
	for i, s := range rows {
		runID := uuid.Nil
		if s.RunID != nil {
			runID = *s.RunID // a run-now request waiting there is answered by this report
		}
		batch[i] = store.Record{
			WorkspaceID: s.WorkspaceID, CheckID: s.CheckID, HostID: s.HostID, Location: s.Location, RunID: runID,
			Time: now, Status: int16(probes.Unknown), Output: NoWorker(s.Location),
		}
	}
	if err := store.Write(ctx, r.pool, batch); err != nil {
		return 0, fmt.Errorf("writing %d reports: %w", len(batch), err)
	}
	return len(batch), nil
}

// NoWorker is the output of a location's report.
func NoWorker(location string) string {
	return fmt.Sprintf("no live worker in location %s", location)
}
