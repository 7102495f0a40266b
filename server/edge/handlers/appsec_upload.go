package handlers

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/server/domain/appsec"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/edge/schemaerr"
)

// Scanner reports (POST /app-security/reports, up to 20 MiB) are the one body the API reads
// as a stream: the contract marks the operation x-stream-body, so the gate leaves the body
// unread, and ReportUploads serves it in place of the strict handler, which would decode the
// whole report into memory before the handler ran. Reading a report still costs memory in
// proportion to its findings, so a process ingests at most UploadLimits.Concurrent reports at
// once; the others wait for a turn up to UploadLimits.Wait, then get 503 with Retry-After.

// UploadLimits bound the scanner reports a process ingests at once.
type UploadLimits struct {
	// Concurrent is how many reports are read and stored at once (default 2).
	Concurrent int
	// Wait is how long a report waits for a turn before the 503 (default 5 s).
	Wait time.Duration
}

// Default upload limits.
const (
	DefaultConcurrentUploads = 2
	DefaultUploadWait        = 5 * time.Second
	// uploadRetryAfter is the Retry-After of the 503, in seconds.
	uploadRetryAfter = 5
)

// ReportUploads serves POST /app-security/reports.
type ReportUploads struct {
	api *API
	// members checks a report's top-level members against the contract's ScannerReport
	// schema, which the gate does not do for this operation (x-stream-body).
	members appsec.MemberCheck
	slots   chan struct{}
	wait    time.Duration
	onError func(http.ResponseWriter, *http.Request, error)
}

// NewReportUploads serves uploads with a's storage, checking reports against doc's
// ScannerReport schema and rendering errors with onError.
func NewReportUploads(a *API, doc *openapi3.T, limits UploadLimits, onError func(http.ResponseWriter, *http.Request, error)) (*ReportUploads, error) {
	ref := doc.Components.Schemas["ScannerReport"]
	if ref == nil || ref.Value == nil {
		return nil, errors.New("the contract has no ScannerReport schema")
	}
	schema := ref.Value
	if limits.Concurrent <= 0 {
		limits.Concurrent = DefaultConcurrentUploads
	}
	if limits.Wait <= 0 {
		limits.Wait = DefaultUploadWait
	}
	members := func(key string, v any) error {
		prop := schema.Properties[key]
		if prop == nil || prop.Value == nil {
			return nil // any other member is accepted and ignored (additionalProperties)
		}
		if err := prop.Value.VisitJSON(v, openapi3.MultiErrors()); err != nil {
			return problem.Invalid(schemaerr.Fields(err, key)...)
		}
		return nil
	}
	return &ReportUploads{api: a, members: members, slots: make(chan struct{}, limits.Concurrent), wait: limits.Wait, onError: onError}, nil
}

// Limit admits at most Concurrent requests into next at once. It goes before everything that
// reads the body (the idempotency middleware included), so that the limit bounds every copy.
func (u *ReportUploads) Limit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		timer := time.NewTimer(u.wait)
		defer timer.Stop()
		select {
		case u.slots <- struct{}{}:
		case <-timer.C:
			p := problem.New(http.StatusServiceUnavailable, "too many scanner reports are being ingested; retry after the delay in Retry-After")
			p.RetryAfter = uploadRetryAfter
			problem.Write(w, r, p)
			return
		case <-r.Context().Done():
			return
		}
		defer func() { <-u.slots }()
		next.ServeHTTP(w, r)
	})
}

// ServeHTTP reads the report from the body as it arrives. The gate validated the parameters.
func (u *ReportUploads) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var params api.UploadAppSecurityReportParams
	q := r.URL.Query()
	if q.Has("project") {
		p := q.Get("project")
		params.Project = &p
	}
	if q.Has("format") {
		f := api.UploadAppSecurityReportParamsFormat(q.Get("format"))
		params.Format = &f
	}
	out, err := u.api.uploadReport(r.Context(), r.Body, params, u.members)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		problem.Write(w, r, problem.Newf(http.StatusRequestEntityTooLarge, "the body is limited to %d bytes", tooBig.Limit))
		return
	case err != nil:
		u.onError(w, r, err)
		return
	}
	if err := (api.UploadAppSecurityReport201JSONResponse(out)).VisitUploadAppSecurityReportResponse(w); err != nil && !errors.Is(err, context.Canceled) {
		u.onError(w, r, err)
	}
}
