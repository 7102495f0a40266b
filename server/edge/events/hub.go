// Package events serves GET /api/v2/events, the live dashboard stream (server-sent events).
//
// One Hub per process holds one PostgreSQL connection that LISTENs on the channel where
// incident changes, check state changes and host/check additions are announced (the payload is
// the workspace id). Each workspace with open streams has a topic that reloads the workspace's
// summary once per burst of notifications and fans the result out to the topic's streams, so a
// change costs one query per workspace and process however many streams are open, and a stream
// costs only its connection and one waiting goroutine. The listening connection exists only
// while some stream is open.
package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/server/domain/incidents"
)

// Loader returns the JSON of a workspace's summary (the event's data).
type Loader func(ctx context.Context, workspaceID uuid.UUID) ([]byte, error)

// Hub fans workspace notifications out to subscriptions.
type Hub struct {
	connect func(ctx context.Context) (*pgx.Conn, error)
	load    Loader
	log     *slog.Logger
	// Coalesce is the shortest time between two loads of one workspace's summary: the
	// notifications of a burst (a storm opening dozens of incidents) give one or two events.
	Coalesce time.Duration

	mu       sync.Mutex
	topics   map[uuid.UUID]*topic
	listener *listener // nil while nobody subscribes
}

// NewHub returns a hub that listens on a connection of its own, configured like pool's (a
// LISTEN connection cannot go back to a pool), and loads summaries with load.
func NewHub(pool *pgxpool.Pool, load Loader, log *slog.Logger) *Hub {
	cfg := pool.Config().ConnConfig
	return &Hub{
		connect:  func(ctx context.Context) (*pgx.Conn, error) { return pgx.ConnectConfig(ctx, cfg.Copy()) },
		load:     load,
		log:      log,
		Coalesce: 200 * time.Millisecond,
		topics:   map[uuid.UUID]*topic{},
	}
}

// Subscription receives a signal whenever its workspace's summary changes.
type Subscription struct {
	hub *Hub
	t   *topic
	c   chan struct{}
}

// C is signalled (coalesced: one pending signal at most) when the summary changed; read it
// with Current.
func (s *Subscription) C() <-chan struct{} { return s.c }

// Current returns the latest summary and its id (a digest of it: equal ids, equal data).
func (s *Subscription) Current() (id string, data []byte) {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.t.id, s.t.data
}

// Close ends the subscription; the last one of a workspace stops its topic, and the last one
// of the process closes the listening connection.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	s.t.mu.Lock()
	delete(s.t.subs, s)
	empty := len(s.t.subs) == 0
	s.t.mu.Unlock()
	if !empty || h.topics[s.t.ws] != s.t {
		return
	}
	delete(h.topics, s.t.ws)
	close(s.t.done)
	if len(h.topics) == 0 && h.listener != nil {
		h.listener.cancel()
		h.listener = nil
	}
}

