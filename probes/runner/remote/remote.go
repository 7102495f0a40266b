// Package remote is the backend of a probe worker that holds no database credentials: it
// reaches a SecuMon server over HTTPS with a worker token (the worker protocol, through the
// Go SDK) to heartbeat, claim checks and send results. Results go through a bounded on-disk
// spool (spool.go), so a worker that loses its server keeps probing and sends them, in order
// and once each, when the server is back.
package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/probes/runner/worker"
)

// Options configure the connection to the server and the spool; zero values take the
// defaults in parentheses.
type Options struct {
	Server string // the server's URL: https, or http to a loopback address only
	Token  string // a worker token (wrk_…)
	// ServerCA is a PEM file of the CA that signed the server's certificate (a private CA),
	// trusted besides the system's.
	ServerCA string
	SpoolDir string // where unsent result batches wait (the user cache dir/secumon/spool/<worker name>)
	SpoolMax int64  // bytes the spool may hold; the oldest batch is dropped beyond (64 MiB)

	BatchSize  int           // results per batch (200)
	FlushEvery time.Duration // a batch is closed this long after its first result (1 s)
	// RetryMax is the longest wait between attempts to send a batch (30 s).
	RetryMax time.Duration
}

// New prepares a worker that works for the server of o, with the worker's options wo.
func New(o Options, wo worker.Options) (*worker.Worker, error) {
	if wo.Name == "" {
		return nil, errors.New("remote worker: a name is needed")
	}
	if !strings.HasPrefix(o.Token, "wrk_") {
		return nil, errors.New("remote worker: --token must be a worker token (wrk_…)")
	}
	if err := CheckServerURL(o.Server); err != nil {
		return nil, err
	}
	if o.SpoolDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("remote worker: no spool directory given and no user cache directory: %w", err)
		}
		o.SpoolDir = filepath.Join(dir, "secumon", "spool", wo.Name)
	}
	if o.SpoolMax <= 0 {
		o.SpoolMax = 64 << 20
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 200
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.RetryMax <= 0 {
		o.RetryMax = 30 * time.Second
	}
	if wo.Log == nil {
		wo.Log = slog.Default()
	}
	if wo.PollEvery <= 0 {
		// An idle remote worker asks for work once a second: several workers may share a
		// token, and the API limits each token's requests (20/s by default).
		wo.PollEvery = time.Second
	}
	hc, err := httpClient(o.ServerCA)
	if err != nil {
		return nil, err
	}
	// One attempt per call: the claim loop, the heartbeat and the spool retry on their own
	// cadence, and a claim (a POST without a key) is never safe to repeat anyway.
	c, err := client.New(o.Server, client.WithToken(o.Token), client.WithUserAgent("secumon-worker/"+wo.Version),
		client.WithHTTPClient(hc), client.WithRetry(client.RetryPolicy{MaxAttempts: 1}))
	if err != nil {
		return nil, err
	}
	sp, err := openSpool(o.SpoolDir, o.SpoolMax, wo.Log)
	if err != nil {
		return nil, err
	}
	b := &backend{o: o, name: wo.Name, location: wo.Location, version: wo.Version, log: wo.Log, c: c, spool: sp,
		queue: make(chan store.Record, 4096)}
	return worker.NewWith(b, wo), nil
}

// CheckServerURL refuses what a worker must not send its token to: anything but https,
// except http to a loopback address (a server on the same machine, or a test).
func CheckServerURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--server: %q is not a URL", raw)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			return nil
		}
		return fmt.Errorf("--server: %s: https is required (http only to a loopback address): the worker token would travel in clear", raw)
	default:
		return fmt.Errorf("--server: %s: the scheme must be https", raw)
	}
}

func httpClient(caFile string) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--server-ca: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--server-ca: %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}

// backend is worker.Backend over the worker protocol.
type backend struct {
	o                       Options
	name, location, version string
	log                     *slog.Logger
	c                       *client.Client
	spool                   *spool
	queue                   chan store.Record

	mu             sync.Mutex
	workerID       uuid.UUID
	heartbeatEvery time.Duration // the server's word at the last heartbeat
}

