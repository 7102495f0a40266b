package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Announcer sends incident changes through the alert policies, in the change's transaction
// (server/domain/alerting in production).
type Announcer interface {
	Announce(ctx context.Context, tx pgx.Tx, c incidents.Change) error
}

// changeIncident runs fn in a transaction and announces the change it makes, so that the
// change and its notifications commit together.
func (a *API) changeIncident(ctx context.Context, fn func(tx pgx.Tx) (incidents.Change, bool, error)) (incidents.Change, error) {
	var c incidents.Change
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		var changed bool
		var err error
		c, changed, err = fn(tx)
		if err != nil || !changed || a.announcer == nil {
			return err
		}
		return a.announcer.Announce(ctx, tx, c)
	})
	return c, incidentError(err)
}

// incidentError maps the incidents package's errors to problems.
func incidentError(err error) error {
	var me *incidents.MissingError
	switch {
	case errors.Is(err, incidents.ErrNotFound):
		return problem.NotFound("incident")
	case errors.As(err, &me):
		// Another workspace's id gets exactly this answer too.
		p := problem.NotFound("incident")
		p.Errors = []problem.FieldError{{Field: fmt.Sprintf("incident_ids[%d]", me.Index), Message: "no such incident"}}
		p.Detail = p.Errors[0].Field + ": no such incident"
		return p
	case errors.Is(err, incidents.ErrNotMember):
		return problem.Invalid(problem.FieldError{Field: "assignee_id", Message: err.Error()})
	case incidents.IsConflict(err):
		return problem.Conflict("%s", err.Error())
	case foreignKeyViolation(err):
		return problem.Invalid(problem.FieldError{Field: "host_id", Message: "no such host or check in this workspace"})
	}
	return err
}

func (a *API) ListIncidents(ctx context.Context, req api.ListIncidentsRequestObject) (api.ListIncidentsResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	p := req.Params
	status := "open"
	if p.Status != nil {
		status = string(*p.Status)
	}
	var tags []byte
	if p.Tags != nil && len(*p.Tags) > 0 {
		m := map[string]string{}
		for _, kv := range *p.Tags {
			k, v, _ := strings.Cut(kv, ":")
			m[k] = v
		}
		tags = mustJSON(m)
	}
	var severity *string
	if p.Severity != nil {
		s := string(*p.Severity)
		severity = &s
	}
	if p.AssigneeId != nil && p.Unassigned != nil {
		return nil, problem.Invalid(problem.FieldError{Field: "unassigned", Message: "cannot be combined with assignee_id"})
	}
	list, err := listPage(ctx, p.Cursor, p.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.Incident, error) {
			before, beforeID, err := beforeArgs(afterName, afterID)
			if err != nil {
				return nil, err
			}
			return a.q.ListIncidents(ctx, db.ListIncidentsParams{
				WorkspaceID: ws, StatusFilter: status, Severity: severity, HostID: p.HostId, Tags: tags,
				AssigneeID: p.AssigneeId, Unassigned: p.Unassigned, FromTime: p.From, ToTime: p.To, BeforeTime: before, BeforeID: beforeID, MaxRows: maxRows,
			})
		},
		func(ctx context.Context) (int64, error) {
			return a.q.CountIncidents(ctx, db.CountIncidentsParams{
				WorkspaceID: ws, StatusFilter: status, Severity: severity, HostID: p.HostId, Tags: tags, FromTime: p.From, ToTime: p.To,
				AssigneeID: p.AssigneeId, Unassigned: p.Unassigned,
			})
		},
		func(i db.Incident) keyset { return timeKey(i.CreatedAt, i.ID) })
	if err != nil {
		return nil, err
	}
	out := api.IncidentList{Count: list.total, Incidents: make([]api.Incident, len(list.rows)), NextCursor: list.next}
	for i, inc := range list.rows {
		out.Incidents[i] = incidentOut(inc, nil)
	}
	return api.ListIncidents200JSONResponse{Body: out}, nil
}

