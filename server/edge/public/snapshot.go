package public

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/secuaas/secumon/gen/db"
	gen "github.com/secuaas/secumon/gen/public"
	"github.com/secuaas/secumon/probes"
)

// Limits of what one page shows: they keep a snapshot's cost bounded whatever the history.
const (
	maxIncidents       = 100 // open incidents and those of the history window (the feed)
	maxMaintenance     = 100
	updatesPerIncident = 5
)

// snapshot is everything the public routes of one page show, read from PostgreSQL at once
// and shared by every request until it expires.
type snapshot struct {
	page   db.StatusPage
	status gen.PublicStatus
	// feed holds the incidents and maintenance windows of the history window, for RSS.
	feed    []feedItem
	version string // digest of status without generated_at: the base of every ETag

	html, json representation

	badgeMu sync.Mutex
	badges  map[string]representation // by component id or "overall", rendered on demand
}

// feedItem is one RSS entry.
type feedItem struct {
	id      uuid.UUID
	kind    string // "incident" or "maintenance"
	title   string
	status  string
	text    string
	at      time.Time // when the entry last changed
	started time.Time
	ends    time.Time // a maintenance window's planned end
}

// loadSnapshot reads page's components, their states and daily uptime, its incidents and its
// maintenance windows.
func loadSnapshot(ctx context.Context, q *db.Queries, page db.StatusPage, now time.Time) (*snapshot, error) {
	ws := page.WorkspaceID
	days := int(page.ShowHistoryDays)
	today := now.UTC().Truncate(24 * time.Hour)
	since := today.AddDate(0, 0, -(days - 1))

	comps, err := q.StatusPageComponentStates(ctx, db.StatusPageComponentStatesParams{
		WorkspaceID: ws, PageID: page.ID,
		Ok: int16(probes.OK), Warning: int16(probes.Warning), Critical: int16(probes.Critical),
	})
	if err != nil {
		return nil, err
	}
	uptime, err := q.StatusPageDailyUptime(ctx, db.StatusPageDailyUptimeParams{WorkspaceID: ws, PageID: page.ID, Since: since})
	if err != nil {
		return nil, err
	}
	var hostComponents, checkComponents, allHosts []uuid.UUID
	for _, c := range comps {
		if c.HostID != nil {
			hostComponents = append(hostComponents, *c.HostID)
		}
		if c.CheckID != nil {
			checkComponents = append(checkComponents, *c.CheckID)
		}
		allHosts = append(allHosts, c.TargetHostID)
	}
	incidents, updates, err := loadIncidents(ctx, q, ws, checkComponents, hostComponents, since)
	if err != nil {
		return nil, err
	}
	windows, err := q.StatusPageMaintenance(ctx, db.StatusPageMaintenanceParams{
		WorkspaceID: ws, HostIds: allHosts, Since: since, MaxRows: maxMaintenance,
	})
	if err != nil {
		return nil, err
	}

	s := &snapshot{page: page}
	st := &s.status
	st.Slug, st.Title, st.ShowHistoryDays, st.GeneratedAt = page.Slug, page.Title, days, now.UTC().Truncate(time.Second)
	if page.Description != "" {
		st.Description = &page.Description
	}
	inMaintenance := map[uuid.UUID]bool{}
	st.Maintenance = []gen.PublicMaintenance{}
	for _, w := range windows {
		status := windowStatus(w, now)
		if status == "active" {
			for _, h := range w.AffectedHosts {
				inMaintenance[h] = true
			}
		}
		if status == "active" || status == "scheduled" {
			st.Maintenance = append(st.Maintenance, gen.PublicMaintenance{
				Id: w.ID, Title: w.Title, Description: optional(w.Description), Status: status,
				StartTime: w.StartTime.UTC(), EndTime: w.EndTime.UTC(),
			})
		}
		s.feed = append(s.feed, feedItem{
			id: w.ID, kind: "maintenance", title: w.Title, status: status, text: w.Description,
			at: w.UpdatedAt.UTC(), started: w.StartTime.UTC(), ends: w.EndTime.UTC(),
		})
	}
	st.Components = components(comps, uptime, inMaintenance, since, days)
	st.Overall = overall(st.Components)
	st.Incidents = []gen.PublicIncident{}
	for _, inc := range incidents {
		pi := gen.PublicIncident{
			Id: inc.ID, Title: publicTitle(inc, comps), Severity: inc.Severity, Status: inc.Status,
			StartedAt: inc.CreatedAt.UTC(), ResolvedAt: utc(inc.ResolvedAt), Updates: updates[inc.ID],
		}
		if pi.Updates == nil {
			pi.Updates = []gen.PublicIncidentUpdate{}
		}
		if inc.Status != "resolved" {
			st.Incidents = append(st.Incidents, pi)
		}
		// The feed says what the page says: the latest public update, never the internal
		// description.
		text := ""
		if len(pi.Updates) > 0 {
			text = pi.Updates[0].Note
		}
		s.feed = append(s.feed, feedItem{
			id: inc.ID, kind: "incident", title: pi.Title, status: inc.Status, text: text,
			at: inc.UpdatedAt.UTC(), started: inc.CreatedAt.UTC(),
		})
	}
	sort.SliceStable(s.feed, func(i, j int) bool { return s.feed[i].at.After(s.feed[j].at) })

	// The version ignores generated_at: an unchanged page keeps its ETags from one load to the
	// next, so clients keep getting 304. It covers the feed too, which holds what the status
	// does not (resolved incidents, completed windows): the RSS ETag must change with it.
	unversioned := s.status
	unversioned.GeneratedAt = time.Time{}
	raw, err := json.Marshal(unversioned)
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	h.Write(raw)
	for _, f := range s.feed {
		fmt.Fprintf(h, "\x00%s\x00%s\x00%q\x00%q\x00%q\x00%d\x00%d\x00%d", f.id, f.kind, f.title, f.status, f.text,
			f.at.UnixNano(), f.started.UnixNano(), f.ends.UnixNano())
	}
	s.version = hex.EncodeToString(h.Sum(nil)[:8])
	return s, nil
}

