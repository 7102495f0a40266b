package probes

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// DNSConfig is the config of a dns check (OpenAPI schema DnsConfig).
type DNSConfig struct {
	QueryName       string   `json:"query_name,omitempty"`
	RecordType      string   `json:"record_type,omitempty"`
	Resolver        string   `json:"resolver,omitempty"`
	Protocol        string   `json:"protocol,omitempty"`
	ExpectedAnswers []string `json:"expected_answers,omitempty"`
	ExpectedRcode   string   `json:"expected_rcode,omitempty"`
	WarnLatencyMs   *float64 `json:"warn_latency_ms,omitempty"`
	CritLatencyMs   *float64 `json:"crit_latency_ms,omitempty"`
}

// DefaultDNSConfig returns the defaults of a dns check.
func DefaultDNSConfig() DNSConfig {
	return DNSConfig{RecordType: "A", Protocol: "udp", ExpectedRcode: "NOERROR"}
}

// ProbeDNS sends one query to the resolver (default: the check's target on port 53) and
// checks the response code (expected_rcode, NOERROR by default) and, optionally, that each expected answer appears among the
// values of the answer records. A truncated UDP answer is retried over TCP.
func ProbeDNS(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
	cfg := DefaultDNSConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("dns: %v", err)
	}
	name := strings.TrimSpace(cfg.QueryName)
	if name == "" {
		return unknownResult("dns: invalid config: query_name is required")
	}
	if strings.TrimSpace(cfg.RecordType) == "" {
		cfg.RecordType = "A"
	}
	if strings.TrimSpace(cfg.Protocol) == "" {
		cfg.Protocol = "udp"
	}
	qtype, ok := dns.StringToType[strings.ToUpper(strings.TrimSpace(cfg.RecordType))]
	if !ok {
		return unknownResult("dns: invalid config: unknown record_type %q", cfg.RecordType)
	}
	proto := strings.ToLower(strings.TrimSpace(cfg.Protocol))
	if proto != "udp" && proto != "tcp" {
		return unknownResult("dns: invalid config: protocol %q (udp or tcp)", cfg.Protocol)
	}
	if strings.TrimSpace(cfg.ExpectedRcode) == "" {
		cfg.ExpectedRcode = "NOERROR"
	}
	wantRcode, ok := dns.StringToRcode[strings.ToUpper(strings.TrimSpace(cfg.ExpectedRcode))]
	if !ok {
		return unknownResult("dns: invalid config: unknown expected_rcode %q", cfg.ExpectedRcode)
	}
	server, err := resolverAddr(ctx, cfg.Resolver, c, g)
	if err != nil {
		return unknownResult("dns: %v", err)
	}

	msg := new(dns.Msg)
	msg.SetQuestion(dns.Fqdn(name), qtype)
	msg.RecursionDesired = true
	msg.SetEdns0(dns.DefaultMsgSize, false)

	start := time.Now()
	resp, rtt, err := exchangeDNS(ctx, g, proto, msg, server)
	if err == nil && resp.Truncated && proto == "udp" {
		proto = "tcp"
		resp, rtt, err = exchangeDNS(ctx, g, proto, msg, server)
	}
	if err != nil {
		r := errorResult(fmt.Sprintf("dns %s %s @%s", dns.TypeToString[qtype], name, server), err)
		r.LatencyMs = ms(time.Since(start))
		return r
	}

	res := Result{
		LatencyMs: ms(rtt),
		Metrics: map[string]float64{
			"answers": float64(len(resp.Answer)),
			"rcode":   float64(resp.Rcode),
		},
	}
	var values []string
	for _, rr := range resp.Answer {
		values = append(values, rrValues(rr)...)
	}
	rcode := dns.RcodeToString[resp.Rcode]
	res.Output = fmt.Sprintf("%s %s @%s/%s: %s, %d answer(s) in %s ms", dns.TypeToString[qtype], name, server, proto, rcode, len(resp.Answer), fmtMs(res.LatencyMs))
	if len(resp.Answer) > 0 {
		res.Output += ": " + strings.Join(firstN(answerStrings(resp.Answer), 5), ", ")
	}

	if resp.Rcode != wantRcode {
		res.Status = Critical
		res.ErrorMsg = fmt.Sprintf("%s %s: rcode %s, expected %s", dns.TypeToString[qtype], name, rcode, dns.RcodeToString[wantRcode])
		return res
	}
	// Expected answers describe a successful answer; another expected rcode has none to match.
	if wantRcode != dns.RcodeSuccess {
		res.Status, res.ErrorMsg = latencyStatus(res.LatencyMs, cfg.WarnLatencyMs, cfg.CritLatencyMs)
		return res
	}
	var missing []string
	for _, want := range cfg.ExpectedAnswers {
		if !answerMatches(want, values) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		res.Status = Critical
		res.ErrorMsg = fmt.Sprintf("expected answer(s) %q not in %s", missing, describeValues(values))
		return res
	}
	res.Status, res.ErrorMsg = latencyStatus(res.LatencyMs, cfg.WarnLatencyMs, cfg.CritLatencyMs)
	return res
}

