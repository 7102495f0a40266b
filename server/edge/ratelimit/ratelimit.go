// Package ratelimit limits API and status-page requests with token buckets: per bearer token,
// per client address for anonymous requests, and (much stricter) per client address for
// failed authentications. Limits are per process: each replica counts on its own.
//
// Answers carry the IETF RateLimit and RateLimit-Policy headers
// (draft-ietf-httpapi-ratelimit-headers) and the RateLimit-Limit / -Remaining / -Reset forms
// the Go SDK reads; refused requests get 429 problem+json with Retry-After.
package ratelimit

import (
	"crypto/sha256"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/platform/metrics"
)

// Config are the limits; zero values take the defaults, a negative rate turns a limit off.
type Config struct {
	// TokenRate and TokenBurst limit each bearer token (20/s, burst 100).
	TokenRate  float64
	TokenBurst int
	// AddrRate and AddrBurst limit each client address for requests without a token, such as
	// anonymous status pages (50/s, burst 100).
	AddrRate  float64
	AddrBurst int
	// FailedAuthPerMinute is how many failed authentications (401 answers) a client address
	// may have per minute (10, also the burst); beyond, its requests are refused until the
	// budget refills.
	FailedAuthPerMinute int
	// PingRate and PingBurst limit each heartbeat ping token (1/s, burst 20): a job pings a few
	// times per run; a leaked URL cannot flood its check's results.
	PingRate  float64
	PingBurst int
	// TrustedProxies are the peers whose X-Forwarded-For is believed: the client address is
	// then the rightmost address of X-Forwarded-For that is not itself a trusted proxy. Empty:
	// X-Forwarded-For is ignored and the peer address is the client.
	TrustedProxies []netip.Prefix
	// MaxKeys bounds how many tokens or addresses each limiter tracks (100,000); keys idle for
	// IdleAfter (10 min) are evicted. When full, new keys share one overflow bucket.
	MaxKeys   int
	IdleAfter time.Duration
}

func (c Config) withDefaults() Config {
	if c.TokenRate == 0 {
		c.TokenRate = 20
	}
	if c.TokenBurst <= 0 {
		c.TokenBurst = 100
	}
	if c.AddrRate == 0 {
		c.AddrRate = 50
	}
	if c.AddrBurst <= 0 {
		c.AddrBurst = 100
	}
	if c.FailedAuthPerMinute == 0 {
		c.FailedAuthPerMinute = 10
	}
	if c.PingRate == 0 {
		c.PingRate = 1
	}
	if c.PingBurst <= 0 {
		c.PingBurst = 20
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 100_000
	}
	if c.IdleAfter <= 0 {
		c.IdleAfter = 10 * time.Minute
	}
	return c
}

// ParsePrefixes parses a comma-separated list of CIDR prefixes or addresses.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", f, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// Limiter is the middleware's state.
type Limiter struct {
	cfg                     Config
	tokens, addrs, failures *buckets // nil when off
	pings                   *buckets // per heartbeat ping token; nil when off
	now                     func() time.Time
	// Metrics counts refused requests by the policy that refused them (nil: not counted).
	Metrics *metrics.Metrics
}

// New returns a Limiter with c's limits.
func New(c Config) *Limiter {
	c = c.withDefaults()
	l := &Limiter{cfg: c, now: time.Now}
	if c.TokenRate > 0 {
		l.tokens = newBuckets("token", rate.Limit(c.TokenRate), c.TokenBurst, c.MaxKeys, c.IdleAfter)
	}
	if c.AddrRate > 0 {
		l.addrs = newBuckets("address", rate.Limit(c.AddrRate), c.AddrBurst, c.MaxKeys, c.IdleAfter)
	}
	if c.FailedAuthPerMinute > 0 {
		l.failures = newBuckets("failed-auth", rate.Limit(float64(c.FailedAuthPerMinute)/60), c.FailedAuthPerMinute, c.MaxKeys, c.IdleAfter)
	}
	if c.PingRate > 0 {
		l.pings = newBuckets("ping-token", rate.Limit(c.PingRate), c.PingBurst, c.MaxKeys, c.IdleAfter)
	}
	return l
}

