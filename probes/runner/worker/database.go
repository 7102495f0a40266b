package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
)

// dbBackend is the backend of a worker that holds database credentials: it registers in every
// workspace, claims from PostgreSQL, writes results with the batched store writer and
// digests them.
type dbBackend struct {
	id       uuid.UUID
	o        *Options
	pool     *pgxpool.Pool
	q        *db.Queries
	writer   *store.Writer
	digester *store.Digester
}

// New prepares a worker over pool.
func New(pool *pgxpool.Pool, o Options) *Worker {
	o = o.withDefaults()
	d := &dbBackend{
		id: IDFor(o.Name), pool: pool, q: db.New(pool),
		writer:   store.NewWriter(pool, o.Log),
		digester: store.NewDigester(pool, o.Log, o.Hooks...),
	}
	d.writer.Written = d.digester.Kick
	d.writer.Metrics, d.digester.Metrics = o.Metrics, o.Metrics
	w := &Worker{ID: d.id, o: o, b: d, db: d}
	d.o = &w.o
	return w
}

// Digested asks for a digest now, after results were written outside the worker (a remote
// worker's batch received by this process); nil-safe.
func (w *Worker) Digested() {
	if w != nil && w.db != nil {
		w.db.digester.Kick()
	}
}

// Start registers the worker (a database restarting as the worker starts is waited for,
// not a reason to stop) and makes sure today's partitions exist.
func (d *dbBackend) Start(ctx context.Context) error {
	return database.Retry(ctx, d.o.Log, "worker: start", func(ctx context.Context) error {
		if err := d.Heartbeat(ctx); err != nil {
			return err
		}
		if err := database.EnsurePartitions(ctx, d.pool, time.Now()); err != nil {
			return fmt.Errorf("worker: partitions: %w", err)
		}
		return nil
	})
}

func (d *dbBackend) Run(ctx, flush context.Context) {
	var bg sync.WaitGroup
	bg.Go(func() { d.writer.Run(flush) })
	bg.Go(func() { d.digester.Run(flush) })
	bg.Go(func() { database.MaintainPartitions(ctx, d.pool, d.o.RetentionDays, d.o.Log) })
	bg.Wait()
}

// Heartbeat registers the worker in every workspace.
func (d *dbBackend) Heartbeat(ctx context.Context) error {
	err := d.q.RegisterWorkerEverywhere(ctx, db.RegisterWorkerEverywhereParams{
		ID: d.id, Name: d.o.Name, Location: d.o.Location, Version: d.o.Version,
	})
	if err != nil {
		return fmt.Errorf("worker: register: %w", err)
	}
	return nil
}

func (d *dbBackend) Claim(ctx context.Context, max int) ([]Claim, error) {
	lookahead := d.o.Lookahead
	if lookahead < 0 {
		lookahead = 0
	}
	return ClaimDue(ctx, d.pool, ClaimParams{WorkerID: d.id, Location: d.o.Location, Max: max, LeaseMargin: d.o.LeaseMargin,
		Lookahead: lookahead}, d.o.Log)
}

func (d *dbBackend) Release(ctx context.Context, runs map[uuid.UUID]time.Time) error {
	p := db.ReleaseClaimsParams{WorkerID: &d.id}
	for id, due := range runs {
		p.RunIds, p.DueAts = append(p.RunIds, id), append(p.DueAts, due)
	}
	return d.q.ReleaseClaims(ctx, p)
}

func (d *dbBackend) Add(ctx context.Context, r store.Record) error { return d.writer.Add(ctx, r) }

// parkFor is how long, at least, a claim moves a paused check's due schedule ahead (at most
// twice that; see ClaimDueChecks): long enough that paused checks cost claims next to nothing,
// short enough to bound the wait of a check that a claim parked just as it was enabled.
const parkFor = time.Minute

// ClaimParams say what ClaimDue claims, for whom.
type ClaimParams struct {
	WorkerID    uuid.UUID
	Location    string
	Max         int
	LeaseMargin time.Duration
	// Lookahead claims runs due up to this much ahead too (0: only runs already due).
	Lookahead time.Duration
	// WorkspaceID limits the claim to one workspace (a remote worker's workspace token);
	// nil claims in every workspace.
	WorkspaceID *uuid.UUID
}

