package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/domain/oncall"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

var (
	oncallAlice = client.OncallMember{Name: "Alice", Email: "alice@example.com"}
	oncallBob   = client.OncallMember{Name: "Bob", Email: "bob@example.com", Phone: ptr("+15145550100")}
	oncallCarol = client.OncallMember{Name: "Carol", Email: "carol@example.com"}
	oncallDave  = client.OncallMember{Name: "Dave", Email: "dave@example.com"}
)

func createSchedule(t *testing.T, c *client.ClientWithResponses, body client.OncallScheduleCreate) client.OncallSchedule {
	t.Helper()
	r, err := c.CreateOncallScheduleWithResponse(context.Background(), nil, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return *r.JSON201
}

func getSchedule(t *testing.T, c *client.ClientWithResponses, id uuid.UUID) client.OncallScheduleDetail {
	t.Helper()
	r, err := c.GetOncallScheduleWithResponse(context.Background(), id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	return *r.JSON200
}

func TestOncallSchedulesLifecycle(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	toronto, err := time.LoadLocation("America/Toronto")
	require.NoError(t, err)

	empty, err := c.ListOncallSchedulesWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, empty.StatusCode())
	assert.JSONEq(t, `[]`, string(empty.Body), "a bare array")

	// The reference's request: only name and members.
	before := time.Now()
	s := createSchedule(t, c, client.OncallScheduleCreate{Name: "Astreinte web", Description: ptr("web team"), Members: &[]client.OncallMember{oncallAlice, oncallBob}})
	assert.Equal(t, "Astreinte web", s.Name)
	assert.Equal(t, "America/Toronto", s.Timezone)
	assert.Equal(t, client.RotationTypeWeekly, s.RotationType)
	assert.Equal(t, "09:00", s.HandoffTime)
	assert.Nil(t, s.RotationLengthHours)
	assert.Equal(t, []client.OncallMember{oncallAlice, oncallBob}, s.Members)
	assert.Empty(t, s.Overrides)
	// The rotation starts at the latest 09:00 in Toronto, so the first member is on call now.
	assert.Equal(t, "09:00", s.RotationStart.In(toronto).Format("15:04"))
	assert.False(t, s.RotationStart.After(before))
	assert.Less(t, before.Sub(s.RotationStart), 25*time.Hour)

	d := getSchedule(t, c, s.Id)
	assert.Equal(t, s, d.Schedule)
	require.NotNil(t, d.CurrentOncall)
	assert.Equal(t, oncallAlice, *d.CurrentOncall)
	require.NotNil(t, d.CurrentUntil)
	// A week later in the calendar, 09:00 local whatever DST does in between.
	assert.Equal(t, s.RotationStart.In(toronto).AddDate(0, 0, 7).UTC(), d.CurrentUntil.UTC())

	list, err := c.ListOncallSchedulesWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Len(t, *list.JSON200, 1)
	assert.Equal(t, s.Id, (*list.JSON200)[0].Id)

	// PUT replaces the members; the other fields were absent and keep their value.
	up, err := c.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, client.OncallScheduleUpdate{Name: "Astreinte web", Members: &[]client.OncallMember{oncallBob}})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, up.StatusCode(), string(up.Body))
	assert.Empty(t, up.Body)
	d = getSchedule(t, c, s.Id)
	assert.Equal(t, []client.OncallMember{oncallBob}, d.Schedule.Members)
	assert.Equal(t, oncallBob, *d.CurrentOncall)
	assert.Equal(t, "web team", *d.Schedule.Description)
	assert.Equal(t, s.RotationStart, d.Schedule.RotationStart)
	assert.Equal(t, "America/Toronto", d.Schedule.Timezone)
	assert.False(t, d.Schedule.UpdatedAt.Before(s.UpdatedAt))

	// Switching to a 12-hour custom rotation in another zone, with a new name.
	up, err = c.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, client.OncallScheduleUpdate{
		Name: "Astreinte web (EU)", Timezone: ptr("Europe/Paris"), RotationType: ptr(client.RotationTypeCustom), RotationLengthHours: ptr(12), HandoffTime: ptr("08:30"),
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, up.StatusCode(), string(up.Body))
	d = getSchedule(t, c, s.Id)
	assert.Equal(t, "Astreinte web (EU)", d.Schedule.Name)
	assert.Equal(t, "Europe/Paris", d.Schedule.Timezone)
	assert.Equal(t, client.RotationTypeCustom, d.Schedule.RotationType)
	assert.Equal(t, 12, *d.Schedule.RotationLengthHours)
	assert.Equal(t, "08:30", d.Schedule.HandoffTime)
	assert.Equal(t, []client.OncallMember{oncallBob}, d.Schedule.Members)

	// Names are unique in a workspace.
	other := createSchedule(t, c, client.OncallScheduleCreate{Name: "Astreinte db"})
	dup, err := c.CreateOncallScheduleWithResponse(ctx, nil, client.OncallScheduleCreate{Name: "Astreinte db"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, dup.StatusCode())
	dupUp, err := c.UpdateOncallScheduleWithResponse(ctx, other.Id, nil, client.OncallScheduleUpdate{Name: "Astreinte web (EU)"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, dupUp.StatusCode())
	assert.Equal(t, "Astreinte db", getSchedule(t, c, other.Id).Schedule.Name)
	// Nobody on call in a schedule without members: null, not absent.
	raw, err := c.GetOncallScheduleWithResponse(ctx, other.Id, nil)
	require.NoError(t, err)
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw.Body, &body))
	assert.JSONEq(t, `null`, string(body["current_oncall"]))
	assert.NotContains(t, body, "current_until", "nothing changes ahead")

	// Viewers read, they do not write.
	viewer := env.Client(t, env.Token(t, "default", access.Viewer).Token)
	assert.Equal(t, s.Id, getSchedule(t, viewer, s.Id).Schedule.Id)
	denied, err := viewer.DeleteOncallScheduleWithResponse(ctx, s.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, denied.StatusCode())

	del, err := c.DeleteOncallScheduleWithResponse(ctx, s.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, del.StatusCode())
	gone, err := c.GetOncallScheduleWithResponse(ctx, s.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, gone.StatusCode())
	again, err := c.DeleteOncallScheduleWithResponse(ctx, s.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, again.StatusCode())
	missing, err := c.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, client.OncallScheduleUpdate{Name: "x"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, missing.StatusCode())
}

