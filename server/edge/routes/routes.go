// Package routes names the route a request took: the pattern of the innermost ServeMux that
// matched it ("GET /api/v2/hosts/{id}"), never its raw path, so that metrics and logs keyed
// by it stay bounded however many ids and unknown paths clients send.
//
// Track starts the naming at the outermost handler; Mux wraps each ServeMux. ServeMux sets
// Request.Pattern on the request it was handed, which middleware further in copy (WithContext),
// so the pattern is passed out through a holder in the context rather than read back from
// the outer request.
package routes

import (
	"context"
	"net/http"
)

// Unmatched names requests no mux pattern matched (none of the muxes ran, or a mux answered
// 404/405 itself).
const Unmatched = "unmatched"

// Route is the route of one request, known once its handler has returned.
type Route struct{ pattern string }

// Name is the route's pattern, or Unmatched.
func (rt *Route) Name() string {
	if rt.pattern == "" {
		return Unmatched
	}
	return rt.pattern
}

type key struct{}

// Track returns r with a Route that the muxes wrapped by Mux fill in while serving it.
func Track(r *http.Request) (*http.Request, *Route) {
	rt := &Route{}
	return r.WithContext(context.WithValue(r.Context(), key{}, rt)), rt
}

// Mux wraps a ServeMux (or a handler that is one, such as the generated API routers): the
// tracked route becomes the pattern it matched, unless a mux further in already named a
// more precise one ("GET /api/v2/hosts/{id}" over the prefix "/api/v2/").
func Mux(mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { // also when the handler panics: recovery further out still logs the route
			if rt, ok := r.Context().Value(key{}).(*Route); ok && rt.pattern == "" {
				rt.pattern = r.Pattern
			}
		}()
		mux.ServeHTTP(w, r)
	})
}
