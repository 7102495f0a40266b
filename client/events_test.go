package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventReaderParsesTheFormat(t *testing.T) {
	stream := ": welcome\r\n" +
		"retry: 1500\n" +
		"\n" + // a block without data dispatches nothing
		"data: first\n\n" +
		"event: incident\rid: 7\rdata: {\"a\":1}\rdata:two\r\r" + // lone CR line ends
		"id\n" + // a field without a colon: empty id
		"data\n" + // empty data line
		"\n" +
		"id: bad\x00id\ndata: keeps the previous id\nfoo: ignored\n\n" +
		"data: never finished"
	r := newEventReader(strings.NewReader(stream), "")
	var got []Event
	for {
		ev, err := r.next()
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
		got = append(got, ev)
	}
	assert.Equal(t, []Event{
		{Type: "message", Data: "first"},
		{Type: "incident", Data: "{\"a\":1}\ntwo", ID: "7"},
		{Type: "message", Data: "", ID: ""},
		{Type: "message", Data: "keeps the previous id", ID: ""},
	}, got)
	assert.Equal(t, 1500*time.Millisecond, r.retry)
}

func TestScanEventLinesKeepsCRLFAcrossReads(t *testing.T) {
	// A \r at the end of one read must wait for the next byte before it is a line end.
	adv, tok, err := scanEventLines([]byte("data: x\r"), false)
	require.NoError(t, err)
	assert.Equal(t, 0, adv, "needs more data")
	assert.Nil(t, tok)
	adv, tok, _ = scanEventLines([]byte("data: x\r\ndata: y"), false)
	assert.Equal(t, 9, adv)
	assert.Equal(t, "data: x", string(tok))
}

// sseServer serves /api/v2/events: the first connection sends two events and a ping, then
// drops; the second checks Last-Event-ID and sends one more event, then holds the stream
// open until the client goes.
type sseServer struct {
	mu          sync.Mutex
	connections int
	lastEventID []string
	auth        []string
}

func (s *sseServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v2/events" {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	s.connections++
	n := s.connections
	s.lastEventID = append(s.lastEventID, r.Header.Get("Last-Event-ID"))
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()

	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	flush := func() { _ = http.NewResponseController(w).Flush() }
	switch n {
	case 1:
		fmt.Fprint(w, "retry: 20\n\n")
		fmt.Fprint(w, "id: 1\ndata: {\"incidents_open\":1}\n\n")
		fmt.Fprint(w, ": ping\n\n")
		fmt.Fprint(w, "id: 2\nevent: summary\ndata: {\"incidents_open\":2}\n\n")
		fmt.Fprint(w, "data: half an event, lost with the connection\n")
		flush()
		// Drop the connection mid-stream, as a restarting server or a proxy would.
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	default:
		fmt.Fprint(w, "id: 3\ndata: {\"incidents_open\":3}\n\n")
		flush()
		<-r.Context().Done()
	}
}

func TestStreamReconnectsWithLastEventID(t *testing.T) {
	srv := &sseServer{}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	c, err := New(ts.URL, WithToken("smn_test"))
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []Event
	for ev, err := range c.Events.Stream(ctx) {
		require.NoError(t, err)
		got = append(got, ev)
		if len(got) == 3 {
			break
		}
	}
	require.Len(t, got, 3)
	assert.Equal(t, Event{Type: "message", Data: `{"incidents_open":1}`, ID: "1"}, got[0])
	assert.Equal(t, Event{Type: "summary", Data: `{"incidents_open":2}`, ID: "2"}, got[1])
	assert.Equal(t, "3", got[2].ID)

	var summary DashboardSummary
	require.NoError(t, got[2].Decode(&summary))
	assert.Equal(t, 3, summary.IncidentsOpen)

	srv.mu.Lock()
	defer srv.mu.Unlock()
	assert.Equal(t, 2, srv.connections, "one reconnection after the drop")
	assert.Equal(t, []string{"", "2"}, srv.lastEventID, "the reconnection resumes after the last id")
	assert.Equal(t, []string{"Bearer smn_test", "Bearer smn_test"}, srv.auth)
}

func TestStreamStopsOnAFinalError(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"type":"https://secumon.secuaas.ovh/problems/unauthorized","title":"Unauthorized","status":401,"detail":"missing or invalid bearer token"}`)
	}))
	t.Cleanup(ts.Close)
	c, err := New(ts.URL)
	require.NoError(t, err)
	var errs []error
	for _, err := range c.Events.Stream(context.Background()) {
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.True(t, IsUnauthorized(errs[0]), "%v", errs[0])
}

func TestStreamGivesUpAfterMaxAttempts(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		mu.Unlock()
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(ts.Close)
	c, err := New(ts.URL, WithRetry(RetryPolicy{MaxAttempts: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}))
	require.NoError(t, err)
	var last error
	for _, err := range c.Events.Stream(context.Background()) {
		last = err
	}
	var apiErr *APIError
	require.True(t, errors.As(last, &apiErr), "%v", last)
	assert.Equal(t, http.StatusServiceUnavailable, apiErr.StatusCode)
	mu.Lock()
	assert.Equal(t, 3, calls)
	mu.Unlock()
}

func TestEventReaderKeepsTheIDOfACutOffEvent(t *testing.T) {
	// The connection drops after the id line of event 5: it was never received, so a
	// reconnection must resume after event 4, or the server would skip 5.
	r := newEventReader(strings.NewReader("id: 4\ndata: four\n\nid: 5\ndata: fi"), "3")
	ev, err := r.next()
	require.NoError(t, err)
	assert.Equal(t, Event{Type: "message", Data: "four", ID: "4"}, ev)
	_, err = r.next()
	require.ErrorIs(t, err, io.EOF)
	assert.Equal(t, "4", r.lastID)

	// An id block without data still moves the resumption point, as the format says.
	r = newEventReader(strings.NewReader("id: 9\n\n"), "3")
	_, err = r.next()
	require.ErrorIs(t, err, io.EOF)
	assert.Equal(t, "9", r.lastID)
}
