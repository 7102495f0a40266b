// Package server is SecuMon's composition root: Build makes every part of a process from
// its Deps, in this one place, and App.Run runs the parts that work in the background.
//
// A `secumon serve` process is the HTTP API (server/edge), the notification and AI-analysis
// queues, the alerting clock, and optionally a probe worker and the syslog receiver. A
// `secumon worker` process is a probe worker alone. Either way it has one River client
// (server/platform/jobs), which inserts the jobs of every part and works the queues of
// the parts the process runs. See ARCHITECTURE.md for the request path and the probe
// pipeline.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/probes/runner/locations"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/analysis"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/domain/alerting"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/domain/remoteworkers"
	"github.com/secuaas/secumon/server/domain/syslog"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/checkconfig"
	"github.com/secuaas/secumon/server/edge/contract"
	"github.com/secuaas/secumon/server/edge/events"
	"github.com/secuaas/secumon/server/edge/handlers"
	"github.com/secuaas/secumon/server/edge/public"
	"github.com/secuaas/secumon/server/edge/ratelimit"
	"github.com/secuaas/secumon/server/platform/database"
	"github.com/secuaas/secumon/server/platform/jobs"
	"github.com/secuaas/secumon/server/platform/metrics"
	"github.com/secuaas/secumon/server/platform/tracing"
)

// Deps are what a process is made from: its database and its settings, read by cmd/secumon
// from flags and the environment. Zero values take the defaults.
type Deps struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Tracing makes the spans of requests, deliveries and check runs (nil: off); App.Run
	// shuts it down, exporting what is queued, when it returns. The pool's query spans are
	// set up where the pool is opened (database.WithTracing).
	Tracing *tracing.Tracing

	// Serve makes the process serve the HTTP API and work the notification and AI-analysis
	// queues and the alerting clock (`secumon serve`).
	Serve       bool
	Notify      notify.Config
	AI          ai.Config
	StatusPages public.Options
	// RateLimits limit API and status-page requests per token, per client address, and per
	// address for failed authentications; EventStreams caps GET /events streams. Both are
	// per process: each replica counts on its own.
	RateLimits   ratelimit.Config
	EventStreams events.Limits
	// PublicURL is the URL clients reach the server at (no trailing slash), for the ping
	// URLs of heartbeat checks and the incident links of chat notifications; empty: the
	// scheme and host each request came to, and no links.
	PublicURL string
	// ReportUploads bounds the scanner reports the process ingests at once (per process too).
	ReportUploads handlers.UploadLimits
	// CORSOrigins may call /api/v2 from browsers ("*" for any); none turns CORS off for the
	// API. The status JSON and badges are open to any origin regardless.
	CORSOrigins []string
	// Syslog, when set, runs the syslog receiver (its Addr must be set).
	Syslog *syslog.Config

	// Alerting tunes the incident evaluator, which runs where results are digested (in
	// probe workers), and the announcement of incident changes made through the API.
	Alerting alerting.Config
	// Worker, when set, runs a probe worker in the process with these options (its Log,
	// Hooks and Metrics are filled in here).
	Worker *worker.Options
	// LocationReports tunes the location reporter `serve` runs (UNKNOWN results for the
	// locations no live worker serves); its StaleAfter and Log are filled in here.
	LocationReports locations.Options

	// Metrics, when set, is where Run serves GET /metrics (Prometheus) while it runs, apart
	// from the API's listener; Run closes it when it returns. Unset, nothing is measured.
	Metrics net.Listener
	// DatabaseRestarts counts the embedded PostgreSQL's restarts by its supervisor, for the
	// metrics; nil with an external database or an unsupervised one.
	DatabaseRestarts func() int64
}

// pipelineConns is the size of the embedded worker's pool in a process that serves the API: a
// claim, the results writer, the digester and a heartbeat at once, and one to spare.
const pipelineConns = 5

// App is a built process.
type App struct {
	// Handler serves HTTP; nil unless Deps.Serve.
	http.Handler
	// Auth authenticates API tokens (nil unless Deps.Serve); Forget drops its cache.
	Auth *auth.Authenticator

	deps     Deps
	jobs     *jobs.Client
	works    bool // jobs works queues, so it must be started
	alerting *alerting.Alerting
	worker   *worker.Worker
	// digester digests remote workers' results in a process that serves the API without
	// an embedded worker (whose digester does it otherwise); nil when there is a worker.
	digester *store.Digester
	reporter *locations.Reporter // nil unless Deps.Serve
	// pipelinePool is the embedded worker's own pool in a process that also serves the API;
	// nil otherwise (the worker uses Deps.Pool).
	pipelinePool *pgxpool.Pool
	metrics      *metrics.Metrics // nil unless Deps.Metrics
}

