package ratelimit

import (
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"
)

// Memory is bounded: past MaxKeys new keys share the overflow bucket (tracked keys keep
// their state), and keys idle for IdleAfter are evicted.
func TestBucketsBounded(t *testing.T) {
	s := newBuckets("token", rate.Limit(1), 2, 3, time.Minute)
	now := time.Unix(1_000_000, 0)
	a := s.get("a", now)
	require.True(t, a.AllowN(now, 2))
	s.get("b", now)
	s.get("c", now)
	require.Same(t, s.overflow, s.get("d", now), "a fourth key goes to the overflow bucket")
	require.Equal(t, 3, s.Len())
	require.Same(t, a, s.get("a", now), "a tracked key keeps its bucket (and its spent tokens)")
	require.False(t, a.AllowN(now, 1))

	later := now.Add(2 * time.Minute)
	require.NotSame(t, s.overflow, s.get("d", later), "idle keys were evicted, making room")
	assert.Equal(t, 1, s.Len())
}

// X-Forwarded-For is believed only from trusted proxies, read from the right.
func TestClientAddr(t *testing.T) {
	l := New(Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	req := func(peer, xff string) string {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return l.clientAddr(r)
	}
	assert.Equal(t, "192.0.2.1", req("192.0.2.1:5000", "198.51.100.9"), "untrusted peer: header ignored")
	assert.Equal(t, "198.51.100.9", req("10.1.1.1:5000", "198.51.100.9"))
	assert.Equal(t, "198.51.100.9", req("10.1.1.1:5000", "203.0.113.5, 198.51.100.9, 10.2.2.2"), "rightmost untrusted hop")
	assert.Equal(t, "10.1.1.1", req("10.1.1.1:5000", "garbage"))
}
