// Package dbtest gives each test its own PostgreSQL database, cloned in milliseconds from a
// template database that already holds the migrated schema (peterldowns/pgtestdb's approach):
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		pool, _ := dbtest.New(t)
//		…
//	}
//
// Main starts a private cluster per test binary (pgcluster, fsync off), so test packages run in
// parallel without sharing anything; or, when SECUMON_TEST_DATABASE_URL is set, uses that
// server. The template is named after a hash of the migration files: it is built once per
// schema, and a changed migration gets a new one. The private cluster lives in RAM
// (/dev/shm) when there is room, and a watchdog process removes it even when the test binary
// dies without cleaning up (panic, -timeout).
package dbtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	mathrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/server/platform/database"
	"github.com/secuaas/secumon/server/platform/pgcluster"
	"github.com/secuaas/secumon/sql/schema"
)

// EnvURL names the variable pointing the tests at an existing server. Its database is only
// used to CREATE DATABASE from, so the user needs the CREATEDB privilege.
const EnvURL = "SECUMON_TEST_DATABASE_URL"

// Set by Main.
var (
	baseConn string             // connection string of the maintenance database
	admin    *pgxpool.Pool      // pool on it, for CREATE/DROP DATABASE
	template string             // name of the migrated template database
	cluster  *pgcluster.Cluster // nil when using EnvURL
	watchdog *os.File           // see startWatchdog; referenced so it is never closed
)

// Main prepares the database server and the template, runs the tests and exits with their
// status. Call it from TestMain.
func Main(m *testing.M) {
	code, err := run(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (code int, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	baseConn = os.Getenv(EnvURL)
	if baseConn == "" {
		var dir string
		if dir, err = os.MkdirTemp(clusterParent(), "secumon-pg-"); err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		if err := startWatchdog(dir); err != nil {
			return 0, err
		}
		t := time.Now()
		cluster, err = pgcluster.Start(ctx, pgcluster.Options{
			DataDir: dir,
			Port:    20000 + mathrand.IntN(20000), // names the socket and seeds the shared memory key
			Fast:    true,
		})
		if err != nil {
			return 0, err
		}
		defer func() { err = errors.Join(err, cluster.Stop()) }()
		fmt.Fprintf(os.Stderr, "dbtest: cluster started in %v\n", time.Since(t).Round(time.Millisecond))
		baseConn = cluster.ConnString("postgres")
	}
	if admin, err = openAdmin(ctx); err != nil {
		return 0, err
	}
	defer admin.Close()
	if template, err = ensureTemplate(ctx); err != nil {
		return 0, err
	}
	return m.Run(), nil
}

// openAdmin opens the pool on the maintenance database. It pings every connection before use:
// after a test's Kill and StartAgain, a connection used less than a second before would
// otherwise fail the next CREATE or DROP DATABASE, and these statements are few.
func openAdmin(ctx context.Context) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(baseConn)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 4
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return true }
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}

// clusterParent is where the test cluster lives: in RAM (/dev/shm) when it has room, because
// every New copies the template's files (about 8 MB) and on a slow disk that takes 100–300 ms
// instead of about 15 ms; else /tmp. Never $TMPDIR, which may be long: the socket path must
// stay under 100 bytes.
func clusterParent() string {
	var st syscall.Statfs_t
	if syscall.Statfs("/dev/shm", &st) == nil && st.Bavail*uint64(st.Bsize) >= 1<<30 {
		return "/dev/shm"
	}
	return "/tmp"
}

// watchdogScript waits for EOF on stdin, then shuts down the server in $1 (fast shutdown, so
// PostgreSQL removes its shared memory files from /dev/shm), waits up to 10 s for the server to
// remove its postmaster.pid, and removes $1. After a clean exit it finds nothing to do.
const watchdogScript = `read _
pid=$(head -n1 "$1/pgdata/postmaster.pid" 2>/dev/null) && kill -INT "$pid" 2>/dev/null &&
for i in $(seq 100); do [ -e "$1/pgdata/postmaster.pid" ] && sleep 0.1; done
rm -rf "$1"`

