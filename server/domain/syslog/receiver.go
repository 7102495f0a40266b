// Package syslog is SecuMon's built-in syslog receiver, the source of the correlated host
// logs (GET /hosts/{id}/logs). It listens on one address over UDP and TCP (octet-counted or
// newline-framed, RFC 6587), parses RFC 5424 and RFC 3164 with go-syslog, files each entry
// under the hosts it comes from (by source address or by the hostname in its header, in every
// workspace that has such a host) and writes the entries in batches into the daily-partitioned
// host_logs table. An entry that matches no host in the in-memory host index gets a second
// look after the index is reloaded (at most once a MissRefreshEvery), so a host created a
// moment before its first entry gets it; entries that still match no host are counted and
// logged as dropped, not stored.
//
// Everything is bounded: messages are truncated at MaxMessageSize, TCP connections are
// limited to MaxConns and closed after IdleTimeout without data, and the queue to the
// database is fixed, so a flood slows senders down instead of growing memory.
package syslog

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/platform/batch"
)

// Config of a receiver; zero values take the defaults shown.
type Config struct {
	// Addr is the host:port served on both UDP and TCP (e.g. 127.0.0.1:5514). Port 0 picks a
	// free port, the same for both protocols.
	Addr string
	// MaxMessageSize truncates longer messages (64 KiB).
	MaxMessageSize int
	// MaxConns bounds concurrent TCP connections; further ones are closed at once (512).
	MaxConns int
	// IdleTimeout closes a TCP connection that sent nothing for that long (5 min).
	IdleTimeout time.Duration
	// BatchSize and FlushEvery bound how many entries, and for how long, wait before they
	// are written (1000, 200 ms).
	BatchSize  int
	FlushEvery time.Duration
	// RefreshEvery is how often the in-memory host index checks the hosts table (5 s).
	RefreshEvery time.Duration
	// MissRefreshEvery bounds how often an entry that matches no host reloads the index
	// before it is dropped (1 s): a host created before its entry arrived always gets it,
	// and a sender nobody knows costs at most one cheap query per period.
	MissRefreshEvery time.Duration
	// Logger receives the receiver's warnings and its unmatched-entries report.
	Logger *slog.Logger
	// Workspaces are those whose hosts entries are matched to; nil means every workspace.
	// A sender does not say whose it is, so a receiver shared by workspaces that do not
	// trust each other would let one read another's logs by naming the same address.
	Workspaces []uuid.UUID
}

