package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
)

// AllowEnv is the environment setting that lists the networks probes may reach
// (comma-separated CIDRs). The Runner does not read it by itself: see AllowedFromEnv.
const AllowEnv = "SECUMON_PROBE_ALLOW"

// DefaultAllowed returns the networks probes may reach when nothing else is configured:
// 127.0.0.0/8 and ::1/128.
func DefaultAllowed() []netip.Prefix {
	return []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
	}
}

// ParseAllowed parses a comma-separated list of CIDRs such as "127.0.0.0/8,::1/128".
// A bare address is taken as a single-host prefix. Blank items are skipped; an empty string
// gives an empty list.
func ParseAllowed(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			a, err := netip.ParseAddr(item)
			if err != nil {
				return nil, fmt.Errorf("%s: %q is not a CIDR (such as 10.0.0.0/8) or an address", AllowEnv, item)
			}
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(item)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a CIDR (such as 10.0.0.0/8): %v", AllowEnv, item, err)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return nil, fmt.Errorf("%s: %q: an IPv4-mapped prefix needs at least 96 bits", AllowEnv, item)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// AllowedFromEnv reads SECUMON_PROBE_ALLOW; when it is unset or blank it returns DefaultAllowed.
func AllowedFromEnv() ([]netip.Prefix, error) {
	v := strings.TrimSpace(os.Getenv(AllowEnv))
	if v == "" {
		return DefaultAllowed(), nil
	}
	p, err := ParseAllowed(v)
	if err != nil {
		return nil, err
	}
	if len(p) == 0 {
		return DefaultAllowed(), nil
	}
	return p, nil
}

// NotAllowedError is returned when a probe would reach an address outside the allowed networks.
type NotAllowedError struct {
	Host    string // the name or literal that was asked for ("" when unknown)
	Addr    netip.Addr
	Allowed []netip.Prefix
}

func (e *NotAllowedError) Error() string {
	nets := make([]string, len(e.Allowed))
	for i, p := range e.Allowed {
		nets[i] = p.String()
	}
	what := e.Addr.String()
	if e.Host != "" && e.Host != what {
		what = fmt.Sprintf("%s (%s)", e.Addr, e.Host)
	}
	return fmt.Sprintf("refusing to probe %s: address not in the allowed networks [%s]; the %s setting (comma-separated CIDRs) controls which addresses may be probed",
		what, strings.Join(nets, " "), AllowEnv)
}

// Guard enforces the network-safety rule: probes reach only addresses inside the allowed
// networks. Every prober uses it for every connection, both to resolve targets (Resolve) and
// to dial (Dialer/Control, which refuse disallowed addresses at connect time, so a redirect
// or a DNS answer pointing elsewhere is refused too). A Guard is safe for concurrent use.
type Guard struct {
	allowed  []netip.Prefix
	resolver *net.Resolver
}

// NewGuard returns a Guard allowing the given networks; nil or empty means DefaultAllowed.
func NewGuard(allowed []netip.Prefix) *Guard {
	if len(allowed) == 0 {
		allowed = DefaultAllowed()
	}
	cp := make([]netip.Prefix, len(allowed))
	copy(cp, allowed)
	return &Guard{allowed: cp, resolver: net.DefaultResolver}
}

// AllowedPrefixes returns a copy of the networks the Guard allows.
func (g *Guard) AllowedPrefixes() []netip.Prefix {
	cp := make([]netip.Prefix, len(g.allowed))
	copy(cp, g.allowed)
	return cp
}

// Allows reports whether a is inside an allowed network.
func (g *Guard) Allows(a netip.Addr) bool {
	if !a.IsValid() {
		return false
	}
	a = a.Unmap().WithZone("")
	for _, p := range g.allowed {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Check returns a *NotAllowedError when a is outside the allowed networks; host is the name
// a was resolved from, for the message.
func (g *Guard) Check(host string, a netip.Addr) error {
	if g.Allows(a) {
		return nil
	}
	return &NotAllowedError{Host: host, Addr: a, Allowed: g.AllowedPrefixes()}
}

// Resolve resolves a name or parses an IP literal (brackets and zones accepted) and returns an
// allowed address for it, or an error naming the refused address. When a name has several
// addresses, the first allowed one is returned.
func (g *Guard) Resolve(ctx context.Context, host string) (netip.Addr, error) {
	return g.ResolveNetwork(ctx, "ip", host)
}

// ResolveNetwork is Resolve restricted to a family: network is "ip", "ip4" or "ip6".
func (g *Guard) ResolveNetwork(ctx context.Context, network, host string) (netip.Addr, error) {
	h := strings.TrimSpace(host)
	if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
		h = h[1 : len(h)-1]
	}
	if h == "" {
		return netip.Addr{}, errors.New("empty host")
	}
	if a, err := netip.ParseAddr(h); err == nil {
		a = a.Unmap()
		if !familyOK(network, a) {
			return netip.Addr{}, fmt.Errorf("%s is not an %s address", h, familyName(network))
		}
		return a, g.Check(host, a)
	}
	addrs, err := g.resolver.LookupNetIP(ctx, network, h)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("resolve %s: %w", h, err)
	}
	if len(addrs) == 0 {
		return netip.Addr{}, fmt.Errorf("resolve %s: no %s address", h, familyName(network))
	}
	for _, a := range addrs {
		a = a.Unmap()
		if familyOK(network, a) && g.Allows(a) {
			return a, nil
		}
	}
	return netip.Addr{}, g.Check(h, addrs[0].Unmap())
}

func familyOK(network string, a netip.Addr) bool {
	switch network {
	case "ip4":
		return a.Is4()
	case "ip6":
		return a.Is6()
	}
	return true
}

func familyName(network string) string {
	switch network {
	case "ip4":
		return "IPv4"
	case "ip6":
		return "IPv6"
	}
	return "IP"
}

// Control is a net.Dialer/ListenConfig Control function that refuses to connect to an address
// outside the allowed networks. It runs after the socket is created and before connect(2),
// so nothing is sent to a refused address.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		// Not an IP:port (a unix socket, say): never allowed for probes.
		return fmt.Errorf("refusing to connect to %s %q: not an IP address", network, address)
	}
	return g.Check("", ap.Addr())
}

// Dialer returns a dialer with the given connect timeout whose Control refuses disallowed
// addresses at connect time. It never uses a proxy: callers dial the target directly.
func (g *Guard) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout:   timeout,
		KeepAlive: -1,
		Control:   g.Control,
		Resolver:  g.resolver,
	}
}
