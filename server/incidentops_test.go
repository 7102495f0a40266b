package server_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/domain/access"
	"github.com/secuaas/secumon/server/domain/alerting"
	"github.com/secuaas/secumon/server/domain/notify/smtptest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func sdkFor(t *testing.T, env *servertest.Env, token string) *client.Client {
	t.Helper()
	c, err := client.New(env.URL, client.WithToken(token))
	require.NoError(t, err)
	return c
}

// apiFields names the fields of an SDK error (400, or 404 naming a field).
func apiFields(t *testing.T, err error) []string {
	t.Helper()
	var ae *client.APIError
	require.True(t, errors.As(err, &ae), "%v", err)
	var out []string
	for _, f := range ae.Errors {
		out = append(out, f.Field)
	}
	return out
}

func actionsOf(inc *client.Incident) []string {
	var out []string
	for _, e := range *inc.Timeline {
		out = append(out, string(e.Action))
	}
	return out
}

func notesOf(inc *client.Incident, action string) []string {
	var out []string
	for _, e := range *inc.Timeline {
		if string(e.Action) == action {
			out = append(out, deref(e.Note))
		}
	}
	return out
}

// PUT /incidents/{id}: title, severity and assignee change with one timeline event each;
// the assignee must be a member of the workspace; If-Match is honoured; lists filter on the
// assignee.
func TestIncidentUpdateAndAssignee(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	operator := env.Token(t, "default", access.Operator)
	sdk := sdkFor(t, env, operator.Token)
	env.NewWorkspace(t, "other")
	outsider := env.Token(t, "other", access.Owner)
	otherSDK := sdkFor(t, env, outsider.Token)

	inc, err := sdk.Incidents.Create(ctx, client.IncidentCreate{Title: "Dégradation web-prod-01"})
	require.NoError(t, err)
	spare, err := sdk.Incidents.Create(ctx, client.IncidentCreate{Title: "unrelated"})
	require.NoError(t, err)

	critical := client.SeverityCritical
	up, err := sdk.Incidents.Update(ctx, inc.Id, client.IncidentChange{
		Title: ptr("web-prod-01 is down"), Severity: &critical,
		AssigneeId: nullable.NewNullableWithValue(operator.UserID),
	})
	require.NoError(t, err)
	assert.Equal(t, "web-prod-01 is down", up.Title)
	assert.Equal(t, client.SeverityCritical, up.Severity)
	require.NotNil(t, up.AssigneeId)
	assert.Equal(t, operator.UserID, *up.AssigneeId)
	assert.Equal(t, []string{"opened", "title_changed", "severity_changed", "assigned"}, actionsOf(up))
	assert.Equal(t, []string{`title: "Dégradation web-prod-01" → "web-prod-01 is down"`}, notesOf(up, "title_changed"))
	assert.Contains(t, notesOf(up, "assigned")[0], operator.UserID.String())

	// The same values again change nothing and record nothing.
	same, err := sdk.Incidents.Update(ctx, inc.Id, client.IncidentChange{Title: ptr("web-prod-01 is down"), Severity: &critical})
	require.NoError(t, err)
	assert.Len(t, *same.Timeline, 4)

	// Bad input is 400 naming the field, and changes nothing.
	for name, tc := range map[string]struct {
		change client.IncidentChange
		field  string
	}{
		"unknown user":           {client.IncidentChange{AssigneeId: nullable.NewNullableWithValue(uuid.New())}, "assignee_id"},
		"another workspace's":    {client.IncidentChange{AssigneeId: nullable.NewNullableWithValue(outsider.UserID)}, "assignee_id"},
		"empty title":            {client.IncidentChange{Title: ptr("")}, "title"},
		"title too long":         {client.IncidentChange{Title: ptr(strings.Repeat("x", 501))}, "title"},
		"bad severity":           {client.IncidentChange{Severity: ptr(client.Severity("huge"))}, "severity"},
		"empty public title":     {client.IncidentChange{PublicTitle: nullable.NewNullableWithValue("")}, "public_title"},
		"nothing to change ({})": {client.IncidentChange{}, ""},
	} {
		_, err := sdk.Incidents.Update(ctx, inc.Id, tc.change)
		require.True(t, client.IsValidation(err), "%s: %v", name, err)
		if tc.field != "" {
			assert.Contains(t, apiFields(t, err), tc.field, name)
		}
	}
	_, err = otherSDK.Incidents.Update(ctx, inc.Id, client.IncidentChange{Title: ptr("mine")})
	assert.True(t, client.IsNotFound(err), "another workspace's incident: %v", err)
	_, err = sdk.Incidents.Update(ctx, uuid.New(), client.IncidentChange{Title: ptr("x")})
	assert.True(t, client.IsNotFound(err), "%v", err)
	viewer := sdkFor(t, env, env.Token(t, "default", access.Viewer).Token)
	_, err = viewer.Incidents.Update(ctx, inc.Id, client.IncidentChange{Title: ptr("x")})
	assert.True(t, client.IsForbidden(err), "%v", err)

	// If-Match: a stale ETag is 412 and writes nothing; the current one passes.
	got, err := sdk.Raw().GetIncidentWithResponse(ctx, inc.Id, nil)
	require.NoError(t, err)
	tag := got.HTTPResponse.Header.Get("ETag")
	require.NotEmpty(t, tag)
	_, err = sdk.Incidents.Update(ctx, inc.Id, client.IncidentChange{Title: ptr("stale")}, client.WithIfMatch(`"stale"`))
	assert.ErrorIs(t, err, client.ErrPreconditionFailed)
	up, err = sdk.Incidents.Update(ctx, inc.Id, client.IncidentChange{PublicTitle: nullable.NewNullableWithValue("Web site unavailable")}, client.WithIfMatch(tag))
	require.NoError(t, err)
	assert.Equal(t, "web-prod-01 is down", up.Title, "the stale write wrote nothing")
	assert.Equal(t, "Web site unavailable", deref(up.PublicTitle))
	_, err = sdk.Incidents.Update(ctx, inc.Id, client.IncidentChange{Title: ptr("again")}, client.WithIfMatch(tag))
	assert.ErrorIs(t, err, client.ErrPreconditionFailed, "the incident changed since that ETag")

	// Lists show the assignee and filter on it.
	all := client.ListIncidentsParamsStatusAll
	mine, err := sdk.Incidents.List(ctx, &client.ListIncidentsParams{Status: &all, AssigneeId: &operator.UserID})
	require.NoError(t, err)
	require.Equal(t, 1, mine.Count)
	assert.Equal(t, inc.Id, mine.Incidents[0].Id)
	assert.Equal(t, operator.UserID, *mine.Incidents[0].AssigneeId)
	nobodys, err := sdk.Incidents.List(ctx, &client.ListIncidentsParams{Status: &all, Unassigned: ptr(true)})
	require.NoError(t, err)
	require.Equal(t, 1, nobodys.Count)
	assert.Equal(t, spare.Id, nobodys.Incidents[0].Id)
	assigned, err := sdk.Incidents.List(ctx, &client.ListIncidentsParams{Status: &all, Unassigned: ptr(false)})
	require.NoError(t, err)
	assert.Equal(t, 1, assigned.Count)
	_, err = sdk.Incidents.List(ctx, &client.ListIncidentsParams{AssigneeId: &operator.UserID, Unassigned: ptr(true)})
	assert.Equal(t, []string{"unassigned"}, apiFields(t, err))

	// null unassigns.
	up, err = sdk.Incidents.Update(ctx, inc.Id, client.IncidentChange{AssigneeId: nullable.NewNullNullable[openapi_types.UUID]()})
	require.NoError(t, err)
	assert.Nil(t, up.AssigneeId)
	assert.Equal(t, "unassigned", actionsOf(up)[len(*up.Timeline)-1])
	nobodys, err = sdk.Incidents.List(ctx, &client.ListIncidentsParams{Status: &all, Unassigned: ptr(true)})
	require.NoError(t, err)
	assert.Equal(t, 2, nobodys.Count)
}

