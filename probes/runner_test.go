package probes

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestRunnerUnknownType(t *testing.T) {
	r := NewRunner(Options{})
	res := r.Run(context.Background(), Check{ID: uuid.New(), Type: "gopher", Target: "127.0.0.1", Timeout: time.Second})
	want(t, res, Unknown)
	if !strings.Contains(res.ErrorMsg, `unknown check type "gopher" (want ping, snmp, http, tcp, dns, tls, grpc, smtp, postgres or heartbeat)`) {
		t.Fatalf("error %q", res.ErrorMsg)
	}
	if res.LatencyMs <= 0 {
		t.Fatalf("latency not measured: %v", res.LatencyMs)
	}
}

// TestRunnerHasEveryType ties the prober table to Types, the list the API's check_type enum
// is tested against.
func TestRunnerHasEveryType(t *testing.T) {
	r := NewRunner(Options{})
	if len(r.probers) != len(Types()) {
		t.Fatalf("%d probers for %d types %v", len(r.probers), len(Types()), Types())
	}
	for _, typ := range Types() {
		if r.probers[typ] == nil {
			t.Errorf("no prober for check type %s", typ)
		}
	}
}

func TestStatusNames(t *testing.T) {
	for i, s := range Statuses() {
		if int(s) != i || !s.Valid() {
			t.Fatalf("status %v has code %d at index %d", s, int(s), i)
		}
		for _, name := range []string{s.String(), strings.ToLower(s.String())} {
			if got, err := ParseStatus(name); err != nil || got != s {
				t.Errorf("ParseStatus(%q) = %v, %v; want %v", name, got, err, s)
			}
		}
	}
	for _, name := range []string{"", "FINE", "2"} {
		if _, err := ParseStatus(name); err == nil {
			t.Errorf("ParseStatus(%q) accepted", name)
		}
	}
	if s := Status(7); s.Valid() || s.String() != "UNKNOWN" {
		t.Errorf("Status(7): valid %v, named %s", s.Valid(), s)
	}
}

func TestRunnerPanicIsUnknown(t *testing.T) {
	r := NewRunner(Options{})
	r.probers["boom"] = func(context.Context, Check, *Memo, *Guard) Result { panic("kaboom") }
	res := r.Run(context.Background(), Check{ID: uuid.New(), Type: "boom", Timeout: time.Second})
	want(t, res, Unknown)
	if !strings.Contains(res.Output, "panicked: kaboom") || !strings.Contains(res.ErrorMsg, "goroutine") {
		t.Fatalf("panic result %+v", res)
	}
}

func TestRunnerTimeout(t *testing.T) {
	r := NewRunner(Options{})
	release := make(chan struct{})
	defer close(release)
	var sawDeadline atomic.Int64
	// A prober that honours its context returns when the timeout passes.
	r.probers["polite"] = func(ctx context.Context, _ Check, _ *Memo, _ *Guard) Result {
		if dl, ok := ctx.Deadline(); ok {
			sawDeadline.Store(int64(time.Until(dl)))
		}
		<-ctx.Done()
		return criticalResult("gave up: %v", ctx.Err())
	}
	// A prober that ignores it.
	r.probers["stuck"] = func(context.Context, Check, *Memo, *Guard) Result {
		<-release
		return Result{Status: OK}
	}

	start := time.Now()
	res := r.Run(context.Background(), Check{ID: uuid.New(), Type: "polite", Timeout: 150 * time.Millisecond})
	el := time.Since(start)
	want(t, res, Critical)
	if el < 140*time.Millisecond || el > 700*time.Millisecond {
		t.Fatalf("polite probe took %v with a 150ms timeout", el)
	}
	if d := time.Duration(sawDeadline.Load()); d <= 0 || d > 150*time.Millisecond {
		t.Fatalf("prober saw a deadline %v away, want ≤150ms", d)
	}
	if res.LatencyMs < 140 {
		t.Fatalf("latency %v ms not measured by the runner", res.LatencyMs)
	}

	start = time.Now()
	res = r.Run(context.Background(), Check{ID: uuid.New(), Type: "stuck", Timeout: 100 * time.Millisecond})
	el = time.Since(start)
	want(t, res, Unknown)
	if !strings.Contains(res.ErrorMsg, "did not finish within the timeout") {
		t.Fatalf("stuck result %+v", res)
	}
	if el > 100*time.Millisecond+stuckGrace+400*time.Millisecond {
		t.Fatalf("Run returned after %v for a stuck prober with a 100ms timeout", el)
	}

	// A real probe: a TCP peer that accepts and never answers, with expect set.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	start = time.Now()
	res = r.Run(context.Background(), check(t, "tcp", "127.0.0.1", TCPConfig{Port: port, Expect: "HELLO"}, 200*time.Millisecond))
	el = time.Since(start)
	want(t, res, Critical)
	if el > 700*time.Millisecond || !strings.Contains(res.ErrorMsg, "timed out") {
		t.Fatalf("silent tcp peer: %v after %v", res, el)
	}
}