// resolverAddr returns the allowed ip:port of the resolver: the config's "host[:port]" or the
// check's target, port 53 by default.
func resolverAddr(ctx context.Context, resolver string, c Check, g *Guard) (string, error) {
	r := strings.TrimSpace(resolver)
	host, port := r, "53"
	if r == "" {
		host = strings.TrimSpace(c.Target)
		if host == "" {
			return "", fmt.Errorf("no resolver: the config sets none and the check has no target")
		}
	} else if h, p, err := net.SplitHostPort(r); err == nil {
		host, port = h, p
	}
	pn, err := strconv.Atoi(port)
	if err != nil || pn < 1 || pn > 65535 {
		return "", fmt.Errorf("invalid resolver %q: bad port", resolver)
	}
	addr, err := g.Resolve(ctx, host)
	if err != nil {
		return "", err
	}
	return netip.AddrPortFrom(addr, uint16(pn)).String(), nil
}

func exchangeDNS(ctx context.Context, g *Guard, proto string, msg *dns.Msg, server string) (*dns.Msg, time.Duration, error) {
	timeout := remaining(ctx, DefaultTimeout)
	client := &dns.Client{
		Net:     proto,
		Dialer:  g.Dialer(timeout),
		Timeout: timeout,
	}
	return client.ExchangeContext(ctx, msg, server)
}

// rrValues returns the ways an expected answer may name a record: its whole RDATA as
// presented in zone files ("10 mail.example.com."), and for records that point to a name or
// hold an address, that name or address alone.
func rrValues(rr dns.RR) []string {
	hdr := rr.Header().String()
	full := strings.TrimSpace(strings.TrimPrefix(rr.String(), hdr))
	out := []string{full}
	switch v := rr.(type) {
	case *dns.A:
		out = append(out, v.A.String())
	case *dns.AAAA:
		out = append(out, v.AAAA.String())
	case *dns.CNAME:
		out = append(out, v.Target)
	case *dns.MX:
		out = append(out, v.Mx)
	case *dns.NS:
		out = append(out, v.Ns)
	case *dns.PTR:
		out = append(out, v.Ptr)
	case *dns.SRV:
		out = append(out, v.Target)
	case *dns.TXT:
		out = append(out, strings.Join(v.Txt, ""))
	case *dns.CAA:
		out = append(out, v.Value)
	}
	if len(out) == 2 && out[1] == out[0] {
		out = out[:1]
	}
	return out
}

// answerMatches compares an expected answer with the record values: exactly, or for names
// case-insensitively and with or without the final dot; IP addresses in canonical form.
func answerMatches(want string, values []string) bool {
	w := strings.TrimSpace(want)
	if a, err := netip.ParseAddr(w); err == nil {
		w = a.String()
	}
	for _, v := range values {
		if v == w || strings.EqualFold(strings.TrimSuffix(v, "."), strings.TrimSuffix(w, ".")) {
			return true
		}
	}
	return false
}

func answerStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, dns.TypeToString[rr.Header().Rrtype]+" "+rrValues(rr)[0])
	}
	return out
}

func describeValues(values []string) string {
	if len(values) == 0 {
		return "an empty answer"
	}
	return fmt.Sprintf("%q", firstN(values, 10))
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], fmt.Sprintf("… %d more", len(s)-n))
	}
	return s
}
