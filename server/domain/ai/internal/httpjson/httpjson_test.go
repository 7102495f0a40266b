package httpjson

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "sk-test-0123456789"

// serve starts a loopback API whose n-th answer (from 1) is handle's.
func serve(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) (url string, calls *atomic.Int32) {
	t.Helper()
	calls = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handle(int(calls.Add(1)), w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1/call", calls
}

func client() *Client {
	return &Client{Provider: "test", Header: http.Header{"X-Api-Key": {secret}}, Secret: secret, Timeout: 5 * time.Second}
}

type answer struct {
	OK bool `json:"ok"`
}

func TestPost(t *testing.T) {
	var got *http.Request
	var body map[string]any
	url, calls := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		got = r
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
		_, _ = io.WriteString(w, `{"ok":true,"other":1}`)
	})
	var out answer
	require.NoError(t, client().Post(context.Background(), url, map[string]any{"model": "m", "n": 2}, &out))
	assert.True(t, out.OK)
	assert.EqualValues(t, 1, calls.Load())
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "/v1/call", got.URL.Path)
	assert.Equal(t, secret, got.Header.Get("X-Api-Key"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	assert.Equal(t, "application/json", got.Header.Get("Accept"))
	assert.Equal(t, map[string]any{"model": "m", "n": 2.0}, body)
}

func TestAPIError(t *testing.T) {
	url, calls := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Request-Id", "req_42")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"type":"error","error":{"type":"not_found_error","message":"model: claude-x\n(key `+secret+`)"}}`)
	})
	err := client().Post(context.Background(), url+"?beta=1", map[string]any{}, &answer{})
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, http.StatusNotFound, e.StatusCode)
	assert.Equal(t, "not_found_error", e.Type)
	assert.Equal(t, "test: POST "+url+": 404 Not Found: model: claude-x (key [redacted]) (not_found_error, request req_42)", err.Error(),
		"one line, without the query or the key")
	assert.EqualValues(t, 1, calls.Load(), "a 404 is not retried")
}

// An answer that is not the API's error JSON (a proxy's page) is quoted, shortened.
func TestForeignError(t *testing.T) {
	page := "<html>\n<body>Bad gateway " + strings.Repeat("x", 500) + "</body></html>"
	url, calls := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Should-Retry", "false")
		w.Header().Set("X-Request-Id", "req_7")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, page)
	})
	err := client().Post(context.Background(), url, map[string]any{}, &answer{})
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, http.StatusBadGateway, e.StatusCode)
	assert.True(t, strings.HasPrefix(e.Message, "<html> <body>Bad gateway xxx"), e.Message)
	assert.True(t, strings.HasSuffix(e.Message, "…"), e.Message)
	assert.LessOrEqual(t, len(e.Message), maxMessage+len("…"))
	assert.Equal(t, "req_7", e.RequestID)
	assert.EqualValues(t, 1, calls.Load(), "x-should-retry: false overrides the 5xx")
}

func TestRetriesAreBounded(t *testing.T) {
	url, calls := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After-Ms", "1")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	err := client().Post(context.Background(), url, map[string]any{}, &answer{})
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
	assert.EqualValues(t, 1+MaxRetries, calls.Load())
}

// The API is retried when it says so, even on a status that is otherwise final.
func TestShouldRetryHeader(t *testing.T) {
	url, calls := serve(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.Header().Set("X-Should-Retry", "true")
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	var out answer
	require.NoError(t, client().Post(context.Background(), url, map[string]any{}, &out))
	assert.True(t, out.OK)
	assert.EqualValues(t, 2, calls.Load())
}

// A wait longer than maxRetryAfter, or past the caller's deadline, is not waited for.
func TestLongRetryAfterFailsAtOnce(t *testing.T) {
	for name, tc := range map[string]struct {
		retryAfter string
		ctxTimeout time.Duration
	}{
		"too long":          {"3600", time.Hour},
		"past the deadline": {"30", 5 * time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			url, calls := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Retry-After", tc.retryAfter)
				w.WriteHeader(http.StatusTooManyRequests)
			})
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctxTimeout)
			defer cancel()
			start := time.Now()
			err := client().Post(ctx, url, map[string]any{}, &answer{})
			var e *Error
			require.True(t, errors.As(err, &e), "%v", err)
			assert.Equal(t, http.StatusTooManyRequests, e.StatusCode)
			assert.EqualValues(t, 1, calls.Load())
			assert.Less(t, time.Since(start), time.Second)
		})
	}
}

// Timeout bounds one attempt: a slow attempt is abandoned and tried again.
func TestAttemptTimeoutIsRetried(t *testing.T) {
	url, calls := serve(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			// Hang until the client gives up. The body is read first: the server notices a
			// closed connection only once it reads past the request.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	c := client()
	c.Timeout = 100 * time.Millisecond
	var out answer
	require.NoError(t, c.Post(context.Background(), url, map[string]any{}, &out))
	assert.True(t, out.OK)
	assert.EqualValues(t, 2, calls.Load())
}

func TestAnswerSizeLimit(t *testing.T) {
	url, calls := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"ok":true,"pad":"`+strings.Repeat("x", MaxResponseBytes)+`"}`)
	})
	err := client().Post(context.Background(), url, map[string]any{}, &answer{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "larger than 4 MiB")
	assert.EqualValues(t, 1, calls.Load())
}

// A redirect is not followed: the key would go along to wherever it points.
func TestNoRedirects(t *testing.T) {
	elsewhere, reached := serve(t, func(_ int, w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) })
	url, _ := serve(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere, http.StatusTemporaryRedirect)
	})
	err := client().Post(context.Background(), url, map[string]any{}, &answer{})
	var e *Error
	require.True(t, errors.As(err, &e), "%v", err)
	assert.Equal(t, http.StatusTemporaryRedirect, e.StatusCode)
	assert.Zero(t, reached.Load())
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{http.Header{}, 0, false},
		{http.Header{"Retry-After": {"2"}}, 2 * time.Second, true},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond, true},
		{http.Header{"Retry-After": {"Sun, 01 Jun 2025 12:00:07 GMT"}}, 7 * time.Second, true},
		{http.Header{"Retry-After": {"Sun, 01 Jun 2025 11:00:00 GMT"}}, 0, true},
		{http.Header{"Retry-After": {"soon"}}, 0, false},
		{http.Header{"Retry-After": {"-3"}}, 0, false},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"1"}}, 250 * time.Millisecond, true},
		{http.Header{"Retry-After-Ms": {"x"}, "Retry-After": {"1"}}, time.Second, true},
	} {
		got, ok := retryAfter(tc.header, now)
		assert.Equal(t, tc.ok, ok, "%v", tc.header)
		assert.Equal(t, tc.want, got, "%v", tc.header)
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{
		400: false, 401: false, 403: false, 404: false, 422: false,
		408: true, 409: true, 429: true, 500: true, 502: true, 503: true, 529: true,
	} {
		retry, after := retryable(&http.Response{StatusCode: status, Header: http.Header{}})
		assert.Equal(t, want, retry, "HTTP %d", status)
		assert.Negative(t, after, "HTTP %d: no Retry-After", status)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		for range 20 {
			d := backoff(n)
			assert.LessOrEqual(t, d, want, "retry %d", n)
			assert.Greater(t, d, want*3/4-1, "retry %d", n)
		}
	}
}
