// Package worker is a probe worker: it registers in PostgreSQL, heartbeats, claims due checks
// with leases (FOR UPDATE SKIP LOCKED, so any number of workers share one database), runs
// them with the probes package, and hands the results to the batched store writer. Run-now
// requests arrive the same way: a requested run is a schedule due now, with its run id.
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/secuaas/secumon/server/platform/database"
	"github.com/secuaas/secumon/server/platform/metrics"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
)

// Options configure a worker; zero values take the defaults in parentheses.
type Options struct {
	Name     string // unique per worker process; its id derives from it, stable across restarts
	Location string
	Version  string

	Concurrency    int           // checks running at once (256)
	ClaimBatch     int           // checks claimed per query (200)
	PollEvery      time.Duration // pause between claims when nothing is due (250 ms)
	HeartbeatEvery time.Duration // (10 s)
	LeaseMargin    time.Duration // lease = check timeout + margin (20 s)
	RetentionDays  int           // raw results kept (30; 0 keeps everything)

	Runner  *probes.Runner
	Log     *slog.Logger
	Hooks   []store.RunsHook // see each digested run (the incident evaluator)
	Metrics *metrics.Metrics // check runs, scheduler lag, results written, digest lag; nil: none
	// Tracer makes a span per check run (nil: none).
	Tracer trace.TracerProvider
}

// Worker runs checks until its context ends.
type Worker struct {
	ID       uuid.UUID
	o        Options
	pool     *pgxpool.Pool
	q        *db.Queries
	writer   *store.Writer
	digester *store.Digester
}

// idSpace makes worker ids from names, so a restarted worker keeps its identity.
var idSpace = uuid.MustParse("4f8a5c3e-6b1d-4c7a-9e2f-1a3b5c7d9e0f")

// IDFor is the id of the worker named name.
func IDFor(name string) uuid.UUID { return uuid.NewSHA1(idSpace, []byte(name)) }

// New prepares a worker over pool.
func New(pool *pgxpool.Pool, o Options) *Worker {
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.ClaimBatch <= 0 {
		o.ClaimBatch = 200
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 250 * time.Millisecond
	}
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 10 * time.Second
	}
	if o.LeaseMargin <= 0 {
		o.LeaseMargin = 20 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Runner == nil {
		o.Runner = probes.NewRunner(probes.Options{})
	}
	if o.Tracer == nil {
		o.Tracer = noop.NewTracerProvider()
	}
	w := &Worker{
		ID: IDFor(o.Name), o: o, pool: pool, q: db.New(pool),
		writer:   store.NewWriter(pool, o.Log),
		digester: store.NewDigester(pool, o.Log, o.Hooks...),
	}
	w.writer.Written = w.digester.Kick
	w.writer.Metrics, w.digester.Metrics = o.Metrics, o.Metrics
	return w
}

// Run registers the worker and runs checks until ctx ends; results still queued are
// written before it returns.
func (w *Worker) Run(ctx context.Context) error {
	// A database restarting as the worker starts is waited for, not a reason to stop.
	if err := database.Retry(ctx, w.o.Log, "worker: start", func(ctx context.Context) error {
		if err := w.register(ctx); err != nil {
			return err
		}
		if err := database.EnsurePartitions(ctx, w.pool, time.Now()); err != nil {
			return fmt.Errorf("worker: partitions: %w", err)
		}
		return nil
	}); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return err
	}
	w.o.Log.Info("worker started", "worker_id", w.ID, "name", w.o.Name, "location", w.o.Location)

	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { w.writer.Run(writerCtx) })
	bg.Go(func() { w.digester.Run(writerCtx) })
	bg.Go(func() { database.MaintainPartitions(ctx, w.pool, w.o.RetentionDays, w.o.Log) })
	bg.Go(func() { w.heartbeat(ctx) })

	w.claimLoop(ctx)

	stopWriter() // every probe has returned: flush what is queued, then stop
	bg.Wait()
	w.o.Log.Info("worker stopped", "worker_id", w.ID)
	return nil
}

func (w *Worker) register(ctx context.Context) error {
	err := w.q.RegisterWorkerEverywhere(ctx, db.RegisterWorkerEverywhereParams{
		ID: w.ID, Name: w.o.Name, Location: w.o.Location, Version: w.o.Version,
	})
	if err != nil {
		return fmt.Errorf("worker: register: %w", err)
	}
	return nil
}

// heartbeat refreshes the registration (which also reaches workspaces created since).
func (w *Worker) heartbeat(ctx context.Context) {
	t := time.NewTicker(w.o.HeartbeatEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := w.register(ctx); err != nil && ctx.Err() == nil {
				w.o.Log.Warn("heartbeat failed", "err", err)
			}
		}
	}
}

// claimLoop claims due checks while there are free slots and runs each in its own goroutine.
func (w *Worker) claimLoop(ctx context.Context) {
	slots := make(chan struct{}, w.o.Concurrency)
	var running sync.WaitGroup
	defer running.Wait()
	for ctx.Err() == nil {
		free := w.o.Concurrency - len(slots)
		claimed := 0
		if free > 0 {
			t0 := time.Now()
			rows, err := w.claim(ctx, db.ClaimDueChecksParams{
				WorkerID: w.ID, Location: w.o.Location, MaxChecks: int32(min(free, w.o.ClaimBatch)), LeaseMarginSec: int32(w.o.LeaseMargin / time.Second),
			})
			w.o.Log.Debug("claimed", "checks", len(rows), "free", free, "took", time.Since(t0))
			if err != nil && ctx.Err() == nil {
				w.o.Log.Warn("claiming checks failed", "err", err)
			}
			claimed = len(rows)
			for _, row := range rows {
				slots <- struct{}{}
				running.Go(func() {
					defer func() { <-slots }()
					w.runClaimed(ctx, row)
				})
			}
		}
		if claimed == min(free, w.o.ClaimBatch) && claimed > 0 {
			continue // more may be due right now
		}
		select {
		case <-ctx.Done():
		case <-time.After(w.o.PollEvery):
		}
	}
}

