package probes

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"
)

func TestParseAllowed(t *testing.T) {
	got, err := ParseAllowed(" 127.0.0.0/8, ::1/128 ,10.1.2.3,,192.168.1.77/24,::ffff:10.0.0.0/104")
	if err != nil {
		t.Fatal(err)
	}
	wantP := []string{"127.0.0.0/8", "::1/128", "10.1.2.3/32", "192.168.1.0/24", "10.0.0.0/8"}
	if len(got) != len(wantP) {
		t.Fatalf("got %v, want %v", got, wantP)
	}
	for i, p := range got {
		if p.String() != wantP[i] {
			t.Errorf("prefix %d = %s, want %s", i, p, wantP[i])
		}
	}
	for _, bad := range []string{"10.0.0.0/33", "example.com", "10.0.0.0/8,nonsense"} {
		if _, err := ParseAllowed(bad); err == nil || !strings.Contains(err.Error(), AllowEnv) {
			t.Errorf("ParseAllowed(%q) = %v, want an error naming %s", bad, err, AllowEnv)
		}
	}
	if got, err := ParseAllowed(""); err != nil || len(got) != 0 {
		t.Errorf("ParseAllowed(\"\") = %v, %v; want empty", got, err)
	}
}

func TestAllowedFromEnv(t *testing.T) {
	t.Setenv(AllowEnv, "")
	got, err := AllowedFromEnv()
	if err != nil || len(got) != 2 || got[0].String() != "127.0.0.0/8" || got[1].String() != "::1/128" {
		t.Fatalf("default = %v, %v", got, err)
	}
	t.Setenv(AllowEnv, "10.0.0.0/8")
	got, err = AllowedFromEnv()
	if err != nil || len(got) != 1 || got[0].String() != "10.0.0.0/8" {
		t.Fatalf("from env = %v, %v", got, err)
	}
}

func TestGuardResolve(t *testing.T) {
	g := NewGuard(nil)
	ctx := context.Background()
	for host, want := range map[string]string{
		"127.0.0.1":        "127.0.0.1",
		"127.255.255.254":  "127.255.255.254",
		"::1":              "::1",
		"[::1]":            "::1",
		"::ffff:127.0.0.2": "127.0.0.2",
		"localhost":        "127.0.0.1", // /etc/hosts: no DNS query leaves the machine
	} {
		a, err := g.Resolve(ctx, host)
		if err != nil || a.String() != want {
			t.Errorf("Resolve(%q) = %v, %v; want %s", host, a, err, want)
		}
	}
	for _, host := range []string{"192.0.2.1", "10.0.0.12", "2001:db8::1", "::ffff:192.0.2.1", "0.0.0.0"} {
		_, err := g.Resolve(ctx, host)
		var na *NotAllowedError
		if !errors.As(err, &na) {
			t.Fatalf("Resolve(%q) = %v, want a NotAllowedError", host, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, na.Addr.String()) || !strings.Contains(msg, "SECUMON_PROBE_ALLOW") {
			t.Errorf("error %q should name the address and the SECUMON_PROBE_ALLOW setting", msg)
		}
	}
	if _, err := g.ResolveNetwork(ctx, "ip6", "127.0.0.1"); err == nil {
		t.Error("ResolveNetwork(ip6, 127.0.0.1) should fail")
	}

	wide := NewGuard([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")})
	if a, err := wide.Resolve(ctx, "192.0.2.1"); err != nil || a.String() != "192.0.2.1" {
		t.Errorf("a guard allowing 192.0.2.0/24 refused 192.0.2.1: %v", err)
	}
	if _, err := wide.Resolve(ctx, "127.0.0.1"); err == nil {
		t.Error("a guard allowing only 192.0.2.0/24 accepted 127.0.0.1")
	}
}

// The dialer refuses at connect time: no SYN leaves for a disallowed address, so the refusal
// is immediate rather than a connect timeout.
func TestGuardDialerRefusesAtConnect(t *testing.T) {
	g := NewGuard(nil)
	start := time.Now()
	_, err := g.Dialer(5*time.Second).DialContext(context.Background(), "tcp", "192.0.2.1:80")
	var na *NotAllowedError
	if !errors.As(err, &na) || na.Addr.String() != "192.0.2.1" {
		t.Fatalf("dial 192.0.2.1:80 = %v, want a NotAllowedError", err)
	}
	if d := time.Since(start); d > 200*time.Millisecond {
		t.Fatalf("refusal took %v: it looks like a connection was attempted", d)
	}
	if _, err := g.Dialer(time.Second).DialContext(context.Background(), "udp", "[2001:db8::1]:53"); !errors.As(err, &na) {
		t.Fatalf("udp dial to 2001:db8::1 = %v, want refused", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := g.Dialer(time.Second).DialContext(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatalf("dial to an allowed listener: %v", err)
	}
	c.Close()
}
