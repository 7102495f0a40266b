package public

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/edge/conditional"
)

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestCache(ttl time.Duration, max int) (*cache, *fakeClock) {
	clock := &fakeClock{t: time.Unix(1_800_000_000, 0)}
	c := newCache(ttl, max)
	c.now = clock.now
	return c, clock
}

func TestCacheSharesOneLoadAmongConcurrentMisses(t *testing.T) {
	c, _ := newTestCache(5*time.Second, 10)
	var loads atomic.Int64
	release := make(chan struct{})
	load := func(context.Context) (*snapshot, error) {
		loads.Add(1)
		<-release
		return &snapshot{version: "v1"}, nil
	}
	var wg sync.WaitGroup
	got := make([]*snapshot, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := c.get(context.Background(), "k", load)
			assert.NoError(t, err)
			got[i] = s
		}()
	}
	time.Sleep(50 * time.Millisecond) // let them all queue on the one load
	close(release)
	wg.Wait()
	assert.Equal(t, int64(1), loads.Load())
	for _, s := range got {
		assert.Same(t, got[0], s)
	}
}

func TestCacheServesStaleWhileOneRefreshRuns(t *testing.T) {
	c, clock := newTestCache(5*time.Second, 10)
	var loads atomic.Int64
	refreshed := make(chan struct{}, 10)
	load := func(context.Context) (*snapshot, error) {
		n := loads.Add(1)
		if n > 1 {
			defer func() { refreshed <- struct{}{} }()
		}
		return &snapshot{version: fmt.Sprint(n)}, nil
	}
	s, err := c.get(context.Background(), "k", load)
	require.NoError(t, err)
	assert.Equal(t, "1", s.version)
	clock.advance(4 * time.Second)
	s, _ = c.get(context.Background(), "k", load)
	assert.Equal(t, "1", s.version, "fresh: no load")
	assert.Equal(t, int64(1), loads.Load())

	clock.advance(2 * time.Second)
	for range 20 {
		s, _ = c.get(context.Background(), "k", load)
		assert.Equal(t, "1", s.version, "expired: the old one while the new one loads")
	}
	<-refreshed
	require.Eventually(t, func() bool {
		s, _ := c.get(context.Background(), "k", load)
		return s.version == "2"
	}, time.Second, time.Millisecond)
	assert.Equal(t, int64(2), loads.Load(), "one refresh for all the requests")
}

func TestCacheKeepsTheLastGoodSnapshotWhenTheDatabaseFails(t *testing.T) {
	c, clock := newTestCache(time.Second, 10)
	fail := atomic.Bool{}
	load := func(context.Context) (*snapshot, error) {
		if fail.Load() {
			return nil, errors.New("database down")
		}
		return &snapshot{version: "good"}, nil
	}
	_, err := c.get(context.Background(), "k", load)
	require.NoError(t, err)
	fail.Store(true)
	for range 5 {
		clock.advance(2 * time.Second)
		s, err := c.get(context.Background(), "k", load)
		require.NoError(t, err)
		assert.Equal(t, "good", s.version)
		time.Sleep(5 * time.Millisecond) // let the failed refresh finish
	}
	// A page that was never loaded reports the error.
	_, err = c.get(context.Background(), "other", load)
	assert.ErrorContains(t, err, "database down")
}

func TestCacheRemembersMissingPagesAndForgetsDeletedOnes(t *testing.T) {
	c, clock := newTestCache(time.Second, 10)
	var loads atomic.Int64
	exists := atomic.Bool{}
	load := func(context.Context) (*snapshot, error) {
		loads.Add(1)
		if !exists.Load() {
			return nil, errPageNotFound
		}
		return &snapshot{version: "v"}, nil
	}
	for range 10 {
		_, err := c.get(context.Background(), "k", load)
		assert.ErrorIs(t, err, errPageNotFound)
	}
	assert.Equal(t, int64(1), loads.Load(), "not found is cached too")
	exists.Store(true)
	clock.advance(2 * time.Second)
	s, err := c.get(context.Background(), "k", load)
	require.NoError(t, err)
	assert.Equal(t, "v", s.version)

	// Deleted: after the TTL, the refresh's 404 replaces the snapshot.
	exists.Store(false)
	clock.advance(2 * time.Second)
	_, _ = c.get(context.Background(), "k", load) // starts the refresh
	require.Eventually(t, func() bool {
		_, err := c.get(context.Background(), "k", load)
		return errors.Is(err, errPageNotFound)
	}, time.Second, time.Millisecond)
}

func TestCacheIsBounded(t *testing.T) {
	c, clock := newTestCache(time.Second, 8)
	load := func(context.Context) (*snapshot, error) { return &snapshot{}, nil }
	for i := range 100 {
		_, err := c.get(context.Background(), fmt.Sprint("slug-", i), load)
		require.NoError(t, err)
		if i%10 == 0 {
			clock.advance(2 * time.Second)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.LessOrEqual(t, len(c.m), 8)
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Site web":             "site-web",
		"Base de données (EU)": "base-de-donnees-eu",
		"  API -- v2  ":        "api-v2",
		"Œuvre à l'été":        "oeuvre-a-l-ete",
		"日本":                   "",
	} {
		assert.Equal(t, want, Slugify(in), in)
	}
}

func TestConditionalAndEncodingHeaders(t *testing.T) {
	etag := `W/"abc-json"`
	assert.True(t, conditional.MatchesWeak(`W/"abc-json"`, etag))
	assert.True(t, conditional.MatchesWeak(`"abc-json"`, etag), "weak comparison")
	assert.True(t, conditional.MatchesWeak(`"x", W/"abc-json"`, etag))
	assert.True(t, conditional.MatchesWeak(`*`, etag))
	assert.False(t, conditional.MatchesWeak(`W/"abc-html"`, etag))
	for header, want := range map[string]bool{
		"gzip": true, "br, gzip;q=0.5": true, "deflate": false, "gzip;q=0": false, "GZIP": true, "": false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Accept-Encoding", header)
		}
		assert.Equal(t, want, acceptsGzip(r), header)
	}
	assert.True(t, validSlug("web-prod"))
	for _, bad := range []string{"", "-web", "web-", "Web", "web_prod", "web prod"} {
		assert.False(t, validSlug(bad), bad)
	}
}