// Build makes the process's parts from d. It fails when the embedded contract is
// inconsistent or a setting cannot work.
func Build(ctx context.Context, d Deps) (*App, error) {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Tracing == nil {
		d.Tracing = tracing.Off()
	}
	log := d.Logger
	tp := d.Tracing.Provider
	app := &App{deps: d}
	if d.Metrics != nil {
		app.metrics = metrics.New()
		app.metrics.QueueDepths(jobs.Depths(d.Pool))
		app.metrics.DatabaseRestarts(d.DatabaseRestarts)
	}

	// The River client inserts for every part and works the queues of the parts this
	// process runs; the parts that work jobs are built first so their queues are known.
	var queues []jobs.Queue
	var aiSet *providers.Set
	if d.Serve {
		var err error
		if aiSet, err = providers.New(d.AI); err != nil {
			return nil, err
		}
		nc := d.Notify
		nc.Tracer = tp
		if nc.IncidentLinkBase == "" && d.PublicURL != "" {
			// Chat messages link to the incident in the API, where clients reach it.
			nc.IncidentLinkBase = d.PublicURL + contract.BasePath + "/incidents/"
		}
		queues = append(queues, notify.QueueOf(nc, app.metrics), analysis.QueueOf(aiSet),
			alerting.EscalationQueueOf(func() *alerting.Alerting { return app.alerting }))
	}
	// Whatever digests results runs the incident evaluator (built below, once the River
	// client it queues deliveries on exists).
	evaluate := func(ctx context.Context, tx pgx.Tx, runs []db.DigestRunsRow) error {
		return app.alerting.DigestHook(ctx, tx, runs)
	}
	if d.Worker != nil {
		o := *d.Worker
		o.Log = log.With("component", "worker")
		o.Tracer = tp
		o.Metrics = app.metrics
		o.Hooks = append(o.Hooks, evaluate)
		pool := d.Pool
		if d.Serve {
			// The probe pipeline gets connections of its own: API requests, however many,
			// then never hold every connection that a claim, a result write or a digest
			// needs. Its pool connects lazily, like the process's.
			cfg := d.Pool.Config().Copy()
			cfg.MaxConns, cfg.MinConns = pipelineConns, 0
			p, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				return nil, fmt.Errorf("probe pipeline pool: %w", err)
			}
			pool, app.pipelinePool = p, p
		}
		app.worker = worker.New(pool, o)
	}
	client, err := jobs.New(d.Pool, log, queues...)
	if err != nil {
		return nil, err
	}
	app.jobs, app.works = client, len(queues) > 0

	// The evaluator opens incidents as results are digested; the announcer sends incident
	// changes to the alert policies. Both queue deliveries on the same client.
	app.alerting = alerting.New(d.Alerting, client, log.With("component", "alerting"))

	if d.Serve {
		doc, err := openapi.Load(ctx, openapi.MainYAML)
		if err != nil {
			return nil, err
		}
		configs, err := checkconfig.New(doc)
		if err != nil {
			return nil, err
		}
		app.Auth = auth.NewAuthenticator(db.New(d.Pool))
		// Remote workers' results are digested by this process's worker, or, without one,
		// by a digester of its own, kicked by each batch (and polling rarely, as a safety
		// net: the database workers' digesters poll too).
		digested := app.worker.Digested
		if app.worker == nil {
			app.digester = store.NewDigester(d.Pool, log.With("component", "digester"), evaluate)
			app.digester.PollEvery, app.digester.Metrics = 10*time.Second, app.metrics
			digested = app.digester.Kick
		}
		ops := handlers.New(handlers.Deps{
			Pool: d.Pool, Configs: configs, Announcer: app.alerting, AckExpirer: app.alerting,
			SyslogEnabled: d.Syslog != nil, AI: aiSet, Jobs: client, PublicURL: d.PublicURL,
			Remote: remoteworkers.New(d.Pool, log.With("component", "remote-workers"), digested), Revoked: app.Auth.Forget,
		})
		lo := d.LocationReports
		lo.StaleAfter, lo.Log = handlers.WorkerStaleAfter, log.With("component", "locations")
		app.reporter = locations.New(d.Pool, lo)
		limits := httpLimits{rate: ratelimit.New(d.RateLimits), streams: d.EventStreams, uploads: d.ReportUploads}
		limits.rate.Metrics = app.metrics
		if app.Handler, err = newHTTP(d.Pool, doc, ops, app.Auth, d.StatusPages, limits, httpOptions{corsOrigins: d.CORSOrigins}, log, d.Tracing, app.metrics); err != nil {
			return nil, err
		}
	}
	return app, nil
}