// Subscribe follows workspace ws. It returns once the hub is listening and the summary is
// loaded, so nothing that happens after it returns can be missed; its error is the database's.
func (h *Hub) Subscribe(ctx context.Context, ws uuid.UUID) (*Subscription, error) {
	h.mu.Lock()
	if h.listener == nil {
		h.listener = h.listen()
	}
	l := h.listener
	t, ok := h.topics[ws]
	if !ok {
		t = newTopic(ws)
		h.topics[ws] = t
		go h.run(t, l)
	}
	s := &Subscription{hub: h, t: t, c: make(chan struct{}, 1)}
	t.mu.Lock()
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	h.mu.Unlock()

	for _, ready := range []func() (<-chan struct{}, func() error){l.readiness, t.readiness} {
		done, err := ready()
		select {
		case <-done:
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		}
		if err := err(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// notify marks a workspace's topic dirty (nil: every topic, after a reconnection that may
// have lost notifications).
func (h *Hub) notify(ws *uuid.UUID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, t := range h.topics {
		if ws == nil || id == *ws {
			t.markDirty()
		}
	}
}

// topic is one workspace's summary and its subscriptions.
type topic struct {
	ws     uuid.UUID
	dirty  chan struct{} // one pending reload at most
	done   chan struct{} // closed when the last subscription leaves
	loaded chan struct{} // closed after the first load

	mu      sync.Mutex
	subs    map[*Subscription]struct{}
	data    []byte
	id      string
	loadErr error // of the first load
}

func newTopic(ws uuid.UUID) *topic {
	return &topic{ws: ws, dirty: make(chan struct{}, 1), done: make(chan struct{}), loaded: make(chan struct{}),
		subs: map[*Subscription]struct{}{}}
}

func (t *topic) markDirty() {
	select {
	case t.dirty <- struct{}{}:
	default:
	}
}

func (t *topic) readiness() (<-chan struct{}, func() error) {
	return t.loaded, func() error {
		t.mu.Lock()
		defer t.mu.Unlock()
		return t.loadErr
	}
}

// run loads the topic's summary once l listens (a change committed between an earlier load
// and the LISTEN would be announced to nobody, and the stream would show the older summary
// until the next change), then reloads it on each notification, no more often than Coalesce,
// and signals the subscriptions when it changed.
func (h *Hub) run(t *topic, l *listener) {
	select {
	case <-l.ready:
	case <-t.done: // everyone left before the hub listened
		close(t.loaded)
		return
	}
	err := l.err
	if err == nil {
		err = h.refresh(t)
	}
	t.mu.Lock()
	t.loadErr = err
	t.mu.Unlock()
	close(t.loaded)
	if err != nil {
		return // Subscribe reports it; the subscriptions close and the topic goes away
	}
	last := time.Now()
	for {
		select {
		case <-t.done:
			return
		case <-t.dirty:
		}
		if wait := h.Coalesce - time.Since(last); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-t.done:
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		select { // what arrived while waiting is covered by this load
		case <-t.dirty:
		default:
		}
		last = time.Now()
		if err := h.refresh(t); err != nil {
			h.log.Warn("event stream: loading the summary failed", "workspace_id", t.ws, "err", err)
		}
	}
}

// refresh loads the summary and, when it differs from the last one, publishes it.
func (h *Hub) refresh(t *topic) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	data, err := h.load(ctx, t.ws)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	id := hex.EncodeToString(sum[:8])
	t.mu.Lock()
	defer t.mu.Unlock()
	if id == t.id {
		return nil
	}
	first := t.id == ""
	t.id, t.data = id, data
	if first {
		return nil // subscribers read the first summary with Current when Subscribe returns
	}
	for s := range t.subs {
		select {
		case s.c <- struct{}{}:
		default:
		}
	}
	return nil
}

// listener is the LISTEN connection's goroutine.
type listener struct {
	cancel context.CancelFunc
	ready  chan struct{} // closed after the first LISTEN succeeded or failed
	err    error         // of the first attempt
}

func (l *listener) readiness() (<-chan struct{}, func() error) {
	return l.ready, func() error { return l.err }
}

// listen starts the listening goroutine. A first connection that fails is reported to the
// subscribers waiting for it; a connection lost later is reopened with backoff, and every
// topic reloads since notifications may have been missed meanwhile.
func (h *Hub) listen() *listener {
	ctx, cancel := context.WithCancel(context.Background())
	l := &listener{cancel: cancel, ready: make(chan struct{})}
	go func() {
		first := true
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			conn, err := h.connect(ctx)
			if err == nil {
				_, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{incidents.EventsChannel}.Sanitize())
			}
			if first {
				first, l.err = false, err
				close(l.ready)
				if err != nil {
					h.dropListener(l)
					closeConn(conn)
					return
				}
			} else if err == nil {
				h.notify(nil)
			}
			if err == nil {
				backoff = 100 * time.Millisecond
				err = h.receive(ctx, conn)
			}
			closeConn(conn)
			if ctx.Err() != nil {
				return
			}
			h.log.Warn("event stream: listening connection lost; reconnecting", "err", err, "in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
	return l
}

// receive passes notifications to the topics until the connection fails or ctx ends.
func (h *Hub) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		ws, err := uuid.Parse(n.Payload)
		if err != nil {
			continue // not ours to interpret
		}
		h.notify(&ws)
	}
}

// dropListener forgets a listener whose first connection failed, so that the next
// subscription tries again.
func (h *Hub) dropListener(l *listener) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.listener == l {
		h.listener = nil
	}
}

func closeConn(conn *pgx.Conn) {
	if conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// errNoPrincipal is a wiring mistake: the handler must run behind the contract gate.
var errNoPrincipal = errors.New("events: request without an authenticated caller")
