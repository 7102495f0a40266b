// Package problem writes RFC 9457 problem documents (application/problem+json), the one shape
// of every SecuMon error, and carries them as Go errors from handlers to the HTTP layer.
package problem

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/secuaas/secumon/server/edge/reqid"
)

// ContentType is the media type of every error response.
const ContentType = "application/problem+json"

// typeBase prefixes the problem type URIs; each status has one stable type.
const typeBase = "https://secumon.secuaas.ovh/problems/"

// FieldError names one invalid field (a dotted body path such as "config.port", or a
// parameter name such as "limit") and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem is an RFC 9457 problem document. It is also an error, so handlers can return it.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`

	// RetryAfter, when positive, is sent as the Retry-After header (seconds).
	RetryAfter int `json:"-"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

var kinds = map[int]struct{ slug, title string }{
	http.StatusBadRequest:            {"validation", "Invalid request"},
	http.StatusUnauthorized:          {"unauthorized", "Unauthorized"},
	http.StatusForbidden:             {"forbidden", "Forbidden"},
	http.StatusNotFound:              {"not-found", "Not found"},
	http.StatusMethodNotAllowed:      {"method-not-allowed", "Method not allowed"},
	http.StatusConflict:              {"conflict", "Conflict"},
	http.StatusPreconditionFailed:    {"precondition-failed", "Precondition failed"},
	http.StatusRequestEntityTooLarge: {"too-large", "Request body too large"},
	http.StatusUnsupportedMediaType:  {"unsupported-media-type", "Unsupported media type"},
	http.StatusUnprocessableEntity:   {"unprocessable", "Unprocessable request"},
	http.StatusTooManyRequests:       {"rate-limited", "Too many requests"},
	http.StatusInternalServerError:   {"internal", "Internal server error"},
	http.StatusServiceUnavailable:    {"unavailable", "Service unavailable"},
}

// New builds a problem of the given status with the status's type and title.
func New(status int, detail string) *Problem {
	k, ok := kinds[status]
	if !ok {
		k.slug, k.title = strconv.Itoa(status), http.StatusText(status)
	}
	return &Problem{Type: typeBase + k.slug, Title: k.title, Status: status, Detail: detail}
}

// Newf is New with a formatted detail.
func Newf(status int, format string, args ...any) *Problem {
	return New(status, fmt.Sprintf(format, args...))
}

// Invalid is a 400 naming the offending fields.
func Invalid(fields ...FieldError) *Problem { return Fields(http.StatusBadRequest, fields...) }

// Fields is a problem of the given status naming the fields at fault, its detail saying why
// (the one field's message, or how many there are).
func Fields(status int, fields ...FieldError) *Problem {
	p := New(status, "")
	p.Errors = fields
	switch len(fields) {
	case 0:
		p.Detail = "the request is invalid"
	case 1:
		p.Detail = fields[0].Field + ": " + fields[0].Message
	default:
		p.Detail = fmt.Sprintf("%d fields are invalid", len(fields))
	}
	return p
}

// NotFound is a 404 for a kind of resource ("host", "check"…). Ids of other workspaces get
// exactly the same answer, so a caller cannot learn that they exist.
func NotFound(kind string) *Problem { return New(http.StatusNotFound, kind+" not found") }

// Conflict is a 409 (a duplicate or an invalid state transition).
func Conflict(format string, args ...any) *Problem { return Newf(http.StatusConflict, format, args...) }

// Unavailable is a 503 asking the client to retry after a few seconds.
func Unavailable(detail string) *Problem {
	p := New(http.StatusServiceUnavailable, detail)
	p.RetryAfter = 5
	return p
}

// Write sends p, filling in the request id and the instance from r.
func Write(w http.ResponseWriter, r *http.Request, p *Problem) {
	out := *p
	if out.RequestID == "" {
		out.RequestID = reqid.From(r.Context())
	}
	if out.Instance == "" {
		out.Instance = r.URL.Path
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	if out.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(out.RetryAfter))
	}
	if out.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="secumon"`)
	}
	w.WriteHeader(out.Status)
	_ = json.NewEncoder(w).Encode(&out)
}
