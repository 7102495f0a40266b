package probes

import (
	"strings"
	"testing"
	"time"
)

func at(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJudgeHeartbeatPeriod(t *testing.T) {
	grace := 60
	cfg := HeartbeatConfig{PeriodSec: 120, GraceSec: &grace}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		p      Pings
		now    time.Time
		want   Status
		output string
	}{
		{"fresh ping", Pings{Since: t0, LastOK: t0}, t0.Add(time.Minute), OK, "last ping 1m0s ago, expected every 2m0s + 1m0s grace"},
		{"within grace", Pings{Since: t0, LastOK: t0}, t0.Add(179 * time.Second), OK, "last ping 2m59s ago"},
		{"at the deadline", Pings{Since: t0, LastOK: t0}, t0.Add(180 * time.Second), Critical, "last ping 3m0s ago, expected every 2m0s + 1m0s grace"},
		{"late", Pings{Since: t0, LastOK: t0}, t0.Add(192 * time.Second), Critical, "last ping 3m12s ago"},
		{"never pinged, new", Pings{Since: t0}, t0.Add(time.Minute), OK, "no ping yet"},
		{"never pinged, late", Pings{Since: t0}, t0.Add(4 * time.Minute), Critical, "no ping yet, waiting since 4m0s ago"},
		{"failure after success", Pings{Since: t0, LastOK: t0, LastFail: t0.Add(time.Second)}, t0.Add(2 * time.Second), Critical, "reported a failure 1s ago"},
		{"failure, never succeeded", Pings{Since: t0, LastFail: t0}, t0.Add(time.Second), Critical, "reported a failure"},
		{"success after failure", Pings{Since: t0, LastOK: t0.Add(time.Second), LastFail: t0}, t0.Add(2 * time.Second), OK, "last ping 1s ago"},
		{"started, still running", Pings{Since: t0, LastOK: t0, LastStart: t0.Add(time.Minute)}, t0.Add(90 * time.Second), OK, "started 30s ago, no completion ping since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := JudgeHeartbeat(cfg, tc.p, tc.now)
			if res.Status != tc.want || !strings.Contains(res.Output, tc.output) {
				t.Fatalf("got %s %q, want %s containing %q", res.Status, res.Output, tc.want, tc.output)
			}
		})
	}
}

