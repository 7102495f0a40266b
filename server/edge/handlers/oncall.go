package handlers

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/oncall"
	"github.com/secuaas/secumon/server/edge/problem"
)

// oncallSettings is everything a caller can set on a schedule. Creation fills it from the
// request and the defaults, an update from the stored row and the request; both then go
// through the same checks, so a partial update cannot leave an invalid schedule behind.
type oncallSettings struct {
	name, description, timezone string
	rotation                    oncall.Rotation
	start                       *time.Time // nil on creation without rotation_start: see create
	handoff                     string
	lengthHours                 *int32
	members                     []oncall.Member
	overrides                   []oncall.Override
}

// check returns the 400 naming every field the contract cannot check by itself (the time
// zone database, a length required by the rotation type, override ranges), with the
// schedule's time zone and hand-off time when they are valid.
func (s *oncallSettings) check() (*time.Location, oncall.Clock, error) {
	var bad []problem.FieldError
	loc, err := oncall.LoadLocation(s.timezone)
	if err != nil {
		bad = append(bad, problem.FieldError{Field: "timezone", Message: fmt.Sprintf("%q is not an IANA time zone (such as America/Toronto)", s.timezone)})
	}
	clock, err := oncall.ParseClock(s.handoff)
	if err != nil {
		bad = append(bad, problem.FieldError{Field: "handoff_time", Message: err.Error()})
	}
	if s.rotation == oncall.Custom && s.lengthHours == nil {
		bad = append(bad, problem.FieldError{Field: "rotation_length_hours", Message: "required when rotation_type is custom"})
	}
	for i, o := range s.overrides {
		if !o.End.After(o.Start) {
			// Dotted like the contract validator's paths for the same list ("overrides.0.email").
			bad = append(bad, problem.FieldError{Field: fmt.Sprintf("overrides.%d.end", i), Message: "must be after start"})
		}
	}
	if len(bad) > 0 {
		return nil, clock, problem.Invalid(bad...)
	}
	return loc, clock, nil
}

// apply merges the fields present in a create or update request body; absent (nil) ones keep
// the current value.
func (s *oncallSettings) apply(description, timezone *string, rotation *api.RotationType, start *time.Time,
	handoff *string, lengthHours *int, members *[]api.OncallMember, overrides *[]api.OncallOverride) {
	if description != nil {
		s.description = *description
	}
	if timezone != nil {
		s.timezone = *timezone
	}
	if rotation != nil {
		s.rotation = oncall.Rotation(*rotation)
	}
	if start != nil {
		s.start = start
	}
	if handoff != nil {
		s.handoff = *handoff
	}
	if lengthHours != nil {
		n := int32(*lengthHours) // the contract bounds it to 1..8760
		s.lengthHours = &n
	}
	if members != nil {
		s.members = make([]oncall.Member, len(*members))
		for i, m := range *members {
			s.members[i] = oncall.Member{Name: m.Name, Email: string(m.Email), Phone: deref(m.Phone)}
		}
	}
	if overrides != nil {
		s.overrides = make([]oncall.Override, len(*overrides))
		for i, o := range *overrides {
			s.overrides[i] = oncall.Override{
				Member: oncall.Member{Name: o.Name, Email: string(o.Email), Phone: deref(o.Phone)},
				Start:  o.Start.UTC(), End: o.End.UTC(),
			}
		}
	}
}

func settingsOf(r db.OncallSchedule, s oncall.Schedule) oncallSettings {
	start := r.RotationStart
	return oncallSettings{
		name: r.Name, description: r.Description, timezone: r.Timezone, rotation: s.Rotation, start: &start,
		handoff: r.HandoffTime, lengthHours: r.RotationLengthHours, members: s.Members, overrides: s.Overrides,
	}
}

func memberOut(m oncall.Member) api.OncallMember {
	out := api.OncallMember{Name: m.Name, Email: openapi_types.Email(m.Email)}
	if m.Phone != "" {
		out.Phone = &m.Phone
	}
	return out
}

func oncallScheduleOut(r db.OncallSchedule, s oncall.Schedule) api.OncallSchedule {
	out := api.OncallSchedule{
		Id: r.ID, Name: r.Name, Timezone: r.Timezone, RotationType: api.RotationType(r.RotationType),
		RotationStart: r.RotationStart.UTC(), HandoffTime: r.HandoffTime,
		Members: make([]api.OncallMember, len(s.Members)), Overrides: make([]api.OncallOverride, len(s.Overrides)),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Description != "" {
		out.Description = &r.Description
	}
	if r.RotationLengthHours != nil {
		n := int(*r.RotationLengthHours)
		out.RotationLengthHours = &n
	}
	for i, m := range s.Members {
		out.Members[i] = memberOut(m)
	}
	for i, o := range s.Overrides {
		m := memberOut(o.Member)
		out.Overrides[i] = api.OncallOverride{Name: m.Name, Email: m.Email, Phone: m.Phone, Start: o.Start.UTC(), End: o.End.UTC()}
	}
	return out
}

// shiftOut is who is on call (nil: nobody) and until when (nil: no change ahead).
func shiftOut(sh oncall.Shift) (*api.OncallMember, *time.Time) {
	var member *api.OncallMember
	if sh.Member != nil {
		m := memberOut(*sh.Member)
		member = &m
	}
	var until *time.Time
	if !sh.Until.IsZero() {
		u := sh.Until.UTC()
		until = &u
	}
	return member, until
}

func (a *API) ListOncallSchedules(ctx context.Context, _ api.ListOncallSchedulesRequestObject) (api.ListOncallSchedulesResponseObject, error) {
	rows, err := a.q.ListOncallSchedules(ctx, caller(ctx).WorkspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]api.OncallSchedule, len(rows))
	for i, r := range rows {
		s, err := oncall.FromRow(r)
		if err != nil {
			return nil, err
		}
		out[i] = oncallScheduleOut(r, s)
	}
	return api.ListOncallSchedules200JSONResponse{Body: out}, nil
}

