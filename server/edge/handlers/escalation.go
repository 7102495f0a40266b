package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/oncall"
	"github.com/secuaas/secumon/server/edge/problem"
)

func (a *API) ListEscalationPolicies(ctx context.Context, req api.ListEscalationPoliciesRequestObject) (api.ListEscalationPoliciesResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	list, err := listPage(ctx, req.Params.Cursor, req.Params.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.EscalationPolicy, error) {
			return a.q.ListEscalationPolicies(ctx, db.ListEscalationPoliciesParams{WorkspaceID: ws, AfterName: afterName, AfterID: afterID, MaxRows: maxRows})
		},
		func(ctx context.Context) (int64, error) { return a.q.CountEscalationPolicies(ctx, ws) },
		func(p db.EscalationPolicy) keyset { return keyset{Name: p.Name, ID: p.ID} })
	if err != nil {
		return nil, err
	}
	out := api.EscalationPolicyList{Count: list.total, Policies: make([]api.EscalationPolicy, len(list.rows)), NextCursor: list.next}
	for i, p := range list.rows {
		out.Policies[i] = escalationOut(p)
	}
	return api.ListEscalationPolicies200JSONResponse{Body: out}, nil
}

func (a *API) CreateEscalationPolicy(ctx context.Context, req api.CreateEscalationPolicyRequestObject) (api.CreateEscalationPolicyResponseObject, error) {
	b := req.Body
	ws := caller(ctx).WorkspaceID
	if err := a.checkLevels(ctx, a.q, ws, b.Levels); err != nil {
		return nil, err
	}
	if err := refuseLevelMasks(b.Levels); err != nil {
		return nil, err
	}
	var reminder *int32
	if b.ReminderSec != nil {
		r := int32(*b.ReminderSec)
		reminder = &r
	}
	p, err := a.q.CreateEscalationPolicy(ctx, db.CreateEscalationPolicyParams{
		WorkspaceID: ws, ID: uuid.New(), Name: b.Name, Description: deref(b.Description),
		Repeat: int32(derefOr(b.Repeat, 0)), ReminderSec: reminder, Levels: mustJSON(b.Levels),
	})
	if err != nil {
		return nil, err
	}
	return api.CreateEscalationPolicy201JSONResponse(escalationOut(p)), nil
}

func (a *API) GetEscalationPolicy(ctx context.Context, req api.GetEscalationPolicyRequestObject) (api.GetEscalationPolicyResponseObject, error) {
	p, err := a.q.GetEscalationPolicy(ctx, db.GetEscalationPolicyParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "escalation policy")
	}
	return api.GetEscalationPolicy200JSONResponse{Body: escalationOut(p)}, nil
}

