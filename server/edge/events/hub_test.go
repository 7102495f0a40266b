package events

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// counter is a loader whose summary is a per-workspace counter the test bumps, and which
// counts its loads.
type counter struct {
	loads atomic.Int64
	value atomic.Int64
}

func (c *counter) load(context.Context, uuid.UUID) ([]byte, error) {
	c.loads.Add(1)
	return fmt.Appendf(nil, `{"n":%d}`, c.value.Load()), nil
}

func notify(t *testing.T, pool *pgxpool.Pool, ws uuid.UUID, times int) {
	t.Helper()
	// One transaction per notification, as separate API requests would send them.
	for range times {
		require.NoError(t, incidents.PublishChange(context.Background(), db.New(pool), ws))
	}
}

func waitSignal(t *testing.T, s *Subscription, wait time.Duration) {
	t.Helper()
	select {
	case <-s.C():
	case <-time.After(wait):
		t.Fatalf("no signal within %v", wait)
	}
}

func TestHubCoalescesAndFansOut(t *testing.T) {
	pool, _ := dbtest.New(t)
	var c counter
	h := NewHub(pool, c.load, slog.New(slog.DiscardHandler))
	h.Coalesce = 300 * time.Millisecond
	ctx := context.Background()
	ws, other := uuid.New(), uuid.New()

	a, err := h.Subscribe(ctx, ws)
	require.NoError(t, err)
	b, err := h.Subscribe(ctx, ws)
	require.NoError(t, err)
	o, err := h.Subscribe(ctx, other)
	require.NoError(t, err)
	id0, data := a.Current()
	assert.JSONEq(t, `{"n":0}`, string(data))
	assert.Equal(t, int64(2), c.loads.Load(), "one load per workspace, not per subscription")

	// A burst of 30 notifications: both streams of ws hear of it, after a load or two.
	c.value.Store(1)
	notify(t, pool, ws, 30)
	waitSignal(t, a, 2*time.Second)
	waitSignal(t, b, 2*time.Second)
	id1, data := b.Current()
	assert.JSONEq(t, `{"n":1}`, string(data))
	assert.NotEqual(t, id0, id1)
	time.Sleep(2 * h.Coalesce)
	loads := c.loads.Load()
	assert.LessOrEqual(t, loads, int64(4), "the burst coalesced: %d loads", loads)
	select {
	case <-o.C():
		t.Fatal("the other workspace's subscription was signalled")
	default:
	}

	// A notification that changes nothing signals nobody.
	notify(t, pool, ws, 1)
	time.Sleep(2 * h.Coalesce)
	select {
	case <-a.C():
		t.Fatal("signalled without a change")
	default:
	}

	// The last subscription gone, the listening connection goes too.
	a.Close()
	b.Close()
	o.Close()
	h.mu.Lock()
	assert.Nil(t, h.listener)
	assert.Empty(t, h.topics)
	h.mu.Unlock()
	require.Eventually(t, func() bool { return listeners(t, pool) == 0 }, 5*time.Second, 50*time.Millisecond)
}

// listeners counts the sessions waiting in LISTEN on the database.
func listeners(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(),
		"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'").Scan(&n))
	return n
}

func TestHubSurvivesALostConnection(t *testing.T) {
	pool, _ := dbtest.New(t)
	var c counter
	h := NewHub(pool, c.load, slog.New(slog.DiscardHandler))
	h.Coalesce = 10 * time.Millisecond
	ws := uuid.New()
	s, err := h.Subscribe(context.Background(), ws)
	require.NoError(t, err)
	defer s.Close()

	// Kill the listening session; changes made meanwhile still arrive, after the reconnection.
	c.value.Store(7)
	_, err = pool.Exec(context.Background(),
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'")
	require.NoError(t, err)
	waitSignal(t, s, 5*time.Second)
	_, data := s.Current()
	assert.JSONEq(t, `{"n":7}`, string(data))
	require.Eventually(t, func() bool { return listeners(t, pool) == 1 }, 5*time.Second, 50*time.Millisecond)
	c.value.Store(8)
	notify(t, pool, ws, 1)
	waitSignal(t, s, 2*time.Second)
	_, data = s.Current()
	assert.JSONEq(t, `{"n":8}`, string(data))
}

// TestFirstSummaryIsReadOnceListening: a change committed while the hub is still opening its
// listening connection is announced to nobody, so the first summary must be read after the
// LISTEN, or the stream would show the older one until the next change.
func TestFirstSummaryIsReadOnceListening(t *testing.T) {
	pool, _ := dbtest.New(t)
	var c counter
	h := NewHub(pool, c.load, slog.New(slog.DiscardHandler))
	release := make(chan struct{})
	connect := h.connect
	h.connect = func(ctx context.Context) (*pgx.Conn, error) {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return connect(ctx)
	}
	subscribed := make(chan *Subscription, 1)
	go func() {
		s, err := h.Subscribe(context.Background(), uuid.New())
		assert.NoError(t, err)
		subscribed <- s
	}()
	time.Sleep(100 * time.Millisecond) // Subscribe is waiting for the connection
	c.value.Store(1)                   // a change nobody hears of
	close(release)
	select {
	case s := <-subscribed:
		require.NotNil(t, s)
		defer s.Close()
		_, data := s.Current()
		assert.JSONEq(t, `{"n":1}`, string(data), "the summary as of the LISTEN, not before it")
	case <-time.After(5 * time.Second):
		t.Fatal("Subscribe did not return")
	}
}

func TestSubscribeFailsWhenTheDatabaseFails(t *testing.T) {
	pool, _ := dbtest.New(t)
	h := NewHub(pool, func(context.Context, uuid.UUID) ([]byte, error) { return nil, fmt.Errorf("boom") }, slog.New(slog.DiscardHandler))
	_, err := h.Subscribe(context.Background(), uuid.New())
	require.ErrorContains(t, err, "boom")
	h.mu.Lock()
	defer h.mu.Unlock()
	assert.Empty(t, h.topics, "nothing left behind")
	assert.Nil(t, h.listener)
}

func TestHandlerPingsAndLetsGo(t *testing.T) {
	pool, _ := dbtest.New(t)
	var c counter
	h := NewHub(pool, c.load, slog.New(slog.DiscardHandler))
	ws := uuid.New()
	stream := &Handler{Hub: h, PingEvery: 50 * time.Millisecond, OnError: func(w http.ResponseWriter, _ *http.Request, err error) {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
	}}
	// What the contract gate does: the caller in the context.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stream.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{WorkspaceID: ws, Role: access.Viewer})))
	}))
	defer srv.Close()

	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	lines := bufio.NewScanner(resp.Body)
	var got []string
	for lines.Scan() {
		got = append(got, lines.Text())
		if lines.Text() == ": ping" {
			break
		}
	}
	assert.Equal(t, []string{"retry: 3000", "", "event: summary"}, got[:3])
	assert.Contains(t, strings.Join(got, "\n"), `data: {"n":0}`)
	assert.Equal(t, ": ping", got[len(got)-1])

	// The client hangs up: its subscription, the topic and the listener go away.
	cancel()
	resp.Body.Close()
	require.Eventually(t, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return len(h.topics) == 0 && h.listener == nil
	}, 5*time.Second, 20*time.Millisecond)
}
