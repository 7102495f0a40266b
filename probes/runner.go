package probes

import (
	"container/list"
	"context"
	"fmt"
	"net/netip"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultTimeout applies when a Check has no timeout (the API's default timeout_sec).
const DefaultTimeout = 10 * time.Second

// DefaultMaxMemos bounds the number of per-check memos a Runner keeps.
const DefaultMaxMemos = 100_000

// stuckGrace is how long Run waits, once the timeout has passed, for a prober that ignores
// its context before it gives up on it and returns Unknown.
const stuckGrace = 250 * time.Millisecond

// Check types, as stored and as the API names them (the contract's CheckType).
const (
	TypePing     = "ping"
	TypeSNMP     = "snmp"
	TypeHTTP     = "http"
	TypeTCP      = "tcp"
	TypeDNS      = "dns"
	TypeTLS      = "tls"
	TypeGRPC     = "grpc"
	TypeSMTP     = "smtp"
	TypePostgres = "postgres"
)

// TypeHeartbeat is defined in heartbeat.go.

// Types lists every check type, in the API's order: the one list of them. A Runner has a
// prober for each.
func Types() []string {
	return []string{TypePing, TypeSNMP, TypeHTTP, TypeTCP, TypeDNS, TypeTLS, TypeGRPC, TypeSMTP, TypePostgres, TypeHeartbeat}
}

// Options configures a Runner.
type Options struct {
	// Allowed lists the networks probes may reach; nil or empty means DefaultAllowed
	// (127.0.0.0/8 and ::1/128). See AllowedFromEnv and ParseAllowed.
	Allowed []netip.Prefix
	// Privileged selects raw ICMP sockets for ping; nil means true when running as root.
	// Without it ping uses unprivileged ICMP ("UDP ping") sockets.
	Privileged *bool
	// MaxMemos bounds the per-check memos kept (least recently used dropped first);
	// 0 means DefaultMaxMemos.
	MaxMemos int
}

// Runner runs checks. It is safe for concurrent use by many goroutines.
type Runner struct {
	guard   *Guard
	probers map[string]Prober
	memos   *memoStore
}

// NewRunner returns a Runner with the probers of every check type.
func NewRunner(o Options) *Runner {
	priv := os.Geteuid() == 0
	if o.Privileged != nil {
		priv = *o.Privileged
	}
	maxMemos := o.MaxMemos
	if maxMemos <= 0 {
		maxMemos = DefaultMaxMemos
	}
	return &Runner{
		guard: NewGuard(o.Allowed),
		probers: map[string]Prober{
			TypePing:      NewPingProber(priv),
			TypeSNMP:      ProbeSNMP,
			TypeHTTP:      ProbeHTTP,
			TypeTCP:       ProbeTCP,
			TypeDNS:       ProbeDNS,
			TypeTLS:       ProbeTLS,
			TypeGRPC:      ProbeGRPC,
			TypeSMTP:      ProbeSMTP,
			TypePostgres:  ProbePostgres,
			TypeHeartbeat: ProbeHeartbeat,
		},
		memos: newMemoStore(maxMemos),
	}
}

// Guard returns the Runner's Guard.
func (r *Runner) Guard() *Guard { return r.guard }

// Forget drops the memo of a check (deleted or reconfigured checks).
func (r *Runner) Forget(id uuid.UUID) { r.memos.delete(id) }

// Run applies c.Timeout (DefaultTimeout when zero) to ctx, dispatches on c.Type, keeps a Memo
// per check ID, turns a panic or an unknown type into an Unknown result, and measures
// LatencyMs when the prober did not. It returns at the latest shortly after the timeout, even
// if a prober ignores its context.
func (r *Runner) Run(ctx context.Context, c Check) (res Result) {
	start := time.Now()
	defer func() {
		res = finish(res, start)
	}()

	p, ok := r.probers[strings.ToLower(strings.TrimSpace(c.Type))]
	if !ok {
		types := Types()
		return unknownResult("unknown check type %q (want %s or %s)", c.Type, strings.Join(types[:len(types)-1], ", "), types[len(types)-1])
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	memo := r.memos.get(c.ID)

	done := make(chan Result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				res := unknownResult("%s probe panicked: %v", c.Type, v)
				res.ErrorMsg += "\n" + firstFrames(debug.Stack(), 14)
				done <- res
			}
		}()
		done <- p(ctx, c, memo, r.guard)
	}()

	select {
	case res = <-done:
		return res
	case <-ctx.Done():
	}
	grace := time.NewTimer(stuckGrace)
	defer grace.Stop()
	select {
	case res = <-done:
		return res
	case <-grace.C:
		if ctx.Err() == context.DeadlineExceeded {
			return unknownResult("%s probe did not finish within the timeout of %s", c.Type, timeout)
		}
		return unknownResult("%s probe canceled: %v", c.Type, ctx.Err())
	}
}

// finish normalises a result: a valid status, no error message when OK, an error message when
// not, and the elapsed time as latency when the prober measured none.
func finish(res Result, start time.Time) Result {
	if !res.Status.Valid() {
		res.ErrorMsg = strings.TrimSpace(fmt.Sprintf("invalid status %d from prober; %s", int(res.Status), res.ErrorMsg))
		res.Status = Unknown
	}
	if res.Status == OK {
		res.ErrorMsg = ""
	} else if res.ErrorMsg == "" {
		res.ErrorMsg = res.Output
		if res.ErrorMsg == "" {
			res.ErrorMsg = res.Status.String()
		}
	}
	if res.LatencyMs <= 0 {
		res.LatencyMs = ms(time.Since(start))
	}
	return res
}

// firstFrames keeps the first n lines of a stack trace.
func firstFrames(stack []byte, n int) string {
	lines := strings.SplitN(string(stack), "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// memoStore is a bounded LRU map of check ID to Memo.
type memoStore struct {
	mu    sync.Mutex
	max   int
	order *list.List // front: most recently used; values are uuid.UUID
	items map[uuid.UUID]memoEntry
}

type memoEntry struct {
	memo *Memo
	elem *list.Element
}

func newMemoStore(maxItems int) *memoStore {
	return &memoStore{max: maxItems, order: list.New(), items: make(map[uuid.UUID]memoEntry)}
}

func (s *memoStore) get(id uuid.UUID) *Memo {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[id]; ok {
		s.order.MoveToFront(e.elem)
		return e.memo
	}
	for len(s.items) >= s.max {
		last := s.order.Back()
		old := last.Value.(uuid.UUID)
		s.order.Remove(last)
		delete(s.items, old)
	}
	m := NewMemo()
	s.items[id] = memoEntry{memo: m, elem: s.order.PushFront(id)}
	return m
}

func (s *memoStore) delete(id uuid.UUID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.items[id]; ok {
		s.order.Remove(e.elem)
		delete(s.items, id)
	}
}

func (s *memoStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.items)
}