// loadIncidents returns the incidents of the page (open, or opened in the window) and their
// latest public updates, newest first, in public words (updateText).
func loadIncidents(ctx context.Context, q *db.Queries, ws uuid.UUID, checks, hosts []uuid.UUID, since time.Time) ([]db.Incident, map[uuid.UUID][]gen.PublicIncidentUpdate, error) {
	if len(checks)+len(hosts) == 0 {
		return nil, nil, nil
	}
	incidents, err := q.StatusPageIncidents(ctx, db.StatusPageIncidentsParams{
		WorkspaceID: ws, CheckIds: nonNil(checks), HostIds: nonNil(hosts), Since: since, MaxRows: maxIncidents,
	})
	if err != nil || len(incidents) == 0 {
		return incidents, nil, err
	}
	ids := make([]uuid.UUID, len(incidents))
	for i, inc := range incidents {
		ids[i] = inc.ID
	}
	rows, err := q.StatusPageIncidentUpdates(ctx, db.StatusPageIncidentUpdatesParams{WorkspaceID: ws, IncidentIds: ids, PerIncident: updatesPerIncident})
	if err != nil {
		return nil, nil, err
	}
	updates := map[uuid.UUID][]gen.PublicIncidentUpdate{}
	for _, r := range rows {
		status := r.Status
		updates[r.IncidentID] = append(updates[r.IncidentID], gen.PublicIncidentUpdate{Time: r.Time.UTC(), Status: &status, Note: updateText(r)})
	}
	return incidents, updates, nil
}

// components builds the public components: state, daily uptime over the window and overall
// uptime.
func components(rows []db.StatusPageComponentStatesRow, uptime []db.StatusPageDailyUptimeRow, inMaintenance map[uuid.UUID]bool, since time.Time, days int) []gen.PublicComponent {
	type day struct{ up, known int64 }
	perDay := map[uuid.UUID]map[time.Time]day{}
	for _, u := range uptime {
		if perDay[u.ComponentID] == nil {
			perDay[u.ComponentID] = map[time.Time]day{}
		}
		perDay[u.ComponentID][u.Bucket.UTC()] = day{u.Up, u.Known}
	}
	out := make([]gen.PublicComponent, 0, len(rows))
	taken := map[string]bool{}
	for _, r := range rows {
		c := gen.PublicComponent{Id: r.ID, Name: r.Name, State: componentState(r.WorstStatus), Daily: make([]gen.PublicDailyUptime, days)}
		if r.GroupName != "" {
			c.Group = &r.GroupName
		}
		if inMaintenance[r.TargetHostID] {
			c.State = gen.Maintenance
		}
		// The first component in page order owns a slug that several names give. A name with
		// no ASCII letter or digit has no slug, and "overall" names the page's badge: both
		// take the id.
		c.Slug = Slugify(r.Name)
		if c.Slug == "" || c.Slug == "overall" || taken[c.Slug] {
			c.Slug = r.ID.String()
		}
		taken[c.Slug] = true
		var up, known int64
		for i := range days {
			date := since.AddDate(0, 0, i)
			c.Daily[i].Date = openapi_types.Date{Time: date}
			if d, ok := perDay[r.ID][date]; ok && d.known > 0 {
				c.Daily[i].UptimePct = pct(d.up, d.known)
				up, known = up+d.up, known+d.known
			}
		}
		if known > 0 {
			c.UptimePct = pct(up, known)
		}
		out = append(out, c)
	}
	return out
}

// componentState is the state a component's worst check status shows; the query's -1 (no
// status known) is unknown.
func componentState(worst int16) gen.ComponentState {
	switch probes.Status(worst) {
	case probes.OK:
		return gen.Operational
	case probes.Warning:
		return gen.Degraded
	case probes.Critical:
		return gen.Outage
	}
	return gen.Unknown
}

// stateRank orders states for the overall state; unknown counts only when nothing is known.
var stateRank = map[gen.ComponentState]int{gen.Unknown: 0, gen.Operational: 1, gen.Maintenance: 2, gen.Degraded: 3, gen.Outage: 4}

func overall(cs []gen.PublicComponent) gen.ComponentState {
	worst := gen.Unknown
	for _, c := range cs {
		if stateRank[c.State] > stateRank[worst] {
			worst = c.State
		}
	}
	return worst
}

// pct is up/known in percent with two decimals, never rounded up to 100 when something failed.
func pct(up, known int64) *float64 {
	v := math.Floor(float64(up)*10000/float64(known)) / 100
	return &v
}

// windowStatus is the window's status as the public sees it: a scheduled window whose time
// has come is active even before the ticker applies it, and one whose end has passed is over.
func windowStatus(w db.MaintenanceWindow, now time.Time) string {
	switch {
	case w.Status == "scheduled" && !now.Before(w.EndTime):
		return "completed"
	case w.Status == "scheduled" && !now.Before(w.StartTime):
		return "active"
	case w.Status == "active" && !now.Before(w.EndTime):
		return "completed"
	}
	return w.Status
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(ids []uuid.UUID) []uuid.UUID {
	if ids == nil {
		return []uuid.UUID{}
	}
	return ids
}
