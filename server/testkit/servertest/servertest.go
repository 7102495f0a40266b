// Package servertest runs the whole SecuMon HTTP stack (middleware, contract gate, handlers)
// on a loopback httptest server over a fresh test database, and hands out tokens and typed
// clients for it. Test packages that use it call dbtest.Main from their TestMain.
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

// Env is one running service with its database.
type Env struct {
	URL        string // base URL of the server, without /api/v2
	Pool       *pgxpool.Pool
	Queries    *db.Queries
	Service    *server.Service
	OwnerToken string    // owner of the bootstrap workspace
	Workspace  uuid.UUID // the bootstrap workspace ("default")
}

// Start runs the service for the duration of t; opts adjust its options (e.g. SyslogEnabled).
func Start(t testing.TB, opts ...func(*server.Options)) *Env {
	t.Helper()
	ctx := context.Background()
	pool, _ := dbtest.New(t)
	token, err := admin.Bootstrap(ctx, pool, "")
	require.NoError(t, err)
	o := server.Options{Pool: pool, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, opt := range opts {
		opt(&o)
	}
	svc, err := server.New(ctx, o)
	require.NoError(t, err)
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	q := db.New(pool)
	ws, err := admin.FindWorkspace(ctx, q, "default")
	require.NoError(t, err)
	return &Env{URL: srv.URL, Pool: pool, Queries: q, Service: svc, OwnerToken: token, Workspace: ws.ID}
}

// Token mints a token with role in workspace (a slug or id) for a new user.
func (e *Env) Token(t testing.TB, workspace string, role access.Role) admin.IssuedToken {
	t.Helper()
	issued, err := admin.CreateToken(context.Background(), e.Pool, workspace, role, "test-"+string(role), nil)
	require.NoError(t, err)
	return issued
}

// NewWorkspace creates a workspace and returns its id.
func (e *Env) NewWorkspace(t testing.TB, slug string) uuid.UUID {
	t.Helper()
	ws, err := admin.CreateWorkspace(context.Background(), e.Queries, slug, slug)
	require.NoError(t, err)
	return ws.ID
}

// Client is the generated SDK client authenticated with token ("" for none).
func (e *Env) Client(t testing.TB, token string, editors ...client.RequestEditorFn) *client.ClientWithResponses {
	t.Helper()
	opts := []client.ClientOption{}
	if token != "" {
		opts = append(opts, client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		}))
	}
	for _, ed := range editors {
		opts = append(opts, client.WithRequestEditorFn(ed))
	}
	c, err := client.NewClientWithResponses(e.URL+"/api/v2", opts...)
	require.NoError(t, err)
	return c
}