func TestOncallScheduleBadInputNamesTheField(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	start := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		body  client.OncallScheduleCreate
		field string
	}{
		{"unknown zone", client.OncallScheduleCreate{Name: "s", Timezone: ptr("Mars/Olympus_Mons")}, "timezone"},
		{"server zone", client.OncallScheduleCreate{Name: "s", Timezone: ptr("Local")}, "timezone"},
		{"custom without length", client.OncallScheduleCreate{Name: "s", RotationType: ptr(client.RotationTypeCustom)}, "rotation_length_hours"},
		{"length out of range", client.OncallScheduleCreate{Name: "s", RotationType: ptr(client.RotationTypeCustom), RotationLengthHours: ptr(0)}, "rotation_length_hours"},
		{"hand-off time", client.OncallScheduleCreate{Name: "s", HandoffTime: ptr("9:00")}, "handoff_time"},
		{"hand-off hour", client.OncallScheduleCreate{Name: "s", HandoffTime: ptr("24:00")}, "handoff_time"},
		{"override ends before it starts", client.OncallScheduleCreate{Name: "s", Overrides: &client.OncallOverrides{
			{Name: "Carol", Email: "carol@example.com", Start: start, End: start.Add(time.Hour)},
			{Name: "Dave", Email: "dave@example.com", Start: start, End: start},
		}}, "overrides.1.end"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.CreateOncallScheduleWithResponse(ctx, nil, tc.body)
			require.NoError(t, err)
			require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
			assert.Equal(t, []string{tc.field}, resultsProblemFields(r.ApplicationproblemJSON400))
		})
	}
	// The contract checks the overrides' items; the SDK refuses such an address, so it goes raw.
	resp, p := call(t, env, http.MethodPost, "/api/v2/oncall-schedules", env.OwnerToken,
		`{"name":"s","overrides":[{"name":"Carol","email":"not an address","start":"2026-06-01T12:00:00Z","end":"2026-06-01T13:00:00Z"}]}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Equal(t, []string{"overrides.0.email"}, fieldsOf(p))
	list, err := c.ListOncallSchedulesWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, *list.JSON200, "nothing was created")

	// The same checks apply to the merged result of a partial update, which changes nothing.
	s := createSchedule(t, c, client.OncallScheduleCreate{Name: "s", Members: &[]client.OncallMember{oncallAlice}})
	for field, body := range map[string]client.OncallScheduleUpdate{
		"timezone":              {Name: "renamed", Timezone: ptr("Europe/Nowhere")},
		"rotation_length_hours": {Name: "renamed", RotationType: ptr(client.RotationTypeCustom)},
		"overrides.0.end":       {Name: "renamed", Overrides: &client.OncallOverrides{{Name: "Dave", Email: "dave@example.com", Start: start, End: start.Add(-time.Minute)}}},
	} {
		r, err := c.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, body)
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		assert.Equal(t, []string{field}, resultsProblemFields(r.ApplicationproblemJSON400))
	}
	assert.Equal(t, s, getSchedule(t, c, s.Id).Schedule, "unchanged")
	// Once the schedule has a length, switching to custom needs no new one.
	r, err := c.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, client.OncallScheduleUpdate{Name: "s", RotationType: ptr(client.RotationTypeCustom), RotationLengthHours: ptr(8)})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, r.StatusCode(), string(r.Body))
	r, err = c.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, client.OncallScheduleUpdate{Name: "s", RotationType: ptr(client.RotationTypeDaily)})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, r.StatusCode(), string(r.Body))
	r, err = c.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, client.OncallScheduleUpdate{Name: "s", RotationType: ptr(client.RotationTypeCustom)})
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, r.StatusCode(), string(r.Body))
	assert.Equal(t, 8, *getSchedule(t, c, s.Id).Schedule.RotationLengthHours)
}

// TestWhoIsOnCallNow places each schedule's rotation_start so that "now" falls in the middle of
// a known turn, hours away from any hand-off, and checks the detail, GET /oncall/current and
// the notifier's oncall.Current against it.
func TestWhoIsOnCallNow(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	now := time.Now().UTC()
	four := &[]client.OncallMember{oncallAlice, oncallBob, oncallCarol, oncallDave}

	// Hourly turns that began 2.5 hours ago: the third member is on call for another half hour.
	hourlyStart := now.Add(-150 * time.Minute).Truncate(time.Second)
	hourly := createSchedule(t, c, client.OncallScheduleCreate{Name: "hourly", RotationType: ptr(client.RotationTypeCustom), RotationLengthHours: ptr(1),
		RotationStart: &hourlyStart, Members: four})

	// Daily turns in UTC handing off 12 hours from now's hour; the rotation began two
	// hand-offs before the latest one, so the third member is on call.
	handoffHour := (now.Hour() + 12) % 24
	latest := time.Date(now.Year(), now.Month(), now.Day(), handoffHour, 0, 0, 0, time.UTC)
	if latest.After(now) {
		latest = latest.AddDate(0, 0, -1)
	}
	dailyStart := latest.AddDate(0, 0, -2)
	daily := createSchedule(t, c, client.OncallScheduleCreate{Name: "daily", Timezone: ptr("UTC"), RotationType: ptr(client.RotationTypeDaily),
		HandoffTime: ptr(latest.Format("15:04")), RotationStart: &dailyStart, Members: four})

	// Carol's hourly turn, covered by Dave until tomorrow.
	covered := createSchedule(t, c, client.OncallScheduleCreate{Name: "covered", RotationType: ptr(client.RotationTypeCustom), RotationLengthHours: ptr(1),
		RotationStart: &hourlyStart, Members: four, Overrides: &client.OncallOverrides{
			{Name: oncallDave.Name, Email: oncallDave.Email, Start: now.Add(-time.Hour).Truncate(time.Second), End: now.Add(24 * time.Hour).Truncate(time.Second)},
		}})
	nobody := createSchedule(t, c, client.OncallScheduleCreate{Name: "nobody"})

	want := map[uuid.UUID]struct {
		member *client.OncallMember
		until  *time.Time
	}{
		hourly.Id:  {&oncallCarol, ptr(hourlyStart.Add(3 * time.Hour))},
		daily.Id:   {&oncallCarol, ptr(latest.AddDate(0, 0, 1))},
		covered.Id: {&oncallDave, ptr(now.Add(24 * time.Hour).Truncate(time.Second))},
		nobody.Id:  {nil, nil},
	}
	for id, w := range want {
		d := getSchedule(t, c, id)
		assert.Equal(t, w.member, d.CurrentOncall, d.Schedule.Name)
		assertSameTime(t, w.until, d.CurrentUntil, d.Schedule.Name)

		member, until, err := oncall.Current(ctx, env.Queries, env.Workspace, id, time.Now())
		require.NoError(t, err)
		if w.member == nil {
			assert.Nil(t, member, d.Schedule.Name)
			assert.True(t, until.IsZero(), d.Schedule.Name)
		} else {
			require.NotNil(t, member, d.Schedule.Name)
			assert.Equal(t, string(w.member.Email), member.Email, d.Schedule.Name)
			assertSameTime(t, w.until, &until, d.Schedule.Name)
		}
	}

	cur, err := c.GetCurrentOncallWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, cur.StatusCode(), string(cur.Body))
	require.Len(t, *cur.JSON200, len(want), "one entry per schedule, a bare array")
	for _, e := range *cur.JSON200 {
		w, ok := want[e.ScheduleId]
		require.True(t, ok, e.ScheduleName)
		assert.Equal(t, w.member, e.OnCall, e.ScheduleName)
		assertSameTime(t, w.until, e.Until, e.ScheduleName)
	}
	var entries []map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(cur.Body, &entries))
	for _, e := range entries {
		if string(e["schedule_name"]) == `"nobody"` {
			assert.JSONEq(t, `null`, string(e["on_call"]))
		}
	}

	_, _, err = oncall.Current(ctx, env.Queries, env.Workspace, uuid.New(), time.Now())
	assert.ErrorIs(t, err, oncall.ErrNotFound)
}

func assertSameTime(t *testing.T, want, got *time.Time, msg string) {
	t.Helper()
	if want == nil {
		assert.Nil(t, got, msg)
		return
	}
	if assert.NotNil(t, got, msg) {
		assert.True(t, want.Equal(*got), "%s: want %s, got %s", msg, want, got)
	}
}

func TestOncallSchedulesOfAnotherWorkspace(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	cA := env.Client(t, env.OwnerToken)
	s := createSchedule(t, cA, client.OncallScheduleCreate{Name: "Astreinte web", Members: &[]client.OncallMember{oncallAlice}})
	env.NewWorkspace(t, "other")
	cB := env.Client(t, env.Token(t, "other", access.Owner).Token)

	get, err := cB.GetOncallScheduleWithResponse(ctx, s.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, get.StatusCode())
	put, err := cB.UpdateOncallScheduleWithResponse(ctx, s.Id, nil, client.OncallScheduleUpdate{Name: "taken over", Members: &[]client.OncallMember{oncallBob}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, put.StatusCode())
	del, err := cB.DeleteOncallScheduleWithResponse(ctx, s.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, del.StatusCode())

	list, err := cB.ListOncallSchedulesWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, *list.JSON200)
	cur, err := cB.GetCurrentOncallWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Empty(t, *cur.JSON200)
	// B may use the same name: uniqueness is per workspace.
	createSchedule(t, cB, client.OncallScheduleCreate{Name: "Astreinte web"})

	assert.Equal(t, s, getSchedule(t, cA, s.Id).Schedule, "A's schedule unchanged")
}