// PerPingToken limits next per heartbeat ping token, the request's path value "token" (the
// ping URL is the credential, like a bearer token elsewhere). Put it inside Middleware, which
// limits the client address.
func (l *Limiter) PerPingToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l.pings != nil {
			now := l.now()
			sum := sha256.Sum256([]byte(r.PathValue("token")))
			b := l.pings.get(string(sum[:]), now)
			if !b.AllowN(now, 1) {
				refuse(w, r, l.pings, b, now, "too many pings for this check; retry after the delay in Retry-After")
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Middleware limits next. Requests refused are answered 429 without reaching next.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		now := l.now()
		addr := l.clientAddr(r)
		// An address that keeps failing authentication is refused before any token lookup.
		if l.failures != nil {
			if b := l.failures.peek(addr); b != nil && b.TokensAt(now) < 1 {
				l.Metrics.RateLimited(l.failures.policy)
				refuse(w, r, l.failures, b, now, "too many failed authentications from your address")
				return
			}
		}
		set, key := l.addrs, addr
		if token, ok := bearer(r.Header.Get("Authorization")); ok {
			sum := sha256.Sum256([]byte(token))
			set, key = l.tokens, string(sum[:])
		}
		if set != nil {
			b := set.get(key, now)
			if !b.AllowN(now, 1) {
				l.Metrics.RateLimited(set.policy)
				refuse(w, r, set, b, now, "rate limit exceeded; retry after the delay in Retry-After")
				return
			}
			set.headers(w.Header(), b, now)
		}
		if l.failures == nil {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == http.StatusUnauthorized {
			l.failures.get(addr, now).AllowN(now, 1)
		}
	})
}

func refuse(w http.ResponseWriter, r *http.Request, set *buckets, b *rate.Limiter, now time.Time, detail string) {
	set.headers(w.Header(), b, now)
	p := problem.New(http.StatusTooManyRequests, detail)
	// Seconds until one request is allowed again, at least 1.
	wait := (1 - b.TokensAt(now)) / float64(set.rate)
	p.RetryAfter = max(1, int(math.Ceil(wait)))
	problem.Write(w, r, p)
}

// clientAddr is the peer address, or the X-Forwarded-For client when the peer is trusted.
func (l *Limiter) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !l.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a forged or broken entry: stop at the last address we can trust
		}
		a = a.Unmap()
		if !l.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (l *Limiter) trusted(a netip.Addr) bool {
	for _, p := range l.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// buckets is one token bucket per key, bounded: idle keys are evicted, and when MaxKeys are
// tracked new keys share one overflow bucket instead of pushing out anyone's state.
type buckets struct {
	policy   string
	rate     rate.Limit
	burst    int
	maxKeys  int
	idle     time.Duration
	mu       sync.Mutex
	m        map[string]*entry
	overflow *rate.Limiter
	swept    time.Time
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

func newBuckets(policy string, r rate.Limit, burst, maxKeys int, idle time.Duration) *buckets {
	return &buckets{policy: policy, rate: r, burst: burst, maxKeys: maxKeys, idle: idle,
		m: map[string]*entry{}, overflow: rate.NewLimiter(r, burst)}
}

// peek returns key's bucket without creating one.
func (s *buckets) peek(key string) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		return e.lim
	}
	return nil
}

func (s *buckets) get(key string, now time.Time) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.m[key]; ok {
		e.seen = now
		return e.lim
	}
	if now.Sub(s.swept) > s.idle/4 || len(s.m) >= s.maxKeys {
		s.sweep(now)
	}
	if len(s.m) >= s.maxKeys {
		return s.overflow
	}
	e := &entry{lim: rate.NewLimiter(s.rate, s.burst), seen: now}
	s.m[key] = e
	return e.lim
}

// sweep drops the keys idle for longer than s.idle; at most once a second when full.
func (s *buckets) sweep(now time.Time) {
	if now.Sub(s.swept) < time.Second {
		return
	}
	s.swept = now
	for k, e := range s.m {
		if now.Sub(e.seen) > s.idle {
			delete(s.m, k)
		}
	}
}

// Len is how many keys are tracked.
func (s *buckets) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// headers sets the IETF RateLimit fields and the RateLimit-Limit/-Remaining/-Reset forms.
func (s *buckets) headers(h http.Header, b *rate.Limiter, now time.Time) {
	tokens := max(0, b.TokensAt(now))
	remaining := int(math.Floor(tokens))
	window := max(1, int(math.Ceil(float64(s.burst)/float64(s.rate))))
	reset := int(math.Ceil((float64(s.burst) - tokens) / float64(s.rate)))
	h.Set("RateLimit-Policy", fmt.Sprintf("%q;q=%d;w=%d", s.policy, s.burst, window))
	h.Set("RateLimit", fmt.Sprintf("%q;r=%d;t=%d", s.policy, remaining, reset))
	h.Set("RateLimit-Limit", strconv.Itoa(s.burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(reset))
}

type recorder struct {
	http.ResponseWriter
	status int
}

func (s *recorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *recorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush on the real writer (server-sent events).
func (s *recorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
