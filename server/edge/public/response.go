package public

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	gen "github.com/secuaas/secumon/gen/public"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/conditional"
	"github.com/secuaas/secumon/server/edge/problem"
)

// representation is a rendered body with its validator, written as it is to every request
// (no encoding per request: the cached bytes go out).
type representation struct {
	body        []byte
	gzipped     []byte // body compressed once, for clients that accept gzip; nil for small bodies
	etag        string
	contentType string
}

// newRepresentation prepares body; bodies worth it are also compressed, once.
func newRepresentation(body []byte, etag, contentType string) representation {
	r := representation{body: body, etag: etag, contentType: contentType}
	if len(body) >= 1024 {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		r.gzipped = b.Bytes()
	}
	return r
}

// answer is the response to the request described by ctx that sent ifNoneMatch.
func (r representation) answer(ctx context.Context, ifNoneMatch *string, cacheControl string) response {
	return response{rep: r, cacheControl: cacheControl, gzip: requestFrom(ctx).gzip,
		notModified: ifNoneMatch != nil && conditional.MatchesWeak(*ifNoneMatch, r.etag)}
}

// pageCSP is the status page's Content-Security-Policy.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// response implements the response interfaces of the four generated operations.
type response struct {
	rep          representation
	cacheControl string
	gzip         bool
	notModified  bool
}

func (r response) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("ETag", r.rep.etag)
	h.Set("Cache-Control", r.cacheControl)
	// A token can show a private page at the same URL: caches must key on it.
	h.Set("Vary", "Authorization, Accept-Encoding")
	if r.notModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	body := r.rep.body
	if r.gzip && r.rep.gzipped != nil {
		body = r.rep.gzipped
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("Content-Type", r.rep.contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(r.rep.contentType, "text/html") {
		// The page is self-contained (inline style, no script): allow nothing else, and no
		// framing, so it cannot be loaded under another site's UI.
		h.Set("Content-Security-Policy", pageCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
	}
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(body)
	return err
}

func (r response) VisitGetPublicStatusPageResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r response) VisitGetPublicStatusJSONResponse(w http.ResponseWriter) error  { return r.write(w) }
func (r response) VisitGetPublicStatusBadgeResponse(w http.ResponseWriter) error { return r.write(w) }
func (r response) VisitGetPublicStatusRSSResponse(w http.ResponseWriter) error   { return r.write(w) }

func jsonBody(st gen.PublicStatus) ([]byte, error) {
	b, err := json.Marshal(st)
	return append(b, '\n'), err
}

// Middleware runs before the generated routes: a request with a bearer token is
// authenticated (401 when the token is bad, as in the API) so that its caller's private pages
// become visible; a request without one stays anonymous. It also records the scheme and host
// the request came to, for the feed's absolute links.
func Middleware(authn interface {
	Authenticate(r *http.Request) (auth.Principal, error)
}, onError func(http.ResponseWriter, *http.Request, error)) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := context.WithValue(r.Context(), requestKey{}, requestInfo{r: r, gzip: acceptsGzip(r)})
			if r.Header.Get("Authorization") != "" {
				p, err := authn.Authenticate(r)
				if err != nil {
					onError(w, r, err)
					return
				}
				if p.Worker() {
					// A worker token serves the worker protocol only: no private pages.
					onError(w, r, problem.New(http.StatusForbidden, "a worker token is accepted by the worker operations (/api/v2/worker/…) only"))
					return
				}
				ctx = auth.WithPrincipal(ctx, p)
			}
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// requestInfo is what the responses need to know of the request, which the strict handlers
// do not see.
type requestInfo struct {
	r    *http.Request // nil outside Middleware
	gzip bool          // the client accepts gzip
}

// base is the scheme and host the request came to, for absolute links.
func (i requestInfo) base() string {
	if i.r == nil {
		return "http://localhost"
	}
	return requestBase(i.r)
}

type requestKey struct{}

// requestFrom returns the request's requestInfo (see Middleware).
func requestFrom(ctx context.Context) requestInfo {
	if info, ok := ctx.Value(requestKey{}).(requestInfo); ok {
		return info
	}
	return requestInfo{}
}

// acceptsGzip reads Accept-Encoding: gzip listed without q=0.
func acceptsGzip(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept-Encoding") {
		for _, coding := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(strings.TrimSpace(coding), ";")
			if strings.EqualFold(strings.TrimSpace(name), "gzip") {
				q := strings.ReplaceAll(params, " ", "")
				return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
			}
		}
	}
	return false
}

// requestBase is how the client reached us: behind a TLS-terminating proxy the scheme comes
// from X-Forwarded-Proto.
func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	host := r.Host
	if host == "" || strings.ContainsAny(host, "/\\ \"<>") {
		host = "localhost"
	}
	return scheme + "://" + host
}

// NoRoute answers what the public routes do not serve, as problem documents like the rest of
// the service: 405 for a method other than GET, 404 otherwise. Mount it at "/" of the router
// the generated routes are added to.
func NoRoute(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		problem.Write(w, r, problem.Newf(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
		return
	}
	problem.Write(w, r, problem.Newf(http.StatusNotFound, "nothing at %s", r.URL.Path))
}