// startWatchdog makes sure the cluster in dir dies with this process. pg_ctl detaches the
// server, so a test binary that panics or hits -timeout would leave it running forever. The
// watchdog, a shell in its own session, waits for EOF on a pipe whose only writer is us:
// the kernel closes it however we exit.
func startWatchdog(dir string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "watchdog", dir)
	cmd.Stdin = r
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // survive a Ctrl-C to our process group
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("watchdog: %w", err)
	}
	go cmd.Wait() //nolint:errcheck // reaps it if it ever exits before us
	watchdog = w
	return nil
}

// ensureTemplate creates the migrated template database unless it exists.
func ensureTemplate(ctx context.Context) (string, error) {
	name, err := templateName()
	if err != nil {
		return "", err
	}
	conn, err := admin.Acquire(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Release()
	// Test binaries sharing one server (EnvURL, go test -p) build a template one at a time.
	const lockKey = 0x5ec0_7e57
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockKey); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", lockKey) //nolint:errcheck

	// IS_TEMPLATE is set last: a database without it is a build that died half-way.
	var done bool
	err = conn.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&done)
	switch {
	case err == nil && done:
		return name, nil
	case err == nil:
		if _, err := conn.Exec(ctx, "DROP DATABASE "+ident(name)+" WITH (FORCE)"); err != nil {
			return "", err
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", err
	}
	t := time.Now()
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident(name)); err != nil {
		return "", err
	}
	connString, err := withDatabase(baseConn, name)
	if err != nil {
		return "", err
	}
	if err := database.Migrate(ctx, connString, nil); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+ident(name)+" IS_TEMPLATE true"); err != nil {
		return "", err
	}
	fmt.Fprintf(os.Stderr, "dbtest: template %s built in %v\n", name, time.Since(t).Round(time.Millisecond))
	return name, nil
}

// templateName is tmpl_ and the first 12 hex digits of the SHA-256 of the migration files'
// names and contents.
func templateName() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(schema.FS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(schema.FS, name)
		fmt.Fprintf(h, "%s\x00%d\x00%s", name, len(b), b)
		return err
	})
	if err != nil {
		return "", err
	}
	return "tmpl_" + hex.EncodeToString(h.Sum(nil))[:12], nil
}

// Cluster returns the cluster Main started, for tests that simulate an outage with Kill and
// StartAgain; nil when the tests use SECUMON_TEST_DATABASE_URL.
func Cluster() *pgcluster.Cluster { return cluster }

// New creates a database for t from the template and returns a pool on it and its connection
// string. The database is dropped when t ends, unless t failed: then it is kept for
// inspection and its name logged.
func New(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	if admin == nil {
		t.Fatal("dbtest: call dbtest.Main(m) from TestMain")
	}
	// Not t.Context(): it is canceled before the cleanup that drops the database runs.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := "t_" + strings.ToLower(rand.Text()[:16])
	// FILE_COPY copies the template's files and checkpoints (cheap without fsync): about 12 ms.
	// PostgreSQL 15's default, WAL_LOG, also writes them all to the WAL: 17–25 ms, and the WAL
	// grows by 8 MB per test.
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+ident(name)+" TEMPLATE "+ident(template)+" STRATEGY FILE_COPY"); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	connString, err := withDatabase(baseConn, name)
	if err != nil {
		t.Fatal(err)
	}
	var pool *pgxpool.Pool
	t.Cleanup(func() {
		if pool != nil {
			pool.Close()
		}
		if t.Failed() {
			t.Logf("dbtest: kept database %s for inspection: psql %q", name, connString)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE "+ident(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: drop database %s: %v", name, err)
		}
	})
	if pool, err = database.Open(ctx, connString, 0); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return pool, connString
}

// withDatabase points a connection string, URL or keyword/value, at database name.
func withDatabase(connString, name string) (string, error) {
	if strings.HasPrefix(connString, "postgres://") || strings.HasPrefix(connString, "postgresql://") {
		u, err := url.Parse(connString)
		if err != nil {
			return "", fmt.Errorf("dbtest: %s: %w", EnvURL, err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String(), nil
	}
	return connString + " dbname=" + name, nil // the last occurrence of a keyword wins
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }
