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
	"sync"
	"testing"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/edge/ratelimit"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

// Env is one running service with its database.
type Env struct {
	URL        string // base URL of the server, without /api/v2
	Pool       *pgxpool.Pool
	Queries    *db.Queries
	App        *server.App // the service (Deps.Serve), built but not run: see Run
	OwnerToken string      // owner of the bootstrap workspace
	Workspace  uuid.UUID   // the bootstrap workspace ("default")
}

// Start serves the HTTP side of the service for the duration of t; opts adjust its Deps.
// Its background parts do not run: tests that need a probe worker or a queue call Run.
func Start(t testing.TB, opts ...func(*server.Deps)) *Env {
	t.Helper()
	ctx := context.Background()
	pool, _ := dbtest.New(t)
	token, err := admin.Bootstrap(ctx, pool, "")
	require.NoError(t, err)
	d := server.Deps{Pool: pool, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Serve: true}
	// Tests send requests as fast as they can from one address: rate limits are off unless a
	// test sets them (server/ratelimit_test.go does, with the defaults).
	d.RateLimits = ratelimit.Config{TokenRate: -1, AddrRate: -1, FailedAuthPerMinute: -1}
	for _, opt := range opts {
		opt(&d)
	}
	app, err := server.Build(ctx, d)
	require.NoError(t, err)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	q := db.New(pool)
	ws, err := admin.FindWorkspace(ctx, q, "default")
	require.NoError(t, err)
	return &Env{URL: srv.URL, Pool: pool, Queries: q, App: app, OwnerToken: token, Workspace: ws.ID}
}

// Run builds a process from d and runs it until the test ends or stop is called, as
// cmd/secumon does; e.g. a probe worker with its run-now queue and incident evaluator:
// Run(t, server.Deps{Pool: pool, Worker: &worker.Options{…}}). A nil Logger discards.
func Run(t testing.TB, d server.Deps) (stop func()) {
	t.Helper()
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	app, err := server.Build(context.Background(), d)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(stop)
	return stop
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
