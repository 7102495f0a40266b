package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// APIError is an error answer of the API: its status and the problem document (RFC 9457) the
// server sent. Compare with errors.Is against ErrNotFound, ErrConflict…, or use IsNotFound and
// the other helpers; errors.As gives the details.
type APIError struct {
	StatusCode int          // the HTTP status of the answer
	Type       string       // the problem type URI
	Title      string       // short summary of the type
	Detail     string       // what went wrong with this request
	Instance   string       // the request path
	Errors     []FieldError // the offending fields of a validation error
	RequestID  string       // X-Request-ID: quote it when reporting a problem
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
	// Body is the raw answer when it was not a problem document.
	Body []byte
}

// Error reads like "secumon: 404 Not found: host not found (request 8c1f…)".
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "secumon: %d", e.StatusCode)
	if e.Title != "" {
		b.WriteString(" " + e.Title)
	} else {
		b.WriteString(" " + http.StatusText(e.StatusCode))
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.RequestID != "" {
		b.WriteString(" (request " + e.RequestID + ")")
	}
	return b.String()
}

// Is matches the sentinel errors: an APIError is target when the statuses are equal (and the
// types, when target names one).
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.StatusCode == e.StatusCode && (t.Type == "" || t.Type == e.Type)
}

// Sentinels for errors.Is; only their status codes matter.
var (
	ErrValidation   = &APIError{StatusCode: http.StatusBadRequest}
	ErrUnauthorized = &APIError{StatusCode: http.StatusUnauthorized}
	ErrForbidden    = &APIError{StatusCode: http.StatusForbidden}
	ErrNotFound     = &APIError{StatusCode: http.StatusNotFound}
	ErrConflict     = &APIError{StatusCode: http.StatusConflict}
	// ErrPreconditionFailed is the 412 of a write whose If-Match (WithIfMatch) no longer
	// matches: the resource changed since the caller read it.
	ErrPreconditionFailed = &APIError{StatusCode: http.StatusPreconditionFailed}
	// ErrIdempotencyKeyReused is the 422 of an Idempotency-Key already used for another request.
	ErrIdempotencyKeyReused = &APIError{StatusCode: http.StatusUnprocessableEntity}
	ErrUnavailable          = &APIError{StatusCode: http.StatusServiceUnavailable}
)

// IsNotFound reports whether err is a 404: no such resource in this workspace.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is a 409: a duplicate or an invalid state transition.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsForbidden reports whether err is a 403: the token's role is too low for the operation.
func IsForbidden(err error) bool { return errors.Is(err, ErrForbidden) }

// IsUnauthorized reports whether err is a 401: the token is missing, unknown or revoked.
func IsUnauthorized(err error) bool { return errors.Is(err, ErrUnauthorized) }

// IsValidation reports whether err is a 400; its APIError.Errors name the fields.
func IsValidation(err error) bool { return errors.Is(err, ErrValidation) }

// problemDoc is the wire shape of a problem document.
type problemDoc struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Instance  string       `json:"instance"`
	RequestID string       `json:"request_id"`
	Errors    []FieldError `json:"errors"`
}

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 1 << 20

// errorFrom builds the APIError of a non-2xx response, reading (not closing) its body.
func errorFrom(resp *http.Response) *APIError {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{StatusCode: resp.StatusCode, RequestID: resp.Header.Get("X-Request-ID")}
	if d, ok := retryAfter(resp.Header, time.Now()); ok {
		e.RetryAfter = d
	}
	var p problemDoc
	if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Type != "") {
		e.Type, e.Title, e.Detail, e.Instance, e.Errors = p.Type, p.Title, p.Detail, p.Instance, p.Errors
		if e.RequestID == "" {
			e.RequestID = p.RequestID
		}
		return e
	}
	e.Body = body
	return e
}
