package handlers

import (
	"context"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/edge/problem"
)

func hostOut(h db.Host) api.Host {
	out := api.Host{
		Id: h.ID, Name: h.Name, Hostname: h.Hostname, HostType: api.HostType(h.HostType),
		Tags: decodeTags(h.Tags), IsActive: h.IsActive, CreatedAt: h.CreatedAt.UTC(), UpdatedAt: h.UpdatedAt.UTC(),
	}
	if h.Description != "" {
		out.Description = &h.Description
	}
	return out
}

func (a *API) ListHosts(ctx context.Context, req api.ListHostsRequestObject) (api.ListHostsResponseObject, error) {
	ws, p := caller(ctx).WorkspaceID, req.Params
	l, err := listPage(ctx, p.Cursor, p.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.Host, error) {
			return a.q.ListHosts(ctx, db.ListHostsParams{WorkspaceID: ws, Active: p.Active, AfterName: afterName, AfterID: afterID, MaxRows: maxRows})
		},
		func(ctx context.Context) (int64, error) {
			return a.q.CountHosts(ctx, db.CountHostsParams{WorkspaceID: ws, Active: p.Active})
		},
		func(h db.Host) keyset { return keyset{h.Name, h.ID} })
	if err != nil {
		return nil, err
	}
	out := api.HostList{Count: l.total, Hosts: make([]api.Host, len(l.rows)), NextCursor: l.next}
	for i, h := range l.rows {
		out.Hosts[i] = hostOut(h)
	}
	return api.ListHosts200JSONResponse{Body: out}, nil
}

func (a *API) GetHost(ctx context.Context, req api.GetHostRequestObject) (api.GetHostResponseObject, error) {
	h, err := a.q.GetHost(ctx, db.GetHostParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "host")
	}
	return api.GetHost200JSONResponse{Body: hostOut(h)}, nil
}

func (a *API) CreateHost(ctx context.Context, req api.CreateHostRequestObject) (api.CreateHostResponseObject, error) {
	b := req.Body
	hostType := api.HostTypeServer
	if b.HostType != nil {
		hostType = *b.HostType
	}
	tags := api.Tags{}
	if b.Tags != nil {
		tags = *b.Tags
	}
	h, err := a.q.CreateHost(ctx, db.CreateHostParams{
		WorkspaceID: caller(ctx).WorkspaceID, ID: uuid.New(), Name: b.Name, Hostname: b.Hostname,
		HostType: string(hostType), Description: deref(b.Description), Tags: mustJSON(tags), IsActive: derefOr(b.IsActive, true),
	})
	if uniqueViolation(err) {
		return nil, problem.Conflict("a host named %q already exists", b.Name)
	}
	if err != nil {
		return nil, err
	}
	return api.CreateHost201JSONResponse(hostOut(h)), nil
}

func (a *API) UpdateHost(ctx context.Context, req api.UpdateHostRequestObject) (api.UpdateHostResponseObject, error) {
	b := req.Body
	params := db.UpdateHostParams{
		WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id, Name: b.Name, Hostname: b.Hostname,
		Description: b.Description, IsActive: b.IsActive,
	}
	if b.HostType != nil {
		t := string(*b.HostType)
		params.HostType = &t
	}
	if b.Tags != nil {
		params.Tags = mustJSON(*b.Tags)
	}
	var h db.Host
	err := a.inTx(ctx, func(q *db.Queries) error {
		// The claims parked the schedules of an inactive host's checks: they run within
		// moments of its return rather than at their parked time. An active host sent back
		// as active (automation sends whole objects) leaves them alone.
		wake := false
		if b.IsActive != nil && *b.IsActive {
			prev, err := q.GetHost(ctx, db.GetHostParams{WorkspaceID: params.WorkspaceID, ID: params.ID})
			if err != nil {
				return err
			}
			wake = !prev.IsActive
		}
		var err error
		if h, err = q.UpdateHost(ctx, params); err != nil || !wake {
			return err
		}
		return q.WakeHostSchedules(ctx, db.WakeHostSchedulesParams{WorkspaceID: h.WorkspaceID, HostID: h.ID})
	})
	if uniqueViolation(err) {
		return nil, problem.Conflict("a host named %q already exists", deref(b.Name))
	}
	if err != nil {
		return nil, notFoundAs(err, "host")
	}
	return api.UpdateHost200JSONResponse{Body: hostOut(h)}, nil
}

// DeleteHost removes the host and its checks; their results have no foreign key (they are
// partitioned), so they are deleted explicitly in the same transaction.
func (a *API) DeleteHost(ctx context.Context, req api.DeleteHostRequestObject) (api.DeleteHostResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	err := a.inTx(ctx, func(q *db.Queries) error {
		checks, err := q.ListHostCheckIDs(ctx, db.ListHostCheckIDsParams{WorkspaceID: ws, HostID: req.Id})
		if err != nil {
			return err
		}
		if err := q.DeleteCheckData(ctx, db.DeleteCheckDataParams{WorkspaceID: ws, CheckIds: checks}); err != nil {
			return err
		}
		n, err := q.DeleteHost(ctx, db.DeleteHostParams{WorkspaceID: ws, ID: req.Id})
		if err == nil && n == 0 {
			err = problem.NotFound("host")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.DeleteHost204Response{}, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func derefOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
