// Package pgcluster runs a private PostgreSQL cluster with the system's PostgreSQL binaries.
//
// It is SecuMon's embedded default (`secumon serve` without DATABASE_URL) and the database of
// the tests: a real PostgreSQL, not an emulation, so what passes against it passes in
// production. The server listens only on a Unix socket (no TCP) in a directory private to the
// user it runs as, with trust authentication: only that user and root can connect.
//
// PostgreSQL refuses to run as root, so when SecuMon is root the cluster belongs to the
// `postgres` OS user that Debian's postgresql package creates.
package pgcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxSocketPath is the longest socket path we accept: the kernel's sun_path holds 108 bytes,
// and PostgreSQL also creates SOCKET.lock next to the socket.
const maxSocketPath = 100

// FindBinDir returns the directory holding initdb, pg_ctl and postgres: `pg_config --bindir`
// when it has initdb (pg_config may belong to a client-only install), else the newest
// /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := strings.TrimSpace(string(out)); hasInitdb(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVersion := "", -1.0
	for _, dir := range dirs {
		// Major versions are "9.6", "15", …: they order correctly as floats.
		v, err := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
		if err == nil && v > bestVersion && hasInitdb(dir) {
			best, bestVersion = dir, v
		}
	}
	if best == "" {
		return "", errors.New("pgcluster: no PostgreSQL server binaries found (neither `pg_config --bindir` " +
			"nor /usr/lib/postgresql/*/bin has initdb): apt-get install postgresql")
	}
	return best, nil
}

func hasInitdb(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, "initdb"))
	return err == nil && !fi.IsDir()
}

// Options configures a cluster. Only DataDir is required.
type Options struct {
	// DataDir holds the cluster (DataDir/pgdata), its log (DataDir/postgres.log) and by default
	// its socket directory.
	DataDir string
	// SocketDir is where the server creates its Unix socket; default DataDir/run. The socket
	// path SocketDir/.s.PGSQL.PORT must stay under 100 bytes.
	SocketDir string
	// Port defaults to 5432. TCP is off (listen_addresses=''): the port only names the socket
	// file (and seeds PostgreSQL's shared memory key).
	Port int
	// BinDir holds initdb and pg_ctl; default FindBinDir().
	BinDir string
	// Fast turns off fsync and full_page_writes. A crash of the machine can then lose or corrupt
	// data: right for a throwaway test cluster, never for a real one. synchronous_commit stays
	// on: without fsync it costs one write(2) per commit, and turning it off would make Kill
	// lose transactions that were already acknowledged.
	Fast bool
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// TakeOver makes the Cluster own a server it finds already running on DataDir when no
	// other live process supervises it: the orphan of a SecuMon that crashed. `secumon serve`
	// sets it, so a clean stop then stops that server too; short-lived commands (`secumon
	// token …`) leave it unset and never stop a server that serve runs.
	TakeOver bool
}

// Cluster is a PostgreSQL server running on a data directory.
type Cluster struct {
	o       Options // defaults filled in, paths absolute
	pgdata  string
	logFile string
	cred    *syscall.Credential // run initdb and pg_ctl as this user; nil: as ourselves

	mu    sync.Mutex
	owned bool // we started the server, so Stop stops it

	supervisor *os.File     // holds the flock that says a live process supervises the server (TakeOver)
	restarts   atomic.Int64 // times Supervise restarted the server
}

