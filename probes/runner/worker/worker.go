// Package worker is a probe worker: it heartbeats, claims due checks with leases, runs them
// with the probes package and hands the results on. Where the work comes from and where the
// results go is its Backend: the database (New: claims with FOR UPDATE SKIP LOCKED, so any
// number of workers share one database, results through the batched store writer), or a
// SecuMon server reached over HTTPS with a worker token (probes/runner/remote), for workers
// that hold no database credentials. Run-now requests arrive the same way: a requested run
// is a schedule due now, with its run id.
package worker

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/secuaas/secumon/server/platform/metrics"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
)

// Options configure a worker; zero values take the defaults in parentheses.
type Options struct {
	Name     string // unique per worker process; its id derives from it, stable across restarts
	Location string
	Version  string

	Concurrency int           // checks running at once (256)
	ClaimBatch  int           // checks claimed per query (500)
	PollEvery   time.Duration // pause between claims when nothing is due (250 ms)
	// Lookahead claims runs due this much ahead, each started at its due time (1 s; negative:
	// only runs already due). Database workers only: a remote worker's server claims what is due.
	Lookahead      time.Duration
	HeartbeatEvery time.Duration // (10 s)
	LeaseMargin    time.Duration // a run's lease lasts from its due time for its timeout plus this margin (5 s)
	RetentionDays  int           // raw results kept (30; 0 keeps everything); database workers only

	Runner  *probes.Runner
	Log     *slog.Logger
	Hooks   []store.RunsHook // see each digested run (the incident evaluator); database workers only
	Metrics *metrics.Metrics // check runs, scheduler lag, results written, digest lag; nil: none
	// Tracer makes a span per check run (nil: none).
	Tracer trace.TracerProvider
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = 256
	}
	if o.ClaimBatch <= 0 {
		o.ClaimBatch = 500
	}
	if o.PollEvery <= 0 {
		o.PollEvery = 250 * time.Millisecond
	}
	if o.Lookahead == 0 {
		o.Lookahead = time.Second
	}
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 10 * time.Second
	}
	if o.LeaseMargin <= 0 {
		// Long enough for a run to start a little late (all slots busy) and still have its
		// lease; short enough that a check whose timeout is 5 s short of its interval can be
		// claimed ahead before its previous result is digested.
		o.LeaseMargin = 5 * time.Second
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
	return o
}

// Claim is one check leased to this worker, with what running it takes.
type Claim struct {
	WorkspaceID, CheckID, HostID uuid.UUID
	CheckType                    string
	Config                       []byte
	TimeoutSec                   int32
	Hostname                     string
	RunID                        uuid.UUID // the lease's run id: its result releases exactly that lease
	Location                     string
	DueIn                        time.Duration // when the run is due, from the claim (<= 0: due now, or late)
	Pings                        *probes.Pings // heartbeat checks: what their ping URL received (nil: unknown)
}

// Source is where a worker's work comes from.
type Source interface {
	// Heartbeat registers the worker, or refreshes its registration.
	Heartbeat(ctx context.Context) error
	// Claim leases up to max due checks to the worker.
	Claim(ctx context.Context, max int) ([]Claim, error)
	// Release hands back claimed runs the worker will not start (it is stopping), by run id
	// with their due times, so that another worker runs them on time.
	Release(ctx context.Context, runs map[uuid.UUID]time.Time) error
}

// Sink takes the results of runs.
type Sink interface {
	// Add queues a result; it may block (back-pressure on the probes) until ctx ends.
	Add(ctx context.Context, r store.Record) error
}

// Backend is a Source and a Sink with what they run in the background.
type Backend interface {
	Source
	Sink
	// Start readies the backend (registers the worker), waiting out a database or server
	// that is not there yet; it returns ctx's error only when ctx ends first.
	Start(ctx context.Context) error
	// Run runs the backend's background parts until ctx ends; flush ends when the results
	// still queued must be delivered (or kept) and Run return.
	Run(ctx, flush context.Context)
}

