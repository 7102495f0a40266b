// Package alerting turns check results into incidents and incidents into notifications:
// the evaluator opens an automatic incident when a check fails its threshold of consecutive
// runs and resolves it on recovery; every opened, reopened or resolved incident goes through
// the workspace's alert policies (conditions, cooldown, channels) unless a maintenance window
// suppresses it or a storm already speaks for it. Everything runs in the caller's transaction
// and deliveries go through a durable outbox, so a crash loses no notification.
package alerting

import (
	"log/slog"
	"time"

	"github.com/secuaas/secumon/server/platform/jobs"
)

// Config tunes the evaluator; zero values take the defaults in parentheses.
type Config struct {
	// AutoResolve resolves an automatic incident when its check recovers (true; set
	// KeepOpenOnRecovery to disable).
	KeepOpenOnRecovery bool
	// FlapWindow: a check failing again within this time of its incident resolving reopens
	// that incident instead of opening a new one (30 min).
	FlapWindow time.Duration
	// MaxReopens: after this many reopenings the incident stays open on recovery, for a
	// person to resolve (3).
	MaxReopens int32
	Storm      StormConfig
	// DeliveryRetention is how long finished notification deliveries and their attempts are
	// kept (90 days); incident timelines keep saying who was notified after that.
	DeliveryRetention time.Duration
	// EscalationTimeUnit is what one second of an escalation policy's waits and reminders
	// lasts (1 s); tests shorten it so that a 60 s wait takes a moment.
	EscalationTimeUnit time.Duration
}

// StormConfig: at least MinAlerts automatic incidents on at least MinHosts hosts within
// Window form a storm; it ends after Quiet without new ones.
type StormConfig struct {
	MinAlerts int           // (10)
	MinHosts  int           // (3)
	Window    time.Duration // (2 min)
	Quiet     time.Duration // (5 min)
}

// Alerting is the evaluator and the notifier.
type Alerting struct {
	cfg  Config
	jobs *jobs.Client // queues notification deliveries in the caller's transaction
	log  *slog.Logger
}

// New returns the alerting engine. Deliveries go through server/domain/notify's durable outbox.
func New(cfg Config, client *jobs.Client, log *slog.Logger) *Alerting {
	if cfg.FlapWindow <= 0 {
		cfg.FlapWindow = 30 * time.Minute
	}
	if cfg.MaxReopens <= 0 {
		cfg.MaxReopens = 3
	}
	if cfg.Storm.MinAlerts <= 0 {
		cfg.Storm.MinAlerts = 10
	}
	if cfg.Storm.MinHosts <= 0 {
		cfg.Storm.MinHosts = 3
	}
	if cfg.Storm.Window <= 0 {
		cfg.Storm.Window = 2 * time.Minute
	}
	if cfg.Storm.Quiet <= 0 {
		cfg.Storm.Quiet = 5 * time.Minute
	}
	if cfg.DeliveryRetention <= 0 {
		cfg.DeliveryRetention = 90 * 24 * time.Hour
	}
	if cfg.EscalationTimeUnit <= 0 {
		cfg.EscalationTimeUnit = time.Second
	}
	if log == nil {
		log = slog.Default()
	}
	return &Alerting{cfg: cfg, jobs: client, log: log}
}