func (a *API) CreateIncident(ctx context.Context, req api.CreateIncidentRequestObject) (api.CreateIncidentResponseObject, error) {
	who := caller(ctx)
	b := req.Body
	severity := "major"
	if b.Severity != nil {
		severity = string(*b.Severity)
	}
	tags := map[string]string{}
	if b.Tags != nil {
		for k, v := range *b.Tags {
			tags[k] = v
		}
	}
	tags["source"] = "manual"
	if err := a.checkIncidentLinks(ctx, who.WorkspaceID, b.HostId, b.CheckId); err != nil {
		return nil, err
	}
	c, err := a.changeIncident(ctx, func(tx pgx.Tx) (incidents.Change, bool, error) {
		c, err := incidents.Open(ctx, tx, incidents.New{
			WorkspaceID: who.WorkspaceID, Title: b.Title, Description: deref(b.Description), Severity: severity, Tags: tags,
			HostID: b.HostId, CheckID: b.CheckId, Actor: who.TokenName, Note: "opened by hand", PublicTitle: b.PublicTitle,
		})
		return c, err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return api.CreateIncident201JSONResponse(incidentOut(c.Incident, []db.IncidentEvent{c.Event})), nil
}

// checkIncidentLinks answers 400 naming the field when host_id or check_id is not one of the
// workspace's.
func (a *API) checkIncidentLinks(ctx context.Context, ws uuid.UUID, hostID, checkID *uuid.UUID) error {
	if hostID != nil {
		if _, err := a.q.GetHost(ctx, db.GetHostParams{WorkspaceID: ws, ID: *hostID}); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return problem.Invalid(problem.FieldError{Field: "host_id", Message: "no such host in this workspace"})
			}
			return err
		}
	}
	if checkID != nil {
		if _, err := a.q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: ws, ID: *checkID}); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return problem.Invalid(problem.FieldError{Field: "check_id", Message: "no such check in this workspace"})
			}
			return err
		}
	}
	return nil
}

func (a *API) GetIncident(ctx context.Context, req api.GetIncidentRequestObject) (api.GetIncidentResponseObject, error) {
	inc, events, err := incidents.Get(ctx, a.q, caller(ctx).WorkspaceID, req.Id)
	if err != nil {
		return nil, incidentError(err)
	}
	return api.GetIncident200JSONResponse{Body: incidentOut(inc, events)}, nil
}

// AckExpirer makes acknowledgements expire (server/domain/alerting in production).
type AckExpirer interface {
	// ExpireAckAt makes the acknowledgement of inc end at until (zero: never), in tx.
	ExpireAckAt(ctx context.Context, tx pgx.Tx, inc db.Incident, until time.Time) error
}

func (a *API) QuickAckIncident(ctx context.Context, req api.QuickAckIncidentRequestObject) (api.QuickAckIncidentResponseObject, error) {
	t, err := a.acknowledge(ctx, req.Id, req.Body)
	return api.QuickAckIncident200JSONResponse(t), err
}

func (a *API) AcknowledgeIncident(ctx context.Context, req api.AcknowledgeIncidentRequestObject) (api.AcknowledgeIncidentResponseObject, error) {
	t, err := a.acknowledge(ctx, req.Id, req.Body)
	return api.AcknowledgeIncident200JSONResponse(t), err
}

// acknowledge acknowledges the incident; with an expiry in body, the acknowledgement ends
// then. Acknowledging again replaces the expiry (none in body: it lasts).
func (a *API) acknowledge(ctx context.Context, id uuid.UUID, body *api.IncidentAck) (api.IncidentTransition, error) {
	who := caller(ctx)
	var until time.Time
	if body != nil {
		switch {
		case body.ExpiresInSec != nil && body.Until != nil:
			return api.IncidentTransition{}, problem.Invalid(problem.FieldError{Field: "until", Message: "give expires_in_sec or until, not both"})
		case body.ExpiresInSec != nil:
			until = time.Now().Add(time.Duration(*body.ExpiresInSec) * time.Second)
		case body.Until != nil:
			if !body.Until.After(time.Now()) {
				return api.IncidentTransition{}, problem.Invalid(problem.FieldError{Field: "until", Message: "must be in the future"})
			}
			until = *body.Until
		}
	}
	c, err := a.changeIncident(ctx, func(tx pgx.Tx) (incidents.Change, bool, error) {
		c, changed, err := incidents.Acknowledge(ctx, tx, who.WorkspaceID, id, who.TokenName, nil)
		if err == nil && a.ackExpirer != nil {
			err = a.ackExpirer.ExpireAckAt(ctx, tx, c.Incident, until)
		}
		return c, changed, err
	})
	if err != nil {
		return api.IncidentTransition{}, err
	}
	out := api.IncidentTransition{Status: api.IncidentStatus(c.Incident.Status), AcknowledgedAt: utc(c.Incident.AcknowledgedAt)}
	if !until.IsZero() && a.ackExpirer != nil {
		u := until.UTC()
		out.AckExpiresAt = &u
	}
	return out, nil
}