// Worker runs checks until its context ends.
type Worker struct {
	ID uuid.UUID // a remote worker's is its server's word, known once Run has started it
	o  Options
	b  Backend
	db *dbBackend // the database backend; nil for a remote worker
}

// idSpace makes worker ids from names, so a restarted worker keeps its identity.
var idSpace = uuid.MustParse("4f8a5c3e-6b1d-4c7a-9e2f-1a3b5c7d9e0f")

// IDFor is the id of the database worker named name.
func IDFor(name string) uuid.UUID { return uuid.NewSHA1(idSpace, []byte(name)) }

// RemoteIDFor is the id of the remote worker named name that uses the worker token tokenID:
// workers of different tokens (tenants) never share an id, whatever names they pick.
func RemoteIDFor(tokenID uuid.UUID, name string) uuid.UUID {
	return uuid.NewSHA1(idSpace, append(tokenID[:], []byte("/"+name)...))
}

// NewWith prepares a worker over backend b (see probes/runner/remote).
func NewWith(b Backend, o Options) *Worker {
	return &Worker{o: o.withDefaults(), b: b}
}

// Run registers the worker and runs checks until ctx ends; results still queued are
// delivered (or, for a remote worker, kept on disk) before it returns.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.b.Start(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped before it started
		}
		return err
	}
	if named, ok := w.b.(interface{ WorkerID() uuid.UUID }); ok {
		w.ID = named.WorkerID() // a remote worker's server names it as it registers
	}
	if paced, ok := w.b.(interface{ HeartbeatEvery() time.Duration }); ok && paced.HeartbeatEvery() > 0 {
		w.o.HeartbeatEvery = paced.HeartbeatEvery() // and says how often to heartbeat
	}
	w.o.Log.Info("worker started", "worker_id", w.ID, "name", w.o.Name, "location", w.o.Location)

	flushCtx, flush := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	bg.Go(func() { w.b.Run(ctx, flushCtx) })
	bg.Go(func() { w.heartbeat(ctx) })

	w.claimLoop(ctx)

	flush() // every probe has returned: deliver what is queued, then stop
	bg.Wait()
	w.o.Log.Info("worker stopped", "worker_id", w.ID)
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
			if err := w.b.Heartbeat(ctx); err != nil && ctx.Err() == nil {
				w.o.Log.Warn("heartbeat failed", "err", err)
			}
		}
	}
}

// startEvery is how often the claim loop starts the runs that have fallen due. Runs start in
// groups, up to this late: one wake-up per run (a timer each) cost the process about half as
// much CPU again at 1,000 runs a second.
const startEvery = 50 * time.Millisecond