// UpdateEscalationPolicy is a partial update: absent fields keep their value (name is
// required); reminder_sec 0 removes the reminder.
func (a *API) UpdateEscalationPolicy(ctx context.Context, req api.UpdateEscalationPolicyRequestObject) (api.UpdateEscalationPolicyResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	b := req.Body
	var out db.EscalationPolicy
	err := a.inTx(ctx, func(q *db.Queries) error {
		old, err := q.GetEscalationPolicy(ctx, db.GetEscalationPolicyParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return notFoundAs(err, "escalation policy")
		}
		p := db.UpdateEscalationPolicyParams{WorkspaceID: ws, ID: req.Id, Name: b.Name, Description: b.Description}
		if b.Repeat != nil {
			r := int32(*b.Repeat)
			p.Repeat = &r
		}
		if b.ReminderSec != nil {
			switch r := int32(*b.ReminderSec); {
			case r == 0:
				p.ClearReminder = true
			case r < 60:
				return problem.Invalid(problem.FieldError{Field: "reminder_sec", Message: "must be 0 (no reminder) or at least 60"})
			default:
				p.ReminderSec = &r
			}
		}
		if b.Levels != nil {
			if err := a.checkLevels(ctx, q, ws, *b.Levels); err != nil {
				return err
			}
			kept := keepLevelSecrets(*b.Levels, old.Levels)
			if err := refuseLevelMasks(kept); err != nil {
				return err
			}
			p.Levels = mustJSON(kept)
		}
		out, err = q.UpdateEscalationPolicy(ctx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateEscalationPolicy200JSONResponse{Body: escalationOut(out)}, nil
}

func (a *API) DeleteEscalationPolicy(ctx context.Context, req api.DeleteEscalationPolicyRequestObject) (api.DeleteEscalationPolicyResponseObject, error) {
	n, err := a.q.DeleteEscalationPolicy(ctx, db.DeleteEscalationPolicyParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, problem.NotFound("escalation policy")
	}
	return api.DeleteEscalationPolicy204Response{}, nil
}

// checkLevels refuses, naming the field, what the contract cannot say about targets: the
// fields each type needs, schedules that are not the workspace's, members that are not the
// schedule's (or have no phone for SMS and voice), unknown time zones.
func (a *API) checkLevels(ctx context.Context, q *db.Queries, ws uuid.UUID, levels []api.EscalationLevel) error {
	for i, l := range levels {
		for j, t := range l.Targets {
			field := fmt.Sprintf("levels.%d.targets.%d.", i, j)
			invalid := func(name, msg string) error {
				return problem.Invalid(problem.FieldError{Field: field + name, Message: msg})
			}
			if t.Timezone != nil {
				if _, err := oncall.LoadLocation(*t.Timezone); err != nil {
					return invalid("timezone", "not an IANA time zone")
				}
			}
			switch t.Type {
			case api.EscalationTargetTypeChannels:
				if t.Channels == nil {
					return invalid("channels", "required for a channels target")
				}
				if err := a.checkChannels(ctx, q, ws, *t.Channels, field+"channels"); err != nil {
					return err
				}
				continue
			case api.EscalationTargetTypeMember:
				if t.MemberEmail == nil {
					return invalid("member_email", "required for a member target")
				}
			}
			if t.ScheduleId == nil {
				return invalid("schedule_id", "required for "+string(t.Type)+" targets")
			}
			row, err := q.GetOncallSchedule(ctx, db.GetOncallScheduleParams{WorkspaceID: ws, ID: *t.ScheduleId})
			if errors.Is(err, pgx.ErrNoRows) {
				return invalid("schedule_id", "no such on-call schedule in this workspace")
			}
			if err != nil {
				return err
			}
			if t.Type != api.EscalationTargetTypeMember {
				continue
			}
			s, err := oncall.FromRow(row)
			if err != nil {
				return err
			}
			var member *oncall.Member
			for _, m := range s.Members {
				if strings.EqualFold(m.Email, string(*t.MemberEmail)) {
					member = &m
				}
			}
			if member == nil {
				return invalid("member_email", "not a member of the schedule")
			}
			for _, v := range derefOr(t.Via, nil) {
				if v != api.EscalationViaEmail && member.Phone == "" {
					return invalid("via", "the member has no phone for "+string(v))
				}
			}
		}
	}
	return nil
}

// refuseLevelMasks applies refuseMasks to every channels target, as alert policies do.
func refuseLevelMasks(levels []api.EscalationLevel) error {
	for i, l := range levels {
		for j, t := range l.Targets {
			if t.Channels == nil {
				continue
			}
			if err := refuseMasks(*t.Channels, fmt.Sprintf("levels.%d.targets.%d.channels", i, j)); err != nil {
				return err
			}
		}
	}
	return nil
}

// keepLevelSecrets lets a client send back levels it read masked: a channels target keeps
// the secrets of the stored target at the same position (keepChannelSecrets).
func keepLevelSecrets(levels []api.EscalationLevel, stored []byte) []api.EscalationLevel {
	var old []api.EscalationLevel
	_ = json.Unmarshal(stored, &old)
	out := make([]api.EscalationLevel, len(levels))
	for i, l := range levels {
		targets := make([]api.EscalationTarget, len(l.Targets))
		for j, t := range l.Targets {
			if t.Channels != nil {
				var was []byte
				if i < len(old) && j < len(old[i].Targets) && old[i].Targets[j].Channels != nil {
					was = mustJSON(*old[i].Targets[j].Channels)
				}
				ch := keepChannelSecrets(*t.Channels, was)
				t.Channels = &ch
			}
			targets[j] = t
		}
		l.Targets = targets
		out[i] = l
	}
	return out
}

func escalationOut(p db.EscalationPolicy) api.EscalationPolicy {
	var levels []api.EscalationLevel
	_ = json.Unmarshal(p.Levels, &levels)
	for i := range levels {
		for j := range levels[i].Targets {
			if ch := levels[i].Targets[j].Channels; ch != nil {
				masked := maskChannels(*ch)
				levels[i].Targets[j].Channels = &masked
			}
		}
	}
	created, updated := p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	out := api.EscalationPolicy{
		Id: p.ID, Name: p.Name, Description: optional(p.Description), Repeat: int(p.Repeat), Levels: levels,
		CreatedAt: &created, UpdatedAt: &updated,
	}
	if p.ReminderSec != nil {
		r := int(*p.ReminderSec)
		out.ReminderSec = &r
	}
	return out
}