func (c Config) withDefaults() Config {
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 64 << 10
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 512
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 5 * time.Minute
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.FlushEvery <= 0 {
		c.FlushEvery = 200 * time.Millisecond
	}
	if c.RefreshEvery <= 0 {
		c.RefreshEvery = 5 * time.Second
	}
	if c.MissRefreshEvery <= 0 {
		c.MissRefreshEvery = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// The entries dropped because they matched no host are logged at once, then at most once
// per unmatchedReportEvery (checked every unmatchedCheckEvery) with their count.
const (
	unmatchedReportEvery = time.Minute
	unmatchedCheckEvery  = 10 * time.Second
)

// missQueue is how many unmatched entries may wait for an index reload; beyond that (a flood
// from unknown senders) they are dropped without waiting.
const missQueue = 1024

// missRefreshTimeout bounds one reload of the index for unmatched entries.
const missRefreshTimeout = 5 * time.Second

// Receiver is a bound syslog listener; Run serves it.
type Receiver struct {
	cfg   Config
	pool  *pgxpool.Pool
	q     *db.Queries
	log   *slog.Logger
	tcp   net.Listener
	udp   *net.UDPConn
	index *hostIndex
	w     *writer
	stats counters
	slots chan struct{} // one per open TCP connection
	// misses are entries that matched no host, waiting for rematch to reload the index.
	misses chan entry

	mu       sync.Mutex
	open     map[net.Conn]struct{}
	shutdown bool

	lastUnmatched atomic.Pointer[string] // sender of the latest unmatched entry, for the report
	reportMu      sync.Mutex             // guards the two fields below
	reported      uint64                 // unmatched entries already logged
	reportedAt    time.Time              // when they were
}

// counters are the receiver's running totals.
type counters struct {
	received, stored, unmatched, unparsed, truncated, rejected, lost atomic.Uint64
}

// Stats is a snapshot of a receiver's totals since it started.
type Stats struct {
	Received      uint64 // messages read
	Stored        uint64 // rows written (one per matched host)
	Unmatched     uint64 // messages that matched no host, even after reloading the hosts; not stored
	Unparsed      uint64 // messages that were not syslog; stored as raw text when matched
	Truncated     uint64 // messages cut at MaxMessageSize
	RejectedConns uint64 // TCP connections refused over MaxConns
	Lost          uint64 // rows dropped: refused by the database, or still queued at shutdown
}

// Listen binds cfg.Addr on TCP and UDP. Call Run to serve.
func Listen(pool *pgxpool.Pool, cfg Config) (*Receiver, error) {
	cfg = cfg.withDefaults()
	tcp, udp, err := listenBoth(cfg.Addr)
	if err != nil {
		return nil, err
	}
	r := &Receiver{
		cfg: cfg, pool: pool, q: db.New(pool), log: cfg.Logger, tcp: tcp, udp: udp,
		index: newHostIndex(), slots: make(chan struct{}, cfg.MaxConns), open: map[net.Conn]struct{}{},
		misses: make(chan entry, missQueue),
	}
	r.w = &writer{
		pool: pool, log: cfg.Logger, queue: batch.New[db.CopyHostLogsParams](4 * cfg.BatchSize),
		batchSize: cfg.BatchSize, flushEvery: cfg.FlushEvery, stats: &r.stats,
	}
	return r, nil
}

// listenBoth binds TCP and then UDP on the same port. With port 0 the kernel's TCP pick may
// be taken on UDP; a few attempts find a port free on both.
func listenBoth(addr string) (net.Listener, *net.UDPConn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("syslog address %q: %w", addr, err)
	}
	for attempt := 0; ; attempt++ {
		tcp, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("syslog: %w", err)
		}
		tcpPort := tcp.Addr().(*net.TCPAddr).Port
		uaddr, err := net.ResolveUDPAddr("udp", net.JoinHostPort(host, strconv.Itoa(tcpPort)))
		if err != nil {
			_ = tcp.Close()
			return nil, nil, fmt.Errorf("syslog: %w", err)
		}
		udp, err := net.ListenUDP("udp", uaddr)
		if err == nil {
			// A larger socket buffer rides out bursts while the parser catches up (best effort:
			// the kernel caps it at net.core.rmem_max).
			_ = udp.SetReadBuffer(4 << 20)
			return tcp, udp, nil
		}
		_ = tcp.Close()
		if port != "0" || attempt == 4 {
			return nil, nil, fmt.Errorf("syslog: %w", err)
		}
	}
}

// TCPAddr is the bound TCP address.
func (r *Receiver) TCPAddr() *net.TCPAddr { return r.tcp.Addr().(*net.TCPAddr) }

// UDPAddr is the bound UDP address (the same port as TCPAddr).
func (r *Receiver) UDPAddr() *net.UDPAddr { return r.udp.LocalAddr().(*net.UDPAddr) }

// Stats returns the totals so far.
func (r *Receiver) Stats() Stats {
	s := &r.stats
	return Stats{
		Received: s.received.Load(), Stored: s.stored.Load(), Unmatched: s.unmatched.Load(),
		Unparsed: s.unparsed.Load(), Truncated: s.truncated.Load(), RejectedConns: s.rejected.Load(), Lost: s.lost.Load(),
	}
}

