// Package cors answers cross-origin requests (CORS) for browsers: preflight OPTIONS requests
// are answered here, before authentication, rate limits and the contract gate, because a
// preflight is the browser asking permission, not an API operation. API authentication is a
// bearer token, never a cookie, so no policy here ever sends Access-Control-Allow-Credentials.
package cors

import (
	"net/http"
	"strconv"
	"strings"
)

// Policy is what one group of routes allows across origins.
type Policy struct {
	// Origins are the allowed origins ("https://app.example.com"), or "*" for any. Empty
	// turns CORS off: no header is added and OPTIONS goes on to the next handler.
	Origins []string
	// Methods and Headers are what a preflight may ask for.
	Methods []string
	Headers []string
	// Expose are the response headers a script may read besides the CORS-safelisted ones.
	Expose []string
	// MaxAge is how long, in seconds, a browser may keep a preflight answer.
	MaxAge int
}

// ParseOrigins splits a comma list ("https://a.example, https://b.example" or "*").
func ParseOrigins(list string) []string {
	var out []string
	for _, o := range strings.Split(list, ",") {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// API is the policy of /api/v2 for origins (off when origins is empty).
func API(origins []string) Policy {
	return Policy{
		Origins: origins,
		Methods: []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"},
		Headers: []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "traceparent"},
		Expose: []string{"ETag", "Link", "Location", "RateLimit", "RateLimit-Limit", "RateLimit-Remaining",
			"RateLimit-Reset", "RateLimit-Policy", "Retry-After", "X-Request-Id"},
		MaxAge: 600,
	}
}

// Public is the policy of the anonymous status JSON and badges: any origin may read them
// (they are meant to be embedded), with GET only. Authorization is not allowed across
// origins: a private page stays readable only by same-origin scripts of its token holder.
func Public() Policy {
	return Policy{
		Origins: []string{"*"},
		Methods: []string{"GET", "HEAD"},
		Headers: []string{"If-None-Match"},
		Expose:  []string{"ETag", "RateLimit", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After", "X-Request-Id"},
		MaxAge:  86400,
	}
}

// allowed returns the Access-Control-Allow-Origin value for origin, or "".
func (p Policy) allowed(origin string) string {
	for _, o := range p.Origins {
		if o == "*" {
			return "*"
		}
		if strings.EqualFold(o, origin) {
			return origin
		}
	}
	return ""
}

// Middleware applies p in front of next. A preflight (OPTIONS with
// Access-Control-Request-Method) from an allowed origin gets 204 with the policy; from
// another origin, 204 without any Access-Control header, which the browser reads as a
// refusal. Other requests go on to next, with Allow-Origin and Expose-Headers added for an
// allowed origin.
func (p Policy) Middleware(next http.Handler) http.Handler {
	if len(p.Origins) == 0 {
		return next
	}
	methods := strings.Join(p.Methods, ", ")
	headers := strings.Join(p.Headers, ", ")
	expose := strings.Join(p.Expose, ", ")
	maxAge := strconv.Itoa(p.MaxAge)
	any := p.allowed("") == "*"
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if !any {
			// The answer depends on Origin: caches must key on it.
			h.Add("Vary", "Origin")
		}
		origin := r.Header.Get("Origin")
		allow := ""
		if origin != "" {
			allow = p.allowed(origin)
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			if allow != "" {
				h.Set("Access-Control-Allow-Origin", allow)
				h.Set("Access-Control-Allow-Methods", methods)
				h.Set("Access-Control-Allow-Headers", headers)
				h.Set("Access-Control-Max-Age", maxAge)
			}
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if allow != "" {
			h.Set("Access-Control-Allow-Origin", allow)
			h.Set("Access-Control-Expose-Headers", expose)
		}
		next.ServeHTTP(w, r)
	})
}
