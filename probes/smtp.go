package probes

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"net/textproto"
	"strings"
	"time"
)

// SMTPConfig is the config of an smtp check (OpenAPI schema SmtpConfig).
type SMTPConfig struct {
	Host          string   `json:"host,omitempty"`
	Port          int      `json:"port,omitempty"`
	EHLOName      string   `json:"ehlo_name,omitempty"`
	StartTLS      string   `json:"starttls,omitempty"`
	VerifyTLS     bool     `json:"verify_tls"`
	ServerName    string   `json:"server_name,omitempty"`
	WarnDays      int      `json:"warn_days"`
	CritDays      int      `json:"crit_days"`
	ExpectBanner  string   `json:"expect_banner,omitempty"`
	WarnLatencyMs *float64 `json:"warn_latency_ms,omitempty"`
	CritLatencyMs *float64 `json:"crit_latency_ms,omitempty"`
}

// STARTTLS policies of an smtp check.
const (
	StartTLSNone     = "none"
	StartTLSOptional = "optional"
	StartTLSRequired = "required"
)

// DefaultSMTPConfig returns the defaults of an smtp check.
func DefaultSMTPConfig() SMTPConfig {
	return SMTPConfig{Port: 25, EHLOName: "secumon.local", StartTLS: StartTLSOptional, VerifyTLS: true, WarnDays: 30, CritDays: 7}
}

// ProbeSMTP reads the server's 220 banner, says EHLO, upgrades with STARTTLS when the policy
// asks for it and judges the certificate as the tls probe does (evaluateCert), then says
// QUIT. No mail is sent. The latency thresholds apply to the time until the banner.
func ProbeSMTP(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
	cfg := DefaultSMTPConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("smtp: %v", err)
	}
	cfg.Port = cmp.Or(cfg.Port, 25)
	cfg.EHLOName = cmp.Or(strings.TrimSpace(cfg.EHLOName), "secumon.local")
	cfg.StartTLS = cmp.Or(strings.ToLower(strings.TrimSpace(cfg.StartTLS)), StartTLSOptional)
	if cfg.Port < 1 || cfg.Port > 65535 {
		return unknownResult("smtp: invalid config: port %d out of range 1..65535", cfg.Port)
	}
	if cfg.StartTLS != StartTLSNone && cfg.StartTLS != StartTLSOptional && cfg.StartTLS != StartTLSRequired {
		return unknownResult("smtp: invalid config: starttls %q (none, optional or required)", cfg.StartTLS)
	}
	if strings.ContainsAny(cfg.EHLOName, "\r\n") {
		return unknownResult("smtp: invalid config: ehlo_name holds a line break")
	}
	host, addr, err := resolveTarget(ctx, g, cfg.Host, c)
	if err != nil {
		return unknownResult("smtp: %v", err)
	}
	dest := netip.AddrPortFrom(addr, uint16(cfg.Port)).String()

	start := time.Now()
	raw, err := g.Dialer(remaining(ctx, DefaultTimeout)).DialContext(ctx, "tcp", dest)
	if err != nil {
		return errorResult("smtp connect "+dest, err)
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	var conn net.Conn = raw
	text := textproto.NewConn(conn)
	fail := func(step string, err error) Result {
		r := errorResult(fmt.Sprintf("smtp %s %s", dest, step), err)
		r.LatencyMs = ms(time.Since(start))
		return r
	}
	_, banner, err := text.ReadResponse(220)
	if err != nil {
		return fail("banner", err)
	}
	bannerTime := ms(time.Since(start))
	res := Result{
		LatencyMs: bannerTime,
		Metrics:   map[string]float64{"banner_ms": bannerTime},
		Output:    fmt.Sprintf("smtp %s: %s", dest, quoteTrunc(firstLine(banner), 120)),
	}
	if cfg.ExpectBanner != "" && !strings.Contains(banner, cfg.ExpectBanner) {
		r := criticalResult("smtp %s: expected %q not found in banner %s", dest, cfg.ExpectBanner, quoteTrunc(banner, 120))
		return withMetrics(r, res.Metrics, res.LatencyMs)
	}
	ext, err := ehlo(text, cfg.EHLOName)
	if err != nil {
		return withMetrics(fail("EHLO", err), res.Metrics, res.LatencyMs)
	}

	var cert certVerdict
	offered := ext["STARTTLS"]
	switch {
	case cfg.StartTLS == StartTLSRequired && !offered:
		r := criticalResult("smtp %s: STARTTLS required but not offered after EHLO", dest)
		return withMetrics(r, res.Metrics, res.LatencyMs)
	case cfg.StartTLS != StartTLSNone && offered:
		if _, err := cmdExpect(text, 220, "STARTTLS"); err != nil {
			return withMetrics(fail("STARTTLS", err), res.Metrics, res.LatencyMs)
		}
		serverName := cmp.Or(strings.TrimSpace(cfg.ServerName), strings.Trim(host, "[]"))
		tc := tls.Client(conn, &tls.Config{ServerName: sniName(serverName), InsecureSkipVerify: true}) //nolint:gosec // evaluateCert verifies
		if err := tc.HandshakeContext(ctx); err != nil {
			return withMetrics(fail("STARTTLS handshake", err), res.Metrics, res.LatencyMs)
		}
		state := tc.ConnectionState()
		if cert, err = evaluateCert(state, serverName, cfg.VerifyTLS, cfg.WarnDays, cfg.CritDays); err != nil {
			return withMetrics(criticalResult("smtp %s: %v", dest, err), res.Metrics, res.LatencyMs)
		}
		res.Metrics["days_to_expiry"] = cert.Days
		res.Output += fmt.Sprintf(", STARTTLS %s, %s", tls.VersionName(state.Version), cert.Summary)
		conn, text = tc, textproto.NewConn(tc)
		// RFC 3207: the session starts over after STARTTLS, EHLO included.
		if _, err := ehlo(text, cfg.EHLOName); err != nil {
			return withMetrics(fail("EHLO after STARTTLS", err), res.Metrics, res.LatencyMs)
		}
	case offered:
		res.Output += ", STARTTLS offered (not used)"
	case cfg.StartTLS == StartTLSOptional:
		res.Output += ", no STARTTLS"
	}
	_, _ = cmdExpect(text, 221, "QUIT") // a server that hangs up at once is fine

	res.Status, res.ErrorMsg = cert.Status, cert.Why
	if st, why := latencyStatus(bannerTime, cfg.WarnLatencyMs, cfg.CritLatencyMs); Worse(res.Status, st) != res.Status {
		res.Status, res.ErrorMsg = st, "banner "+why
	}
	return res
}

// ehlo says EHLO and returns the extensions the server announced (keywords upper-cased).
func ehlo(text *textproto.Conn, name string) (map[string]bool, error) {
	msg, err := cmdExpect(text, 250, "EHLO %s", name)
	if err != nil {
		return nil, err
	}
	ext := map[string]bool{}
	lines := strings.Split(msg, "\n")
	for _, l := range lines[1:] { // the first line greets
		if f := strings.Fields(l); len(f) > 0 {
			ext[strings.ToUpper(f[0])] = true
		}
	}
	return ext, nil
}

// cmdExpect sends one command and reads its reply, which must have code want.
func cmdExpect(text *textproto.Conn, want int, format string, args ...any) (string, error) {
	id, err := text.Cmd(format, args...)
	if err != nil {
		return "", err
	}
	text.StartResponse(id)
	defer text.EndResponse(id)
	_, msg, err := text.ReadResponse(want)
	return msg, err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