// A snoozed incident notifies nobody (an SMTP sink hears nothing and the timeline says
// why); once the snooze ends, its next change notifies again.
func TestIncidentSnoozeSilencesNotifications(t *testing.T) {
	f := newAlertFixture(t, alerting.Config{})
	ctx := context.Background()
	mail := smtptest.Start(t)
	startNotifications(t, f.env.Pool, mail.Port, nil)
	f.policy(t, "everything", client.AlertConditions{}, client.AlertChannels{Email: &[]openapi_types.Email{"ops@example.com"}}, 0)
	sdk := sdkFor(t, f.env, f.env.OwnerToken)
	expectMail := func(subject string) {
		t.Helper()
		select {
		case m := <-mail.Got:
			assert.Contains(t, string(m.Data), subject)
		case <-time.After(10 * time.Second):
			t.Fatalf("no e-mail about %q", subject)
		}
	}

	inc, err := sdk.Incidents.Create(ctx, client.IncidentCreate{Title: "db-01 slow"})
	require.NoError(t, err)
	expectMail("opened: db-01 slow")
	delivered := f.deliveries(t, &inc.Id)

	// Bad snoozes are 400 naming the field.
	for name, tc := range map[string]struct {
		body  client.IncidentSnooze
		field string
	}{
		"in the past":           {client.IncidentSnooze{Until: ptr(time.Now().Add(-time.Minute))}, "until"},
		"more than 7 days away": {client.IncidentSnooze{Until: ptr(time.Now().Add(7*24*time.Hour + time.Hour))}, "until"},
		"too short":             {client.IncidentSnooze{DurationSec: ptr(int32(10))}, "duration_sec"},
		"too long":              {client.IncidentSnooze{DurationSec: ptr(int32(8 * 24 * 3600))}, "duration_sec"},
		"both":                  {client.IncidentSnooze{DurationSec: ptr(int32(600)), Until: ptr(time.Now().Add(time.Hour))}, ""},
		"neither":               {client.IncidentSnooze{}, ""},
	} {
		_, err := sdk.Incidents.Snooze(ctx, inc.Id, tc.body)
		require.True(t, client.IsValidation(err), "%s: %v", name, err)
		if tc.field != "" {
			assert.Contains(t, apiFields(t, err), tc.field, name)
		}
	}
	f.env.NewWorkspace(t, "other")
	other := sdkFor(t, f.env, f.env.Token(t, "other", access.Owner).Token)
	_, err = other.Incidents.Snooze(ctx, inc.Id, client.IncidentSnooze{DurationSec: ptr(int32(600))})
	assert.True(t, client.IsNotFound(err), "%v", err)
	_, err = sdk.Incidents.Unsnooze(ctx, inc.Id)
	assert.True(t, client.IsConflict(err), "not snoozed: %v", err)

	before := time.Now()
	snoozed, err := sdk.Incidents.Snooze(ctx, inc.Id, client.IncidentSnooze{DurationSec: ptr(int32(3600))})
	require.NoError(t, err)
	require.NotNil(t, snoozed.SnoozedUntil)
	assert.WithinDuration(t, before.Add(time.Hour), *snoozed.SnoozedUntil, 5*time.Second)
	assert.Equal(t, "snoozed", actionsOf(snoozed)[len(*snoozed.Timeline)-1])
	_, err = other.Incidents.Unsnooze(ctx, inc.Id)
	assert.True(t, client.IsNotFound(err), "%v", err)

	// Resolving while snoozed: nothing queued, nothing sent, the timeline says why.
	_, err = sdk.Incidents.Resolve(ctx, inc.Id)
	require.NoError(t, err)
	assert.Equal(t, delivered, f.deliveries(t, &inc.Id), "no delivery queued while snoozed")
	now, err := sdk.Incidents.Get(ctx, inc.Id)
	require.NoError(t, err)
	require.Len(t, notesOf(now, "suppressed"), 1)
	assert.Contains(t, notesOf(now, "suppressed")[0], "snoozed until")
	assert.NotContains(t, actionsOf(now)[len(*now.Timeline)-2:], "notified")

	// Ending the snooze: the next change (a reopening) notifies again.
	un, err := sdk.Incidents.Unsnooze(ctx, inc.Id)
	require.NoError(t, err)
	assert.Nil(t, un.SnoozedUntil)
	assert.Equal(t, "unsnoozed", actionsOf(un)[len(*un.Timeline)-1])
	investigating := client.IncidentStatusInvestigating
	_, err = sdk.Incidents.AddUpdate(ctx, inc.Id, client.IncidentUpdateCreate{Note: "it is back", Status: &investigating})
	require.NoError(t, err)
	expectMail("reopened: db-01 slow")
	select {
	case m := <-mail.Got:
		t.Fatalf("an e-mail sent while snoozed arrived after all: %s", m.Data)
	default:
	}
	assert.Equal(t, delivered+1, f.deliveries(t, &inc.Id))

	// A snooze that runs out ends by itself: the incident no longer shows it, and the next
	// change notifies. (The end time is moved into the past rather than waited for.)
	_, err = sdk.Incidents.Snooze(ctx, inc.Id, client.IncidentSnooze{DurationSec: ptr(int32(60))})
	require.NoError(t, err)
	_, err = f.env.Pool.Exec(ctx, "UPDATE incidents SET snoozed_until = now() - interval '1 second' WHERE workspace_id = $1 AND id = $2", f.env.Workspace, inc.Id)
	require.NoError(t, err)
	expired, err := sdk.Incidents.Get(ctx, inc.Id)
	require.NoError(t, err)
	assert.Nil(t, expired.SnoozedUntil)
	_, err = sdk.Incidents.Resolve(ctx, inc.Id)
	require.NoError(t, err)
	expectMail("resolved: db-01 slow")
	assert.Equal(t, delivered+2, f.deliveries(t, &inc.Id))
}

