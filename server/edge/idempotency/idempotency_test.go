package idempotency_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/idempotency"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// Through the whole service: the middleware sits inside the contract gate.

func TestCreateHostTwiceWithOneKeyCreatesOneHost(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	key := "create-web-01"
	body := client.HostCreate{Name: "web-01", Hostname: "127.0.0.1"}

	first, err := c.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &key}, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, first.StatusCode(), string(first.Body))
	assert.Empty(t, first.HTTPResponse.Header.Get(idempotency.ReplayedHeader))

	again, err := c.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &key}, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, again.StatusCode(), string(again.Body))
	assert.Equal(t, "true", again.HTTPResponse.Header.Get(idempotency.ReplayedHeader))
	assert.Equal(t, "application/json", again.HTTPResponse.Header.Get("Content-Type"))
	assert.Equal(t, first.JSON201.Id, again.JSON201.Id, "the first answer, replayed")
	assert.Equal(t, first.Body, again.Body)

	n, err := env.Queries.CountHosts(ctx, db.CountHostsParams{WorkspaceID: env.Workspace})
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "one host")

	// The same key on another body is a client bug: 422 naming the header, nothing created.
	other := client.HostCreate{Name: "web-02", Hostname: "127.0.0.1"}
	reused, err := c.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &key}, other)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, reused.StatusCode())
	assert.Equal(t, "application/problem+json", reused.HTTPResponse.Header.Get("Content-Type"))
	require.NotNil(t, reused.ApplicationproblemJSON422)
	require.NotNil(t, reused.ApplicationproblemJSON422.Errors)
	assert.Equal(t, idempotency.Header, (*reused.ApplicationproblemJSON422.Errors)[0].Field)
	assert.Contains(t, *reused.ApplicationproblemJSON422.Detail, idempotency.Header)

	// ... and on another path too.
	ck, err := c.CreateCheckWithResponse(ctx, &client.CreateCheckParams{IdempotencyKey: &key},
		client.NewCheckCreate(client.TcpCheckCreate{HostId: first.JSON201.Id, Name: "tcp", Config: client.TcpConfig{Port: 22}}))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnprocessableEntity, ck.StatusCode())

	n, err = env.Queries.CountHosts(ctx, db.CountHostsParams{WorkspaceID: env.Workspace})
	require.NoError(t, err)
	assert.EqualValues(t, 1, n, "still one host")
}

func TestWithoutAKeyEveryPostActs(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	body := client.HostCreate{Name: "web-01", Hostname: "127.0.0.1"}

	first, err := c.CreateHostWithResponse(ctx, nil, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, first.StatusCode())
	again, err := c.CreateHostWithResponse(ctx, nil, body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, again.StatusCode(), "executed again: a duplicate name")
	assert.Empty(t, again.HTTPResponse.Header.Get(idempotency.ReplayedHeader))

	// A POST without a unique field acts twice without a key, once with one.
	open := func(key *string) uuid.UUID {
		r, err := c.CreateIncidentWithResponse(ctx, &client.CreateIncidentParams{IdempotencyKey: key}, client.IncidentCreate{Title: "db-01 down"})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
		return r.JSON201.Id
	}
	assert.NotEqual(t, open(nil), open(nil), "two incidents")
	key := "open-once"
	assert.Equal(t, open(&key), open(&key), "one incident, replayed")
}

