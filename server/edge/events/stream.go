package events

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/platform/metrics"
)

// Limits cap the open streams of a process; zero values take the defaults, negative is no cap.
type Limits struct {
	PerToken int // streams one token may hold open (10)
	Total    int // streams the process serves at once (1,000)
}

// streamRetryAfter is the Retry-After of a refused stream, in seconds.
const streamRetryAfter = 30

// Handler streams a workspace's dashboard summary as server-sent events. It runs behind the
// contract gate (authentication, role and validation of GET /events), which puts the caller
// in the request's context.
type Handler struct {
	Hub *Hub
	// PingEvery is the interval of ": ping" comments, which keep proxies from closing an idle
	// stream and let the server notice a vanished client (15 s by default).
	PingEvery time.Duration
	// Retry is the reconnection delay sent to clients.
	Retry time.Duration
	// WriteTimeout bounds each write, so a client that stopped reading frees its stream.
	WriteTimeout time.Duration
	// OnError renders errors before the stream starts (the database is down: 503).
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	// Limits cap the streams; beyond them a stream is refused with 429 and Retry-After.
	Limits Limits

	// Metrics counts the open streams (nil: not counted).
	Metrics *metrics.Metrics

	mu      sync.Mutex
	open    map[uuid.UUID]int
	openAll int
}

// acquire counts a stream of token, or reports that a cap is reached.
func (h *Handler) acquire(token uuid.UUID) *problem.Problem {
	perToken, total := h.Limits.PerToken, h.Limits.Total
	if perToken == 0 {
		perToken = 10
	}
	if total == 0 {
		total = 1000
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var p *problem.Problem
	switch {
	case total > 0 && h.openAll >= total:
		p = problem.Newf(http.StatusTooManyRequests, "the server serves %d event streams at most; retry later", total)
	case perToken > 0 && h.open[token] >= perToken:
		p = problem.Newf(http.StatusTooManyRequests, "a token may hold %d event streams at most; close one or retry later", perToken)
	default:
		if h.open == nil {
			h.open = map[uuid.UUID]int{}
		}
		h.open[token]++
		h.openAll++
		h.Metrics.EventStreams(+1)
		return nil
	}
	p.RetryAfter = streamRetryAfter
	return p
}

func (h *Handler) release(token uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.openAll--
	h.Metrics.EventStreams(-1)
	if h.open[token]--; h.open[token] <= 0 {
		delete(h.open, token)
	}
}

// ServeHTTP sends the current summary, then each new one, until the client goes away or the
// server shuts down (the request's context ends).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		h.OnError(w, r, errNoPrincipal)
		return
	}
	if refused := h.acquire(p.TokenID); refused != nil {
		h.OnError(w, r, refused)
		return
	}
	defer h.release(p.TokenID)
	sub, err := h.Hub.Subscribe(r.Context(), p.WorkspaceID)
	if err != nil {
		h.OnError(w, r, err)
		return
	}
	defer sub.Close()

	ping, retry, writeTimeout := or(h.PingEvery, 15*time.Second), or(h.Retry, 3*time.Second), or(h.WriteTimeout, 10*time.Second)
	rc := http.NewResponseController(w)
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	// send writes and flushes one block; false when the client is gone or stuck.
	send := func(format string, args ...any) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := fmt.Fprintf(w, format, args...); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	sent := ""
	event := func() bool {
		id, data := sub.Current()
		if id == sent {
			return true
		}
		sent = id
		return send("event: summary\nid: %s\ndata: %s\n\n", id, data)
	}
	if !send("retry: %d\n\n", retry.Milliseconds()) || !event() {
		return
	}
	ticker := time.NewTicker(ping)
	defer ticker.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.C():
			if !event() {
				return
			}
		case <-ticker.C:
			if !send(": ping\n\n") {
				return
			}
		}
	}
}

func or(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