// Merging duplicates resolves them into the survivor: each keeps its timeline (referenced,
// not copied) with a merged event, the survivor gets one per duplicate; other workspaces'
// ids are 404 naming the field; merging into itself or a merged incident is 409.
func TestIncidentMerge(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	sdk := sdkFor(t, env, env.OwnerToken)
	env.NewWorkspace(t, "other")
	other := sdkFor(t, env, env.Token(t, "other", access.Owner).Token)
	open := func(title string) *client.Incident {
		inc, err := sdk.Incidents.Create(ctx, client.IncidentCreate{Title: title})
		require.NoError(t, err)
		return inc
	}
	a, b, c, d := open("web down"), open("web ping fails"), open("web 502"), open("db slow")
	_, err := sdk.Incidents.AddUpdate(ctx, b.Id, client.IncidentUpdateCreate{Note: "looking at the load balancer"})
	require.NoError(t, err)
	_, err = sdk.Incidents.Acknowledge(ctx, c.Id)
	require.NoError(t, err)
	theirs, err := other.Incidents.Create(ctx, client.IncidentCreate{Title: "theirs"})
	require.NoError(t, err)

	// Another workspace's id (or an unknown one) is 404 naming its place in the list, and
	// nothing is merged.
	_, err = sdk.Incidents.Merge(ctx, a.Id, []uuid.UUID{b.Id, theirs.Id})
	require.True(t, client.IsNotFound(err), "%v", err)
	assert.Equal(t, []string{"incident_ids[1]"}, apiFields(t, err))
	_, err = sdk.Incidents.Merge(ctx, a.Id, []uuid.UUID{uuid.New()})
	assert.Equal(t, []string{"incident_ids[0]"}, apiFields(t, err))
	_, err = other.Incidents.Merge(ctx, a.Id, []uuid.UUID{theirs.Id})
	assert.True(t, client.IsNotFound(err), "into another workspace's incident: %v", err)
	still, err := sdk.Incidents.Get(ctx, b.Id)
	require.NoError(t, err)
	assert.Nil(t, still.MergedInto)
	assert.Equal(t, client.IncidentStatusInvestigating, still.Status)

	// Bounds: 1 to 50 distinct ids.
	_, err = sdk.Incidents.Merge(ctx, a.Id, nil)
	assert.Contains(t, apiFields(t, err), "incident_ids")
	many := make([]uuid.UUID, 51)
	for i := range many {
		many[i] = uuid.New()
	}
	_, err = sdk.Incidents.Merge(ctx, a.Id, many)
	assert.Contains(t, apiFields(t, err), "incident_ids")
	_, err = sdk.Incidents.Merge(ctx, a.Id, []uuid.UUID{b.Id, b.Id})
	assert.True(t, client.IsValidation(err), "duplicate ids: %v", err)

	_, err = sdk.Incidents.Merge(ctx, a.Id, []uuid.UUID{a.Id})
	assert.True(t, client.IsConflict(err), "into itself: %v", err)

	merged, err := sdk.Incidents.Merge(ctx, a.Id, []uuid.UUID{b.Id, c.Id})
	require.NoError(t, err)
	assert.Equal(t, client.IncidentStatusInvestigating, merged.Status)
	notes := notesOf(merged, "merged")
	require.Len(t, notes, 2)
	assert.Contains(t, strings.Join(notes, "\n"), b.Id.String())
	assert.Contains(t, strings.Join(notes, "\n"), c.Id.String())

	for _, dup := range []*client.Incident{b, c} {
		got, err := sdk.Incidents.Get(ctx, dup.Id)
		require.NoError(t, err)
		assert.Equal(t, client.IncidentStatusResolved, got.Status)
		require.NotNil(t, got.MergedInto)
		assert.Equal(t, a.Id, *got.MergedInto)
		assert.NotNil(t, got.ResolvedAt)
		assert.Equal(t, "merged", actionsOf(got)[len(*got.Timeline)-1])
		assert.Contains(t, notesOf(got, "merged")[0], a.Id.String())
	}
	gotB, err := sdk.Incidents.Get(ctx, b.Id)
	require.NoError(t, err)
	assert.Equal(t, []string{"opened", "update", "merged"}, actionsOf(gotB), "the duplicate keeps its own timeline")
	assert.Equal(t, []string{"looking at the load balancer"}, notesOf(gotB, "update"))
	gotC, err := sdk.Incidents.Get(ctx, c.Id)
	require.NoError(t, err)
	assert.Equal(t, []string{"opened", "acknowledged", "merged"}, actionsOf(gotC))

	// A merged incident can be neither a target, nor merged again, nor reopened, nor snoozed.
	_, err = sdk.Incidents.Merge(ctx, b.Id, []uuid.UUID{d.Id})
	assert.True(t, client.IsConflict(err), "into a merged incident: %v", err)
	_, err = sdk.Incidents.Merge(ctx, d.Id, []uuid.UUID{b.Id})
	assert.True(t, client.IsConflict(err), "a merged incident again: %v", err)
	investigating := client.IncidentStatusInvestigating
	_, err = sdk.Incidents.AddUpdate(ctx, b.Id, client.IncidentUpdateCreate{Note: "back", Status: &investigating})
	assert.True(t, client.IsConflict(err), "reopening a merged incident: %v", err)
	_, err = sdk.Incidents.Snooze(ctx, b.Id, client.IncidentSnooze{DurationSec: ptr(int32(600))})
	assert.True(t, client.IsConflict(err), "snoozing a merged incident: %v", err)
	gotD, err := sdk.Incidents.Get(ctx, d.Id)
	require.NoError(t, err)
	assert.Equal(t, client.IncidentStatusInvestigating, gotD.Status, "a refused merge changes nothing")
}

