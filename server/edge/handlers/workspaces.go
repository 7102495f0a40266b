package handlers

import (
	"context"

	"github.com/secuaas/secumon/gen/api"
)

// ListWorkspaces lists the caller's memberships and the workspace this request acts on.
func (a *API) ListWorkspaces(ctx context.Context, _ api.ListWorkspacesRequestObject) (api.ListWorkspacesResponseObject, error) {
	p := caller(ctx)
	rows, err := a.q.ListUserWorkspaces(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := api.WorkspaceList{Workspaces: make([]api.Workspace, len(rows))}
	for i, w := range rows {
		out.Workspaces[i] = api.Workspace{WorkspaceId: w.WorkspaceID, Slug: w.Slug, Name: w.Name, Role: api.Role(w.Role)}
	}
	if len(rows) > 0 {
		out.ActiveWorkspaceId = p.WorkspaceID.String()
	}
	return api.ListWorkspaces200JSONResponse{Body: out}, nil
}
