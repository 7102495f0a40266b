package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/platform/database"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/sql/schema"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return fmt.Errorf("list hosts: %w", err) }
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("boom"), false},
		{pgx.ErrNoRows, false},
		{context.Canceled, false},
		{wrap(&pgconn.PgError{Code: "23505"}), false}, // unique_violation: the server answered
		{wrap(&pgconn.PgError{Code: "57014"}), false}, // query_canceled
		{wrap(&pgconn.PgError{Code: "57P01"}), true},  // admin_shutdown
		{wrap(&pgconn.PgError{Code: "57P03"}), true},  // cannot_connect_now
		{wrap(&pgconn.PgError{Code: "08006"}), true},  // connection_failure
		{wrap(io.ErrUnexpectedEOF), true},
		{wrap(io.EOF), true},
		{wrap(pgconn.ErrConnClosed), true},
		{wrap(syscall.ECONNREFUSED), true},
		{wrap(&net.OpError{Op: "dial", Net: "unix", Err: os.ErrNotExist}), true},
		{wrap(context.DeadlineExceeded), true},
	} {
		require.Equal(t, tc.want, database.IsUnavailable(tc.err), "%v", tc.err)
	}
}

// Retry waits out an unavailable database, gives up at once on any other error, and stops
// when its context ends.
func TestRetry(t *testing.T) {
	t.Parallel()
	log := slog.New(slog.DiscardHandler)
	down := fmt.Errorf("start: %w", syscall.ECONNREFUSED)

	calls := 0
	err := database.Retry(t.Context(), log, "test", func(context.Context) error {
		if calls++; calls < 3 {
			return down
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, calls, "retried until the database answered")

	calls = 0
	bad := errors.New("client Queues and Workers must be configured")
	err = database.Retry(t.Context(), log, "test", func(context.Context) error { calls++; return bad })
	require.ErrorIs(t, err, bad)
	require.Equal(t, 1, calls, "an error that waiting cannot fix is not retried")

	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	err = database.Retry(ctx, log, "test", func(context.Context) error { return down })
	require.ErrorIs(t, err, context.DeadlineExceeded, "a database down for good is waited for until ctx ends")
}

// TestIsUnavailableOutage kills the server under a pool and checks the errors that come back,
// then that the pool recovers on its own once the server is back.
func TestIsUnavailableOutage(t *testing.T) {
	cluster := dbtest.Cluster()
	if cluster == nil {
		t.Skip("needs the test cluster; SECUMON_TEST_DATABASE_URL is set")
	}
	pool, connString := dbtest.New(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, "SELECT 1")
	require.NoError(t, err)

	conn, err := pool.Acquire(ctx) // a connection the server will drop
	require.NoError(t, err)
	defer conn.Release()

	require.NoError(t, cluster.Kill())
	killed := true
	t.Cleanup(func() { // bring the server back for the other tests even when this one fails
		if killed {
			require.NoError(t, cluster.StartAgain(context.Background()))
		}
	})

	_, err = conn.Exec(ctx, "SELECT 1")
	t.Logf("query on a dropped connection: %v", err)
	require.True(t, database.IsUnavailable(err), "%v", err)

	_, err = pool.Exec(ctx, "SELECT 1")
	t.Logf("query through the pool: %v", err)
	require.True(t, database.IsUnavailable(err), "%v", err)

	_, err = database.Open(ctx, connString, 0)
	t.Logf("Open: %v", err)
	require.True(t, database.IsUnavailable(err), "%v", err)

	require.NoError(t, cluster.StartAgain(ctx))
	killed = false
	_, err = pool.Exec(ctx, "SELECT 1")
	require.NoError(t, err, "the pool did not reconnect")
}

// TestMigrateConcurrently empties a database and migrates it from several goroutines at once,
// as replicas starting together would.
func TestMigrateConcurrently(t *testing.T) {
	t.Parallel()
	pool, connString := dbtest.New(t)
	_, err := pool.Exec(t.Context(), "DROP SCHEMA public CASCADE; CREATE SCHEMA public")
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Go(func() { errs[i] = database.Migrate(t.Context(), connString, nil) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	files, err := fs.Glob(schema.FS, "*.sql")
	require.NoError(t, err)
	var applied int
	require.NoError(t, pool.QueryRow(t.Context(),
		"SELECT count(*) FROM goose_db_version WHERE version_id > 0 AND is_applied").Scan(&applied))
	require.Equal(t, len(files), applied, "each migration is applied once")
	require.NoError(t, database.Migrate(t.Context(), connString, nil), "an up-to-date database")
}

func TestOpen(t *testing.T) {
	t.Parallel()
	_, connString := dbtest.New(t)
	pool, err := database.Open(t.Context(), connString, 0)
	require.NoError(t, err)
	defer pool.Close()
	require.GreaterOrEqual(t, pool.Config().MaxConns, int32(8))
	require.Equal(t, 5*time.Second, pool.Config().ConnConfig.ConnectTimeout)

	small, err := database.Open(t.Context(), connString+" pool_max_conns=3", 0)
	require.NoError(t, err)
	defer small.Close()
	require.Equal(t, int32(3), small.Config().MaxConns)

	// A pool with no free connection until the deadline: the caller should come back later.
	for range 3 {
		conn, err := small.Acquire(t.Context())
		require.NoError(t, err)
		defer conn.Release()
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = small.Exec(ctx, "SELECT 1")
	require.True(t, database.IsUnavailable(err), "%v", err)

	_, err = database.Open(t.Context(), "host=/nonexistent port=5432 user=postgres", 0)
	require.True(t, database.IsUnavailable(err), "%v", err)
}
