package notify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/http/httpproxy"
)

// DefaultDeny are the networks webhooks and Slack messages are never sent to unless
// configured otherwise (SECUMON_NOTIFY_DENY, or SECUMON_NOTIFY_ALLOW for exceptions), so that
// a webhook URL cannot reach what only the server can: loopback services, private and
// carrier-grade NAT networks, unique-local IPv6, and link-local addresses, where cloud
// providers serve instance metadata and credentials (169.254.169.254).
var DefaultDeny = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), // "this network": 0.0.0.0 reaches the local host
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("::/128"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fc00::/7"), // unique-local, including AWS's fd00:ec2::/32 metadata endpoint
}

// ParseDeny reads a comma-separated list of CIDRs; "none" is the empty list. It reads
// SECUMON_NOTIFY_DENY and SECUMON_NOTIFY_ALLOW alike.
func ParseDeny(s string) ([]netip.Prefix, error) {
	if strings.TrimSpace(s) == "none" {
		return []netip.Prefix{}, nil
	}
	var out []netip.Prefix
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, err := netip.ParsePrefix(part)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR prefix", part)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// netGuard says which addresses outgoing notifications may reach: those in no Deny network,
// or in an Allow network (Allow wins).
type netGuard struct {
	deny, allow []netip.Prefix
}

// check returns an error naming the denied network ip is in, nil if ip may be reached.
func (g netGuard) check(ip netip.Addr) error {
	ip = ip.Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return nil
		}
	}
	for _, p := range g.deny {
		if p.Contains(ip) {
			return fmt.Errorf("notify: %s is in a denied network (%s); see %s and %s", ip, p, EnvDeny, EnvAllow)
		}
	}
	return nil
}

// dialer refuses connections to denied addresses. It checks the address actually dialled,
// after DNS resolution, so a name that resolves (or later re-resolves) to a denied address
// is refused too. Through a proxy, the address dialled is the proxy's.
func (g netGuard) dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("notify: unexpected dial address %q", address)
			}
			return g.check(ap.Addr())
		},
	}
}

// proxy wraps a proxy function: when a request goes through a proxy, the proxy connects to
// the target, not us, so the target's host is resolved here and refused if any of its
// addresses is denied. (The proxy's own address is checked by the dialer.)
func (g netGuard) proxy(next func(*url.URL) (*url.URL, error), resolver *net.Resolver) func(*http.Request) (*url.URL, error) {
	return func(req *http.Request) (*url.URL, error) {
		p, err := next(req.URL)
		if err != nil || p == nil {
			return p, err
		}
		if err := g.checkHost(req.Context(), resolver, req.URL.Hostname()); err != nil {
			return nil, err
		}
		return p, nil
	}
}

// checkHost resolves host (an IP literal is taken as is) and checks every address.
func (g netGuard) checkHost(ctx context.Context, resolver *net.Resolver, host string) error {
	if ip, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return g.check(ip)
	}
	ips, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("notify: resolving %s: %w", host, err)
	}
	for _, ip := range ips {
		if err := g.check(ip); err != nil {
			return err
		}
	}
	return nil
}

// transport is the guarded transport of webhook and Slack requests: the dialer checks the
// address dialled, and with a proxy from the environment (HTTPS_PROXY, HTTP_PROXY,
// NO_PROXY, read when the configuration is built) the target's resolved addresses too.
func (g netGuard) transport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = g.dialer(timeout).DialContext
	t.Proxy = g.proxy(httpproxy.FromEnvironment().ProxyFunc(), net.DefaultResolver)
	return t
}