// A daily job at 02:30 and one at 03:00 Europe/Paris, across the spring-forward day
// (2026-03-29: 02:00 CET → 03:00 CEST, 02:30 does not exist) and the fall-back day
// (2026-10-25: 03:00 CEST → 02:00 CET, 02:30 happens twice), judged with an injected clock.
func TestJudgeHeartbeatCronAcrossDST(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	grace := 600
	daily := func(expr string) HeartbeatConfig {
		return HeartbeatConfig{Schedule: expr, Timezone: "Europe/Paris", GraceSec: &grace}
	}
	cest := time.FixedZone("CEST", 2*3600)
	cet := time.FixedZone("CET", 3600)
	for _, tc := range []struct {
		name     string
		cfg      HeartbeatConfig
		lastOK   string // Paris wall time; "" never
		now      time.Time
		want     Status
		contains string
	}{
		// Spring forward, job at 03:00: 03:00 CEST is 01:00 UTC (the day before it was 02:00 UTC).
		{"spring: before 03:10 CEST", daily("0 3 * * *"), "2026-03-28 03:01:00", time.Date(2026, 3, 29, 1, 9, 0, 0, time.UTC), OK, ""},
		{"spring: at 03:10 CEST, no ping", daily("0 3 * * *"), "2026-03-28 03:01:00", time.Date(2026, 3, 29, 1, 10, 0, 0, time.UTC), Critical, "expected by 2026-03-29 03:10:00 Europe/Paris, no ping since 2026-03-28 03:01:00 Europe/Paris"},
		{"spring: pinged at 03:02 CEST", daily("0 3 * * *"), "2026-03-29 03:02:00", time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), OK, "expected by 2026-03-30 03:10:00 Europe/Paris"},
		// A 02:30 job on the day 02:30 does not exist is owed no run that day (cron daemons
		// differ on whether it runs at 03:00; either way no false alarm): next due 03-30 02:40.
		{"spring: 02:30 job, skipped hour", daily("30 2 * * *"), "2026-03-28 02:31:00", time.Date(2026, 3, 29, 12, 0, 0, 0, cest), OK, "expected by 2026-03-30 02:40:00 Europe/Paris"},
		{"spring: 02:30 job, next day late", daily("30 2 * * *"), "2026-03-28 02:31:00", time.Date(2026, 3, 30, 2, 40, 0, 0, cest), Critical, "no ping since 2026-03-28 02:31:00"},
		{"spring: 02:30 job ran at 03:00", daily("30 2 * * *"), "2026-03-29 03:00:30", time.Date(2026, 3, 29, 12, 0, 0, 0, cest), OK, ""},
		// Fall back, job at 03:00: 03:00 CET is 02:00 UTC (the day before, 03:00 CEST was 01:00 UTC).
		{"fall: 03:10 CEST would be too early", daily("0 3 * * *"), "2026-10-24 03:01:00", time.Date(2026, 10, 25, 1, 10, 0, 0, time.UTC), OK, ""},
		{"fall: 03:09 CET still OK", daily("0 3 * * *"), "2026-10-24 03:01:00", time.Date(2026, 10, 25, 3, 9, 0, 0, cet), OK, ""},
		{"fall: 03:10 CET late", daily("0 3 * * *"), "2026-10-24 03:01:00", time.Date(2026, 10, 25, 3, 10, 0, 0, cet), Critical, "expected by 2026-10-25 03:10:00 Europe/Paris"},
		// A 02:30 job on the day 02:30 happens twice: it is due once, at the first 02:30 (CEST).
		{"fall: 02:30 job, first 02:40 CEST late", daily("30 2 * * *"), "2026-10-24 02:31:00", time.Date(2026, 10, 25, 2, 40, 0, 0, cest), Critical, "expected by 2026-10-25 02:40:00"},
		{"fall: 02:30 job pinged at first 02:31, second 02:40 CET OK", daily("30 2 * * *"), "", time.Date(2026, 10, 25, 2, 40, 0, 0, cet), OK, "expected by 2026-10-26 02:40:00"},
		{"fall: 02:30 job, next day late", daily("30 2 * * *"), "", time.Date(2026, 10, 26, 2, 40, 0, 0, cet), Critical, "expected by 2026-10-26 02:40:00"},
		// Weekdays only: Friday's run pinged, Monday's not yet due at 09:05 on Monday.
		{"weekdays: weekend is quiet", daily("0 9 * * 1-5"), "2026-10-23 09:01:00", time.Date(2026, 10, 26, 9, 5, 0, 0, cet), OK, ""},
		{"weekdays: monday late", daily("0 9 * * 1-5"), "2026-10-23 09:01:00", time.Date(2026, 10, 26, 9, 10, 0, 0, cet), Critical, "no ping since 2026-10-23 09:01:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Pings{Since: at(t, paris, "2026-01-01 00:00:00")}
			switch {
			case tc.lastOK != "":
				p.LastOK = at(t, paris, tc.lastOK)
			default:
				// The first 02:31 of the fall-back day, in CEST.
				p.LastOK = time.Date(2026, 10, 25, 2, 31, 0, 0, cest)
			}
			res := JudgeHeartbeat(tc.cfg, p, tc.now)
			if res.Status != tc.want || !strings.Contains(res.Output, tc.contains) {
				t.Fatalf("at %s: got %s %q, want %s containing %q", tc.now.In(paris), res.Status, res.Output, tc.want, tc.contains)
			}
		})
	}
}

func TestHeartbeatScheduleRefusesEmbeddedZone(t *testing.T) {
	if _, err := ParseHeartbeatSchedule("CRON_TZ=UTC 0 3 * * *", time.UTC); err == nil {
		t.Fatal("a zone inside the schedule must be refused")
	}
	if _, err := ParseHeartbeatSchedule("0 3 * *", time.UTC); err == nil {
		t.Fatal("four fields must be refused")
	}
}