// GET /incidents/stats over incidents with fixed timestamps: counts by status, severity and
// source, MTTA and MTTR means and medians; merged duplicates and incidents outside the range
// are left out.
func TestIncidentStats(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	sdk := sdkFor(t, env, env.Token(t, "default", access.Viewer).Token)
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	type row struct {
		id               uuid.UUID
		severity, status string
		source           string
		created          string
		acked, resolved  string
		mergedInto       *uuid.UUID
	}
	first := uuid.New()
	rows := []row{
		{first, "critical", "resolved", "auto", "2025-03-10T10:00:00Z", "2025-03-10T10:02:00Z", "2025-03-10T10:30:00Z", nil},        // ack 120 s, resolve 1800 s
		{uuid.New(), "major", "acknowledged", "auto", "2025-03-11T11:00:00Z", "2025-03-11T11:06:00Z", "", nil},                      // ack 360 s
		{uuid.New(), "minor", "investigating", "manual", "2025-03-12T12:00:00Z", "", "", nil},                                       //
		{uuid.New(), "critical", "resolved", "manual", "2025-03-13T13:00:00Z", "2025-03-13T13:01:00Z", "2025-03-13T14:00:00Z", nil}, // ack 60 s, resolve 3600 s
		{uuid.New(), "major", "resolved", "auto", "2025-03-10T10:01:00Z", "", "2025-03-10T10:05:00Z", &first},                       // merged: apart
		{uuid.New(), "info", "resolved", "auto", "2025-02-01T00:00:00Z", "2025-02-01T00:00:01Z", "2025-02-01T00:00:02Z", nil},       // before the range
	}
	orNull := func(s string) *time.Time {
		if s == "" {
			return nil
		}
		v := at(s)
		return &v
	}
	for _, r := range rows {
		_, err := env.Pool.Exec(ctx, `INSERT INTO incidents (workspace_id, id, title, severity, status, tags, created_at, updated_at,
			acknowledged_at, resolved_at, merged_into) VALUES ($1, $2, 'fixed', $3, $4, jsonb_build_object('source', $5::text), $6, $6, $7, $8, $9)`,
			env.Workspace, r.id, r.severity, r.status, r.source, at(r.created), orNull(r.acked), orNull(r.resolved), r.mergedInto)
		require.NoError(t, err)
	}

	from, to := at("2025-03-01T00:00:00Z"), at("2025-04-01T00:00:00Z")
	st, err := sdk.Incidents.Stats(ctx, &client.GetIncidentStatsParams{From: &from, To: &to})
	require.NoError(t, err)
	assert.Equal(t, from, st.From.UTC())
	assert.Equal(t, to, st.To.UTC())
	assert.EqualValues(t, 4, st.Total)
	assert.EqualValues(t, 1, st.Merged)
	assert.Equal(t, map[string]int64{"investigating": 1, "acknowledged": 1, "resolved": 2}, st.ByStatus)
	assert.Equal(t, map[string]int64{"critical": 2, "major": 1, "minor": 1, "warning": 0, "info": 0}, st.BySeverity)
	assert.Equal(t, map[string]int64{"auto": 2, "manual": 2}, st.BySource)
	assert.EqualValues(t, 3, st.Mtta.Count)
	assert.InDelta(t, 180, deref(st.Mtta.MeanSec), 0.001, "(120 + 360 + 60) / 3")
	assert.InDelta(t, 120, deref(st.Mtta.MedianSec), 0.001)
	assert.EqualValues(t, 2, st.Mttr.Count)
	assert.InDelta(t, 2700, deref(st.Mttr.MeanSec), 0.001, "(1800 + 3600) / 2")
	assert.InDelta(t, 2700, deref(st.Mttr.MedianSec), 0.001)

	// An empty range: zero counts, no means.
	empty, err := sdk.Incidents.Stats(ctx, &client.GetIncidentStatsParams{From: ptr(at("2024-01-01T00:00:00Z")), To: ptr(at("2024-02-01T00:00:00Z"))})
	require.NoError(t, err)
	assert.Zero(t, empty.Total)
	assert.Zero(t, empty.Mttr.Count)
	assert.Nil(t, empty.Mttr.MeanSec)
	assert.Equal(t, int64(0), empty.ByStatus["resolved"])

	// Another workspace sees none of these.
	env.NewWorkspace(t, "other")
	theirs, err := sdkFor(t, env, env.Token(t, "other", access.Viewer).Token).Incidents.Stats(ctx, &client.GetIncidentStatsParams{From: &from, To: &to})
	require.NoError(t, err)
	assert.Zero(t, theirs.Total)

	// Bounded range, named field.
	_, err = sdk.Incidents.Stats(ctx, &client.GetIncidentStatsParams{From: &to, To: &from})
	assert.Equal(t, []string{"from"}, apiFields(t, err))
	_, err = sdk.Incidents.Stats(ctx, &client.GetIncidentStatsParams{From: ptr(at("2024-01-01T00:00:00Z")), To: &to})
	assert.Equal(t, []string{"from"}, apiFields(t, err), "more than 366 days")
	resp, body := hx(t, http.MethodGet, env.URL+"/api/v2/incidents/stats?from=yesterday", env.OwnerToken, "")
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, string(body), `"from"`)
}
