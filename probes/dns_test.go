package probes

import (
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// dnsQueries counts the queries the test servers answered, per protocol.
var dnsQueries struct{ udp, tcp atomic.Int64 }

// dnsTestHandler serves the zone "test.": host.test A 127.0.0.10 and 127.0.0.11, mail.test MX,
// txt.test TXT, big.test (truncated over UDP, answered over TCP), servfail.test SERVFAIL,
// refused.test REFUSED, anything else NXDOMAIN.
func dnsTestHandler(w dns.ResponseWriter, req *dns.Msg) {
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		dnsQueries.tcp.Add(1)
	} else {
		dnsQueries.udp.Add(1)
	}
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	q := req.Question[0]
	rr := func(s string) dns.RR {
		r, err := dns.NewRR(s)
		if err != nil {
			panic(err)
		}
		return r
	}
	switch strings.ToLower(q.Name) {
	case "host.test.":
		if q.Qtype == dns.TypeA {
			m.Answer = append(m.Answer, rr("host.test. 60 IN A 127.0.0.10"), rr("host.test. 60 IN A 127.0.0.11"))
		}
	case "mail.test.":
		if q.Qtype == dns.TypeMX {
			m.Answer = append(m.Answer, rr("mail.test. 60 IN MX 10 mx1.test."))
		}
	case "txt.test.":
		if q.Qtype == dns.TypeTXT {
			m.Answer = append(m.Answer, rr(`txt.test. 60 IN TXT "v=spf1 -all"`))
		}
	case "big.test.":
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			m.Truncated = true
		} else {
			m.Answer = append(m.Answer, rr("big.test. 60 IN A 127.0.0.20"))
		}
	case "servfail.test.":
		m.Rcode = dns.RcodeServerFailure
	case "refused.test.":
		m.Rcode = dns.RcodeRefused
	default:
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// startDNS starts a dnsTestHandler server on 127.0.0.1 (random port) for network "udp" or
// "tcp" and returns "127.0.0.1:port".
func startDNS(t *testing.T, network string) string {
	t.Helper()
	handler := dns.HandlerFunc(dnsTestHandler)
	started := make(chan struct{})
	srv := &dns.Server{Net: network, Handler: handler, NotifyStartedFunc: func() { close(started) }}
	var addr string
	switch network {
	case "udp":
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.PacketConn, addr = pc, pc.LocalAddr().String()
	default:
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv.Listener, addr = l, l.Addr().String()
	}
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return addr
}

// startDNSBoth starts UDP and TCP servers on the same port.
func startDNSBoth(t *testing.T) string {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := pc.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		if err != nil {
			pc.Close()
			continue
		}
		for _, srv := range []*dns.Server{{PacketConn: pc}, {Listener: l}} {
			started := make(chan struct{})
			srv.NotifyStartedFunc = func() { close(started) }
			srv.Handler = dns.HandlerFunc(dnsTestHandler)
			go func() { _ = srv.ActivateAndServe() }()
			<-started
			t.Cleanup(func() { _ = srv.Shutdown() })
		}
		return addr
	}
	t.Fatal("no port free for both udp and tcp")
	return ""
}

