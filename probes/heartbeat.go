package probes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// TypeHeartbeat checks are not probed: the job they watch calls SecuMon's ping URL, and a run
// of the check only judges whether the pings arrived in time (JudgeHeartbeat).
const TypeHeartbeat = "heartbeat"

// DefaultHeartbeatGraceSec is the grace of a heartbeat check whose config sets none.
const DefaultHeartbeatGraceSec = 60

// HeartbeatConfig is the config of a heartbeat check: exactly one of PeriodSec or Schedule.
type HeartbeatConfig struct {
	PeriodSec int    `json:"period_sec"` // a ping is expected at least this often
	Schedule  string `json:"schedule"`   // or: a 5-field cron expression the job runs on…
	Timezone  string `json:"timezone"`   // …in this IANA time zone (UTC when empty)
	GraceSec  *int   `json:"grace_sec"`  // how late a ping may be (DefaultHeartbeatGraceSec)
}

// DefaultHeartbeatConfig returns the defaults of a heartbeat config (no period or schedule:
// the API requires one of them).
func DefaultHeartbeatConfig() HeartbeatConfig {
	g := DefaultHeartbeatGraceSec
	return HeartbeatConfig{GraceSec: &g}
}

// Grace is the config's grace period.
func (c HeartbeatConfig) Grace() time.Duration {
	if c.GraceSec == nil {
		return DefaultHeartbeatGraceSec * time.Second
	}
	return time.Duration(*c.GraceSec) * time.Second
}

// Location is the config's time zone (UTC when unset).
func (c HeartbeatConfig) Location() (*time.Location, error) {
	if strings.TrimSpace(c.Timezone) == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", c.Timezone)
	}
	return loc, nil
}

// ParseHeartbeatSchedule parses a 5-field cron expression (minute hour day-of-month month
// day-of-week, as crontab(5), with @daily and the like) in loc. Schedules are computed in loc:
// a job at 02:30 Europe/Paris is owed no run on the day clocks skip 02:00–03:00, and one run on
// the day 02:00–03:00 happens twice (see HeartbeatDeadline).
func ParseHeartbeatSchedule(expr string, loc *time.Location) (cron.Schedule, error) {
	if strings.HasPrefix(strings.TrimSpace(expr), "TZ=") || strings.HasPrefix(strings.TrimSpace(expr), "CRON_TZ=") {
		return nil, errors.New("set the time zone in timezone, not in the schedule")
	}
	s, err := cron.ParseStandard("CRON_TZ=" + loc.String() + " " + expr)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Pings is what a heartbeat check has received, as the ping URL recorded it. A zero time
// means never.
type Pings struct {
	Since     time.Time // when the check started waiting (creation or token rotation)
	LastOK    time.Time // last success ping
	LastStart time.Time // last /start ping
	LastFail  time.Time // last /fail ping (or non-zero exit status)
}

// HeartbeatDeadline is when a heartbeat check whose reference ping (the last success, or
// Since when none came) happened at ref becomes late: ref + period + grace; or, on a schedule,
// the first scheduled time after ref plus the grace (the run due then must ping after it).
func HeartbeatDeadline(cfg HeartbeatConfig, ref time.Time) (time.Time, error) {
	if cfg.Schedule == "" {
		if cfg.PeriodSec <= 0 {
			return time.Time{}, errors.New("a heartbeat check needs period_sec or schedule")
		}
		return ref.Add(time.Duration(cfg.PeriodSec)*time.Second + cfg.Grace()), nil
	}
	loc, err := cfg.Location()
	if err != nil {
		return time.Time{}, err
	}
	s, err := ParseHeartbeatSchedule(cfg.Schedule, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
	}
	// Next is strictly after ref: the run due at the first scheduled time after the last ping
	// (a ping exactly at a scheduled time counts for that run) is the one still owed.
	next := s.Next(ref)
	if repeatsWallClock(s, next, loc) {
		next = s.Next(next)
	}
	if next.IsZero() {
		return time.Time{}, fmt.Errorf("schedule %q never fires", cfg.Schedule)
	}
	return next.Add(cfg.Grace()), nil
}

// repeatsWallClock reports whether t is the second occurrence of a wall-clock time the
// schedule already fired at, in the hour a fall-back change repeats (02:30 CET after 02:30
// CEST). cron/v3 fires at both; cron daemons run such a job once, so the repeat is owed
// nothing. (On spring-forward days cron/v3 skips times that do not exist: no run is owed.)
func repeatsWallClock(s cron.Schedule, t time.Time, loc *time.Location) bool {
	if t.IsZero() {
		return false
	}
	_, offNow := t.In(loc).Zone()
	_, offBefore := t.Add(-3 * time.Hour).In(loc).Zone()
	if offBefore <= offNow {
		return false
	}
	first := t.Add(-time.Duration(offBefore-offNow) * time.Second)
	const wall = "2006-01-02 15:04:05"
	return first.In(loc).Format(wall) == t.In(loc).Format(wall) && s.Next(first.Add(-time.Second)).Equal(first)
}

// JudgeHeartbeat is the verdict on a heartbeat check at now: CRITICAL when the job reported a
// failure after its last success, or when its deadline (HeartbeatDeadline) has passed without
// a success ping; OK otherwise. It is pure: the clock is now.
func JudgeHeartbeat(cfg HeartbeatConfig, p Pings, now time.Time) Result {
	ref, what := p.LastOK, "last ping"
	if ref.IsZero() {
		ref, what = p.Since, "waiting since"
	}
	if !p.LastFail.IsZero() && !p.LastFail.Before(p.LastOK) {
		return criticalResult("the job reported a failure %s ago (at %s)", ago(now, p.LastFail), stamp(p.LastFail, cfg))
	}
	deadline, err := HeartbeatDeadline(cfg, ref)
	if err != nil {
		return unknownResult("heartbeat: %v", err)
	}
	late := !now.Before(deadline)
	var expect string
	if cfg.Schedule == "" {
		expect = fmt.Sprintf("expected every %s + %s grace", fmtDur(time.Duration(cfg.PeriodSec)*time.Second), fmtDur(cfg.Grace()))
	} else {
		expect = fmt.Sprintf("schedule %q, expected by %s", cfg.Schedule, stamp(deadline, cfg))
	}
	running := ""
	if !p.LastStart.IsZero() && p.LastStart.After(p.LastOK) {
		running = fmt.Sprintf("; started %s ago, no completion ping since", ago(now, p.LastStart))
	}
	if late {
		if cfg.Schedule != "" {
			since := "no ping yet"
			if !p.LastOK.IsZero() {
				since = "no ping since " + stamp(p.LastOK, cfg)
			}
			return criticalResult("expected by %s, %s%s", stamp(deadline, cfg), since, running)
		}
		if p.LastOK.IsZero() {
			return criticalResult("no ping yet, waiting since %s ago, %s%s", ago(now, ref), expect, running)
		}
		return criticalResult("%s %s ago, %s%s", what, ago(now, ref), expect, running)
	}
	if p.LastOK.IsZero() {
		return Result{Status: OK, Output: fmt.Sprintf("no ping yet, %s%s", expect, running)}
	}
	return Result{Status: OK, Output: fmt.Sprintf("%s %s ago, %s%s", what, ago(now, ref), expect, running)}
}

// ProbeHeartbeat is the heartbeat check's prober: it opens no connection, it judges the pings
// the Check carries (Check.Pings, read by the runner from the database) at the current time.
func ProbeHeartbeat(_ context.Context, c Check, _ *Memo, _ *Guard) Result {
	cfg := DefaultHeartbeatConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("%v", err)
	}
	if c.Pings == nil {
		return unknownResult("heartbeat: the runner gave no ping times")
	}
	res := JudgeHeartbeat(cfg, *c.Pings, time.Now())
	res.LatencyMs = 0.001 // nothing was measured; finish would count the judgement itself
	return res
}

