package handlers

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Maintenance statuses: scheduled → active → completed; scheduled or active → cancelled.
// Windows also start and end by themselves at their times (server/domain/alerting's ticker).
const (
	mwScheduled = "scheduled"
	mwActive    = "active"
	mwCompleted = "completed"
	mwCancelled = "cancelled"
)

func (a *API) ListMaintenanceWindows(ctx context.Context, req api.ListMaintenanceWindowsRequestObject) (api.ListMaintenanceWindowsResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	var status *string
	if req.Params.Status != nil {
		s := string(*req.Params.Status)
		status = &s
	}
	list, err := listPage(ctx, req.Params.Cursor, req.Params.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.MaintenanceWindow, error) {
			before, beforeID, err := beforeArgs(afterName, afterID)
			if err != nil {
				return nil, err
			}
			return a.q.ListMaintenanceWindows(ctx, db.ListMaintenanceWindowsParams{WorkspaceID: ws, Status: status, BeforeTime: before, BeforeID: beforeID, MaxRows: maxRows})
		},
		func(ctx context.Context) (int64, error) {
			return a.q.CountMaintenanceWindows(ctx, db.CountMaintenanceWindowsParams{WorkspaceID: ws, Status: status})
		},
		func(w db.MaintenanceWindow) keyset { return timeKey(w.StartTime, w.ID) })
	if err != nil {
		return nil, err
	}
	out := api.MaintenanceWindowList{Count: list.total, MaintenanceWindows: make([]api.MaintenanceWindow, len(list.rows)), NextCursor: list.next}
	for i, w := range list.rows {
		out.MaintenanceWindows[i] = windowOut(w)
	}
	return api.ListMaintenanceWindows200JSONResponse{Body: out}, nil
}

func (a *API) CreateMaintenanceWindow(ctx context.Context, req api.CreateMaintenanceWindowRequestObject) (api.CreateMaintenanceWindowResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	b := req.Body
	if !b.EndTime.After(b.StartTime) {
		return nil, problem.Invalid(problem.FieldError{Field: "end_time", Message: "must be after start_time"})
	}
	hosts := derefOr(b.AffectedHosts, []uuid.UUID{})
	if err := a.checkAffectedHosts(ctx, a.q, ws, hosts); err != nil {
		return nil, err
	}
	w, err := a.q.CreateMaintenanceWindow(ctx, db.CreateMaintenanceWindowParams{
		WorkspaceID: ws, ID: uuid.New(), Title: b.Title, Description: deref(b.Description), StartTime: b.StartTime, EndTime: b.EndTime,
		SuppressAlerts: derefOr(b.SuppressAlerts, true), NotifySubscribers: derefOr(b.NotifySubscribers, true), AffectedHosts: hosts,
	})
	if err != nil {
		return nil, err
	}
	return api.CreateMaintenanceWindow201JSONResponse(windowOut(w)), nil
}

// checkAffectedHosts answers 400 naming the field unless every id is a host of the workspace.
func (a *API) checkAffectedHosts(ctx context.Context, q *db.Queries, ws uuid.UUID, hosts []uuid.UUID) error {
	return checkHostsKnown(ctx, q, ws, hosts, "affected_hosts")
}

// checkHostsKnown answers 400 naming field (and the index of the first bad id) unless every
// id of hosts is a host of workspace ws: an id of another workspace is as unknown as a
// made-up one, so nothing about other workspaces leaks.
func checkHostsKnown(ctx context.Context, q *db.Queries, ws uuid.UUID, hosts []uuid.UUID, field string) error {
	knownHosts, err := known(hosts, func(ids []uuid.UUID) ([]uuid.UUID, error) {
		return q.KnownHostIDs(ctx, db.KnownHostIDsParams{WorkspaceID: ws, Ids: ids})
	})
	if err != nil {
		return err
	}
	for i, h := range hosts {
		if !knownHosts[h] {
			return problem.Invalid(problem.FieldError{Field: fmt.Sprintf("%s.%d", field, i), Message: "must be a host of this workspace"})
		}
	}
	return nil
}

func (a *API) GetMaintenanceWindow(ctx context.Context, req api.GetMaintenanceWindowRequestObject) (api.GetMaintenanceWindowResponseObject, error) {
	w, err := a.q.GetMaintenanceWindow(ctx, db.GetMaintenanceWindowParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "maintenance window")
	}
	return api.GetMaintenanceWindow200JSONResponse{Body: windowOut(w)}, nil
}

