package notify_test

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/notify"
)

// request is what a receiver got.
type request struct {
	at     time.Time
	method string
	path   string
	uri    string // path and query
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on loopback that answers the n-th request (from 0) with
// answer(n) and keeps every request.
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *receiver {
	t.Helper()
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.reqs)
		r.reqs = append(r.reqs, request{at: time.Now(), method: req.Method, path: req.URL.Path, uri: req.URL.RequestURI(), header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		answer(n, w)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.reqs...)
}

func status(code int) func(int, http.ResponseWriter) {
	return func(_ int, w http.ResponseWriter) { w.WriteHeader(code) }
}

func TestWebhookSigned(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, status(http.StatusNoContent))
	e.startWorker(t, fastRetries())

	incident := uuid.New()
	secret := "s3cret-key"
	payload := `{"event": "incident.opened", "incident": {"id": "` + incident.String() + `", "severity": "critical"}}`
	id := e.enqueue(t, notify.Message{
		IncidentID: &incident, Channel: notify.ChannelWebhook, Target: rcv.URL + "/hook", Secret: secret,
		Subject: "web-01 down", Text: "ping failed", Payload: json.RawMessage(payload),
	})

	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 1, d.Attempts)
	require.NotNil(t, d.SentAt)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.JSONEq(t, payload, string(got.body))
	require.Equal(t, "application/json", got.header.Get("Content-Type"))
	require.Equal(t, id.String(), got.header.Get(notify.HeaderDelivery))
	require.Equal(t, "incident.opened", got.header.Get(notify.HeaderEvent))
	require.NotEmpty(t, got.header.Get("User-Agent"))
	// What a receiver does: recompute the HMAC over the raw body and compare in constant time.
	require.True(t, hmac.Equal([]byte(notify.Sign([]byte(secret), got.body)), []byte(got.header.Get(notify.HeaderSignature))),
		"signature %q", got.header.Get(notify.HeaderSignature))
	require.False(t, hmac.Equal([]byte(notify.Sign([]byte("other key"), got.body)), []byte(got.header.Get(notify.HeaderSignature))))

	att := e.attempts(t, id)
	require.Len(t, att, 1)
	require.True(t, att[0].Ok)
	require.EqualValues(t, http.StatusNoContent, *att[0].StatusCode)

	// The incident timeline sees it.
	list, err := e.q.ListIncidentDeliveries(t.Context(), db.ListIncidentDeliveriesParams{WorkspaceID: e.ws, IncidentID: incident})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, id, list[0].ID)
	require.Equal(t, notify.StatusSent, list[0].Status)
	require.Equal(t, []string{"completed"}, e.jobStates(t))
}

func TestWebhookUnsignedWithoutSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, status(http.StatusOK))
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "hello", Text: "world"})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
	got := rcv.requests()[0]
	require.Empty(t, got.header.Get(notify.HeaderSignature))
	require.Equal(t, "notification", got.header.Get(notify.HeaderEvent))
	require.JSONEq(t, `{"event":"notification","subject":"hello","text":"world"}`, string(got.body))
}

func TestWebhookRetriesUntilAccepted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n < 2 {
			http.Error(w, "database is down", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s", Payload: json.RawMessage(`{"event":"incident.opened"}`)})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 3, d.Attempts)
	require.Nil(t, d.LastError)

	att := e.attempts(t, id)
	require.Len(t, att, 3)
	for i, a := range att {
		require.EqualValues(t, i+1, a.Attempt)
		require.Equal(t, i == 2, a.Ok, "attempt %d", i+1)
	}
	require.EqualValues(t, 500, *att[0].StatusCode)
	require.Contains(t, *att[0].Error, "database is down")
	require.EqualValues(t, 200, *att[2].StatusCode)

	reqs := rcv.requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs { // the idempotency key does not change between retries
		require.Equal(t, id.String(), r.header.Get(notify.HeaderDelivery))
	}
}

func TestWebhookClientErrorIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter) { http.Error(w, "unknown hook", http.StatusBadRequest) })
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.EqualValues(t, 1, d.Attempts)
	require.Contains(t, *d.LastError, "400")
	require.Contains(t, *d.LastError, "unknown hook")
	require.Len(t, e.attempts(t, id), 1)

	time.Sleep(200 * time.Millisecond) // forty retry intervals: none may come
	require.Len(t, rcv.requests(), 1)
	// River records the cancellation asynchronously.
	require.Eventually(t, func() bool { s := e.jobStates(t); return len(s) == 1 && s[0] == "cancelled" },
		5*time.Second, 10*time.Millisecond)
}

func TestWebhookGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, status(http.StatusBadGateway))
	cfg := fastRetries()
	cfg.MaxAttempts = 4
	e.startWorker(t, cfg)

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.EqualValues(t, 4, d.Attempts)
	require.Len(t, e.attempts(t, id), 4)
	time.Sleep(100 * time.Millisecond)
	require.Len(t, rcv.requests(), 4)
}

func TestWebhookHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	cfg := fastRetries()
	cfg.RetryMax = 10 * time.Second // the cap applies to Retry-After too
	e.startWorker(t, cfg)

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 2, d.Attempts)
	reqs := rcv.requests()
	require.Len(t, reqs, 2)
	// The backoff alone would have retried within 10 ms.
	require.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), 950*time.Millisecond)
}

// TestAlreadySentIsNotResent runs a second job for a delivery that is already sent, as after
// a crash between the send's commit and River's acknowledgement: nothing goes out again.
func TestAlreadySentIsNotResent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, status(http.StatusOK))
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s"})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	_, err := e.jobs.Insert(t.Context(), notify.Args{WorkspaceID: e.ws, DeliveryID: id}, nil)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		s := e.jobStates(t)
		return len(s) == 2 && s[1] == "completed"
	}, 10*time.Second, 10*time.Millisecond)
	require.Len(t, rcv.requests(), 1)
	require.Len(t, e.attempts(t, id), 1)
}

// TestDurableAcrossRestart queues a delivery while no worker runs, as when the process dies
// right after the incident change committed; the next worker to start delivers it, once.
func TestDurableAcrossRestart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, status(http.StatusOK))

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s"})
	d, err := e.q.GetDelivery(t.Context(), db.GetDeliveryParams{WorkspaceID: e.ws, ID: id})
	require.NoError(t, err)
	require.Equal(t, notify.StatusQueued, d.Status)
	require.Equal(t, []string{"available"}, e.jobStates(t))
	require.Empty(t, rcv.requests())

	e.startWorker(t, fastRetries())
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
	time.Sleep(200 * time.Millisecond)
	require.Len(t, rcv.requests(), 1)
	require.Len(t, e.attempts(t, id), 1)
}

// TestRolledBackSendsNothing enqueues in a transaction that rolls back, as an incident change
// that fails would: no delivery, no job, no request.
func TestRolledBackSendsNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, status(http.StatusOK))
	e.startWorker(t, fastRetries())

	tx, err := e.pool.Begin(t.Context())
	require.NoError(t, err)
	_, err = notify.Enqueue(t.Context(), e.jobs, tx, notify.Message{WorkspaceID: e.ws, Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s"})
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(t.Context()))

	var deliveries int
	require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM notification_deliveries").Scan(&deliveries))
	require.Zero(t, deliveries)
	require.Empty(t, e.jobStates(t))
	time.Sleep(200 * time.Millisecond)
	require.Empty(t, rcv.requests())
}

func TestEnqueueRejectsBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, m := range []notify.Message{
		{Channel: "pager", Target: "http://127.0.0.1/"},
		{Channel: notify.ChannelEmail, Target: "not an address"},
		{Channel: notify.ChannelWebhook, Target: "ftp://127.0.0.1/x"},
		{Channel: notify.ChannelSlack, Target: "/relative"},
		{Channel: notify.ChannelWebhook, Target: "http://127.0.0.1/", Payload: json.RawMessage(`[1,2]`)},
	} {
		m.WorkspaceID = e.ws
		err := pgx.BeginFunc(t.Context(), e.pool, func(tx pgx.Tx) error {
			_, err := notify.Enqueue(t.Context(), e.jobs, tx, m)
			return err
		})
		require.Error(t, err, "%+v", m)
	}
	var deliveries int
	require.NoError(t, e.pool.QueryRow(t.Context(), "SELECT count(*) FROM notification_deliveries").Scan(&deliveries))
	require.Zero(t, deliveries)
}