// Start runs the cluster in o.DataDir, creating it on first use. When a server is already
// running on that data directory (a previous SecuMon that did not stop it, or another process
// of ours) Start connects to it instead, and the returned Cluster does not own it: Stop leaves
// it running.
func Start(ctx context.Context, o Options) (*Cluster, error) {
	c, err := newCluster(o)
	if err != nil {
		return nil, err
	}
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}
	log := c.o.Logger.With("pgdata", c.pgdata)
	if _, err := os.Stat(filepath.Join(c.pgdata, "PG_VERSION")); errors.Is(err, fs.ErrNotExist) {
		t := time.Now()
		if _, err := c.run(ctx, "initdb", "-D", c.pgdata, "-U", "postgres", "-A", "trust",
			"--no-sync", "--locale=C.UTF-8", "-E", "UTF8"); err != nil {
			return nil, err
		}
		log.Info("postgres cluster created", "duration", time.Since(t).Round(time.Millisecond))
	} else if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	} else if running, err := c.running(ctx); err != nil {
		return nil, err
	} else if running {
		if err := c.adoptRunning(); err != nil {
			return nil, err
		}
		if c.o.TakeOver && c.lockSupervisor() {
			c.owned = true
			log.Warn("postgres was left running by a previous process: taking it over", "socket_dir", c.o.SocketDir, "port", c.o.Port)
			return c, nil
		}
		log.Info("postgres already running: reusing it", "socket_dir", c.o.SocketDir, "port", c.o.Port)
		return c, nil
	}
	if c.o.TakeOver {
		c.lockSupervisor()
	}
	t := time.Now()
	if err := c.StartAgain(ctx); err != nil {
		return nil, err
	}
	log.Info("postgres started", "socket_dir", c.o.SocketDir, "port", c.o.Port,
		"duration", time.Since(t).Round(time.Millisecond))
	return c, nil
}

func newCluster(o Options) (*Cluster, error) {
	if o.DataDir == "" {
		return nil, errors.New("pgcluster: Options.DataDir is required")
	}
	var err error
	if o.DataDir, err = filepath.Abs(o.DataDir); err != nil { // pg_ctl runs in "/"
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if o.SocketDir == "" {
		o.SocketDir = filepath.Join(o.DataDir, "run")
	}
	if o.SocketDir, err = filepath.Abs(o.SocketDir); err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	if o.Port == 0 {
		o.Port = 5432
	}
	if sock := filepath.Join(o.SocketDir, fmt.Sprintf(".s.PGSQL.%d", o.Port)); len(sock) >= maxSocketPath {
		return nil, fmt.Errorf("pgcluster: socket path %s is %d bytes, the limit is %d: choose a shorter SocketDir",
			sock, len(sock), maxSocketPath-1)
	}
	if o.BinDir == "" {
		if o.BinDir, err = FindBinDir(); err != nil {
			return nil, err
		}
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c := &Cluster{o: o, pgdata: filepath.Join(o.DataDir, "pgdata"), logFile: filepath.Join(o.DataDir, "postgres.log")}
	if os.Geteuid() == 0 {
		if c.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// postgresUser is who initdb and pg_ctl run as when we are root (both refuse root).
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgcluster: PostgreSQL cannot run as root and there is no postgres user "+
			"(apt-get install postgresql creates it): %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgcluster: postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepareDirs creates the data and socket directories (0700) and the log file, owned by the
// user the server runs as, and checks that this user can reach them.
func (c *Cluster) prepareDirs() error {
	for _, dir := range []string{c.o.DataDir, c.o.SocketDir} {
		// Parents we create must stay traversable by the postgres user.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := c.chown(dir); err != nil {
			return err
		}
		if blocked := c.blockedParent(dir); blocked != "" {
			return fmt.Errorf("pgcluster: the postgres user cannot enter %s, a parent of %s "+
				"(PostgreSQL runs as postgres when SecuMon runs as root): chmod o+x it or choose another directory",
				blocked, dir)
		}
	}
	f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	f.Close()
	return c.chown(c.logFile)
}

func (c *Cluster) chown(path string) error {
	if c.cred == nil {
		return nil
	}
	if err := os.Chown(path, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	return nil
}

// blockedParent returns the first parent of dir that the postgres user may not traverse, or ""
// (always "" when we are not root: then the server runs as ourselves).
func (c *Cluster) blockedParent(dir string) string {
	if c.cred == nil {
		return ""
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil {
			st, perm := fi.Sys().(*syscall.Stat_t), fi.Mode().Perm()
			if perm&0o001 == 0 && !(st.Uid == c.cred.Uid && perm&0o100 != 0) && !(st.Gid == c.cred.Gid && perm&0o010 != 0) {
				return d
			}
		}
		if d == filepath.Dir(d) {
			return ""
		}
	}
}

// running asks pg_ctl whether a server runs on the data directory.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	_, err := c.run(ctx, "pg_ctl", "status", "-D", c.pgdata)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 3 { // 3: no server running
		return false, nil
	}
	return err == nil, err
}

// adoptRunning takes the socket directory and port from the running server's postmaster.pid
// (lines: pid, data dir, start time, port, socket dir, …): it may have been started with other
// options than ours.
func (c *Cluster) adoptRunning() error {
	b, err := os.ReadFile(filepath.Join(c.pgdata, "postmaster.pid"))
	if err != nil {
		return fmt.Errorf("pgcluster: running server: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 || lines[4] == "" {
		return fmt.Errorf("pgcluster: the server running on %s has no Unix socket", c.pgdata)
	}
	port, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return fmt.Errorf("pgcluster: running server's postmaster.pid: %w", err)
	}
	c.o.Port, c.o.SocketDir = port, strings.TrimSpace(lines[4])
	return nil
}

// ConnString returns a pgx/libpq connection string for database dbname over the Unix socket.
func (c *Cluster) ConnString(dbname string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable",
		quoteValue(c.o.SocketDir), c.o.Port, quoteValue(dbname))
}

// Owned reports whether Stop will stop the server, that is whether this Cluster started it.
func (c *Cluster) Owned() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.owned
}

