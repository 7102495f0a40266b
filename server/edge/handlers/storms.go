package handlers

import (
	"context"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
)

// ListStorms lists storms newest first; active=true keeps the one raging now.
func (a *API) ListStorms(ctx context.Context, req api.ListStormsRequestObject) (api.ListStormsResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	list, err := listPage(ctx, req.Params.Cursor, req.Params.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.Storm, error) {
			before, beforeID, err := beforeArgs(afterName, afterID)
			if err != nil {
				return nil, err
			}
			return a.q.ListStorms(ctx, db.ListStormsParams{WorkspaceID: ws, Active: req.Params.Active, BeforeTime: before, BeforeID: beforeID, MaxRows: maxRows})
		},
		func(ctx context.Context) (int64, error) {
			return a.q.CountStorms(ctx, db.CountStormsParams{WorkspaceID: ws, Active: req.Params.Active})
		},
		func(s db.Storm) keyset { return timeKey(s.StartedAt, s.ID) })
	if err != nil {
		return nil, err
	}
	out := api.StormList{Count: list.total, Storms: make([]api.Storm, len(list.rows)), NextCursor: list.next}
	for i, s := range list.rows {
		out.Storms[i] = api.Storm{
			Id: s.ID, StartedAt: s.StartedAt.UTC(), EndedAt: utc(s.EndedAt), TotalAlerts: int(s.TotalAlerts), AffectedHosts: int(s.AffectedHosts),
			AffectedChecks: int(s.AffectedChecks), RootCauseType: api.StormRootCauseType(s.RootCauseType), RootCauseHostId: s.RootCauseHostID,
			Confidence: s.Confidence, Status: api.StormStatus(s.Status),
		}
	}
	return api.ListStorms200JSONResponse{Body: out}, nil
}
