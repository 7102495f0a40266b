package auth

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/edge/problem"
)

// A flood of bogus tokens (each a cached refusal) must not evict the entries of good tokens:
// before, the cache was cleared whole when full, so every caller paid a database lookup again.
func TestDeniedFloodKeepsGoodEntries(t *testing.T) {
	a := NewAuthenticator(nil)
	good := cacheKey{hash: sha256.Sum256([]byte("good"))}
	p := Principal{UserID: uuid.New(), WorkspaceID: uuid.New()}
	a.store(good, cacheEntry{p: p, expires: a.now().Add(time.Minute)})

	denied := problem.New(http.StatusUnauthorized, "missing or invalid bearer token")
	for i := range 3 * maxDeniedEntries {
		k := cacheKey{hash: sha256.Sum256([]byte(fmt.Sprint("bogus", i)))}
		a.store(k, cacheEntry{err: denied, expires: a.now().Add(time.Minute)})
	}
	e, ok := a.cached(good)
	require.True(t, ok, "the good token's entry was evicted by the flood")
	require.Equal(t, p, e.p)
	require.LessOrEqual(t, len(a.denied), maxDeniedEntries)

	// A refusal is still served from the cache.
	last := cacheKey{hash: sha256.Sum256([]byte(fmt.Sprint("bogus", 3*maxDeniedEntries-1)))}
	e, ok = a.cached(last)
	require.True(t, ok)
	require.Equal(t, http.StatusUnauthorized, e.err.Status)
}

// When the good entries are full and all live, a new one is not cached rather than flushing
// the others.
func TestFullCacheKeepsLiveEntries(t *testing.T) {
	a := NewAuthenticator(nil)
	for i := range maxCacheEntries {
		a.store(cacheKey{hash: sha256.Sum256([]byte(fmt.Sprint(i)))}, cacheEntry{expires: a.now().Add(time.Minute)})
	}
	a.store(cacheKey{hash: sha256.Sum256([]byte("new"))}, cacheEntry{expires: a.now().Add(time.Minute)})
	_, ok := a.cached(cacheKey{hash: sha256.Sum256([]byte("0"))})
	require.True(t, ok)
	require.Len(t, a.cache, maxCacheEntries)
}
