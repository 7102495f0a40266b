// Package facts gathers from the database what AI providers are given: a host with its checks
// and their latest results, and an incident with its host, the failing checks, any storm and
// its timeline. It leaves secrets out: check configurations are reduced to a type, a port and a
// target without credentials, because remote providers receive these facts as they are.
package facts

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/domain/ai"
)

// Limits that keep a prompt small.
const (
	maxChecks        = 50
	maxFailingChecks = 20
	maxTimeline      = 30
	maxText          = 300
)

// AIPrefix is the prefix of host tags set by AI tagging.
const AIPrefix = "ai:"

// Host is what SecuMon knows about h.
func Host(ctx context.Context, q *db.Queries, h db.Host) (ai.HostFacts, error) {
	rows, err := q.HostChecksForAI(ctx, db.HostChecksForAIParams{WorkspaceID: h.WorkspaceID, HostID: h.ID, MaxRows: maxChecks})
	if err != nil {
		return ai.HostFacts{}, err
	}
	f := ai.HostFacts{Name: h.Name, Hostname: h.Hostname, HostType: h.HostType, Description: h.Description, UserTags: UserTags(h.Tags)}
	for _, r := range rows {
		f.Checks = append(f.Checks, check(r, h.Hostname))
	}
	return f, nil
}

// UserTags are a host's tags without those AI tagging set.
func UserTags(raw []byte) map[string]string {
	all := map[string]string{}
	_ = json.Unmarshal(raw, &all)
	for k := range all {
		if strings.HasPrefix(k, AIPrefix) {
			delete(all, k)
		}
	}
	return all
}

// check reduces a check to what says something about the host: no community strings,
// passphrases, headers, bodies or URL credentials.
func check(r db.HostChecksForAIRow, hostname string) ai.CheckFacts {
	cfg := map[string]any{}
	_ = json.Unmarshal(r.Config, &cfg)
	c := ai.CheckFacts{Name: r.Name, Type: r.CheckType}
	switch r.CheckType {
	case probes.TypeTCP:
		c.Port = intOf(cfg["port"], 0)
	case probes.TypeSNMP:
		c.Port = intOf(cfg["port"], 161)
	case probes.TypeTLS:
		c.Port = intOf(cfg["port"], 443)
		c.Target, _ = cfg["server_name"].(string)
	case probes.TypeGRPC:
		c.Port = intOf(cfg["port"], 0)
	case probes.TypeSMTP:
		c.Port = intOf(cfg["port"], 25)
	case probes.TypePostgres:
		c.Port = intOf(cfg["port"], 5432) // never the user, password or query
	case probes.TypeDNS:
		// The resolver the check asks; empty means the host itself.
		if res, _ := cfg["resolver"].(string); res != "" && !sameHost(res, hostname) {
			c.Target = res
		}
		c.Port = 53
	case probes.TypeHTTP:
		raw, _ := cfg["url"].(string)
		if u, err := url.Parse(raw); err == nil && u.Host != "" {
			c.Port = intOf(u.Port(), map[string]int{"http": 80, "https": 443}[u.Scheme])
			c.Target = (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
		}
	}
	if r.LatestStatus != nil {
		c.Status = probes.Status(*r.LatestStatus).String()
		c.Since = r.LatestTime
		c.Output = short(deref(r.LatestOutput))
		c.Error = short(deref(r.LatestError))
	}
	if len(r.LatestFacts) > 0 {
		var fs map[string]string
		if json.Unmarshal(r.LatestFacts, &fs) == nil {
			c.SysDescr, c.SysName = short(fs["sysDescr"]), short(fs["sysName"])
		}
	}
	return c
}

// Incident is what an analysis step of inc knows: its host, the failing checks of the
// workspace, the storm it belongs to (or the active one), its timeline, and the findings
// posted since findingsSince (the session's start).
func Incident(ctx context.Context, q *db.Queries, inc db.Incident, events []db.IncidentEvent, findingsSince time.Time) (ai.IncidentContext, error) {
	ic := ai.IncidentContext{
		Title: inc.Title, Description: inc.Description, Severity: inc.Severity, Status: inc.Status, OpenedAt: inc.CreatedAt.UTC(),
	}
	if inc.HostID != nil {
		h, err := q.GetHost(ctx, db.GetHostParams{WorkspaceID: inc.WorkspaceID, ID: *inc.HostID})
		switch {
		case err == nil:
			hf, err := Host(ctx, q, h)
			if err != nil {
				return ai.IncidentContext{}, err
			}
			ic.Host = &hf
		case !errors.Is(err, pgx.ErrNoRows):
			return ai.IncidentContext{}, err
		}
	}
	if inc.CheckID != nil {
		c, err := q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: inc.WorkspaceID, ID: *inc.CheckID})
		switch {
		case err == nil:
			ic.Check = c.Name
		case !errors.Is(err, pgx.ErrNoRows):
			return ai.IncidentContext{}, err
		}
	}
	failing, err := q.FailingChecksForAI(ctx, db.FailingChecksForAIParams{
		WorkspaceID: inc.WorkspaceID, HostID: inc.HostID, Ok: int16(probes.OK), MaxRows: maxFailingChecks,
	})
	if err != nil {
		return ai.IncidentContext{}, err
	}
	for _, f := range failing {
		ic.FailingChecks = append(ic.FailingChecks, ai.FailingCheck{
			Host: f.HostName, Name: f.Name, Type: f.CheckType, Status: probes.Status(f.Status).String(), Since: f.Time.UTC(),
			Output: short(f.Output), Error: short(f.ErrorMsg),
		})
	}
	storm, err := q.StormForAI(ctx, db.StormForAIParams{WorkspaceID: inc.WorkspaceID, StormID: inc.StormID})
	switch {
	case err == nil:
		ic.Storm = &ai.Storm{
			Active: storm.Status == "active", StartedAt: storm.StartedAt.UTC(), TotalAlerts: int(storm.TotalAlerts),
			AffectedHosts: int(storm.AffectedHosts), AffectedChecks: int(storm.AffectedChecks), RootCauseType: storm.RootCauseType,
			RootCauseHost: storm.RootCauseHostName, Confidence: storm.Confidence,
			IncludesIncident: inc.StormID != nil && *inc.StormID == storm.ID,
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return ai.IncidentContext{}, err
	}
	ic.Timeline, ic.PreviousFindings = timeline(events, findingsSince)
	return ic, nil
}

// timeline keeps the newest events other than AI findings, and the newest findings posted
// since. Both are capped: a session posts findings at every step, and a prompt that grew
// with them would cost more at every step until it no longer fit the model.
func timeline(events []db.IncidentEvent, since time.Time) (entries []ai.TimelineEntry, findings []string) {
	for _, e := range events {
		if e.Action == "ai_finding" {
			if !e.Time.Before(since) {
				findings = append(findings, e.Note)
			}
			continue
		}
		entries = append(entries, ai.TimelineEntry{Time: e.Time.UTC(), Action: e.Action, Actor: e.Actor, Note: short(e.Note)})
	}
	if len(entries) > maxTimeline {
		entries = entries[len(entries)-maxTimeline:]
	}
	if len(findings) > maxTimeline {
		findings = findings[len(findings)-maxTimeline:]
	}
	return entries, findings
}

func sameHost(addr, hostname string) bool {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		h = addr
	}
	return strings.EqualFold(h, hostname)
}

func intOf(v any, def int) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case string:
		if i, err := strconv.Atoi(n); err == nil {
			return i
		}
	}
	return def
}

func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxText {
		return string(r[:maxText-1]) + "…"
	}
	return s
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