// Start registers the worker, waiting for a server that is not reachable yet. A refusal
// (a revoked token, a location its token is not pinned to) ends it: waiting would not help.
func (b *backend) Start(ctx context.Context) error {
	wait := time.Second
	for {
		err := b.Heartbeat(ctx)
		if err == nil {
			b.log.Info("registered with the server", "server", b.o.Server, "worker_id", b.id())
			return nil
		}
		if refused(err) && namesLocation(err) {
			return fmt.Errorf("remote worker: the server refused --worker-location %q (omit it to take the token's location): %w", b.location, err)
		}
		if refused(err) {
			return fmt.Errorf("remote worker: the server refused the worker token: %w", err)
		}
		b.log.Warn("the server is not reachable yet; retrying", "server", b.o.Server, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, b.o.RetryMax)
	}
}

// WorkerID is the id the server gave the worker at its last heartbeat.
func (b *backend) WorkerID() uuid.UUID { return b.id() }

func (b *backend) id() uuid.UUID {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.workerID
}

func (b *backend) Heartbeat(ctx context.Context) error {
	ack, err := b.c.WorkerProtocol.Heartbeat(ctx, client.WorkerHello{Name: b.name, Location: &b.location, Version: &b.version})
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.workerID = ack.WorkerId
	b.heartbeatEvery = time.Duration(ack.HeartbeatEverySec) * time.Second
	b.mu.Unlock()
	return nil
}

// HeartbeatEvery is how often the server asked the worker to heartbeat (0: not said).
func (b *backend) HeartbeatEvery() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.heartbeatEvery
}

// Release hands back nothing: a remote worker's server claims only runs that are due, so
// none waits to start but for a free slot, and a run left unstarted has its lease expire
// (the check's timeout plus the lease margin) and is run by the next worker to claim it.
func (b *backend) Release(context.Context, map[uuid.UUID]time.Time) error { return nil }

func (b *backend) Claim(ctx context.Context, max int) ([]worker.Claim, error) {
	got, err := b.c.WorkerProtocol.Claim(ctx, client.WorkerClaimRequest{Name: b.name, Location: &b.location, MaxChecks: max})
	if err != nil {
		return nil, err
	}
	claims := make([]worker.Claim, 0, len(got.Checks))
	for _, c := range got.Checks {
		config, err := json.Marshal(c.Config)
		if err != nil {
			return nil, err
		}
		wc := worker.Claim{
			WorkspaceID: c.WorkspaceId, CheckID: c.CheckId, HostID: c.HostId, CheckType: string(c.CheckType), Config: config,
			TimeoutSec: c.TimeoutSec, Hostname: c.Hostname, RunID: c.RunId, Location: c.Location,
		}
		if p := c.Pings; p != nil {
			wc.Pings = &probes.Pings{Since: p.Since, LastOK: orZero(p.LastPingAt), LastStart: orZero(p.LastStartAt), LastFail: orZero(p.LastFailAt)}
		}
		claims = append(claims, wc)
	}
	return claims, nil
}