// UpdateMaintenanceWindow is a partial update; a window that is over (completed or
// cancelled) no longer changes.
func (a *API) UpdateMaintenanceWindow(ctx context.Context, req api.UpdateMaintenanceWindowRequestObject) (api.UpdateMaintenanceWindowResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	b := req.Body
	var out db.MaintenanceWindow
	err := a.inTx(ctx, func(q *db.Queries) error {
		old, err := q.LockMaintenanceWindow(ctx, db.LockMaintenanceWindowParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return notFoundAs(err, "maintenance window")
		}
		if old.Status == mwCompleted || old.Status == mwCancelled {
			return problem.Conflict("a %s maintenance window cannot change", old.Status)
		}
		start, end := derefOr(b.StartTime, old.StartTime), derefOr(b.EndTime, old.EndTime)
		if !end.After(start) {
			field := "end_time"
			if b.EndTime == nil {
				field = "start_time"
			}
			return problem.Invalid(problem.FieldError{Field: field, Message: "end_time must be after start_time"})
		}
		if b.AffectedHosts != nil {
			if err := a.checkAffectedHosts(ctx, q, ws, *b.AffectedHosts); err != nil {
				return err
			}
		}
		out, err = q.UpdateMaintenanceWindow(ctx, db.UpdateMaintenanceWindowParams{
			WorkspaceID: ws, ID: req.Id, Title: b.Title, Description: b.Description, StartTime: b.StartTime, EndTime: b.EndTime,
			SuppressAlerts: b.SuppressAlerts, NotifySubscribers: b.NotifySubscribers, AffectedHosts: derefOr(b.AffectedHosts, nil),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateMaintenanceWindow200JSONResponse{Body: windowOut(out)}, nil
}

func (a *API) StartMaintenanceWindow(ctx context.Context, req api.StartMaintenanceWindowRequestObject) (api.StartMaintenanceWindowResponseObject, error) {
	w, err := a.moveWindow(ctx, req.Id, mwActive, mwScheduled)
	if err != nil {
		return nil, err
	}
	return api.StartMaintenanceWindow200JSONResponse{Id: w.ID, Status: api.MaintenanceStatus(w.Status)}, nil
}

func (a *API) EndMaintenanceWindow(ctx context.Context, req api.EndMaintenanceWindowRequestObject) (api.EndMaintenanceWindowResponseObject, error) {
	w, err := a.moveWindow(ctx, req.Id, mwCompleted, mwActive)
	if err != nil {
		return nil, err
	}
	return api.EndMaintenanceWindow200JSONResponse{Id: w.ID, Status: api.MaintenanceStatus(w.Status)}, nil
}

func (a *API) CancelMaintenanceWindow(ctx context.Context, req api.CancelMaintenanceWindowRequestObject) (api.CancelMaintenanceWindowResponseObject, error) {
	if _, err := a.moveWindow(ctx, req.Id, mwCancelled, mwScheduled, mwActive); err != nil {
		return nil, err
	}
	return api.CancelMaintenanceWindow204Response{}, nil
}

// moveWindow changes a window's status to `to` if it is in one of `from`, else 409.
func (a *API) moveWindow(ctx context.Context, id uuid.UUID, to string, from ...string) (db.MaintenanceWindow, error) {
	ws := caller(ctx).WorkspaceID
	var out db.MaintenanceWindow
	err := a.inTx(ctx, func(q *db.Queries) error {
		w, err := q.LockMaintenanceWindow(ctx, db.LockMaintenanceWindowParams{WorkspaceID: ws, ID: id})
		if err != nil {
			return notFoundAs(err, "maintenance window")
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || w.Status == f
		}
		if !allowed {
			return problem.Conflict("a %s maintenance window cannot become %s", w.Status, to)
		}
		out, err = q.SetMaintenanceStatus(ctx, db.SetMaintenanceStatusParams{WorkspaceID: ws, ID: id, Status: to})
		return err
	})
	return out, err
}

func windowOut(w db.MaintenanceWindow) api.MaintenanceWindow {
	created, updated := w.CreatedAt.UTC(), w.UpdatedAt.UTC()
	hosts := w.AffectedHosts
	if hosts == nil {
		hosts = []uuid.UUID{}
	}
	return api.MaintenanceWindow{
		Id: w.ID, Title: w.Title, Description: optional(w.Description), StartTime: w.StartTime.UTC(), EndTime: w.EndTime.UTC(),
		SuppressAlerts: w.SuppressAlerts, NotifySubscribers: w.NotifySubscribers, AffectedHosts: hosts,
		Status: api.MaintenanceStatus(w.Status), CreatedAt: &created, UpdatedAt: &updated,
	}
}