func ago(now, t time.Time) string { return fmtDur(now.Sub(t)) }

// fmtDur prints a duration to the second (sub-second durations to the millisecond).
func fmtDur(d time.Duration) string {
	if d < time.Second && d > -time.Second {
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// stamp prints a time in the check's zone: "03:10 Europe/Paris" style, with the date.
func stamp(t time.Time, cfg HeartbeatConfig) string {
	loc, err := cfg.Location()
	if err != nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04:05") + " " + loc.String()
}

// NextHeartbeatJudgement decodes a heartbeat check's stored config and returns the deadline of
// its pings: when a run must judge it next (the runner schedules a run exactly then).
func NextHeartbeatJudgement(config json.RawMessage, p Pings) (time.Time, error) {
	cfg := DefaultHeartbeatConfig()
	if err := decodeConfig(config, &cfg); err != nil {
		return time.Time{}, err
	}
	ref := p.LastOK
	if ref.IsZero() {
		ref = p.Since
	}
	return HeartbeatDeadline(cfg, ref)
}

// CheckHeartbeatConfig returns the config field that is wrong and why, beyond what the
// contract's schema says: exactly one of period_sec and schedule, a schedule cron/v3 parses,
// a time zone the system knows. "" when the config is valid.
func CheckHeartbeatConfig(config json.RawMessage) (field, problem string) {
	cfg := DefaultHeartbeatConfig()
	if err := decodeConfig(config, &cfg); err != nil {
		return "config", err.Error()
	}
	switch {
	case cfg.PeriodSec > 0 && cfg.Schedule != "":
		return "config.schedule", "give period_sec or schedule, not both"
	case cfg.PeriodSec <= 0 && cfg.Schedule == "":
		return "config.period_sec", "give period_sec or schedule"
	case cfg.Schedule == "" && cfg.Timezone != "":
		return "config.timezone", "a time zone goes with a schedule"
	}
	loc, err := cfg.Location()
	if err != nil {
		return "config.timezone", "must be an IANA time zone such as Europe/Paris"
	}
	if cfg.Schedule != "" {
		if _, err := ParseHeartbeatSchedule(cfg.Schedule, loc); err != nil {
			return "config.schedule", "must be a 5-field cron schedule: " + err.Error()
		}
	}
	return "", ""
}