// ClaimDue leases due checks to a worker and reads what a heartbeat check's judgement needs:
// the claim of database workers, and of remote workers through their server.
//
// The claim runs with sequential and bitmap scans and sorts off for its transaction, so that
// PostgreSQL walks check_schedules in next_run_at order (its check_schedules_due index) and
// stops at the claim's limit. Left to its estimates, which for a table whose every row is
// rewritten twice an interval are often far off, it scanned and sorted every due schedule,
// looking up each one's check and host: when the scheduler fell behind, each claim grew with
// the backlog (0.4 s at 8,000 due of 10,000 checks) and it fell further behind. With
// sequential scans alone off, it chose a bitmap scan and a sort instead once 10,000 paused
// checks were due (20% of schedule at 20,000 checks).
func ClaimDue(ctx context.Context, pool *pgxpool.Pool, p ClaimParams, log *slog.Logger) ([]Claim, error) {
	q := db.New(pool)
	var claims []Claim
	// A claim that parked paused checks (see ClaimDueChecks) came back short of runs with
	// more perhaps due behind them: claim again, so that fewer than p.Max claims still means
	// that nothing more is due, which the callers' polling relies on.
	for len(claims) < p.Max {
		want := p.Max - len(claims)
		rows, err := claimOnce(ctx, pool, p, want)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			if !row.Run {
				continue
			}
			c := Claim{
				WorkspaceID: row.WorkspaceID, CheckID: row.ID, HostID: row.HostID, CheckType: row.CheckType, Config: row.Config,
				TimeoutSec: row.TimeoutSec, Hostname: row.Hostname, DueIn: time.Duration(row.DueInSec * float64(time.Second)), Location: row.Location,
			}
			if row.LeaseRunID != nil {
				c.RunID = *row.LeaseRunID
			}
			if c.CheckType == probes.TypeHeartbeat {
				c.Pings = heartbeatPings(ctx, q, c, log)
			}
			claims = append(claims, c)
		}
		if len(rows) < want {
			break
		}
	}
	return claims, nil
}

// claimOnce is one ClaimDueChecks of up to max schedules, in a transaction of its own.
func claimOnce(ctx context.Context, pool *pgxpool.Pool, p ClaimParams, max int) ([]db.ClaimDueChecksRow, error) {
	var rows []db.ClaimDueChecksRow
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off"); err != nil {
			return err
		}
		var err error
		rows, err = db.New(tx).ClaimDueChecks(ctx, db.ClaimDueChecksParams{
			WorkerID: p.WorkerID, Location: p.Location, MaxChecks: int32(max), LeaseMarginSec: int32(p.LeaseMargin / time.Second), WorkspaceID: p.WorkspaceID,
			LookaheadSec: p.Lookahead.Seconds(), ParkSec: parkFor.Seconds(),
		})
		return err
	})
	return rows, err
}

// heartbeatPings reads what a heartbeat check's ping URL received, for its judgement, and
// makes sure the check runs again at its deadline if that comes before its next interval
// (a success ping sets the deadline itself; this covers new checks and checks after a
// failure). nil when they cannot be read: the check's result is then UNKNOWN.
func heartbeatPings(ctx context.Context, q *db.Queries, c Claim, log *slog.Logger) *probes.Pings {
	row, err := q.GetHeartbeatPings(ctx, db.GetHeartbeatPingsParams{WorkspaceID: c.WorkspaceID, CheckID: c.CheckID})
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("reading a heartbeat check's pings failed", "check_id", c.CheckID, "err", err)
		}
		return nil
	}
	p := &probes.Pings{Since: row.Since}
	for dst, src := range map[*time.Time]*time.Time{&p.LastOK: row.LastPingAt, &p.LastStart: row.LastStartAt, &p.LastFail: row.LastFailAt} {
		if src != nil {
			*dst = *src
		}
	}
	if deadline, err := probes.NextHeartbeatJudgement(c.Config, *p); err == nil && deadline.After(time.Now()) {
		err := q.ScheduleHeartbeatJudgement(ctx, db.ScheduleHeartbeatJudgementParams{
			Exact: false, Deadline: deadline, WorkspaceID: c.WorkspaceID, CheckID: c.CheckID,
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("scheduling a heartbeat check's judgement failed", "check_id", c.CheckID, "err", err)
		}
	}
	return p
}
