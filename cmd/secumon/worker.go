package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/remote"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/platform/metrics"
)

// workerFlags are the probe worker's settings, shared by `serve` (embedded worker) and `worker`.
type workerFlags struct {
	name, location, allow string
	concurrency           int
	retentionDays         int
}

func addWorkerFlags(fs *flag.FlagSet) *workerFlags {
	host, _ := os.Hostname()
	w := &workerFlags{}
	fs.StringVar(&w.name, "worker-name", env("worker-name", host), "worker name, unique per worker process [SECUMON_WORKER_NAME]")
	fs.StringVar(&w.location, "worker-location", env("worker-location", "local"),
		"where the worker probes from; a remote worker has none unless given (under a token pinned to a location: that one) [SECUMON_WORKER_LOCATION]")
	fs.StringVar(&w.allow, "probe-allow", env("probe-allow", "127.0.0.0/8,::1/128"),
		"networks probes may reach, comma-separated CIDRs; widen to 0.0.0.0/0,::/0 to probe anything [SECUMON_PROBE_ALLOW]")
	fs.IntVar(&w.concurrency, "concurrency", envInt("concurrency", 256), "checks run at once by a worker [SECUMON_CONCURRENCY]")
	fs.IntVar(&w.retentionDays, "retention-days", envInt("retention-days", 30), "days of raw results kept; 0 keeps all [SECUMON_RETENTION_DAYS]")
	return w
}

// options are the probe worker's options; server.Build fills in its logger and digest hooks.
func (f *workerFlags) options() (*worker.Options, error) {
	allowed, err := probes.ParseAllowed(f.allow)
	if err != nil {
		return nil, fmt.Errorf("--probe-allow: %w", err)
	}
	if f.location != "" && !worker.ValidLocation(f.location) {
		return nil, fmt.Errorf("--worker-location %q: %s", f.location, worker.LocationRule)
	}
	return &worker.Options{
		Name: f.name, Location: f.location, Version: version, Concurrency: f.concurrency, RetentionDays: f.retentionDays,
		Runner: probes.NewRunner(probes.Options{Allowed: allowed}),
	}, nil
}

// remoteFlags make `secumon worker` a remote worker: the API of a server, a worker token, no
// database.
type remoteFlags struct {
	server, token, serverCA, spoolDir string
	spoolMaxMB                        int
}

func addRemoteFlags(fs *flag.FlagSet) *remoteFlags {
	r := &remoteFlags{}
	fs.StringVar(&r.server, "server", env("server", ""),
		"run as a remote worker of this SecuMon server (https://…; http only to loopback), with --token and no database [SECUMON_SERVER]")
	fs.StringVar(&r.token, "token", env("worker-token", ""), "the remote worker's worker token (wrk_…) [SECUMON_WORKER_TOKEN]")
	fs.StringVar(&r.serverCA, "server-ca", env("server-ca", ""), "PEM file of a private CA that signed the server's certificate [SECUMON_SERVER_CA]")
	fs.StringVar(&r.spoolDir, "spool-dir", env("spool-dir", ""),
		"where a remote worker keeps results the server has not acknowledged (default: the user cache dir/secumon/spool/<worker name>) [SECUMON_SPOOL_DIR]")
	fs.IntVar(&r.spoolMaxMB, "spool-max-mb", envInt("spool-max-mb", 64), "the spool's size cap in MiB; the oldest batches are dropped beyond [SECUMON_SPOOL_MAX_MB]")
	return r
}

// workerCmd runs only a probe worker, for deployments that split API and probing: over the
// database, or, with --server, as a remote worker of a server's API.
func workerCmd(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("worker", &c)
	addTracingFlag(fs, &c)
	wf := addWorkerFlags(fs)
	af := addAlertFlags(fs)
	rf := addRemoteFlags(fs)
	metricsAddr := addMetricsFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rf.server != "" {
		if !given(fs, "worker-location") {
			// "local" is a database worker's default: a remote worker is elsewhere, and under a
			// token pinned to a location, saying none takes the token's.
			wf.location = ""
		}
		return remoteWorker(ctx, &c, wf, rf, *metricsAddr)
	}
	if rf.token != "" {
		return fmt.Errorf("--token is for a remote worker: give --server too")
	}
	return withDatabase(ctx, fs, &c, nil, func(e *adminEnv) error {
		log, err := c.logger(os.Stderr)
		if err != nil {
			return err
		}
		w, err := wf.options()
		if err != nil {
			return err
		}
		metrics, err := listenMetrics(*metricsAddr)
		if err != nil {
			return err
		}
		app, err := server.Build(ctx, server.Deps{Pool: e.pool, Logger: log, Tracing: c.trace, Alerting: af.config(), Worker: w, Metrics: metrics})
		if err != nil {
			return err
		}
		return app.Run(ctx)
	})
}

// remoteWorker runs a probe worker that reaches the server's API with a worker token and
// holds no database credentials.
func remoteWorker(ctx context.Context, c *config, wf *workerFlags, rf *remoteFlags, metricsAddr string) error {
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	trace, err := c.startTracing(ctx, log)
	if err != nil {
		return err
	}
	if rf.token == "" {
		return fmt.Errorf("--server needs --token (a worker token, wrk_…) [SECUMON_WORKER_TOKEN]")
	}
	o, err := wf.options()
	if err != nil {
		return err
	}
	o.Log, o.Tracer = log.With("component", "worker"), trace.Provider
	ln, err := listenMetrics(metricsAddr)
	if err != nil {
		return err
	}
	if ln != nil {
		// The worker's own metrics (check runs, scheduler lag): nothing of a database here.
		o.Metrics = metrics.New()
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", o.Metrics.Handler(log.With("component", "metrics")))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	}
	w, err := remote.New(remote.Options{Server: rf.server, Token: rf.token, ServerCA: rf.serverCA, SpoolDir: rf.spoolDir,
		SpoolMax: int64(rf.spoolMaxMB) << 20}, *o)
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, stop := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer stop()
		_ = trace.Shutdown(flushCtx)
	}()
	return w.Run(ctx)
}
