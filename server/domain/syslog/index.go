package syslog

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/db"
)

// target is one host an entry belongs to.
type target struct {
	workspace, host uuid.UUID
}

// hostIndex answers "which hosts is this entry from" from memory: the receiver may take
// thousands of messages a second and must not query the database for each. It is reloaded
// from the hosts table when that changes (checked every RefreshEvery, and when an entry
// matches no host: see Receiver.rematch).
type hostIndex struct {
	snap atomic.Pointer[indexSnapshot]

	mu sync.Mutex // serialises refreshes and guards the fields below
	// Fingerprint and time of the loaded snapshot.
	version  db.SyslogHostsVersionRow
	loadedAt time.Time
	// checkedAt is when the last successful refresh started: the snapshot has every host
	// committed before then.
	checkedAt time.Time
}

// fullReloadEvery bounds how long a change the fingerprint cannot see (an update committed
// with an updated_at older than the newest one) can go unnoticed.
const fullReloadEvery = time.Minute

type indexSnapshot struct {
	byAddr map[netip.Addr][]target // hosts whose hostname is an IP address
	byName map[string][]target     // lower-cased hostname and name of every host
}

func newHostIndex() *hostIndex {
	ix := &hostIndex{}
	ix.snap.Store(&indexSnapshot{})
	return ix
}

// refresh reloads the hosts when their fingerprint moved (or the snapshot is old); it
// reports whether it did.
func (ix *hostIndex) refresh(ctx context.Context, q *db.Queries, workspaces []uuid.UUID) (bool, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	started := time.Now()
	v, err := q.SyslogHostsVersion(ctx, workspaces)
	if err != nil {
		return false, err
	}
	if v.Hosts == ix.version.Hosts && v.Updated.Equal(ix.version.Updated) && time.Since(ix.loadedAt) < fullReloadEvery {
		ix.checkedAt = started
		return false, nil
	}
	hosts, err := q.ListSyslogHosts(ctx, workspaces)
	if err != nil {
		return false, err
	}
	ix.snap.Store(buildSnapshot(hosts))
	ix.version, ix.loadedAt, ix.checkedAt = v, time.Now(), started
	return true, nil
}

// checkedAfter reports whether the snapshot was checked against the hosts table after t: a
// host created before t is then in it.
func (ix *hostIndex) checkedAfter(t time.Time) bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.checkedAt.After(t)
}

func buildSnapshot(hosts []db.ListSyslogHostsRow) *indexSnapshot {
	s := &indexSnapshot{byAddr: map[netip.Addr][]target{}, byName: map[string][]target{}}
	for _, h := range hosts {
		t := target{workspace: h.WorkspaceID, host: h.ID}
		if addr, ok := parseAddr(h.Hostname); ok {
			s.byAddr[addr] = appendOnce(s.byAddr[addr], t)
		}
		for _, n := range []string{h.Hostname, h.Name} {
			if k := nameKey(n); k != "" {
				s.byName[k] = appendOnce(s.byName[k], t)
			}
		}
	}
	return s
}

// match returns the hosts an entry from src, whose header names hostname (nil when absent),
// belongs to: hosts whose address is src, and hosts whose hostname or name is hostname. A
// relay forwarding others' messages therefore also files them under its own host, when it
// is one.
func (ix *hostIndex) match(src netip.Addr, hostname *string) []target {
	s := ix.snap.Load()
	var out []target
	if src.IsValid() {
		for _, t := range s.byAddr[src.Unmap().WithZone("")] {
			out = appendOnce(out, t)
		}
	}
	if hostname != nil {
		for _, t := range s.byName[nameKey(*hostname)] {
			out = appendOnce(out, t)
		}
	}
	return out
}

// nameKey normalises a host name for comparison: case-insensitive, without the root dot.
func nameKey(s string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(s), "."))
}

func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func appendOnce(ts []target, t target) []target {
	for _, x := range ts {
		if x == t {
			return ts
		}
	}
	return append(ts, t)
}

// refreshLoop keeps ix current until ctx ends.
func (ix *hostIndex) refreshLoop(ctx context.Context, r *Receiver) {
	tick := time.NewTicker(r.cfg.RefreshEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := ix.refresh(ctx, r.q, r.cfg.Workspaces); err != nil && ctx.Err() == nil {
			r.log.Warn("syslog: refreshing the host index failed; keeping the previous one", "err", err)
		}
	}
}
