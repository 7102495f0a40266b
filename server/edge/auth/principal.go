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
	Role        access.Role // the user's role in WorkspaceID
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