// Run serves until ctx ends: it loads the host index, then reads UDP datagrams and TCP
// connections. On shutdown it stops reading, closes the connections and writes what is still
// queued (within a grace period) before it returns.
func (r *Receiver) Run(ctx context.Context) {
	if _, err := r.index.refresh(ctx, r.q, r.cfg.Workspaces); err != nil {
		r.log.Warn("syslog: loading the host index failed; retrying in the background", "err", err)
	}
	r.w.ensurePartitions(ctx)
	writerCtx, stopWriter := context.WithCancel(context.WithoutCancel(ctx))
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		r.w.run(writerCtx)
	}()

	// rematch outlives the readers, so that it settles every entry they hand it.
	rematchCtx, stopRematch := context.WithCancel(context.WithoutCancel(ctx))
	rematchDone := make(chan struct{})
	go func() {
		defer close(rematchDone)
		r.rematch(rematchCtx)
	}()

	var readers sync.WaitGroup
	readers.Go(func() { r.index.refreshLoop(ctx, r) })
	readers.Go(func() { r.reportUnmatched(ctx) })
	readers.Go(func() { r.serveUDP(ctx) })
	readers.Go(func() { r.serveTCP(ctx, &readers) })
	r.log.Info("syslog receiver listening", "udp", r.UDPAddr().String(), "tcp", r.TCPAddr().String())

	<-ctx.Done()
	_ = r.udp.Close()
	_ = r.tcp.Close()
	r.closeConns()
	readers.Wait()
	stopRematch()
	<-rematchDone
	r.reportDrops(true)
	stopWriter()
	<-writerDone
}

func (r *Receiver) serveUDP(ctx context.Context) {
	// A datagram longer than the buffer is cut by the kernel; one byte more than the limit
	// tells a cut message from one of exactly the limit.
	buf := make([]byte, min(r.cfg.MaxMessageSize+1, 1<<16))
	p := newParser()
	for {
		n, from, err := r.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Debug("syslog: udp read", "err", err)
			time.Sleep(10 * time.Millisecond) // never spin on a persistent error
			continue
		}
		msg, truncated := buf[:n], n > r.cfg.MaxMessageSize
		if truncated {
			msg = msg[:r.cfg.MaxMessageSize]
		}
		r.handle(ctx, p, msg, from.Addr(), truncated)
	}
}

func (r *Receiver) serveTCP(ctx context.Context, conns *sync.WaitGroup) {
	for {
		c, err := r.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			r.log.Warn("syslog: tcp accept", "err", err)
			time.Sleep(50 * time.Millisecond) // e.g. out of file descriptors: let some close
			continue
		}
		select {
		case r.slots <- struct{}{}:
		default:
			if r.stats.rejected.Add(1) == 1 {
				r.log.Warn("syslog: too many TCP connections; refusing new ones", "max", r.cfg.MaxConns)
			}
			_ = c.Close()
			continue
		}
		if !r.track(c) { // shutting down
			<-r.slots
			_ = c.Close()
			continue
		}
		conns.Go(func() {
			defer func() {
				r.untrack(c)
				_ = c.Close()
				<-r.slots
			}()
			r.serveConn(ctx, c)
		})
	}
}

// serveConn reads one TCP connection until it closes, idles out, or breaks the framing.
func (r *Receiver) serveConn(ctx context.Context, c net.Conn) {
	var src netip.Addr
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		src = ta.AddrPort().Addr()
	}
	br := bufio.NewReaderSize(c, 16<<10) // frames longer than the buffer are read in pieces
	p := newParser()
	for {
		if err := c.SetReadDeadline(time.Now().Add(r.cfg.IdleTimeout)); err != nil {
			return
		}
		msg, truncated, err := readFrame(br, r.cfg.MaxMessageSize)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				r.log.Debug("syslog: closing connection", "remote", c.RemoteAddr().String(), "err", err)
			}
			return
		}
		r.handle(ctx, p, msg, src, truncated)
	}
}

// handle parses one message, matches it to hosts and queues one row per host.
func (r *Receiver) handle(ctx context.Context, p *parser, raw []byte, src netip.Addr, truncated bool) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return // keep-alive newlines, empty datagrams
	}
	r.stats.received.Add(1)
	if truncated {
		r.stats.truncated.Add(1)
	}
	e := p.parse(raw, src.Unmap(), time.Now().UTC())
	if !e.parsed {
		r.stats.unparsed.Add(1)
	}
	targets := r.index.match(e.source, e.hostname)
	if len(targets) == 0 {
		// The index may predate the entry's host: rematch decides after a reload.
		select {
		case r.misses <- e:
		default:
			r.drop(e) // too many unknown senders to wait for each
		}
		return
	}
	r.store(ctx, e, targets)
}