func TestKeysArePerWorkspaceAndValidated(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	env.NewWorkspace(t, "other")
	inA := env.Client(t, env.OwnerToken)
	inB := env.Client(t, env.Token(t, "other", access.Owner).Token)
	key := "shared-key"
	body := client.HostCreate{Name: "web-01", Hostname: "127.0.0.1"}

	a, err := inA.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &key}, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, a.StatusCode())
	b, err := inB.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &key}, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, b.StatusCode())
	assert.Empty(t, b.HTTPResponse.Header.Get(idempotency.ReplayedHeader), "another workspace's key is another key")
	assert.NotEqual(t, a.JSON201.Id, b.JSON201.Id)

	long := strings.Repeat("k", idempotency.MaxKeyLength+1)
	tooLong, err := inA.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &long}, client.HostCreate{Name: "web-02", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, tooLong.StatusCode())
	assert.Contains(t, string(tooLong.Body), idempotency.Header)

	// A viewer's forbidden POST is refused before the key is looked at or stored.
	viewer := env.Client(t, env.Token(t, "default", access.Viewer).Token)
	denied, err := viewer.CreateHostWithResponse(ctx, &client.CreateHostParams{IdempotencyKey: &key}, body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, denied.StatusCode())
}

// The middleware alone, over a real database, with handlers the tests control.

type bench struct {
	keys      *idempotency.Keys
	workspace uuid.UUID
	q         *db.Queries
}

func newBench(t *testing.T, o idempotency.Options) *bench {
	t.Helper()
	pool, _ := dbtest.New(t)
	q := db.New(pool)
	ws, err := admin.CreateWorkspace(context.Background(), q, "ws", "ws")
	require.NoError(t, err)
	return &bench{keys: idempotency.New(q, o), workspace: ws.ID, q: q}
}

// post sends a POST through the middleware as an owner of the bench's workspace.
func (b *bench) post(next http.Handler, path, key, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	if key != "" {
		r.Header.Set(idempotency.Header, key)
	}
	r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{WorkspaceID: b.workspace, Role: access.Owner}))
	w := httptest.NewRecorder()
	b.keys.Middleware(next).ServeHTTP(w, r)
	return w
}

// counting answers each call with the next status of statuses and counts its calls.
func counting(calls *atomic.Int32, statuses ...int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(statuses[min(int(n), len(statuses))-1])
		_ = json.NewEncoder(w).Encode(map[string]any{"call": n, "body": string(body)})
	})
}

func TestFailuresAreNotKept(t *testing.T) {
	b := newBench(t, idempotency.Options{})
	var calls atomic.Int32
	h := counting(&calls, http.StatusServiceUnavailable, http.StatusCreated)

	first := b.post(h, "/api/v2/hosts", "k1", `{"name":"a"}`)
	assert.Equal(t, http.StatusServiceUnavailable, first.Code)
	second := b.post(h, "/api/v2/hosts", "k1", `{"name":"a"}`)
	assert.Equal(t, http.StatusCreated, second.Code, "the retry ran again")
	assert.Empty(t, second.Header().Get(idempotency.ReplayedHeader))
	assert.Contains(t, second.Body.String(), `"body":"{\"name\":\"a\"}"`, "the handler still reads the body")
	third := b.post(h, "/api/v2/hosts", "k1", `{"name":"a"}`)
	assert.Equal(t, http.StatusCreated, third.Code)
	assert.Equal(t, "true", third.Header().Get(idempotency.ReplayedHeader))
	assert.Equal(t, second.Body.String(), third.Body.String())
	assert.EqualValues(t, 2, calls.Load())

	// Client errors are kept: the same request gets the same refusal.
	var calls4xx atomic.Int32
	h4 := counting(&calls4xx, http.StatusConflict, http.StatusCreated)
	assert.Equal(t, http.StatusConflict, b.post(h4, "/api/v2/hosts", "k2", `{}`).Code)
	replayed := b.post(h4, "/api/v2/hosts", "k2", `{}`)
	assert.Equal(t, http.StatusConflict, replayed.Code)
	assert.Equal(t, "true", replayed.Header().Get(idempotency.ReplayedHeader))
	assert.EqualValues(t, 1, calls4xx.Load())
}