func (a *API) GetOncallSchedule(ctx context.Context, req api.GetOncallScheduleRequestObject) (api.GetOncallScheduleResponseObject, error) {
	r, err := a.q.GetOncallSchedule(ctx, db.GetOncallScheduleParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "on-call schedule")
	}
	s, err := oncall.FromRow(r)
	if err != nil {
		return nil, err
	}
	member, until := shiftOut(s.At(time.Now()))
	return api.GetOncallSchedule200JSONResponse{Body: api.OncallScheduleDetail{Schedule: oncallScheduleOut(r, s), CurrentOncall: member, CurrentUntil: until}}, nil
}

func (a *API) CreateOncallSchedule(ctx context.Context, req api.CreateOncallScheduleRequestObject) (api.CreateOncallScheduleResponseObject, error) {
	b := req.Body
	set := oncallSettings{
		name: b.Name, timezone: oncall.DefaultTimezone, rotation: oncall.DefaultRotation,
		handoff: oncall.DefaultHandoff.String(), members: []oncall.Member{}, overrides: []oncall.Override{},
	}
	set.apply(b.Description, b.Timezone, b.RotationType, b.RotationStart, b.HandoffTime, b.RotationLengthHours, b.Members, b.Overrides)
	loc, clock, err := set.check()
	if err != nil {
		return nil, err
	}
	if set.start == nil {
		// The turn of the first member began at the latest hand-off, so they are on call now.
		start := oncall.LatestHandoff(time.Now(), loc, clock)
		set.start = &start
	}
	r, err := a.q.CreateOncallSchedule(ctx, db.CreateOncallScheduleParams{
		WorkspaceID: caller(ctx).WorkspaceID, ID: uuid.New(), Name: set.name, Description: set.description,
		Timezone: set.timezone, RotationType: string(set.rotation), RotationStart: *set.start, HandoffTime: set.handoff,
		RotationLengthHours: set.lengthHours, Members: mustJSON(set.members), Overrides: mustJSON(set.overrides),
	})
	if uniqueViolation(err) {
		return nil, problem.Conflict("an on-call schedule named %q already exists", set.name)
	}
	if err != nil {
		return nil, err
	}
	s, err := oncall.FromRow(r)
	if err != nil {
		return nil, err
	}
	return api.CreateOncallSchedule201JSONResponse(oncallScheduleOut(r, s)), nil
}

// UpdateOncallSchedule merges the request into the stored schedule under a row lock, so two
// partial updates cannot undo each other's fields.
func (a *API) UpdateOncallSchedule(ctx context.Context, req api.UpdateOncallScheduleRequestObject) (api.UpdateOncallScheduleResponseObject, error) {
	ws, b := caller(ctx).WorkspaceID, req.Body
	err := a.inTx(ctx, func(q *db.Queries) error {
		r, err := q.LockOncallSchedule(ctx, db.LockOncallScheduleParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return notFoundAs(err, "on-call schedule")
		}
		cur, err := oncall.FromRow(r)
		if err != nil {
			return err
		}
		set := settingsOf(r, cur)
		set.name = b.Name
		set.apply(b.Description, b.Timezone, b.RotationType, b.RotationStart, b.HandoffTime, b.RotationLengthHours, b.Members, b.Overrides)
		if _, _, err := set.check(); err != nil {
			return err
		}
		_, err = q.UpdateOncallSchedule(ctx, db.UpdateOncallScheduleParams{
			WorkspaceID: ws, ID: req.Id, Name: set.name, Description: set.description,
			Timezone: set.timezone, RotationType: string(set.rotation), RotationStart: *set.start, HandoffTime: set.handoff,
			RotationLengthHours: set.lengthHours, Members: mustJSON(set.members), Overrides: mustJSON(set.overrides),
		})
		if uniqueViolation(err) {
			return problem.Conflict("an on-call schedule named %q already exists", set.name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateOncallSchedule204Response{}, nil
}

func (a *API) DeleteOncallSchedule(ctx context.Context, req api.DeleteOncallScheduleRequestObject) (api.DeleteOncallScheduleResponseObject, error) {
	n, err := a.q.DeleteOncallSchedule(ctx, db.DeleteOncallScheduleParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, problem.NotFound("on-call schedule")
	}
	return api.DeleteOncallSchedule204Response{}, nil
}

// GetCurrentOncall answers for every schedule of the workspace at the same instant.
func (a *API) GetCurrentOncall(ctx context.Context, _ api.GetCurrentOncallRequestObject) (api.GetCurrentOncallResponseObject, error) {
	rows, err := a.q.ListOncallSchedules(ctx, caller(ctx).WorkspaceID)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]api.CurrentOncall, len(rows))
	for i, r := range rows {
		s, err := oncall.FromRow(r)
		if err != nil {
			return nil, err
		}
		member, until := shiftOut(s.At(now))
		out[i] = api.CurrentOncall{ScheduleId: r.ID, ScheduleName: r.Name, OnCall: member, Until: until}
	}
	return api.GetCurrentOncall200JSONResponse{Body: out}, nil
}
