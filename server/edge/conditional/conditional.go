// Package conditional gives API answers their validators and honours conditional requests:
//
//   - a GET answer 200 gets a strong ETag, the hash of its body (Tag), unless the handler set
//     one; If-None-Match matching it turns the answer into 304 without a body (ETag,
//     Cache-Control and Vary kept);
//   - a list answer whose body has a next_cursor gets Link: <same query, cursor=…>; rel="next";
//   - a PUT, PATCH or DELETE with If-Match is checked against the current ETag of the resource,
//     found by running GET on the same path through the same handler as the same caller:
//     a mismatch (or no current resource) is 412; the check and the write hold a lock on the
//     path (see Locker), so two conditional writers cannot both pass on the same ETag;
//   - a PUT answer 200 carries the ETag of the representation it returns.
//
// It runs inside the contract gate: the caller is authenticated and the request validated.
package conditional

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"

	"github.com/secuaas/secumon/server/edge/problem"
)

// Tag is the strong entity tag of a body: the first 128 bits of its SHA-256, base64url.
func Tag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`
}

// Locker serializes conditional writes to one resource across processes; Lock blocks until
// key is held and returns its release.
type Locker interface {
	Lock(ctx context.Context, key string) (unlock func(), err error)
}

// Options configure the middleware.
type Options struct {
	// Locks, when set, is taken (after the in-process lock) around each conditional write:
	// with several API processes on one database, PgLocks.
	Locks Locker
	// OnError renders a failure to take a lock.
	OnError func(http.ResponseWriter, *http.Request, error)
}

// Middleware wraps the API handler (behind the gate).
func Middleware(o Options) func(http.Handler) http.Handler {
	locks := &pathLocks{held: map[string]*pathLock{}}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodGet:
				read(w, r, next)
			case http.MethodPut, http.MethodPatch, http.MethodDelete:
				if r.Header.Get("If-Match") == "" {
					write(w, r, next)
					return
				}
				unlock := locks.lock(r.URL.Path)
				defer unlock()
				if o.Locks != nil {
					release, err := o.Locks.Lock(r.Context(), r.URL.Path)
					if err != nil {
						o.OnError(w, r, err)
						return
					}
					defer release()
				}
				if !preconditionHolds(w, r, next) {
					return
				}
				write(w, r, next)
			default:
				next.ServeHTTP(w, r)
			}
		})
	}
}

// read serves a GET, adding ETag and Link to a 200 and answering 304 when If-None-Match
// matches.
func read(w http.ResponseWriter, r *http.Request, next http.Handler) {
	rec := &recorder{header: w.Header()}
	next.ServeHTTP(rec, r)
	if rec.status() != http.StatusOK {
		rec.sendTo(w)
		return
	}
	h := w.Header()
	etag := h.Get("ETag")
	if etag == "" {
		etag = Tag(rec.body.Bytes())
		h.Set("ETag", etag)
	}
	if link := nextLink(r, h.Get("Content-Type"), rec.body.Bytes()); link != "" {
		h.Set("Link", link)
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && MatchesWeak(inm, etag) {
		h.Del("Content-Type")
		h.Del("Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	rec.sendTo(w)
}

// write serves a write; a PUT's 200 carries the ETag of the representation it returns.
func write(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodPut {
		next.ServeHTTP(w, r)
		return
	}
	rec := &recorder{header: w.Header()}
	next.ServeHTTP(rec, r)
	if rec.status() == http.StatusOK && w.Header().Get("ETag") == "" {
		w.Header().Set("ETag", Tag(rec.body.Bytes()))
	}
	rec.sendTo(w)
}

// preconditionHolds evaluates If-Match against the current representation of r's path and
// answers 412 itself when it does not hold.
func preconditionHolds(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
	get := r.Clone(r.Context())
	get.Method = http.MethodGet
	get.Body = http.NoBody
	get.ContentLength = 0
	get.GetBody = nil
	for _, k := range []string{"If-Match", "If-None-Match", "Content-Type", "Content-Length", "Idempotency-Key"} {
		get.Header.Del(k)
	}
	rec := &recorder{header: http.Header{}}
	next.ServeHTTP(rec, get)
	switch rec.status() {
	case http.StatusOK:
		current := rec.header.Get("ETag")
		if current == "" {
			current = Tag(rec.body.Bytes())
		}
		if matchesStrong(r.Header.Get("If-Match"), current) {
			return true
		}
		failed(w, r, "If-Match: the resource has changed; its current ETag is "+current)
	case http.StatusNotFound:
		failed(w, r, "If-Match: there is no current "+r.URL.Path)
	case http.StatusMethodNotAllowed:
		failed(w, r, "If-Match: "+r.URL.Path+" has no representation to compare with")
	default:
		// The read failed (database unavailable…): its answer is the answer.
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		rec.sendTo(w)
	}
	return false
}

func failed(w http.ResponseWriter, r *http.Request, detail string) {
	problem.Write(w, r, problem.New(http.StatusPreconditionFailed, detail))
}

// MatchesWeak is If-None-Match's comparison (RFC 9110 weak comparison): any tag of header
// equal to etag once W/ prefixes are ignored, or "*". The status pages use it too.
func MatchesWeak(header, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == want {
			return true
		}
	}
	return false
}

// matchesStrong is If-Match's comparison: a weak tag never matches; "*" matches any current
// representation.
func matchesStrong(header, etag string) bool {
	if strings.HasPrefix(etag, "W/") {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// nextLink is the Link header of a list page whose body names a next_cursor: the same
// request with cursor replaced, root-relative.
func nextLink(r *http.Request, contentType string, body []byte) string {
	if !strings.HasPrefix(contentType, "application/json") || !bytes.Contains(body, []byte(`"next_cursor"`)) {
		return ""
	}
	var page struct {
		NextCursor *string `json:"next_cursor"`
	}
	if json.Unmarshal(body, &page) != nil || page.NextCursor == nil || *page.NextCursor == "" {
		return ""
	}
	q := r.URL.Query()
	q.Set("cursor", *page.NextCursor)
	return "<" + r.URL.Path + "?" + q.Encode() + `>; rel="next"`
}

// recorder keeps an answer until the middleware has looked at it. header is the header map
// the handler writes to: the real one for the request's own answer.
type recorder struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (c *recorder) Header() http.Header { return c.header }

func (c *recorder) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
}

func (c *recorder) Write(p []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.body.Write(p)
}

func (c *recorder) status() int {
	if c.code == 0 {
		return http.StatusOK
	}
	return c.code
}

// sendTo writes the kept status and body to w (whose header map the handler already filled).
func (c *recorder) sendTo(w http.ResponseWriter) {
	w.WriteHeader(c.status())
	_, _ = w.Write(c.body.Bytes())
}

// pathLocks is one mutex per path with conditional writes in flight.
type pathLocks struct {
	mu   sync.Mutex
	held map[string]*pathLock
}

type pathLock struct {
	sync.Mutex
	users int
}

func (p *pathLocks) lock(path string) (unlock func()) {
	p.mu.Lock()
	l := p.held[path]
	if l == nil {
		l = &pathLock{}
		p.held[path] = l
	}
	l.users++
	p.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		p.mu.Lock()
		if l.users--; l.users == 0 {
			delete(p.held, path)
		}
		p.mu.Unlock()
	}
}
