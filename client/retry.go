package client

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryPolicy says how often and how patiently a failed request is tried again. A request is
// retried only when repeating it is safe (GET, HEAD, PUT, DELETE, or any request carrying an
// Idempotency-Key) after a connection error or a 429, 502, 503 or 504 answer, and after a 409
// that carries Retry-After for a keyed request (its first attempt is still running on the
// server). Between attempts it waits the server's Retry-After when given, otherwise a random
// time between zero and an exponentially growing ceiling ("full jitter").
type RetryPolicy struct {
	MaxAttempts int           // tries in all, the first included (4); 1 disables retries
	MinBackoff  time.Duration // ceiling of the first wait (200 ms), doubled at each retry
	MaxBackoff  time.Duration // largest ceiling (5 s)
}

// DefaultRetryPolicy is the policy of a client built without WithRetry.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, MinBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = d.MaxAttempts
	}
	if p.MinBackoff <= 0 {
		p.MinBackoff = d.MinBackoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = max(d.MaxBackoff, p.MinBackoff)
	}
	return p
}

// backoff is the wait before retry number attempt (0 for the first retry): uniform in
// [0, min(MaxBackoff, MinBackoff·2^attempt)].
func (p RetryPolicy) backoff(attempt int) time.Duration {
	ceiling := p.MaxBackoff
	if attempt < 30 {
		ceiling = min(p.MaxBackoff, p.MinBackoff<<attempt)
	}
	return time.Duration(rand.Int64N(int64(ceiling) + 1))
}

// RetryEvent describes a retry about to happen, for the hooks of WithOnRetry and
// WithRetryLogger.
type RetryEvent struct {
	Request *http.Request // the request being repeated
	Attempt int           // the attempt about to be made: 2 for the first retry
	Wait    time.Duration // how long the client waits before it
	// StatusCode is the status of the answer that is retried, 0 after a connection error
	// (then Err says which).
	StatusCode int
	Err        error
	RequestID  string // the X-Request-ID of the retried answer, if any
}

// WithOnRetry calls fn before each retry, after the answer that caused it and before the
// wait. fn runs on the caller's goroutine and must not keep the request.
func WithOnRetry(fn func(ctx context.Context, e RetryEvent)) Option {
	return optionFunc(func(s *settings) error {
		s.onRetry = append(s.onRetry, fn)
		return nil
	})
}

// WithRetryLogger logs each retry on l at level Warn: method, path, attempt, wait, and the
// status or error that caused it.
func WithRetryLogger(l *slog.Logger) Option {
	return WithOnRetry(func(ctx context.Context, e RetryEvent) {
		attrs := []slog.Attr{
			slog.String("method", e.Request.Method), slog.String("path", e.Request.URL.Path),
			slog.Int("attempt", e.Attempt), slog.Duration("wait", e.Wait),
		}
		if e.StatusCode != 0 {
			attrs = append(attrs, slog.Int("status", e.StatusCode))
		}
		if e.RequestID != "" {
			attrs = append(attrs, slog.String("request_id", e.RequestID))
		}
		if e.Err != nil {
			attrs = append(attrs, slog.String("error", e.Err.Error()))
		}
		l.LogAttrs(ctx, slog.LevelWarn, "secumon: retrying request", attrs...)
	})
}

// retrier is the HttpRequestDoer under the generated client that repeats requests.
type retrier struct {
	next    HttpRequestDoer
	policy  RetryPolicy
	onRetry []func(context.Context, RetryEvent)
}

// Do sends req, and again while the policy allows it, and hands the final answer to
// CaptureResponse.
func (r *retrier) Do(req *http.Request) (*http.Response, error) {
	resp, attempts, err := r.do(req)
	capture(req, resp, attempts)
	return resp, err
}

func (r *retrier) do(req *http.Request) (*http.Response, int, error) {
	ctx := req.Context()
	replayable := canRepeat(req)
	for attempt := 0; ; attempt++ {
		try := req
		if attempt > 0 {
			var err error
			if try, err = rewind(req); err != nil {
				return nil, attempt, err
			}
		}
		resp, err := r.next.Do(try)
		if !replayable || attempt+1 >= r.policy.MaxAttempts || ctx.Err() != nil {
			return resp, attempt + 1, err
		}
		wait, retry := r.policy.backoff(attempt), false
		switch {
		case err != nil:
			retry = true
		case transient(resp, req):
			retry = true
			if d, ok := retryAfter(resp.Header, time.Now()); ok {
				wait = d
			}
		}
		if !retry {
			return resp, attempt + 1, err
		}
		// Waiting past the caller's deadline would only turn the server's answer into a
		// context error: give the answer instead.
		if deadline, ok := ctx.Deadline(); ok && time.Now().Add(wait).After(deadline) {
			return resp, attempt + 1, err
		}
		if len(r.onRetry) > 0 {
			e := RetryEvent{Request: try, Attempt: attempt + 2, Wait: wait, Err: err}
			if resp != nil {
				e.StatusCode, e.RequestID = resp.StatusCode, resp.Header.Get("X-Request-ID")
			}
			for _, fn := range r.onRetry {
				fn(ctx, e)
			}
		}
		if resp != nil {
			drain(resp)
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, attempt + 1, err
		}
	}
}

// canRepeat reports whether sending req twice is safe and possible.
func canRepeat(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false // the body cannot be sent again
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return req.Header.Get(IdempotencyKeyHeader) != ""
}

// transient reports whether resp is an answer worth waiting out.
func transient(resp *http.Response, req *http.Request) bool {
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	case http.StatusConflict:
		// The first attempt of this keyed request is still running on the server.
		return req.Header.Get(IdempotencyKeyHeader) != "" && resp.Header.Get("Retry-After") != ""
	}
	return false
}

// rewind copies req with a fresh body for another attempt.
func rewind(req *http.Request) (*http.Request, error) {
	again := req.Clone(req.Context())
	if req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		again.Body = body
	}
	return again, nil
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// drain reads a little of an abandoned response so its connection can be reused.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
