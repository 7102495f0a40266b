package pgcluster

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Supervision keeps an owned server running: a PostgreSQL killed by the OOM killer or by hand
// would otherwise leave the API answering 503 until someone restarted SecuMon.

const (
	superviseEvery    = time.Second      // how often Supervise checks the server
	restartBackoff    = time.Second      // the wait after a failed restart, doubled each time…
	restartBackoffMax = 30 * time.Second // …up to this
)

// Supervise checks every second that the server runs and starts it again when it does not,
// retrying with backoff, until ctx ends. It does nothing for a server this Cluster does not
// own. Connections break while the server is down; pgx pools reconnect by themselves.
func (c *Cluster) Supervise(ctx context.Context) {
	log := c.o.Logger.With("pgdata", c.pgdata)
	backoff := restartBackoff
	tick := time.NewTicker(superviseEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !c.Owned() {
			continue
		}
		running, err := c.running(ctx)
		if running || ctx.Err() != nil {
			backoff = restartBackoff
			continue
		}
		if err != nil {
			log.Error("postgres status unknown: restarting it", "err", err)
		} else {
			log.Error("postgres is not running: restarting it")
		}
		t := time.Now()
		if err := c.StartAgain(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Error("postgres restart failed", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, restartBackoffMax)
			continue
		}
		c.restarts.Add(1)
		backoff = restartBackoff
		log.Warn("postgres restarted", "duration", time.Since(t).Round(time.Millisecond), "restarts", c.restarts.Load())
	}
}

// Restarts is how many times Supervise restarted the server.
func (c *Cluster) Restarts() int64 { return c.restarts.Load() }

// lockSupervisor takes the data directory's supervisor lock, an flock the kernel releases when
// the process dies, so that a server left behind by a crashed process can be told from one a
// live process runs. It reports whether this process now holds it.
func (c *Cluster) lockSupervisor() bool {
	f, err := os.OpenFile(filepath.Join(c.o.DataDir, "supervisor.lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		c.o.Logger.Warn("postgres supervisor lock", "err", err)
		return false
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return false
	}
	c.supervisor = f
	return true
}
