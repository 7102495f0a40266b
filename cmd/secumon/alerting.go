package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/analysis"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/domain/alerting"
	"github.com/secuaas/secumon/server/domain/notify"
)

// alertFlags are the evaluator's settings. Both `serve` and `worker` read them: the
// evaluator runs where results are digested (in workers), announcements of changes made
// through the API run in `serve`.
type alertFlags struct {
	stormAlerts, stormHosts int
	stormWindow, stormQuiet time.Duration
	flapWindow              time.Duration
	keepOpen                bool
}

func addAlertFlags(fs *flag.FlagSet) *alertFlags {
	f := &alertFlags{}
	fs.IntVar(&f.stormAlerts, "storm-min-alerts", envInt("storm-min-alerts", 10), "automatic incidents within the storm window that make a storm [SECUMON_STORM_MIN_ALERTS]")
	fs.IntVar(&f.stormHosts, "storm-min-hosts", envInt("storm-min-hosts", 3), "distinct hosts those incidents must span [SECUMON_STORM_MIN_HOSTS]")
	fs.DurationVar(&f.stormWindow, "storm-window", envDuration("storm-window", 2*time.Minute), "storm detection window [SECUMON_STORM_WINDOW]")
	fs.DurationVar(&f.stormQuiet, "storm-quiet", envDuration("storm-quiet", 5*time.Minute), "a storm ends after this long without new alerts [SECUMON_STORM_QUIET]")
	fs.DurationVar(&f.flapWindow, "flap-window", envDuration("flap-window", 30*time.Minute), "a check failing again within this time of recovering reopens its incident [SECUMON_FLAP_WINDOW]")
	fs.BoolVar(&f.keepOpen, "keep-open-on-recovery", env("keep-open-on-recovery", "") == "true", "leave automatic incidents open when their check recovers [SECUMON_KEEP_OPEN_ON_RECOVERY]")
	return f
}

func (f *alertFlags) build(log *slog.Logger) *alerting.Alerting {
	return alerting.New(alerting.Config{
		KeepOpenOnRecovery: f.keepOpen, FlapWindow: f.flapWindow,
		Storm: alerting.StormConfig{MinAlerts: f.stormAlerts, MinHosts: f.stormHosts, Window: f.stormWindow, Quiet: f.stormQuiet},
	}, log.With("component", "alerting"))
}

// startAlerting works the background queues of `serve` until ctx ends: notification
// deliveries (SMTP from SECUMON_SMTP_*) and AI analysis steps; and the alerting clock
// (maintenance windows, storms). stop waits for the work in flight.
func startAlerting(ctx context.Context, pool *pgxpool.Pool, al *alerting.Alerting, aiCfg ai.Config, log *slog.Logger) (stop func(), err error) {
	cfg, err := notify.ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	workers := river.NewWorkers()
	if err := notify.AddWorkers(workers, cfg); err != nil {
		return nil, err
	}
	set, err := providers.New(aiCfg)
	if err != nil {
		return nil, err
	}
	if err := analysis.AddWorkers(workers, set); err != nil {
		return nil, err
	}
	client, err := river.NewClient[pgx.Tx](riverpgxv5.New(pool), &river.Config{
		Queues:  map[string]river.QueueConfig{notify.Queue: {MaxWorkers: 10}, analysis.Queue: {MaxWorkers: 5}},
		Workers: workers,
		Logger:  log.With("component", "notify"),
		// A delivery job lasts at most a minute and an analysis step a few; a job whose
		// process died is retried after this.
		RescueStuckJobsAfter: 5 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	if err := client.Start(ctx); err != nil {
		return nil, fmt.Errorf("notifications: %w", err)
	}
	clock := make(chan struct{})
	go func() { defer close(clock); al.Run(ctx, pool, 5*time.Second) }()
	return func() {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
		defer cancel()
		_ = client.Stop(stopCtx)
		<-clock
	}, nil
}
