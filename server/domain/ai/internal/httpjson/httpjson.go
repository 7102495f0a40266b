// Package httpjson posts one JSON request to a remote AI provider's API and decodes its JSON
// answer. It is the part of the official SDKs the providers relied on, and no more: a timeout
// per attempt, bounded retries of transient failures that honour Retry-After, a cap on the
// size of an answer, and errors that carry the HTTP status and the API's own message but
// never the request's headers, which hold the API key.
package httpjson

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits of one call.
const (
	// MaxRetries is how many times a transient failure is tried again (three attempts in all,
	// as the SDKs were configured).
	MaxRetries = 2
	// MaxResponseBytes caps an answer: a model's answer is capped by its max tokens, far below.
	MaxResponseBytes = 4 << 20
	// maxRetryAfter is the longest wait asked by Retry-After that is honoured; an API asking
	// for more is failed at once rather than kept waiting on (or retried early against).
	maxRetryAfter = time.Minute
	// The backoff when the API does not say how long to wait: 0.5 s, then 1 s, at most 8 s,
	// each shortened by up to a quarter of random jitter so that clients spread out.
	initialBackoff = 500 * time.Millisecond
	maxBackoff     = 8 * time.Second
	// maxMessage caps what an error quotes of an answer that is not the API's error JSON
	// (an HTML page from a proxy, say).
	maxMessage = 200
	// minSecret is the length from which Secret is redacted.
	minSecret = 8
)

// Client posts to one API. Its zero value is not usable: set Provider and Header.
type Client struct {
	// Provider names the API in errors ("anthropic", "openai").
	Provider string
	// Header is sent with every request: authentication and API version. Content-Type and
	// Accept are set by Post.
	Header http.Header
	// Secret is the API key, removed from any text of an answer quoted in an error, should an
	// API or a proxy echo it.
	Secret string
	// Timeout bounds one attempt, reading the answer included; 0 means none.
	Timeout time.Duration
	// HTTP sends the requests; nil means NewHTTPClient().
	HTTP *http.Client
}

// NewHTTPClient is the default HTTP client: the default transport (with its proxy settings
// from the environment), and no redirects. The APIs do not redirect, and Go forwards custom
// headers such as x-api-key to wherever a redirect points; a 3xx answer is an *Error instead.
func NewHTTPClient() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var defaultHTTP = NewHTTPClient()

// Error is an answer of the API with a status other than 2xx.
type Error struct {
	Provider   string
	Method     string
	URL        string // without user info or query
	StatusCode int
	// Type is the API's error type ("overloaded_error", "invalid_request_error"…), if any.
	Type string
	// Message is the API's error message, or the start of an answer that is not the API's
	// error JSON.
	Message string
	// RequestID is the API's identifier of the request, which its support asks for.
	RequestID string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s %s: %d", e.Provider, e.Method, e.URL, e.StatusCode)
	if text := http.StatusText(e.StatusCode); text != "" {
		b.WriteString(" " + text)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	var details []string
	if e.Type != "" {
		details = append(details, e.Type)
	}
	if e.RequestID != "" {
		details = append(details, "request "+e.RequestID)
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ", ") + ")")
	}
	return b.String()
}

// Post sends in as JSON to endpoint and decodes the answer into out. Transient failures
// (connection errors, timeouts of an attempt, 408, 409, 429 and 5xx, or whatever the API's
// x-should-retry header says) are tried again up to MaxRetries times, while ctx allows.
func (c *Client) Post(ctx context.Context, endpoint string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encoding the request: %w", c.Provider, err)
	}
	for retry := 0; ; retry++ {
		r := c.attempt(ctx, endpoint, body, out)
		if r.err == nil || !r.retry || retry == MaxRetries || ctx.Err() != nil {
			return r.err
		}
		wait := r.after
		if wait < 0 {
			wait = backoff(retry)
		}
		// Waiting past the caller's deadline would only trade r.err for a less telling error.
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return r.err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return r.err
		case <-t.C:
		}
	}
}

// result is the outcome of one attempt.
type result struct {
	err error
	// retry: trying again may succeed.
	retry bool
	// after is how long the API asked to wait before trying again; negative when it did not say.
	after time.Duration
}