func (a *API) QuickResolveIncident(ctx context.Context, req api.QuickResolveIncidentRequestObject) (api.QuickResolveIncidentResponseObject, error) {
	t, err := a.resolve(ctx, req.Id)
	return api.QuickResolveIncident200JSONResponse(t), err
}

func (a *API) ResolveIncident(ctx context.Context, req api.ResolveIncidentRequestObject) (api.ResolveIncidentResponseObject, error) {
	t, err := a.resolve(ctx, req.Id)
	return api.ResolveIncident200JSONResponse(t), err
}

func (a *API) resolve(ctx context.Context, id uuid.UUID) (api.IncidentTransition, error) {
	who := caller(ctx)
	c, err := a.changeIncident(ctx, func(tx pgx.Tx) (incidents.Change, bool, error) {
		c, err := incidents.Resolve(ctx, tx, who.WorkspaceID, id, who.TokenName, "", nil)
		return c, err == nil, err
	})
	if err != nil {
		return api.IncidentTransition{}, err
	}
	return api.IncidentTransition{Status: api.IncidentStatus(c.Incident.Status), ResolvedAt: utc(c.Incident.ResolvedAt)}, nil
}

func (a *API) AddIncidentUpdate(ctx context.Context, req api.AddIncidentUpdateRequestObject) (api.AddIncidentUpdateResponseObject, error) {
	who := caller(ctx)
	b := req.Body
	u := incidents.UpdateArgs{Actor: who.TokenName, Note: b.Note, Public: derefOr(b.Public, false)}
	if b.Status != nil {
		s := string(*b.Status)
		u.Status = &s
	}
	// public_title: absent keeps it, null clears it, a string sets it.
	if b.PublicTitle.IsSpecified() {
		u.SetPublicTitle = true
		if !b.PublicTitle.IsNull() {
			t := b.PublicTitle.MustGet()
			u.PublicTitle = &t
		}
	}
	c, err := a.changeIncident(ctx, func(tx pgx.Tx) (incidents.Change, bool, error) {
		c, err := incidents.Update(ctx, tx, who.WorkspaceID, req.Id, u)
		return c, err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return api.AddIncidentUpdate201JSONResponse{Ok: true, Event: eventOut(c.Event)}, nil
}

// incidentOut renders an incident; events, when given, become its timeline.
func incidentOut(i db.Incident, events []db.IncidentEvent) api.Incident {
	out := api.Incident{
		Id: i.ID, Title: i.Title, PublicTitle: i.PublicTitle, Description: optional(i.Description), Severity: api.Severity(i.Severity),
		Status: api.IncidentStatus(i.Status), Tags: decodeTags(i.Tags), HostId: i.HostID, CheckId: i.CheckID, StormId: i.StormID,
		CreatedAt: i.CreatedAt.UTC(), UpdatedAt: i.UpdatedAt.UTC(),
		AcknowledgedAt: utc(i.AcknowledgedAt), AcknowledgedBy: i.AcknowledgedBy, ResolvedAt: utc(i.ResolvedAt), ResolvedBy: i.ResolvedBy,
		AssigneeId: i.AssigneeID, MergedInto: i.MergedInto, AckExpiresAt: utc(i.AckExpiresAt),
	}
	// A snooze that has ended is not shown: the incident is no longer snoozed.
	if incidents.Snoozed(i, time.Now()) {
		out.SnoozedUntil = utc(i.SnoozedUntil)
	}
	if events != nil {
		timeline := make([]api.IncidentEvent, len(events))
		for k, e := range events {
			timeline[k] = eventOut(e)
		}
		out.Timeline = &timeline
	}
	return out
}

func eventOut(e db.IncidentEvent) api.IncidentEvent {
	status := api.IncidentStatus(e.Status)
	id, public := e.ID, e.Public
	return api.IncidentEvent{
		Id: &id, Time: e.Time.UTC(), Action: api.IncidentEventAction(e.Action), Actor: optional(e.Actor), Note: optional(e.Note), Status: &status,
		Public: &public,
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// optional is nil for an empty string, so that empty fields are left out of responses.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
