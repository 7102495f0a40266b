package main

import (
	"flag"
	"time"

	"github.com/secuaas/secumon/server/domain/alerting"
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

func (f *alertFlags) config() alerting.Config {
	return alerting.Config{
		KeepOpenOnRecovery: f.keepOpen, FlapWindow: f.flapWindow,
		Storm: alerting.StormConfig{MinAlerts: f.stormAlerts, MinHosts: f.stormHosts, Window: f.stormWindow, Quiet: f.stormQuiet},
	}
}
