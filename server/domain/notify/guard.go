package notify

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// DefaultDeny are the networks webhooks and Slack messages are never sent to unless
// configured otherwise: link-local addresses, where cloud providers serve instance metadata
// and credentials (169.254.169.254), so that a webhook URL cannot be used to read them.
var DefaultDeny = []netip.Prefix{
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fe80::/10"),
	netip.MustParsePrefix("fd00:ec2::/32"), // AWS's IPv6 metadata endpoint
}

// ParseDeny reads a comma-separated list of CIDRs; "none" denies nothing.
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

// guardedDialer refuses connections to denied addresses. It checks the address actually
// dialled, after DNS resolution, so a name that resolves (or later re-resolves) to a denied
// address is refused too.
func guardedDialer(deny []netip.Prefix, timeout time.Duration) *net.Dialer {
	return &net.Dialer{
		Timeout: timeout,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("notify: unexpected dial address %q", address)
			}
			ip := ap.Addr().Unmap()
			for _, p := range deny {
				if p.Contains(ip) {
					return fmt.Errorf("notify: %s is in a denied network (%s); see SECUMON_NOTIFY_DENY", ip, p)
				}
			}
			return nil
		},
	}
}