// claimLoop claims checks due now or within Lookahead while it holds fewer than it may, and
// starts each run at its due time in its own goroutine, at most Concurrency at once. A failed
// claim (database or server away) claims nothing: runs in flight go on, and their results are
// kept by the sink. Runs not yet started when ctx ends are handed back (Release).
func (w *Worker) claimLoop(ctx context.Context) {
	slots := make(chan struct{}, w.o.Concurrency)
	// Claims held, waiting for their due time or running: a full Concurrency of runs plus a
	// lookahead's worth of waiting ones.
	maxHeld := w.o.Concurrency + 2*w.o.ClaimBatch
	// A worker that holds nearly all it may claims again once a quarter of a batch is free, not
	// for the few places each group of starts frees: a claim costs nearly as much for a few rows
	// as for many (its transaction, its walk of the due schedules). At 2,000 runs a second,
	// claims of about 17 rows came over a hundred times a second.
	minClaim := max(1, w.o.ClaimBatch/4)
	var waiting dueQueue
	var running sync.WaitGroup
	tick := time.NewTicker(startEvery)
	defer tick.Stop()
	nextClaim := time.Now()
	for ctx.Err() == nil {
		now := time.Now()
	start:
		for len(waiting) > 0 && !waiting[0].due.After(now) {
			select {
			case slots <- struct{}{}: // a free slot; with none, wait for a run to end
			case <-ctx.Done():
				break start
			}
			r := heap.Pop(&waiting).(dueRun)
			running.Go(func() {
				defer func() { <-slots }()
				w.runClaimed(ctx, r.Claim, r.due)
			})
		}
		if want := min(maxHeld-len(waiting)-len(slots), w.o.ClaimBatch); want >= minClaim && !now.Before(nextClaim) {
			claims, err := w.b.Claim(ctx, want)
			w.o.Log.Debug("claimed", "checks", len(claims), "wanted", want, "took", time.Since(now))
			if err != nil && ctx.Err() == nil {
				w.o.Log.Warn("claiming checks failed", "err", err)
			}
			for _, c := range claims {
				heap.Push(&waiting, dueRun{Claim: c, due: now.Add(c.DueIn)})
			}
			if len(claims) < want {
				nextClaim = now.Add(w.o.PollEvery) // else more may be due right now
			}
			if len(waiting) > 0 && !waiting[0].due.After(time.Now()) {
				continue // start what is due before the tick
			}
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	running.Wait()
	if len(waiting) > 0 {
		unstarted := make(map[uuid.UUID]time.Time, len(waiting))
		for _, r := range waiting {
			unstarted[r.RunID] = r.due
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := w.b.Release(rctx, unstarted); err != nil {
			w.o.Log.Warn("handing back unstarted runs failed: their leases expire", "runs", len(unstarted), "err", err)
		}
	}
}

// dueRun is a claimed run and when it is due, on this process's clock.
type dueRun struct {
	Claim
	due time.Time
}

// dueQueue is a min-heap of claimed runs by due time (container/heap).
type dueQueue []dueRun

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].due.Before(q[j].due) }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(dueRun)) }
func (q *dueQueue) Pop() any {
	old := *q
	r := old[len(old)-1]
	*q = old[:len(old)-1]
	return r
}

func (w *Worker) runClaimed(ctx context.Context, c Claim, due time.Time) {
	w.o.Metrics.SchedulerLag(max(time.Since(due), 0))
	rec := w.execute(ctx, c)
	if err := w.b.Add(context.WithoutCancel(ctx), rec); err != nil {
		w.o.Log.Error("queueing a result failed", "check_id", c.CheckID, "err", err)
	}
}

// execute runs one check and turns its result into a store record.
func (w *Worker) execute(ctx context.Context, c Claim) store.Record {
	// One span per run.
	ctx, span := w.o.Tracer.Tracer("github.com/secuaas/secumon/probes/runner/worker").Start(ctx, "check.run "+c.CheckType,
		trace.WithAttributes(attribute.String("secumon.check.type", c.CheckType), attribute.String("secumon.check_id", c.CheckID.String()),
			attribute.String("secumon.workspace_id", c.WorkspaceID.String())))
	started := time.Now()
	check := probes.Check{
		ID: c.CheckID, Type: c.CheckType, Target: c.Hostname, Config: c.Config, Timeout: time.Duration(c.TimeoutSec) * time.Second,
		Pings: c.Pings,
	}
	res := w.o.Runner.Run(ctx, check)
	span.SetAttributes(attribute.Int("secumon.check.status", int(res.Status)))
	span.End()
	w.o.Metrics.CheckRun(c.CheckType, res.Status.String())
	return store.Record{
		WorkspaceID: c.WorkspaceID, CheckID: c.CheckID, HostID: c.HostID, WorkerID: w.ID, Location: w.o.Location, RunID: c.RunID,
		Time: started.UTC(), Status: int16(res.Status), LatencyMs: res.LatencyMs, Output: res.Output, ErrorMsg: res.ErrorMsg,
		Metrics: res.Metrics, Facts: res.Facts, Samples: res.Samples,
	}
}