func TestPanicReleasesTheKey(t *testing.T) {
	b := newBench(t, idempotency.Options{})
	boom := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	assert.Panics(t, func() { b.post(boom, "/api/v2/hosts", "k", `{}`) })
	var calls atomic.Int32
	assert.Equal(t, http.StatusCreated, b.post(counting(&calls, http.StatusCreated), "/api/v2/hosts", "k", `{}`).Code)
	assert.EqualValues(t, 1, calls.Load())
}

func TestConcurrentRequestWithTheKeyGets409(t *testing.T) {
	b := newBench(t, idempotency.Options{})
	entered, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(http.StatusCreated)
	})
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- b.post(slow, "/api/v2/hosts", "k", `{}`) }()
	<-entered

	var calls atomic.Int32
	busy := b.post(counting(&calls, http.StatusCreated), "/api/v2/hosts", "k", `{}`)
	assert.Equal(t, http.StatusConflict, busy.Code)
	assert.Equal(t, "1", busy.Header().Get("Retry-After"))
	assert.Contains(t, busy.Body.String(), idempotency.Header)
	assert.Zero(t, calls.Load())

	close(release)
	assert.Equal(t, http.StatusCreated, (<-done).Code)
	after := b.post(counting(&calls, http.StatusCreated), "/api/v2/hosts", "k", `{}`)
	assert.Equal(t, http.StatusCreated, after.Code)
	assert.Equal(t, "true", after.Header().Get(idempotency.ReplayedHeader))
	assert.Zero(t, calls.Load())
}

func TestExpiredKeysActAgainAndArePurged(t *testing.T) {
	var ahead atomic.Int64 // how far the middleware's clock runs ahead of the database's
	// No background purge beyond the first request's: this test purges by itself.
	b := newBench(t, idempotency.Options{PurgeEvery: 1000 * time.Hour,
		Now: func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }})
	var calls atomic.Int32
	h := counting(&calls, http.StatusCreated)
	assert.Empty(t, b.post(h, "/api/v2/hosts", "old", `{}`).Header().Get(idempotency.ReplayedHeader))
	ahead.Store(int64(23 * time.Hour))
	assert.Equal(t, "true", b.post(h, "/api/v2/hosts", "old", `{}`).Header().Get(idempotency.ReplayedHeader), "kept 23 h later")
	ahead.Store(int64(25 * time.Hour))

	// Expired: the key is free again, even for another body.
	w := b.post(h, "/api/v2/hosts", "old", `{"other":true}`)
	assert.Equal(t, http.StatusCreated, w.Code)
	assert.Empty(t, w.Header().Get(idempotency.ReplayedHeader))
	assert.EqualValues(t, 2, calls.Load())

	ahead.Store(0)
	b.post(h, "/api/v2/hosts", "fresh", `{}`)
	ahead.Store(int64(25 * time.Hour))
	purged, err := b.keys.Purge(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 2, purged, "both keys are past their TTL")
	_, err = b.q.GetIdempotencyKey(context.Background(), db.GetIdempotencyKeyParams{WorkspaceID: b.workspace, Key: "fresh"})
	assert.Error(t, err)
}

func TestOnlyKeyedAuthenticatedPostsAreTracked(t *testing.T) {
	b := newBench(t, idempotency.Options{})
	var calls atomic.Int32
	h := counting(&calls, http.StatusCreated)
	b.post(h, "/api/v2/hosts", "", `{}`)
	b.post(h, "/api/v2/hosts", "", `{}`)
	assert.EqualValues(t, 2, calls.Load(), "no key, no tracking")

	// Without a principal (outside the gate) there is no workspace to scope the key to.
	r := httptest.NewRequest(http.MethodPost, "/api/v2/hosts", strings.NewReader(`{}`))
	r.Header.Set(idempotency.Header, "k")
	b.keys.Middleware(h).ServeHTTP(httptest.NewRecorder(), r)
	b.keys.Middleware(h).ServeHTTP(httptest.NewRecorder(), r.Clone(r.Context()))
	assert.EqualValues(t, 4, calls.Load())

	// PUT is idempotent by itself.
	put := httptest.NewRequest(http.MethodPut, "/api/v2/hosts/x", strings.NewReader(`{}`))
	put.Header.Set(idempotency.Header, "k")
	put = put.WithContext(auth.WithPrincipal(put.Context(), auth.Principal{WorkspaceID: b.workspace, Role: access.Owner}))
	b.keys.Middleware(h).ServeHTTP(httptest.NewRecorder(), put)
	b.keys.Middleware(h).ServeHTTP(httptest.NewRecorder(), put.Clone(put.Context()))
	assert.EqualValues(t, 6, calls.Load())
}

