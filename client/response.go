package client

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Ptr returns a pointer to v, for the optional fields of the generated types:
// client.HostCreate{Name: "web-01", Hostname: "127.0.0.1", Description: client.Ptr("front")}.
func Ptr[T any](v T) *T { return &v }

// IdempotentReplayedHeader marks an answer the server replayed for a repeated Idempotency-Key
// instead of acting again.
const IdempotentReplayedHeader = "Idempotent-Replayed"

// Response is what an answer said besides its body: filled in by CaptureResponse, for
// successes and errors alike.
type Response struct {
	// HTTP is the final answer (its body already read and closed): status, headers, and
	// through HTTP.Request the request that was sent last.
	HTTP      *http.Response
	RequestID string // X-Request-ID: quote it when reporting a problem
	// Replayed is true when the server answered a repeated Idempotency-Key with the first
	// answer (Idempotent-Replayed: true) instead of acting twice.
	Replayed bool
	// IdempotencyKey is the key the request carried, if any.
	IdempotencyKey string
	// Attempts is how many times the request was sent (1 when it was not retried).
	Attempts int
	// RateLimit is the server's rate-limit state, nil when it sends none.
	RateLimit *RateLimit
}

// StatusCode is the HTTP status of the final answer, 0 when none came (a connection error).
func (r *Response) StatusCode() int {
	if r == nil || r.HTTP == nil {
		return 0
	}
	return r.HTTP.StatusCode
}

// RateLimit is read from RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (seconds
// until the window resets), or their X-RateLimit-… forms (where Reset may be a Unix time).
type RateLimit struct {
	Limit, Remaining int
	Reset            time.Time // zero when not given
}

type captureKey struct{}

// CaptureResponse fills *dst with the metadata of the call's final answer, after its
// retries. Pass it as a request editor to any service method (or to c.Raw(); not to
// c.Events.Stream, whose connections it does not see):
//
//	var resp client.Response
//	host, err := c.Hosts.Create(ctx, body, client.CaptureResponse(&resp))
//	log.Printf("request %s, replayed %v", resp.RequestID, resp.Replayed)
func CaptureResponse(dst *Response) RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		// The generated client sends this very *http.Request: its context carries dst to
		// the retrying doer, which sees the final answer.
		*r = *r.WithContext(context.WithValue(r.Context(), captureKey{}, dst))
		return nil
	}
}

// capture fills the CaptureResponse destination of req, if any.
func capture(req *http.Request, resp *http.Response, attempts int) {
	dst, _ := req.Context().Value(captureKey{}).(*Response)
	if dst == nil {
		return
	}
	*dst = Response{HTTP: resp, Attempts: attempts, IdempotencyKey: req.Header.Get(IdempotencyKeyHeader)}
	if resp == nil {
		return
	}
	dst.RequestID = resp.Header.Get("X-Request-ID")
	dst.Replayed, _ = strconv.ParseBool(resp.Header.Get(IdempotentReplayedHeader))
	dst.RateLimit = rateLimit(resp.Header, time.Now())
}

// rateLimit reads the rate-limit headers; nil when there are none.
func rateLimit(h http.Header, now time.Time) *RateLimit {
	for _, prefix := range []string{"RateLimit-", "X-RateLimit-"} {
		limit, errL := strconv.Atoi(strings.TrimSpace(h.Get(prefix + "Limit")))
		remaining, errR := strconv.Atoi(strings.TrimSpace(h.Get(prefix + "Remaining")))
		if errL != nil && errR != nil {
			continue
		}
		rl := &RateLimit{Limit: limit, Remaining: remaining}
		if reset, err := strconv.ParseInt(strings.TrimSpace(h.Get(prefix+"Reset")), 10, 64); err == nil && reset >= 0 {
			// A delay in seconds, unless it can only be a Unix time (after 2001).
			if reset > 1_000_000_000 {
				rl.Reset = time.Unix(reset, 0)
			} else {
				rl.Reset = now.Add(time.Duration(reset) * time.Second)
			}
		}
		return rl
	}
	return nil
}