// attempt makes one request.
func (c *Client) attempt(ctx context.Context, endpoint string, body []byte, out any) result {
	if c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return result{err: fmt.Errorf("%s: %w", c.Provider, err)}
	}
	for k, vs := range c.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	res, err := hc.Do(req)
	if err != nil {
		// The error names the URL, never the headers. A connection that failed or an attempt
		// that timed out may well work the next time.
		return result{err: fmt.Errorf("%s: %w", c.Provider, err), retry: true, after: -1}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(res.Body, MaxResponseBytes+1))
	if err != nil {
		// A dropped answer is a connection error, unless the API said not to try again.
		retry, ok := shouldRetryHeader(res)
		return result{err: fmt.Errorf("%s: reading the answer: %w", c.Provider, err), retry: retry || !ok, after: -1}
	}
	if len(raw) > MaxResponseBytes {
		return result{err: fmt.Errorf("%s: the answer (HTTP %d) is larger than %d MiB", c.Provider, res.StatusCode, MaxResponseBytes>>20)}
	}
	if res.StatusCode < 200 || res.StatusCode > 299 {
		retry, after := retryable(res)
		return result{err: c.apiError(req, res, raw), retry: retry, after: after}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return result{err: fmt.Errorf("%s: unreadable answer: %w", c.Provider, err)}
	}
	return result{}
}

// apiError reads the error answer raw. Both APIs answer {"error":{"type","message",…}}.
func (c *Client) apiError(req *http.Request, res *http.Response, raw []byte) *Error {
	u := *req.URL
	u.User, u.RawQuery, u.ForceQuery = nil, "", false
	e := &Error{
		Provider: c.Provider, Method: req.Method, URL: u.String(), StatusCode: res.StatusCode,
		RequestID: cmp.Or(res.Header.Get("Request-Id"), res.Header.Get("X-Request-Id")),
	}
	var body struct {
		Error struct {
			Type    string `json:"type"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error.Message != "" {
		e.Type, e.Message = c.clean(body.Error.Type), c.clean(body.Error.Message)
		return e
	}
	e.Message = c.clean(string(raw))
	if len(e.Message) > maxMessage {
		e.Message = strings.ToValidUTF8(e.Message[:maxMessage], "") + "…"
	}
	return e
}

// clean makes text of an answer fit an error message: valid UTF-8 on one line, without the
// API key.
func (c *Client) clean(s string) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	// Real keys are long; a few characters are no key (test keys), and replacing them would
	// garble the message.
	if len(c.Secret) >= minSecret {
		s = strings.ReplaceAll(s, c.Secret, "[redacted]")
	}
	return s
}

// retryable reports whether res's request may succeed when tried again, and after how long
// the API asked to (negative when it did not say). The API's x-should-retry header decides
// first; then 408, 409, 429 and 5xx (500 and 529 overloaded included) are transient. A
// Retry-After longer than maxRetryAfter is not waited for.
func retryable(res *http.Response) (retry bool, after time.Duration) {
	retry, ok := shouldRetryHeader(res)
	if !ok {
		s := res.StatusCode
		retry = s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests || s >= 500
	}
	if !retry {
		return false, -1
	}
	if d, ok := retryAfter(res.Header, time.Now()); ok {
		return d <= maxRetryAfter, d
	}
	return true, -1
}

// shouldRetryHeader is what the x-should-retry header of res asks for, if it is set.
func shouldRetryHeader(res *http.Response) (retry, ok bool) {
	switch res.Header.Get("X-Should-Retry") {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// retryAfter reads Retry-After-Ms (OpenAI's, in milliseconds) or else Retry-After (seconds,
// or an HTTP date).
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 {
			return time.Duration(ms * float64(time.Millisecond)), true
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 {
		return time.Duration(s * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// backoff is the wait before retry number n+1 when the API does not say: initialBackoff
// doubled n times, at most maxBackoff, less up to a quarter of jitter.
func backoff(n int) time.Duration {
	d := min(initialBackoff<<n, maxBackoff)
	return d - rand.N(d/4)
}