// rematch settles the entries that matched no host: it reloads the index unless it was
// checked after the entry arrived (at most once per MissRefreshEvery), matches the entry
// again, and stores or drops it. When ctx ends it settles what is queued without reloading.
func (r *Receiver) rematch(ctx context.Context) {
	var reloaded time.Time
	for {
		var e entry
		select {
		case e = <-r.misses:
		case <-ctx.Done():
			for {
				select {
				case e := <-r.misses:
					r.settle(ctx, e)
				default:
					return
				}
			}
		}
		if !r.index.checkedAfter(e.receivedAt) {
			if wait := time.Until(reloaded.Add(r.cfg.MissRefreshEvery)); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
				}
			}
			if ctx.Err() == nil {
				reloaded = time.Now()
				rctx, cancel := context.WithTimeout(ctx, missRefreshTimeout)
				if _, err := r.index.refresh(rctx, r.q, r.cfg.Workspaces); err != nil && ctx.Err() == nil {
					r.log.Warn("syslog: reloading the host index for an unmatched entry failed", "err", err)
				}
				cancel()
			}
		}
		r.settle(ctx, e)
	}
}

// settle stores e under the hosts it matches now, or drops it.
func (r *Receiver) settle(ctx context.Context, e entry) {
	if targets := r.index.match(e.source, e.hostname); len(targets) > 0 {
		r.store(ctx, e, targets)
		return
	}
	r.drop(e)
}

// drop counts an entry that matches no host and reports it (see reportDrops).
func (r *Receiver) drop(e entry) {
	r.stats.unmatched.Add(1)
	who := e.source.String()
	if e.hostname != nil {
		who += " (hostname " + *e.hostname + ")"
	}
	r.lastUnmatched.Store(&who)
	r.reportDrops(false)
}

// store queues one row per target.
func (r *Receiver) store(ctx context.Context, e entry, targets []target) {
	rows := make([]db.CopyHostLogsParams, len(targets))
	for i, t := range targets {
		rows[i] = db.CopyHostLogsParams{
			WorkspaceID: t.workspace, HostID: t.host, Time: e.time, ReceivedAt: e.receivedAt,
			SourceAddr: e.source.String(), Hostname: e.hostname, AppName: e.appName, ProcID: e.procID,
			MsgID: e.msgID, Facility: e.facility, Severity: e.severity, Message: e.message, Structured: e.structured,
		}
	}
	_ = r.w.add(ctx, rows) // fails only at shutdown, counted as lost
}

// reportUnmatched reports the dropped entries that reportDrops held back.
func (r *Receiver) reportUnmatched(ctx context.Context) {
	tick := time.NewTicker(unmatchedCheckEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			r.reportDrops(false)
		}
	}
}

// reportDrops logs how many entries were dropped for matching no host since the last report:
// the sign of a device sending logs that has no host in SecuMon (or a host whose hostname
// differs). The first drop is logged at once, then at most once per unmatchedReportEvery
// unless force.
func (r *Receiver) reportDrops(force bool) {
	r.reportMu.Lock()
	defer r.reportMu.Unlock()
	n := r.stats.unmatched.Load()
	if n <= r.reported || (!force && time.Since(r.reportedAt) < unmatchedReportEvery) {
		return
	}
	last := ""
	if p := r.lastUnmatched.Load(); p != nil {
		last = *p
	}
	r.log.Warn("syslog entries dropped: no host has their source address or hostname",
		"count", n-r.reported, "total", n, "last_from", last,
		"hint", "a host's hostname must be the sender's IP address, or its hostname or name the hostname in the entry's header, in a workspace the receiver serves (--syslog-workspaces)")
	r.reported, r.reportedAt = n, time.Now()
}

func (r *Receiver) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.shutdown {
		return false
	}
	r.open[c] = struct{}{}
	return true
}

func (r *Receiver) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.open, c)
	r.mu.Unlock()
}

// closeConns closes every open connection, which ends their readers.
func (r *Receiver) closeConns() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.shutdown = true
	for c := range r.open {
		_ = c.Close()
	}
}
