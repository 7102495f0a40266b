// Package idempotency makes POST requests safe to retry. A POST carrying an Idempotency-Key
// header is recorded under that key (per workspace) before it runs; the same key, method, path
// (with its query) and body within the retention time then replays the first response instead
// of acting twice.
// The same key on a different request is refused with 422, and a key whose first request is
// still running answers 409 with Retry-After. Responses with a 5xx status are not kept, so a
// retry after a failure runs again.
//
// The middleware needs the caller's workspace, so it runs behind authentication: in SecuMon,
// inside the contract gate (gate.Middleware(keys.Middleware(api))), which has also checked the
// key's length and the body by then.
package idempotency

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/edge/reqid"
)

// Header is the request header carrying the client's key.
const Header = "Idempotency-Key"

// ReplayedHeader is set to "true" on a replayed response.
const ReplayedHeader = "Idempotent-Replayed"

// MaxKeyLength is the longest key accepted (the contract says the same).
const MaxKeyLength = 255

// Options tune the middleware; zero values take the defaults in parentheses.
type Options struct {
	TTL time.Duration // how long a key is remembered (24 h)
	// AbandonAfter is the age after which a request still marked in flight is presumed lost
	// (its process died) and its key may be used again (30 min).
	AbandonAfter time.Duration
	PurgeEvery   time.Duration // how often expired keys are deleted (1 h)
	// OnError renders errors that are not the caller's fault (the database is down…).
	OnError func(w http.ResponseWriter, r *http.Request, err error)
	Log     *slog.Logger
	// Now is the clock that ages keys (time.Now); the rows' creation times come from the
	// database, so it may only run ahead of it, as tests do to expire keys.
	Now func() time.Time
}

// Keys is the middleware with its store.
type Keys struct {
	q         *db.Queries
	o         Options
	lastPurge atomic.Int64 // unix nanoseconds of the last purge started
}

// New builds the middleware over the idempotency_keys table.
func New(q *db.Queries, o Options) *Keys {
	if o.TTL <= 0 {
		o.TTL = 24 * time.Hour
	}
	if o.AbandonAfter <= 0 {
		// Longer than any request runs (bulk AI tagging of 200 hosts takes minutes), so only
		// a request whose process died is taken over.
		o.AbandonAfter = 30 * time.Minute
	}
	if o.PurgeEvery <= 0 {
		o.PurgeEvery = time.Hour
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.OnError == nil {
		o.OnError = func(w http.ResponseWriter, r *http.Request, err error) {
			o.Log.Error("idempotency store failed", "request_id", reqid.From(r.Context()), "err", err)
			problem.Write(w, r, problem.Unavailable("the idempotency store is unavailable; retry shortly"))
		}
	}
	return &Keys{q: q, o: o}
}

// Middleware applies idempotency to the POST requests next serves. Requests without the
// header, other methods and requests without an authenticated caller pass through untouched.
func (k *Keys) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(Header)
		caller, authenticated := auth.FromContext(r.Context())
		if r.Method != http.MethodPost || key == "" || !authenticated {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > MaxKeyLength {
			problem.Write(w, r, problem.Invalid(problem.FieldError{Field: Header, Message: "longer than " + strconv.Itoa(MaxKeyLength) + " characters"}))
			return
		}
		sum, body, err := spool(r.Body)
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				problem.Write(w, r, problem.Newf(http.StatusRequestEntityTooLarge, "the body is limited to %d bytes", tooBig.Limit))
				return
			}
			problem.Write(w, r, problem.Invalid(problem.FieldError{Field: "body", Message: err.Error()}))
			return
		}
		defer body.Close()
		r.Body = body
		req := request{workspace: caller.WorkspaceID, key: key, method: r.Method, path: target(r), sum: sum}
		if caller.Worker() {
			// A worker token's keys are its own: other tokens of the workspace (or, for
			// installation-wide tokens, kept under the nil workspace, of the installation)
			// never see them.
			req.key = "worker/" + caller.TokenID.String() + "/" + key
		}
		k.maybePurge()
		k.serve(w, r, next, req)
	})
}

// spoolInMemory is the largest body spool keeps in memory.
const spoolInMemory = 1 << 20