func TestTheQueryIsPartOfTheRequest(t *testing.T) {
	b := newBench(t, idempotency.Options{})
	var calls atomic.Int32
	h := counting(&calls, http.StatusCreated)
	const report = `{"SchemaVersion":2}`
	first := b.post(h, "/api/v2/app-security/reports?project=shop&format=trivy", "k", report)
	assert.Equal(t, http.StatusCreated, first.Code)

	// The same upload to another project is another request, not a replay of the first.
	other := b.post(h, "/api/v2/app-security/reports?project=bank&format=trivy", "k", report)
	assert.Equal(t, http.StatusUnprocessableEntity, other.Code, other.Body.String())
	assert.EqualValues(t, 1, calls.Load())

	// The order of the parameters does not make another request.
	again := b.post(h, "/api/v2/app-security/reports?format=trivy&project=shop", "k", report)
	assert.Equal(t, http.StatusCreated, again.Code)
	assert.Equal(t, "true", again.Header().Get(idempotency.ReplayedHeader))
	assert.EqualValues(t, 1, calls.Load())
}

func TestAnEmptyAnswerIsReplayedAs200(t *testing.T) {
	b := newBench(t, idempotency.Options{})
	var calls atomic.Int32
	silent := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) })
	assert.Equal(t, http.StatusOK, b.post(silent, "/api/v2/hosts", "k", `{}`).Code)
	replayed := b.post(silent, "/api/v2/hosts", "k", `{}`)
	assert.Equal(t, http.StatusOK, replayed.Code)
	assert.Equal(t, "true", replayed.Header().Get(idempotency.ReplayedHeader))
	assert.EqualValues(t, 1, calls.Load())
}

// A request in flight longer than AbandonAfter is presumed lost and its key taken over; when
// the old request finally ends, it cannot release its successor's claim.
func TestAbandonedRequestCannotReleaseItsSuccessor(t *testing.T) {
	b := newBench(t, idempotency.Options{AbandonAfter: 50 * time.Millisecond})
	blocking := func(entered, release chan struct{}, status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			w.WriteHeader(status)
		})
	}
	oldIn, oldOut := make(chan struct{}), make(chan struct{})
	oldDone := make(chan *httptest.ResponseRecorder)
	go func() { oldDone <- b.post(blocking(oldIn, oldOut, http.StatusBadGateway), "/api/v2/hosts", "k", `{}`) }()
	<-oldIn
	time.Sleep(100 * time.Millisecond)

	newIn, newOut := make(chan struct{}), make(chan struct{})
	newDone := make(chan *httptest.ResponseRecorder)
	go func() { newDone <- b.post(blocking(newIn, newOut, http.StatusCreated), "/api/v2/hosts", "k", `{}`) }()
	<-newIn // the abandoned key was taken over
	close(oldOut)
	assert.Equal(t, http.StatusBadGateway, (<-oldDone).Code) // a failure: it releases its own claim only

	var calls atomic.Int32
	busy := b.post(counting(&calls, http.StatusCreated), "/api/v2/hosts", "k", `{}`)
	assert.Equal(t, http.StatusConflict, busy.Code, "the successor still holds the key")
	assert.Zero(t, calls.Load())
	close(newOut)
	assert.Equal(t, http.StatusCreated, (<-newDone).Code)
}
