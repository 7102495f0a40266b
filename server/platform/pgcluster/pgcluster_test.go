package pgcluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/platform/pgcluster"
)

func TestFindBinDir(t *testing.T) {
	dir, err := pgcluster.FindBinDir()
	require.NoError(t, err)
	require.FileExists(t, filepath.Join(dir, "pg_ctl"))
}

func TestStartKillStartAgain(t *testing.T) {
	t.Parallel()
	c := start(t, testOptions(t))
	require.True(t, c.Owned())
	selectOne(t, c)
	require.Contains(t, c.ConnString("it's"), `dbname='it\'s'`)

	// A commit acknowledged before a Kill survives it, as it would a crash of PostgreSQL.
	execSQL(t, c, "CREATE TABLE survivors (n int); INSERT INTO survivors VALUES (1)")
	require.NoError(t, c.Kill())
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	_, err := pgx.Connect(ctx, c.ConnString("postgres"))
	require.Error(t, err, "connected to a killed server")

	t0 := time.Now()
	require.NoError(t, c.StartAgain(t.Context()))
	t.Logf("restart after kill (crash recovery): %v", time.Since(t0))
	selectOne(t, c)
	execSQL(t, c, "DELETE FROM survivors WHERE n = 1", 1)

	require.NoError(t, c.Stop())
	require.False(t, c.Owned())
	require.NoError(t, c.Stop(), "a second Stop is a no-op")
}

func TestStartReusesRunningServer(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	first := start(t, o)

	o.Port = 6543 // the running server's own socket wins over our options
	second := start(t, o)
	require.False(t, second.Owned())
	require.Equal(t, first.ConnString("postgres"), second.ConnString("postgres"))

	require.NoError(t, second.Stop(), "Stop of a reused server does nothing")
	selectOne(t, first)
	require.NoError(t, first.Stop())
}

func TestSocketPathTooLong(t *testing.T) {
	_, err := pgcluster.Start(t.Context(), pgcluster.Options{
		DataDir: t.TempDir(), SocketDir: "/tmp/" + strings.Repeat("s", 90),
	})
	require.ErrorContains(t, err, "shorter SocketDir")
}

func start(t *testing.T, o pgcluster.Options) *pgcluster.Cluster {
	t.Helper()
	t0 := time.Now()
	c, err := pgcluster.Start(t.Context(), o)
	require.NoError(t, err)
	t.Logf("Start: %v", time.Since(t0))
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

// testOptions returns options for a cluster in a fresh temp dir. As root the server runs as
// postgres, which must be able to enter t.TempDir()'s 0700 parents; and a long temp dir path
// would make the socket path exceed its limit, so the socket then goes under /tmp.
func testOptions(t *testing.T) pgcluster.Options {
	t.Helper()
	o := pgcluster.Options{DataDir: t.TempDir(), Fast: true}
	if os.Geteuid() == 0 {
		require.NoError(t, os.Chmod(o.DataDir, 0o755))
		require.NoError(t, os.Chmod(filepath.Dir(o.DataDir), 0o755))
	}
	if len(o.DataDir) > 60 {
		dir, err := os.MkdirTemp("/tmp", "pgs")
		require.NoError(t, err)
		t.Cleanup(func() { os.RemoveAll(dir) })
		o.SocketDir = dir
	}
	return o
}

func selectOne(t *testing.T, c *pgcluster.Cluster) {
	t.Helper()
	conn := connect(t, c)
	var one int
	require.NoError(t, conn.QueryRow(t.Context(), "SELECT 1").Scan(&one))
	require.Equal(t, 1, one)
}

// execSQL runs sql and, when given, checks how many rows it affected.
func execSQL(t *testing.T, c *pgcluster.Cluster, sql string, rows ...int64) {
	t.Helper()
	tag, err := connect(t, c).Exec(t.Context(), sql)
	require.NoError(t, err)
	if len(rows) > 0 {
		require.Equal(t, rows[0], tag.RowsAffected(), sql)
	}
}

func connect(t *testing.T, c *pgcluster.Cluster) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.ConnString("postgres"))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// A server killed with SIGKILL (the OOM killer, a mistaken kill) is started again by
// Supervise within seconds, and serves its data again.
func TestSuperviseRestartsAKilledServer(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	c := start(t, o)
	execSQL(t, c, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (1)")
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); c.Supervise(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	before := postmasterPID(t, o.DataDir)
	require.NoError(t, syscall.Kill(before, syscall.SIGKILL))
	require.Eventually(t, func() bool {
		conn, err := pgx.Connect(t.Context(), c.ConnString("postgres"))
		if err != nil {
			return false
		}
		defer conn.Close(t.Context())
		var n int
		return conn.QueryRow(t.Context(), "SELECT n FROM kept").Scan(&n) == nil && n == 1
	}, 30*time.Second, 100*time.Millisecond, "the killed server did not come back")
	require.NotEqual(t, before, postmasterPID(t, o.DataDir), "a new postmaster runs")
	// The server answers before pg_ctl, which Supervise waits for, returns: the count follows.
	require.Eventually(t, func() bool { return c.Restarts() == 1 }, 10*time.Second, 20*time.Millisecond, "restarts: %d", c.Restarts())
}

// A server left running by a crashed supervisor is taken over by the next one (which then
// stops it), but never from a supervisor that is still alive.
func TestTakeOverAnOrphan(t *testing.T) {
	t.Parallel()
	o := testOptions(t)
	o.TakeOver = true
	first := start(t, o)
	require.True(t, first.Owned())

	alive := start(t, o) // the first still holds the supervisor lock
	require.False(t, alive.Owned(), "took the server of a live supervisor")

	first.ReleaseForTest() // what the kernel does when the first process dies
	orphanTaker := start(t, o)
	require.True(t, orphanTaker.Owned(), "an orphan server is taken over")
	require.NoError(t, orphanTaker.Stop())
	running, err := pgcluster.Running(t.Context(), orphanTaker)
	require.NoError(t, err)
	require.False(t, running, "the clean stop stopped the orphan")
}

// postmasterPID is the pid of the server running on dataDir.
func postmasterPID(t *testing.T, dataDir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "pgdata", "postmaster.pid"))
	require.NoError(t, err)
	pid, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	require.NoError(t, err)
	return pid
}
