package dbtest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestMigrationsApplied(t *testing.T) {
	t.Parallel()
	pool, _ := dbtest.New(t)
	var hosts *string
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT to_regclass('hosts')::text").Scan(&hosts))
	require.NotNil(t, hosts, "table hosts is missing")
}

func TestDatabasesAreIndependent(t *testing.T) {
	t.Parallel()
	t0 := time.Now()
	a, connA := dbtest.New(t)
	t.Logf("first clone: %v", time.Since(t0))
	t0 = time.Now()
	b, connB := dbtest.New(t)
	t.Logf("second clone: %v", time.Since(t0))
	require.NotEqual(t, connA, connB)

	_, err := a.Exec(t.Context(), "INSERT INTO workspaces (id, slug, name) VALUES (gen_random_uuid(), 'acme', 'Acme')")
	require.NoError(t, err)
	require.Equal(t, 1, countWorkspaces(t, a))
	require.Equal(t, 0, countWorkspaces(t, b))
}

// failedTB is a test that failed, whose cleanups we run ourselves.
type failedTB struct {
	testing.TB
	cleanups []func()
	logs     []string
}

func (f *failedTB) Failed() bool            { return true }
func (f *failedTB) Cleanup(fn func())       { f.cleanups = append(f.cleanups, fn) }
func (f *failedTB) Logf(s string, a ...any) { f.logs = append(f.logs, fmt.Sprintf(s, a...)) }

func TestFailedTestKeepsItsDatabase(t *testing.T) {
	t.Parallel()
	ft := &failedTB{TB: t}
	kept, _ := dbtest.New(ft)
	var name string
	require.NoError(t, kept.QueryRow(t.Context(), "SELECT current_database()").Scan(&name))
	for _, fn := range ft.cleanups {
		fn()
	}
	require.Len(t, ft.logs, 1)
	require.Contains(t, ft.logs[0], name)

	pool, _ := dbtest.New(t)
	var exists bool
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists))
	require.True(t, exists, "the failed test's database was dropped")
	_, err := pool.Exec(context.Background(), "DROP DATABASE "+name)
	require.NoError(t, err)
}

func countWorkspaces(t *testing.T, pool *pgxpool.Pool) (n int) {
	t.Helper()
	require.NoError(t, pool.QueryRow(t.Context(), "SELECT count(*) FROM workspaces").Scan(&n))
	return n
}
