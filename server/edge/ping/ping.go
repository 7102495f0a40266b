// Package ping serves the heartbeat ping routes (openapi/ping.yaml): GET, POST or HEAD on
// /ping/{token}, /ping/{token}/start, /ping/{token}/fail and /ping/{token}/{exit_status}. No
// bearer token: the secret URL is the credential. The answers are tiny: "OK" in text/plain, or
// a problem document.
package ping

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/secuaas/secumon/server/domain/heartbeat"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Patterns are the routes, for a net/http ServeMux (Go 1.22 patterns, any method).
var Patterns = []string{heartbeat.PathPrefix + "{token}", heartbeat.PathPrefix + "{token}/{signal}"}

// Handler answers pings.
type Handler struct {
	Receiver *heartbeat.Receiver
	// OnError renders what is not a problem of the request (the database is down…).
	OnError func(http.ResponseWriter, *http.Request, error)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodHead:
	default:
		w.Header().Set("Allow", "GET, POST, HEAD")
		problem.Write(w, r, problem.Newf(http.StatusMethodNotAllowed, "a ping is GET, POST or HEAD"))
		return
	}
	p := heartbeat.Ping{Token: r.PathValue("token"), Signal: heartbeat.Success}
	switch s := r.PathValue("signal"); s {
	case "":
	case "start":
		p.Signal = heartbeat.Start
	case "fail":
		p.Signal = heartbeat.Failure
	default:
		code, err := strconv.Atoi(s)
		if err != nil || code < 0 || code > 255 || strconv.Itoa(code) != s {
			problem.Write(w, r, problem.Newf(http.StatusNotFound, "nothing at %s: a ping ends with /start, /fail or an exit status 0-255", r.URL.Path))
			return
		}
		p.ExitStatus = &code
		if code != 0 {
			p.Signal = heartbeat.Failure
		}
	}
	if r.Method == http.MethodPost && r.Body != nil {
		// Only the first MaxBody bytes are kept; one more tells the receiver it was cut.
		body, err := io.ReadAll(io.LimitReader(r.Body, heartbeat.MaxBody+1))
		if err != nil {
			problem.Write(w, r, problem.Newf(http.StatusBadRequest, "reading the body failed"))
			return
		}
		p.Body = body
	}
	// The job may have given up waiting; the ping still counts.
	err := h.Receiver.Receive(context.WithoutCancel(r.Context()), p)
	switch {
	case errors.Is(err, heartbeat.ErrUnknownToken):
		problem.Write(w, r, problem.NotFound("heartbeat check"))
	case err != nil:
		h.OnError(w, r, err)
	default:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", "2")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = io.WriteString(w, "OK")
		}
	}
}
