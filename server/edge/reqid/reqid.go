// Package reqid gives every request an identifier, taken from a sane incoming X-Request-ID or
// generated, echoed in the response header and carried in the context so that logs and
// problem documents can name the request. It also carries the request's Facts: what the
// inner layers learn (the route template, the caller's workspace) for the outer ones (the
// access log, the trace span) to report once the answer is written.
package reqid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/google/uuid"
)

// Header is the request and response header carrying the id.
const Header = "X-Request-ID"

type ctxKey struct{}

type factsKey struct{}

// Facts are what the layers serving a request learn about it, for the access log and the
// request's span; fields stay zero when unknown.
type Facts struct {
	// Route is the matched route template without its method ("/api/v2/hosts/{id}"): set
	// by the contract gate or the router, never a raw path.
	Route string
	// WorkspaceID is the authenticated caller's active workspace.
	WorkspaceID uuid.UUID
}

// FactsOf returns the request's facts to read or fill in; outside Middleware, a throwaway.
func FactsOf(ctx context.Context) *Facts {
	if f, ok := ctx.Value(factsKey{}).(*Facts); ok {
		return f
	}
	return &Facts{}
}

// From returns the request's id, or "" outside a request.
func From(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// Middleware assigns the id before anything else runs.
func Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(Header)
		if !acceptable(id) {
			id = newID()
		}
		w.Header().Set(Header, id)
		ctx := context.WithValue(r.Context(), ctxKey{}, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, factsKey{}, &Facts{})))
	})
}

// acceptable keeps caller-chosen ids short and printable so they cannot pollute logs.
func acceptable(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