// Stop shuts the server down cleanly (pg_ctl stop -m fast: sessions are disconnected, the
// data is checkpointed) if this Cluster started it and it is still running.
func (c *Cluster) Stop() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.owned {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if running, err := c.running(ctx); err != nil || !running {
		c.owned = false
		return err
	}
	if _, err := c.run(ctx, "pg_ctl", "stop", "-m", "fast", "-w", "-D", c.pgdata); err != nil {
		return err
	}
	c.owned = false
	c.o.Logger.Info("postgres stopped", "pgdata", c.pgdata)
	if c.supervisor != nil {
		c.supervisor.Close() // releases the flock
		c.supervisor = nil
	}
	return nil
}

// Kill stops the server abruptly (pg_ctl stop -m immediate: no checkpoint, the next start
// runs crash recovery), whether this Cluster owns it or not. With StartAgain, tests use it to
// simulate the database going away and coming back.
func (c *Cluster) Kill() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.run(ctx, "pg_ctl", "stop", "-m", "immediate", "-w", "-D", c.pgdata)
	return err
}

// StartAgain starts the server with the cluster's options, after Kill or Stop. The Cluster
// then owns the server.
func (c *Cluster) StartAgain(ctx context.Context) error {
	// pg_ctl hands -o to a shell: quote the socket directory.
	opts := fmt.Sprintf("-k %s -p %d -c listen_addresses=''", shellQuote(c.o.SocketDir), c.o.Port)
	if c.o.Fast {
		opts += " -c fsync=off -c full_page_writes=off"
	}
	if _, err := c.run(ctx, "pg_ctl", "start", "-w", "-D", c.pgdata, "-l", c.logFile, "-o", opts); err != nil {
		return err
	}
	c.mu.Lock()
	c.owned = true
	c.mu.Unlock()
	return nil
}

// run runs a PostgreSQL program as the cluster's user. Its error carries the program's output
// and the end of the server log, where the reason for a failed start is.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.o.BinDir, name), args...)
	cmd.Dir = "/" // our working directory may be closed to the postgres user
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	cmd.WaitDelay = 5 * time.Second // never hang on an output pipe a child kept open
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("pgcluster: %s %s: %w\n%s%s", name, args[0], err, bytes.TrimSpace(out), c.logTail())
	}
	return out, nil
}

// logTail returns the last lines of the server log, for error messages.
func (c *Cluster) logTail() string {
	f, err := os.Open(c.logFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	const max = 2048
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		_, _ = f.Seek(-max, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 12 {
		lines = lines[len(lines)-12:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return ""
	}
	return "\n" + c.logFile + " (end):\n" + strings.Join(lines, "\n")
}

// quoteValue quotes a libpq keyword/value connection string value when it needs it.
func quoteValue(s string) string {
	if s != "" && !strings.ContainsAny(s, ` '\`) {
		return s
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