func (b *backend) Add(ctx context.Context, r store.Record) error {
	select {
	case b.queue <- r:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run batches results into the spool and sends the spool's batches, oldest first. When
// flush ends, the results still queued are spooled and sending gets a last few seconds;
// what is left stays on disk for the next start.
func (b *backend) Run(ctx, flush context.Context) {
	var bg sync.WaitGroup
	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	bg.Go(func() { b.send(sendCtx) })
	b.batch(flush)
	go func() {
		select {
		case <-time.After(5 * time.Second):
		case <-sendCtx.Done():
		}
		stopSending()
	}()
	b.spool.close() // the sender stops once the spool is empty
	bg.Wait()
	stopSending()
}

// batch moves queued results into the spool, a batch at a time, until flush ends.
func (b *backend) batch(flush context.Context) {
	var pending []client.WorkerResult
	var deadline <-chan time.Time
	write := func() {
		if len(pending) > 0 {
			b.spool.put(client.WorkerResultBatch{Name: b.name, Location: &b.location, Results: pending})
			pending, deadline = nil, nil
		}
	}
	add := func(r store.Record) {
		pending = append(pending, toResult(r))
		if len(pending) == 1 {
			deadline = time.After(b.o.FlushEvery)
		}
		if len(pending) >= b.o.BatchSize {
			write()
		}
	}
	for {
		select {
		case r := <-b.queue:
			add(r)
		case <-deadline:
			write()
		case <-flush.Done():
			for {
				select {
				case r := <-b.queue:
					add(r)
				default:
					write()
					return
				}
			}
		}
	}
}

// send sends the spool's batches in order, each under its own Idempotency-Key (so a batch
// sent again after a lost answer is stored once), and deletes each once acknowledged.
func (b *backend) send(ctx context.Context) {
	wait := 200 * time.Millisecond
	for {
		e, ok := b.spool.oldest(ctx)
		if !ok {
			return
		}
		got, err := b.c.WorkerProtocol.SendResults(ctx, e.Key, e.Batch)
		if err == nil && len(got.Skipped) > 0 {
			// Checks deleted while their runs were in flight: the rest of the batch is stored.
			b.log.Info("the server skipped results of checks it no longer has", "skipped", len(got.Skipped), "stored", got.Accepted)
		}
		if err == nil || rejected(err) {
			if err != nil {
				// The server will never take it (a result dated far from the server's clock):
				// keeping it would block every batch behind it.
				b.log.Error("the server refused a result batch; dropping it", "results", len(e.Batch.Results), "err", err)
			}
			b.spool.remove(e)
			wait = 200 * time.Millisecond
			continue
		}
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("sending results failed; kept in the spool", "results", len(e.Batch.Results), "spooled_batches", b.spool.len(), "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, b.o.RetryMax)
	}
}

// refused reports an answer that says the token does not work here (401, 403).
func refused(err error) bool {
	var apiErr *client.APIError
	return errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusUnauthorized || apiErr.StatusCode == http.StatusForbidden)
}

// namesLocation reports an answer that names the worker's location as the fault: its token
// is pinned to another.
func namesLocation(err error) bool {
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	for _, f := range apiErr.Errors {
		if f.Field == "location" {
			return true
		}
	}
	return false
}

// rejected reports an answer that sending the same batch again cannot change: a 4xx other
// than 401/403 (a token problem, fixed by the operator), 408, 409 (the first attempt still
// running) and 429.
func rejected(err error) bool {
	var apiErr *client.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	switch s := apiErr.StatusCode; {
	case s == http.StatusUnauthorized, s == http.StatusForbidden, s == http.StatusRequestTimeout, s == http.StatusConflict, s == http.StatusTooManyRequests:
		return false
	default:
		return s >= 400 && s < 500
	}
}

func toResult(r store.Record) client.WorkerResult {
	out := client.WorkerResult{
		WorkspaceId: r.WorkspaceID, CheckId: r.CheckID, RunId: r.RunID, Time: r.Time.UTC(), Status: client.CheckStatus(r.Status),
		LatencyMs: finite(max(r.LatencyMs, 0)), Output: &r.Output, ErrorMsg: &r.ErrorMsg,
	}
	if len(r.Metrics) > 0 {
		m := make(map[string]float64, len(r.Metrics))
		for k, v := range r.Metrics {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				m[k] = v
			}
		}
		out.Metrics = &m
	}
	if len(r.Facts) > 0 {
		out.Facts = &r.Facts
	}
	if len(r.Samples) > 0 {
		s := make([]client.WorkerResultSample, 0, len(r.Samples))
		for _, x := range r.Samples {
			if !math.IsNaN(x.Value) && !math.IsInf(x.Value, 0) {
				s = append(s, client.WorkerResultSample{Oid: x.OID, Name: x.Name, Instance: &x.Instance, Value: x.Value})
			}
		}
		out.Samples = &s
	}
	return out
}

func finite(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