// Run runs the background parts (job queues, alerting clock, probe worker, syslog receiver,
// metrics listener) until ctx ends, then stops them: the worker and the receiver write what they have queued
// before Run returns. It returns early with the first part that fails; a database that is
// unavailable for a while (restarting) is not a failure: the parts wait for it and retry.
func (a *App) Run(ctx context.Context) error {
	defer func() {
		// Last: the parts above may end spans while they stop.
		flushCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		if err := a.deps.Tracing.Shutdown(flushCtx); err != nil {
			a.deps.Logger.Warn("tracing: flushing spans at exit", "err", err)
		}
	}()
	if a.pipelinePool != nil {
		// Closed once every part has stopped (the worker has written what it had), and also
		// when Run fails before the worker starts.
		defer a.pipelinePool.Close()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	if a.metrics != nil {
		defer a.deps.Metrics.Close() // also when Run fails before serving it
	}
	var parts sync.WaitGroup
	fail := func(err error) {
		if err != nil && ctx.Err() == nil {
			cancel(err)
		}
	}

	if a.works {
		// River pings the database as it starts: PostgreSQL restarting then (killed right
		// after the process started, before its supervisor brought it back) is waited out,
		// not a reason to end the process.
		if err := database.Retry(ctx, a.deps.Logger, "job queues: start", a.jobs.Start); err != nil {
			if ctx.Err() != nil {
				return nil // stopped while starting (a signal right after start): nothing ran
			}
			return err
		}
		defer func() {
			stopCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer stop()
			_ = a.jobs.Stop(stopCtx)
		}()
	}
	if a.deps.Serve {
		// Maintenance windows and storms start and end by the clock.
		parts.Go(func() { a.alerting.Run(ctx, a.deps.Pool, 5*time.Second) })
		// Locations that checks need and no live worker serves get UNKNOWN results.
		parts.Go(func() { a.reporter.Run(ctx) })
	}
	if a.worker != nil {
		parts.Go(func() { fail(a.worker.Run(ctx)) })
	}
	if a.digester != nil {
		parts.Go(func() { a.digester.Run(ctx) })
		// Without a worker of its own, whose maintenance would do it, the process that takes
		// remote workers' results and the location reports keeps the result partitions ahead
		// (the first time waiting out a database that is restarting). It drops none: raw
		// results' retention is the database workers' setting.
		parts.Go(func() {
			if database.Retry(ctx, a.deps.Logger, "result partitions", func(ctx context.Context) error {
				return database.EnsurePartitions(ctx, a.deps.Pool, time.Now())
			}) == nil {
				database.MaintainPartitions(ctx, a.deps.Pool, 0, a.deps.Logger)
			}
		})
	}
	if a.metrics != nil {
		srv := newMetricsServer(ctx, a.metrics, a.deps.Logger)
		parts.Go(func() {
			if err := srv.Serve(a.deps.Metrics); !errors.Is(err, http.ErrServerClosed) {
				fail(err)
			}
		})
		parts.Go(func() {
			<-ctx.Done()
			stopCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer stop()
			_ = srv.Shutdown(stopCtx)
		})
	}
	if a.deps.Syslog != nil {
		cfg := *a.deps.Syslog
		cfg.Logger = a.deps.Logger.With("component", "syslog")
		logs, err := syslog.Listen(a.deps.Pool, cfg)
		if err != nil {
			cancel(err)
		} else {
			parts.Go(func() { logs.Run(ctx) })
		}
	}
	<-ctx.Done()
	parts.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// newMetricsServer serves GET /metrics and Go's profiler under /debug/pprof/: the listener is
// meant for the operator's Prometheus and tools (go tool pprof http://ADDR/debug/pprof/profile),
// not for API clients, and exposes no API route. Profiles cost nothing until requested.
func newMetricsServer(ctx context.Context, m *metrics.Metrics, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler(log.With("component", "metrics")))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index) // also the named profiles: heap, goroutine, …
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
}
