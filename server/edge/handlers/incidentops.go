package handlers

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/edge/problem"
)

// The incident operations of issue 15: editing, snoozing, merging and statistics. None of
// them changes the status in a way the alert policies announce, so they run in a plain
// transaction rather than through changeIncident.

func (a *API) UpdateIncident(ctx context.Context, req api.UpdateIncidentRequestObject) (api.UpdateIncidentResponseObject, error) {
	who := caller(ctx)
	b := req.Body
	e := incidents.Edit{Actor: who.TokenName, Title: b.Title}
	if b.Severity != nil {
		s := string(*b.Severity)
		e.Severity = &s
	}
	// assignee_id and public_title: absent keeps, null clears, a value sets.
	if b.AssigneeId.IsSpecified() {
		e.SetAssignee = true
		if !b.AssigneeId.IsNull() {
			id := b.AssigneeId.MustGet()
			e.AssigneeID = &id
		}
	}
	if b.PublicTitle.IsSpecified() {
		e.SetPublicTitle = true
		if !b.PublicTitle.IsNull() {
			t := b.PublicTitle.MustGet()
			e.PublicTitle = &t
		}
	}
	inc, events, err := a.incidentOp(ctx, req.Id, func(tx pgx.Tx) error {
		_, err := incidents.EditIncident(ctx, tx, who.WorkspaceID, req.Id, e)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateIncident200JSONResponse{Body: incidentOut(inc, events)}, nil
}

func (a *API) SnoozeIncident(ctx context.Context, req api.SnoozeIncidentRequestObject) (api.SnoozeIncidentResponseObject, error) {
	who, now := caller(ctx), time.Now()
	var until time.Time
	switch b := req.Body; {
	case b.Until != nil && b.DurationSec != nil:
		return nil, problem.Invalid(problem.FieldError{Field: "duration_sec", Message: "give either until or duration_sec, not both"})
	case b.Until != nil:
		until = *b.Until
		if !until.After(now) {
			return nil, problem.Invalid(problem.FieldError{Field: "until", Message: "must be in the future"})
		}
		if until.After(now.Add(incidents.MaxSnooze)) {
			return nil, problem.Invalid(problem.FieldError{Field: "until", Message: "must be at most 7 days ahead"})
		}
	case b.DurationSec != nil:
		until = now.Add(time.Duration(*b.DurationSec) * time.Second)
	default:
		return nil, problem.Invalid(problem.FieldError{Field: "until", Message: "give until or duration_sec"})
	}
	inc, events, err := a.incidentOp(ctx, req.Id, func(tx pgx.Tx) error {
		_, err := incidents.Snooze(ctx, tx, who.WorkspaceID, req.Id, until, who.TokenName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.SnoozeIncident200JSONResponse(incidentOut(inc, events)), nil
}

func (a *API) UnsnoozeIncident(ctx context.Context, req api.UnsnoozeIncidentRequestObject) (api.UnsnoozeIncidentResponseObject, error) {
	who := caller(ctx)
	inc, events, err := a.incidentOp(ctx, req.Id, func(tx pgx.Tx) error {
		_, err := incidents.Unsnooze(ctx, tx, who.WorkspaceID, req.Id, who.TokenName, time.Now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UnsnoozeIncident200JSONResponse(incidentOut(inc, events)), nil
}

func (a *API) MergeIncidents(ctx context.Context, req api.MergeIncidentsRequestObject) (api.MergeIncidentsResponseObject, error) {
	who := caller(ctx)
	inc, events, err := a.incidentOp(ctx, req.Id, func(tx pgx.Tx) error {
		_, err := incidents.Merge(ctx, tx, who.WorkspaceID, req.Id, req.Body.IncidentIds, who.TokenName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.MergeIncidents200JSONResponse(incidentOut(inc, events)), nil
}

// incidentOp runs fn in a transaction and returns the incident as it is then, with its
// timeline.
func (a *API) incidentOp(ctx context.Context, id uuid.UUID, fn func(tx pgx.Tx) error) (db.Incident, []db.IncidentEvent, error) {
	var inc db.Incident
	var events []db.IncidentEvent
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		var err error
		inc, events, err = incidents.Get(ctx, db.New(tx), caller(ctx).WorkspaceID, id)
		return err
	})
	return inc, events, incidentError(err)
}

// maxStatsRange bounds GET /incidents/stats.
const maxStatsRange = 366 * 24 * time.Hour

func (a *API) GetIncidentStats(ctx context.Context, req api.GetIncidentStatsRequestObject) (api.GetIncidentStatsResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	to := time.Now().UTC()
	if req.Params.To != nil {
		to = req.Params.To.UTC()
	}
	from := to.Add(-30 * 24 * time.Hour)
	if req.Params.From != nil {
		from = req.Params.From.UTC()
	}
	if !from.Before(to) {
		return nil, problem.Invalid(problem.FieldError{Field: "from", Message: "must be before to"})
	}
	if to.Sub(from) > maxStatsRange {
		return nil, problem.Invalid(problem.FieldError{Field: "from", Message: "the range may span at most 366 days"})
	}
	rows, err := a.q.IncidentStatsCounts(ctx, db.IncidentStatsCountsParams{WorkspaceID: ws, FromTime: from, ToTime: to})
	if err != nil {
		return nil, err
	}
	d, err := a.q.IncidentStatsDurations(ctx, db.IncidentStatsDurationsParams{WorkspaceID: ws, FromTime: from, ToTime: to})
	if err != nil {
		return nil, err
	}
	out := api.IncidentStats{
		From: from, To: to,
		ByStatus:   map[string]int64{},
		BySeverity: map[string]int64{},
		BySource:   map[string]int64{},
		Mtta:       duration(d.Acked, d.MttaMean, d.MttaMedian),
		Mttr:       duration(d.Resolved, d.MttrMean, d.MttrMedian),
	}
	// Every status and severity is present, so a client need not guess the zeroes.
	for _, s := range []api.IncidentStatus{api.IncidentStatusInvestigating, api.IncidentStatusAcknowledged, api.IncidentStatusResolved} {
		out.ByStatus[string(s)] = 0
	}
	for _, s := range []api.Severity{api.SeverityCritical, api.SeverityMajor, api.SeverityMinor, api.SeverityWarning, api.SeverityInfo} {
		out.BySeverity[string(s)] = 0
	}
	for _, r := range rows {
		if r.Merged {
			out.Merged += r.N
			continue
		}
		out.Total += r.N
		out.ByStatus[r.Status] += r.N
		out.BySeverity[r.Severity] += r.N
		out.BySource[r.Source] += r.N
	}
	return api.GetIncidentStats200JSONResponse{Body: out}, nil
}

func duration(count int64, mean, median float64) api.IncidentDuration {
	d := api.IncidentDuration{Count: count}
	if count > 0 {
		d.MeanSec, d.MedianSec = &mean, &median
	}
	return d
}
