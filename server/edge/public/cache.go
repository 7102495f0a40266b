package public

import (
	"context"
	"errors"
	"sync"
	"time"
)

// cache keeps each page's snapshot for a TTL, so that PostgreSQL sees one load per page and
// TTL whatever the traffic:
//   - concurrent misses of one key share one load;
//   - an expired snapshot keeps being served while one background load replaces it (and
//     while the database is unreachable: a status page should stay up when the service is
//     in trouble; generated_at tells its age);
//   - "no such page" is cached like a page, so unknown slugs cost little too;
//   - at most max keys are held: past it, expired keys go first, then any.
type cache struct {
	ttl    time.Duration
	errTTL time.Duration // how long another error is shared before a retry
	max    int
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*entry
}

// entry is one key's load. Its fields are written once, before ready is closed; refreshing
// is guarded by cache.mu.
type entry struct {
	ready      chan struct{}
	snap       *snapshot
	err        error
	expires    time.Time
	refreshing bool
}

func (e *entry) done() bool {
	select {
	case <-e.ready:
		return true
	default:
		return false
	}
}

func newCache(ttl time.Duration, max int) *cache {
	return &cache{ttl: ttl, errTTL: time.Second, max: max, now: time.Now, m: map[string]*entry{}}
}

// get returns key's snapshot, loading it with load when the cache has none.
func (c *cache) get(ctx context.Context, key string, load func(context.Context) (*snapshot, error)) (*snapshot, error) {
	c.mu.Lock()
	e, ok := c.m[key]
	switch {
	case ok && !e.done():
		c.mu.Unlock()
		return wait(ctx, e)
	case ok && c.now().Before(e.expires):
		c.mu.Unlock()
		return e.snap, e.err
	case ok && e.snap != nil:
		if !e.refreshing {
			e.refreshing = true
			go c.refresh(key, e, load)
		}
		c.mu.Unlock()
		return e.snap, nil
	}
	e = &entry{ready: make(chan struct{})}
	c.makeRoom()
	c.m[key] = e
	c.mu.Unlock()
	c.fill(e, load)
	return e.snap, e.err
}

func wait(ctx context.Context, e *entry) (*snapshot, error) {
	select {
	case <-e.ready:
		return e.snap, e.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill runs load for e, detached from the request that triggered it: other requests wait
// for the same load.
func (c *cache) fill(e *entry, load func(context.Context) (*snapshot, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.snap, e.err = load(ctx)
	ttl := c.ttl
	if e.err != nil && !errors.Is(e.err, errPageNotFound) {
		ttl = c.errTTL
	}
	e.expires = c.now().Add(ttl)
	close(e.ready)
}

// refresh replaces old by a new load, unless that load failed for another reason than the
// page being gone: then old is served a while longer.
func (c *cache) refresh(key string, old *entry, load func(context.Context) (*snapshot, error)) {
	e := &entry{ready: make(chan struct{})}
	c.fill(e, load)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m[key] != old {
		return
	}
	if e.err != nil && !errors.Is(e.err, errPageNotFound) {
		old.expires = e.expires
		old.refreshing = false
		return
	}
	c.m[key] = e
}

// makeRoom keeps the map under max entries; c.mu is held.
func (c *cache) makeRoom() {
	if len(c.m) < c.max {
		return
	}
	now := c.now()
	for k, e := range c.m {
		if e.done() && !now.Before(e.expires) && !e.refreshing {
			delete(c.m, k)
		}
	}
	for k, e := range c.m { // map order is random: a random eviction
		if len(c.m) < c.max {
			return
		}
		if e.done() {
			delete(c.m, k)
		}
	}
}
