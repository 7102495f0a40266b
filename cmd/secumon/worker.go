package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
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
	fs.StringVar(&w.location, "worker-location", env("worker-location", "local"), "where the worker probes from [SECUMON_WORKER_LOCATION]")
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
		return nil, fmt.Errorf("--worker-location %q: at most 64 printable characters, no leading or trailing space", f.location)
	}
	return &worker.Options{
		Name: f.name, Location: f.location, Version: version, Concurrency: f.concurrency, RetentionDays: f.retentionDays,
		Runner: probes.NewRunner(probes.Options{Allowed: allowed}),
	}, nil
}

// workerCmd runs only a probe worker, for deployments that split API and probing.
func workerCmd(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("worker", &c)
	addTracingFlag(fs, &c)
	wf := addWorkerFlags(fs)
	af := addAlertFlags(fs)
	metricsAddr := addMetricsFlag(fs)
	return withDatabase(ctx, fs, &c, args, func(e *adminEnv) error {
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