// spool reads body to its end, hashing it, and returns a reader over the same bytes: small
// bodies in memory, larger ones (scanner reports of up to 20 MiB) in an unlinked temporary
// file, so that a key never makes a process hold a large body whole. Closing the reader
// releases the file.
func spool(body io.Reader) (sum [sha256.Size]byte, _ io.ReadCloser, err error) {
	h := sha256.New()
	tee := io.TeeReader(body, h)
	var mem bytes.Buffer
	if _, err := io.CopyN(&mem, tee, spoolInMemory); errors.Is(err, io.EOF) {
		copy(sum[:], h.Sum(nil))
		return sum, io.NopCloser(bytes.NewReader(mem.Bytes())), nil
	} else if err != nil {
		return sum, nil, err
	}
	f, err := os.CreateTemp("", "secumon-body-*")
	if err != nil {
		return sum, nil, err
	}
	_ = os.Remove(f.Name()) // the open file lives on until closed
	if _, err := io.Copy(f, io.MultiReader(&mem, tee)); err != nil {
		_ = f.Close()
		return sum, nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		_ = f.Close()
		return sum, nil, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, f, nil
}

// target is the request's path with its query: POST /app-security/reports?project=a and
// ?project=b are different requests, which must not share a key. Encode sorts the
// parameters, so their order does not matter.
func target(r *http.Request) string {
	if q := r.URL.Query(); len(q) > 0 {
		return r.URL.Path + "?" + q.Encode()
	}
	return r.URL.Path
}

// request is what identifies a request under its key.
type request struct {
	workspace    uuid.UUID
	key          string
	method, path string
	sum          [sha256.Size]byte
}

func (k *Keys) serve(w http.ResponseWriter, r *http.Request, next http.Handler, req request) {
	ctx := r.Context()
	// Claim, or read the row of whoever holds the key. A holder may release its key between
	// our two queries (its request failed), hence the second round.
	for range 2 {
		now := k.o.Now()
		claimedAt, err := k.q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{
			WorkspaceID: req.workspace, Key: req.key, Method: req.method, Path: req.path, BodySha256: req.sum[:],
			ExpiredBefore: now.Add(-k.o.TTL), AbandonedBefore: now.Add(-k.o.AbandonAfter),
		})
		if err == nil {
			k.run(w, r, next, req, claimedAt)
			return
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			k.o.OnError(w, r, err)
			return
		}
		row, err := k.q.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{WorkspaceID: req.workspace, Key: req.key})
		if errors.Is(err, pgx.ErrNoRows) {
			continue
		}
		if err != nil {
			k.o.OnError(w, r, err)
			return
		}
		answer(w, r, row, req)
		return
	}
	p := problem.Conflict("another request with this %s is being processed; retry shortly", Header)
	p.RetryAfter = 1
	problem.Write(w, r, p)
}

// answer responds to a request whose key is already taken.
func answer(w http.ResponseWriter, r *http.Request, row db.IdempotencyKey, req request) {
	if row.Method != req.method || row.Path != req.path || !bytes.Equal(row.BodySha256, req.sum[:]) {
		p := problem.New(http.StatusUnprocessableEntity, Header+" was already used for a different request ("+
			row.Method+" "+row.Path+" with another body or path); use a new key for a new request")
		p.Errors = []problem.FieldError{{Field: Header, Message: "already used for a different request"}}
		problem.Write(w, r, p)
		return
	}
	if row.Status == nil {
		p := problem.Conflict("the first request with this %s is still being processed; retry shortly", Header)
		p.RetryAfter = 1
		problem.Write(w, r, p)
		return
	}
	h := w.Header()
	if row.ContentType != "" {
		h.Set("Content-Type", row.ContentType)
	}
	h.Set(ReplayedHeader, "true")
	w.WriteHeader(int(*row.Status))
	_, _ = w.Write(row.Body)
}

// run executes the request that holds the key, then keeps its response, or forgets the key
// when the response is a failure worth retrying.
// claimedAt identifies this claim of the key, so that only it completes or releases the row.
func (k *Keys) run(w http.ResponseWriter, r *http.Request, next http.Handler, req request, claimedAt time.Time) {
	// The outcome is recorded even when the caller has gone: the work is done either way.
	ctx := context.WithoutCancel(r.Context())
	done := false
	defer func() {
		if !done { // the handler panicked: let a retry run again
			k.release(ctx, req, claimedAt)
		}
	}()
	rec := &recorder{header: http.Header{}}
	next.ServeHTTP(rec, r)
	done = true
	if rec.status == 0 { // nothing written: an empty 200, which is also what is stored
		rec.status = http.StatusOK
	}

	// 499: the client went away before an answer existed; 5xx: the request failed. Either
	// way a retry must run again rather than replay this.
	if rec.status >= 500 || rec.status == 499 {
		k.release(ctx, req, claimedAt)
	} else {
		err := k.q.CompleteIdempotencyKey(ctx, db.CompleteIdempotencyKeyParams{
			WorkspaceID: req.workspace, Key: req.key, Status: ptr(int32(rec.status)),
			ContentType: rec.header.Get("Content-Type"), Body: rec.body.Bytes(), ClaimedAt: claimedAt,
		})
		if err != nil {
			// The response is still the truth for this caller; only a retry loses its replay.
			k.o.Log.Warn("storing an idempotent response failed", "request_id", reqid.From(r.Context()), "err", err)
		}
	}
	rec.sendTo(w)
}

func (k *Keys) release(ctx context.Context, req request, claimedAt time.Time) {
	if err := k.q.ReleaseIdempotencyKey(ctx, db.ReleaseIdempotencyKeyParams{WorkspaceID: req.workspace, Key: req.key, ClaimedAt: claimedAt}); err != nil {
		k.o.Log.Warn("releasing an idempotency key failed", "err", err)
	}
}

// maybePurge deletes expired keys at most once per PurgeEvery, in the background: the table
// only holds a day of keys, and lookups ignore expired rows anyway.
func (k *Keys) maybePurge() {
	now := k.o.Now()
	last := k.lastPurge.Load()
	if now.UnixNano()-last < int64(k.o.PurgeEvery) || !k.lastPurge.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		n, err := k.Purge(ctx)
		if err != nil {
			k.o.Log.Debug("purging idempotency keys failed", "err", err)
			return
		}
		k.o.Log.Debug("purged idempotency keys", "deleted", n)
	}()
}

// Purge deletes the keys older than the TTL and says how many went.
func (k *Keys) Purge(ctx context.Context) (int64, error) {
	return k.q.PurgeIdempotencyKeys(ctx, k.o.Now().Add(-k.o.TTL))
}

// recorder buffers a response so that it can be stored before it is sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) sendTo(w http.ResponseWriter) {
	for name, values := range r.header {
		w.Header()[name] = values
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

func ptr[T any](v T) *T { return &v }