func TestRunnerMemoPerCheck(t *testing.T) {
	r := NewRunner(Options{MaxMemos: 3})
	// The prober counts its runs in the memo: +10 per run.
	r.probers["count"] = func(_ context.Context, _ Check, m *Memo, _ *Guard) Result {
		m.mu.Lock()
		defer m.mu.Unlock()
		c := m.counters["n"]
		c.value += 10
		m.counters["n"] = c
		return Result{Status: OK, Metrics: map[string]float64{"n": float64(c.value)}}
	}
	a, b := uuid.New(), uuid.New()
	runN := func(id uuid.UUID) float64 {
		return r.Run(context.Background(), Check{ID: id, Type: "count", Timeout: time.Second}).Metrics["n"]
	}
	if got := []float64{runN(a), runN(a), runN(b), runN(a), runN(b)}; fmt.Sprint(got) != "[10 20 10 30 20]" {
		t.Fatalf("per-check memo values %v, want [10 20 10 30 20]", got)
	}
	// Bounded: with room for 3 memos, 3 more checks evict a and b (least recently used).
	for range 3 {
		runN(uuid.New())
	}
	if n := r.memos.len(); n != 3 {
		t.Fatalf("memo store holds %d memos, want 3", n)
	}
	if got := runN(a); got != 10 {
		t.Fatalf("evicted check a kept its memo: %v", got)
	}
	r.Forget(a)
	if got := runN(a); got != 10 {
		t.Fatalf("forgotten check a kept its memo: %v", got)
	}
}

func TestMemoRate(t *testing.T) {
	m := NewMemo()
	t0 := time.Now()
	if _, ok := m.Rate("x", 1000, t0); ok {
		t.Fatal("first value gave a rate")
	}
	if r, ok := m.Rate("x", 3000, t0.Add(2*time.Second)); !ok || r != 1000 {
		t.Fatalf("rate = %v, %v; want 1000", r, ok)
	}
	if _, ok := m.Rate("x", 10, t0.Add(3*time.Second)); ok {
		t.Fatal("a counter that went backwards (wrap or reset) gave a rate")
	}
	if r, ok := m.Rate("x", 110, t0.Add(4*time.Second)); !ok || r != 100 {
		t.Fatalf("rate after a wrap = %v, %v; want 100", r, ok)
	}
	// A restarted agent (uptime went down) forgets every counter.
	m.startRun(1000)
	m.Rate("x", 200, t0.Add(5*time.Second))
	m.endRun()
	m.startRun(5)
	if _, ok := m.Rate("x", 300, t0.Add(6*time.Second)); ok {
		t.Fatal("rate across an agent restart")
	}
	m.endRun()
	// Counters not seen in a run are dropped.
	m.startRun(-1)
	m.Rate("y", 1, t0)
	m.endRun()
	if m.Len() != 1 {
		t.Fatalf("memo keeps %d counters, want 1 (only y)", m.Len())
	}
	var nilMemo *Memo
	if _, ok := nilMemo.Rate("x", 1, t0); ok {
		t.Fatal("nil memo gave a rate")
	}
}

// Many goroutines run many different checks (real tcp, dns and ping probes, a prober using
// its memo, unknown types) at once; run with -race.
func TestRunnerConcurrent(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				c.Write([]byte("220 ready\r\n"))
				c.Close()
			}()
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	dnsAddr := startDNS(t, "udp")

	r := NewRunner(Options{MaxMemos: 50})
	r.probers["memo"] = func(_ context.Context, c Check, m *Memo, _ *Guard) Result {
		m.Rate(c.ID.String(), uint64(time.Now().UnixNano()), time.Now())
		return Result{Status: OK}
	}
	ids := make([]uuid.UUID, 80)
	for i := range ids {
		ids[i] = uuid.New()
	}
	var wg sync.WaitGroup
	var bad atomic.Int32
	for w := range 16 {
		wg.Go(func() {
			for i := range 40 {
				id := ids[(w*7+i)%len(ids)]
				var c Check
				switch i % 5 {
				case 0:
					c = check(t, "tcp", "127.0.0.1", TCPConfig{Port: port, Expect: "220"}, 2*time.Second)
				case 1:
					c = check(t, "dns", "127.0.0.1", DNSConfig{QueryName: "host.test", Resolver: dnsAddr, ExpectedAnswers: []string{"127.0.0.10"}}, 2*time.Second)
				case 2:
					c = Check{Type: "memo", Timeout: time.Second}
				case 3:
					c = Check{Type: "nope", Timeout: time.Second}
				case 4:
					c = check(t, "ping", "127.0.0.1", map[string]any{"count": 1}, 2*time.Second)
					if os.Geteuid() != 0 {
						c = Check{Type: "memo", Timeout: time.Second}
					}
				}
				c.ID = id
				res := r.Run(context.Background(), c)
				wantStatus := OK
				if c.Type == "nope" {
					wantStatus = Unknown
				}
				if res.Status != wantStatus {
					t.Errorf("%s check: %+v", c.Type, res)
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if bad.Load() > 0 {
		t.Fatalf("%d bad results", bad.Load())
	}
	if n := r.memos.len(); n > 50 {
		t.Fatalf("memo store grew to %d beyond its bound 50", n)
	}
}
