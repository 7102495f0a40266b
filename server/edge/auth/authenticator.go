// Package auth turns a bearer token (and an optional X-Workspace-ID) into the request's
// Principal: who calls, in which workspace, with which role.
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/edge/problem"
)

// WorkspaceHeader selects another workspace the token's user belongs to.
const WorkspaceHeader = "X-Workspace-ID"

// Authenticator resolves tokens against the database, with a short-lived cache so that a
// request does not pay a token lookup each time: a revoked token stops working within CacheTTL.
type Authenticator struct {
	q        *db.Queries
	CacheTTL time.Duration
	now      func() time.Time

	// cache holds successful lookups and denied keeps refusals (bad tokens, foreign
	// workspaces) apart, each bounded on its own: a flood of bogus tokens fills and flushes
	// denied only, and cannot push out the entries of the tokens in use.
	mu     sync.Mutex
	cache  map[cacheKey]cacheEntry
	denied map[cacheKey]cacheEntry
}

type cacheKey struct {
	hash      [32]byte
	workspace string
	kind      access.Kind
}

type cacheEntry struct {
	p       Principal
	err     *problem.Problem
	expires time.Time
}

// maxCacheEntries bounds memory of the good entries; maxDeniedEntries that of refusals, which
// anyone can fill with made-up tokens.
const (
	maxCacheEntries  = 10000
	maxDeniedEntries = 10000
)

// NewAuthenticator returns an Authenticator over q with a 10-second cache.
func NewAuthenticator(q *db.Queries) *Authenticator {
	return &Authenticator{q: q, CacheTTL: 10 * time.Second, now: time.Now, cache: map[cacheKey]cacheEntry{}, denied: map[cacheKey]cacheEntry{}}
}

// Authenticate returns the caller of r. Its error is a *problem.Problem (401, 403) for the
// caller's mistakes, or the database's error when the database could not answer.
func (a *Authenticator) Authenticate(r *http.Request) (Principal, error) {
	token, ok := bearer(r.Header.Get("Authorization"))
	kind, wellFormed := access.KindOf(token)
	if !ok || !wellFormed {
		return Principal{}, invalidToken()
	}
	key := cacheKey{workspace: r.Header.Get(WorkspaceHeader), kind: kind}
	copy(key.hash[:], access.HashToken(token))

	if e, ok := a.cached(key); ok {
		if e.err != nil {
			return Principal{}, e.err
		}
		return e.p, nil
	}
	p, perr, err := a.resolve(r.Context(), key)
	if err != nil {
		return Principal{}, err // database trouble: not cached, not the caller's fault
	}
	a.store(key, cacheEntry{p: p, err: perr, expires: a.now().Add(a.CacheTTL)})
	if perr != nil {
		return Principal{}, perr
	}
	return p, nil
}

// invalidToken is the one answer to a token that is unknown, revoked or malformed, whatever
// its kind: nothing in it tells which.
func invalidToken() *problem.Problem {
	return problem.New(http.StatusUnauthorized, "missing or invalid bearer token")
}

func (a *Authenticator) resolve(ctx context.Context, key cacheKey) (Principal, *problem.Problem, error) {
	if key.kind == access.WorkerToken {
		return a.resolveWorker(ctx, key)
	}
	row, err := a.q.LookupToken(ctx, key.hash[:])
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, invalidToken(), nil
	}
	if err != nil {
		return Principal{}, nil, err
	}
	// The lookup was by hash; compare again in constant time so that no code path ever
	// decides on a token by a byte-by-byte comparison.
	if subtle.ConstantTimeCompare(row.TokenHash, key.hash[:]) != 1 {
		return Principal{}, invalidToken(), nil
	}
	p := Principal{UserID: row.UserID, TokenID: row.TokenID, TokenName: row.TokenName, WorkspaceID: row.WorkspaceID, Role: access.Role(row.Role)}
	if err := a.q.TouchToken(ctx, db.TouchTokenParams{WorkspaceID: row.WorkspaceID, ID: row.TokenID}); err != nil {
		return Principal{}, nil, err
	}
	if key.workspace == "" || key.workspace == p.WorkspaceID.String() {
		return p, nil, nil
	}
	ws, err := uuid.Parse(key.workspace)
	if err != nil {
		return Principal{}, problem.Invalid(problem.FieldError{Field: WorkspaceHeader, Message: "must be a workspace UUID"}), nil
	}
	role, err := a.q.GetMembershipRole(ctx, db.GetMembershipRoleParams{WorkspaceID: ws, UserID: p.UserID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, problem.New(http.StatusForbidden, "you are not a member of workspace "+key.workspace), nil
	}
	if err != nil {
		return Principal{}, nil, err
	}
	p.WorkspaceID, p.Role = ws, access.Role(role)
	return p, nil, nil
}

// resolveWorker resolves a worker token. X-Workspace-ID does not apply: a worker token's
// scope is fixed when it is made.
func (a *Authenticator) resolveWorker(ctx context.Context, key cacheKey) (Principal, *problem.Problem, error) {
	row, err := a.q.LookupWorkerToken(ctx, key.hash[:])
	if errors.Is(err, pgx.ErrNoRows) {
		return Principal{}, invalidToken(), nil
	}
	if err != nil {
		return Principal{}, nil, err
	}
	if subtle.ConstantTimeCompare(row.TokenHash, key.hash[:]) != 1 {
		return Principal{}, invalidToken(), nil
	}
	if err := a.q.TouchWorkerToken(ctx, row.ID); err != nil {
		return Principal{}, nil, err
	}
	p := Principal{TokenID: row.ID, TokenName: row.Name, Kind: access.WorkerToken, Shared: row.WorkspaceID == nil}
	if row.WorkspaceID != nil {
		p.WorkspaceID = *row.WorkspaceID
	}
	if row.Location != nil {
		p.WorkerLocation = *row.Location
	}
	return p, nil, nil
}

func (a *Authenticator) cached(key cacheKey) (cacheEntry, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[key]
	if !ok {
		e, ok = a.denied[key]
	}
	if !ok || a.now().After(e.expires) {
		return cacheEntry{}, false
	}
	return e, true
}

func (a *Authenticator) store(key cacheKey, e cacheEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, limit := a.cache, maxCacheEntries
	if e.err != nil {
		m, limit = a.denied, maxDeniedEntries
		delete(a.cache, key)
	} else {
		delete(a.denied, key)
	}
	if len(m) >= limit {
		now := a.now()
		for k, old := range m {
			if now.After(old.expires) {
				delete(m, k)
			}
		}
	}
	if len(m) >= limit {
		if e.err == nil {
			// Every good entry is live: do without caching this one rather than drop them.
			return
		}
		clear(m) // refusals only: cheap to lose
	}
	m[key] = e
}

// Forget drops every cached decision, so that a revocation in this process applies at once.
func (a *Authenticator) Forget() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.cache)
	clear(a.denied)
}

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