func TestDNS(t *testing.T) {
	addr := startDNSBoth(t)
	cases := []struct {
		name    string
		cfg     DNSConfig
		status  Status
		inError string
		check   func(t *testing.T, r Result)
	}{
		{name: "A expected", cfg: DNSConfig{QueryName: "host.test", ExpectedAnswers: []string{"127.0.0.10", "127.0.0.11"}}, status: OK,
			check: func(t *testing.T, r Result) {
				if r.Metrics["answers"] != 2 || r.Metrics["rcode"] != 0 {
					t.Errorf("metrics %v", r.Metrics)
				}
			}},
		{name: "A unexpected", cfg: DNSConfig{QueryName: "host.test", ExpectedAnswers: []string{"127.0.0.10", "10.9.9.9"}}, status: Critical, inError: `"10.9.9.9"`},
		{name: "NXDOMAIN", cfg: DNSConfig{QueryName: "nope.test"}, status: Critical, inError: "NXDOMAIN",
			check: func(t *testing.T, r Result) {
				if r.Metrics["rcode"] != float64(dns.RcodeNameError) || r.Metrics["answers"] != 0 {
					t.Errorf("metrics %v", r.Metrics)
				}
			}},
		{name: "NXDOMAIN expected", cfg: DNSConfig{QueryName: "nope.test", ExpectedRcode: "NXDOMAIN"}, status: OK},
		{name: "NXDOMAIN expected, name exists", cfg: DNSConfig{QueryName: "host.test", ExpectedRcode: "nxdomain"}, status: Critical, inError: "rcode NOERROR, expected NXDOMAIN"},
		{name: "SERVFAIL, NOERROR expected", cfg: DNSConfig{QueryName: "servfail.test"}, status: Critical, inError: "rcode SERVFAIL, expected NOERROR"},
		{name: "SERVFAIL expected", cfg: DNSConfig{QueryName: "servfail.test", ExpectedRcode: "SERVFAIL"}, status: OK},
		{name: "REFUSED expected, got NXDOMAIN", cfg: DNSConfig{QueryName: "nope.test", ExpectedRcode: "REFUSED"}, status: Critical, inError: "rcode NXDOMAIN, expected REFUSED"},
		{name: "REFUSED expected", cfg: DNSConfig{QueryName: "refused.test", ExpectedRcode: "REFUSED"}, status: OK},
		{name: "bad expected rcode", cfg: DNSConfig{QueryName: "host.test", ExpectedRcode: "BOGUS"}, status: Unknown, inError: "expected_rcode"},
		{name: "MX by exchange name", cfg: DNSConfig{QueryName: "mail.test", RecordType: "MX", ExpectedAnswers: []string{"MX1.test"}}, status: OK},
		{name: "MX full rdata", cfg: DNSConfig{QueryName: "mail.test", RecordType: "MX", ExpectedAnswers: []string{"10 mx1.test."}}, status: OK},
		{name: "TXT", cfg: DNSConfig{QueryName: "txt.test", RecordType: "TXT", ExpectedAnswers: []string{"v=spf1 -all"}}, status: OK},
		{name: "over tcp", cfg: DNSConfig{QueryName: "host.test", Protocol: "tcp", ExpectedAnswers: []string{"127.0.0.11"}}, status: OK,
			check: func(t *testing.T, r Result) {
				if !strings.Contains(r.Output, "/tcp") {
					t.Errorf("output %q does not say tcp", r.Output)
				}
			}},
		{name: "truncated udp retried over tcp", cfg: DNSConfig{QueryName: "big.test", ExpectedAnswers: []string{"127.0.0.20"}}, status: OK,
			check: func(t *testing.T, r Result) {
				if !strings.Contains(r.Output, "/tcp") {
					t.Errorf("output %q: the truncated answer was not retried over tcp", r.Output)
				}
			}},
		{name: "latency threshold", cfg: DNSConfig{QueryName: "host.test", WarnLatencyMs: f64(0)}, status: Warning, inError: "warning threshold"},
		{name: "bad type", cfg: DNSConfig{QueryName: "host.test", RecordType: "BOGUS"}, status: Unknown, inError: "record_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Resolver = addr
			before := dnsQueries.tcp.Load()
			r := run(t, ProbeDNS, "dns", "127.0.0.1", tc.cfg, 2*time.Second)
			want(t, r, tc.status)
			if tc.inError != "" && !strings.Contains(r.ErrorMsg, tc.inError) {
				t.Fatalf("error %q does not contain %q", r.ErrorMsg, tc.inError)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if tc.cfg.Protocol == "tcp" && dnsQueries.tcp.Load() == before {
				t.Fatal("no query reached the tcp server")
			}
		})
	}
}

func TestDNSDisallowedAndDown(t *testing.T) {
	r := run(t, ProbeDNS, "dns", "192.0.2.1", DNSConfig{QueryName: "host.test"}, time.Second)
	want(t, r, Unknown)
	if !strings.Contains(r.ErrorMsg, "192.0.2.1") || !strings.Contains(r.ErrorMsg, "SECUMON_PROBE_ALLOW") {
		t.Fatalf("error %q", r.ErrorMsg)
	}
	// Nobody listening on that UDP port: ICMP port unreachable makes it fail fast.
	port := freePort(t, "udp")
	start := time.Now()
	r = run(t, ProbeDNS, "dns", "127.0.0.1", DNSConfig{QueryName: "host.test", Resolver: "127.0.0.1:" + strconv.Itoa(port)}, time.Second)
	want(t, r, Critical)
	if time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("took %v", time.Since(start))
	}
}