// claim runs ClaimDueChecks with sequential scans off for its transaction, so that PostgreSQL
// walks check_schedules in next_run_at order (its check_schedules_due index) and stops at
// the claim's limit. Left to its estimates, which for a table whose every row is rewritten
// twice an interval are often far off, it scanned and sorted every due schedule, looking
// up each one's check and host: when the scheduler fell behind, each claim grew with the
// backlog (0.4 s at 8,000 due of 10,000 checks) and it fell further behind.
func (w *Worker) claim(ctx context.Context, p db.ClaimDueChecksParams) (rows []db.ClaimDueChecksRow, err error) {
	err = pgx.BeginFunc(ctx, w.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
			return err
		}
		rows, err = w.q.WithTx(tx).ClaimDueChecks(ctx, p)
		return err
	})
	return rows, err
}

func (w *Worker) runClaimed(ctx context.Context, row db.ClaimDueChecksRow) {
	// The run carries its lease's id, so that its result releases exactly that lease.
	var runID uuid.UUID
	if row.LeaseRunID != nil {
		runID = *row.LeaseRunID
	}
	w.o.Metrics.SchedulerLag(time.Duration(row.LateSec * float64(time.Second)))
	rec := w.execute(ctx, checkToRun{row.WorkspaceID, row.ID, row.HostID, row.CheckType, row.Config, row.TimeoutSec, row.Hostname}, runID)
	if err := w.writer.Add(context.WithoutCancel(ctx), rec); err != nil {
		w.o.Log.Error("queueing a result failed", "check_id", row.ID, "err", err)
	}
}

type checkToRun struct {
	workspaceID, checkID, hostID uuid.UUID
	checkType                    string
	config                       []byte
	timeoutSec                   int32
	hostname                     string
}

// execute runs one check and turns its result into a store record.
func (w *Worker) execute(ctx context.Context, c checkToRun, runID uuid.UUID) store.Record {
	// One span per run: a root span for a scheduled run, a child of the job's context for a
	// run-now request.
	ctx, span := w.o.Tracer.Tracer("github.com/secuaas/secumon/probes/runner/worker").Start(ctx, "check.run "+c.checkType,
		trace.WithAttributes(attribute.String("secumon.check.type", c.checkType), attribute.String("secumon.check_id", c.checkID.String()),
			attribute.String("secumon.workspace_id", c.workspaceID.String())))
	started := time.Now()
	check := probes.Check{
		ID: c.checkID, Type: c.checkType, Target: c.hostname, Config: c.config, Timeout: time.Duration(c.timeoutSec) * time.Second,
	}
	if c.checkType == probes.TypeHeartbeat {
		check.Pings = w.heartbeatPings(ctx, c)
	}
	res := w.o.Runner.Run(ctx, check)
	span.SetAttributes(attribute.Int("secumon.check.status", int(res.Status)))
	span.End()
	w.o.Metrics.CheckRun(c.checkType, res.Status.String())
	return store.Record{
		WorkspaceID: c.workspaceID, CheckID: c.checkID, HostID: c.hostID, WorkerID: w.ID, Location: w.o.Location, RunID: runID,
		Time: started.UTC(), Status: int16(res.Status), LatencyMs: res.LatencyMs, Output: res.Output, ErrorMsg: res.ErrorMsg,
		Metrics: res.Metrics, Facts: res.Facts, Samples: res.Samples,
	}
}

// heartbeatPings reads what a heartbeat check's ping URL received, for its judgement, and
// makes sure the check runs again at its deadline if that comes before its next interval
// (a success ping sets the deadline itself; this covers new checks and checks after a
// failure). nil when they cannot be read: the check's result is then UNKNOWN.
func (w *Worker) heartbeatPings(ctx context.Context, c checkToRun) *probes.Pings {
	row, err := w.q.GetHeartbeatPings(ctx, db.GetHeartbeatPingsParams{WorkspaceID: c.workspaceID, CheckID: c.checkID})
	if err != nil {
		if ctx.Err() == nil {
			w.o.Log.Warn("reading a heartbeat check's pings failed", "check_id", c.checkID, "err", err)
		}
		return nil
	}
	p := &probes.Pings{Since: row.Since}
	for dst, src := range map[*time.Time]*time.Time{&p.LastOK: row.LastPingAt, &p.LastStart: row.LastStartAt, &p.LastFail: row.LastFailAt} {
		if src != nil {
			*dst = *src
		}
	}
	if deadline, err := probes.NextHeartbeatJudgement(c.config, *p); err == nil && deadline.After(time.Now()) {
		err := w.q.ScheduleHeartbeatJudgement(ctx, db.ScheduleHeartbeatJudgementParams{
			Exact: false, Deadline: deadline, WorkspaceID: c.workspaceID, CheckID: c.checkID,
		})
		if err != nil && ctx.Err() == nil {
			w.o.Log.Warn("scheduling a heartbeat check's judgement failed", "check_id", c.checkID, "err", err)
		}
	}
	return p
}
