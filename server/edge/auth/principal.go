package auth

import (
	"context"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
)

// Principal is the authenticated caller of a request, in the workspace the request acts on.
type Principal struct {
	UserID      uuid.UUID
	TokenID     uuid.UUID
	TokenName   string
	WorkspaceID uuid.UUID   // the active workspace: the token's, or the one X-Workspace-ID selected
	Role        access.Role // the user's role in WorkspaceID; none for a worker token

	// Kind is the token's kind. A worker token (access.WorkerToken) has no user and no role:
	// TokenID and TokenName are the worker token's, WorkspaceID its workspace, or uuid.Nil
	// for an installation-wide token (Shared), which serves every workspace.
	Kind   access.Kind
	Shared bool
	// WorkerLocation is the location a worker token is pinned to ("" when not pinned).
	WorkerLocation string
}

// Worker reports whether the caller is a remote worker.
func (p Principal) Worker() bool { return p.Kind == access.WorkerToken }

// WorkerScope is the workspace a worker token serves; nil for an installation-wide token.
func (p Principal) WorkerScope() *uuid.UUID {
	if p.Shared {
		return nil
	}
	ws := p.WorkspaceID
	return &ws
}

type principalKey struct{}

// WithPrincipal attaches p to ctx; only the authentication middleware calls it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the request's caller. Handlers behind the authentication middleware
// always have one; ok is false only outside it.
func FromContext(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
