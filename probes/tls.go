package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// TLSConfig is the config of a tls check (OpenAPI schema TlsConfig).
type TLSConfig struct {
	Host        string `json:"host,omitempty"`
	Port        int    `json:"port,omitempty"`
	ServerName  string `json:"server_name,omitempty"`
	WarnDays    int    `json:"warn_days"`
	CritDays    int    `json:"crit_days"`
	VerifyChain bool   `json:"verify_chain"`
}

// DefaultTLSConfig returns the defaults of a tls check.
func DefaultTLSConfig() TLSConfig {
	return TLSConfig{Port: 443, WarnDays: 30, CritDays: 7, VerifyChain: true}
}

// ProbeTLS completes a TLS handshake and checks the certificate's expiry and, with
// verify_chain, its chain (system roots) and its name (server_name). days_to_expiry is the
// earliest expiry of the certificates the server presented.
func ProbeTLS(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
	cfg := DefaultTLSConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("tls: %v", err)
	}
	if cfg.Port == 0 {
		cfg.Port = 443
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return unknownResult("tls: invalid config: port %d out of range 1..65535", cfg.Port)
	}
	host, err := targetHost(cfg.Host, c)
	if err != nil {
		return unknownResult("tls: %v", err)
	}
	addr, err := g.Resolve(ctx, host)
	if err != nil {
		return unknownResult("tls: %v", err)
	}
	serverName := strings.TrimSpace(cfg.ServerName)
	if serverName == "" {
		serverName = strings.Trim(host, "[]")
	}
	dest := netip.AddrPortFrom(addr, uint16(cfg.Port)).String()

	start := time.Now()
	raw, err := g.Dialer(remaining(ctx, DefaultTimeout)).DialContext(ctx, "tcp", dest)
	if err != nil {
		return errorResult("tls connect "+dest, err)
	}
	defer raw.Close()
	// The chain is verified below, after the handshake, so that the expiry is known even when
	// the chain is invalid.
	sni := serverName
	if _, err := netip.ParseAddr(sni); err == nil {
		sni = "" // no SNI for IP literals (RFC 6066)
	}
	conn := tls.Client(raw, &tls.Config{ServerName: sni, InsecureSkipVerify: true}) //nolint:gosec // verified by hand below
	if err := conn.HandshakeContext(ctx); err != nil {
		r := errorResult("tls handshake with "+dest, err)
		r.LatencyMs = ms(time.Since(start))
		return r
	}
	handshake := time.Since(start)
	state := conn.ConnectionState()
	_ = conn.Close()
	if len(state.PeerCertificates) == 0 {
		return criticalResult("tls %s: the server presented no certificate", dest)
	}
	leaf := state.PeerCertificates[0]
	earliest := earliestExpiry(state.PeerCertificates)
	days := daysUntil(earliest.NotAfter)
	res := Result{
		LatencyMs: ms(handshake),
		Metrics:   map[string]float64{"days_to_expiry": days},
		Output: fmt.Sprintf("%s %s, certificate %q expires %s (%.0f days)", dest, tls.VersionName(state.Version),
			leaf.Subject.String(), earliest.NotAfter.UTC().Format(time.DateOnly), days),
	}

	if cfg.VerifyChain {
		opts := x509.VerifyOptions{
			DNSName:       serverName,
			Intermediates: x509.NewCertPool(),
			CurrentTime:   time.Now(),
		}
		for _, cert := range state.PeerCertificates[1:] {
			opts.Intermediates.AddCert(cert)
		}
		if _, err := leaf.Verify(opts); err != nil {
			res.Status = Critical
			res.ErrorMsg = fmt.Sprintf("certificate verification failed for %q: %v", serverName, err)
			return res
		}
	}
	res.Status, res.ErrorMsg = certExpiryStatus(earliest, cfg.WarnDays, cfg.CritDays)
	return res
}

// earliestExpiry returns the certificate of a presented chain that expires first: the chain
// is only as good as its weakest link. certs must not be empty.
func earliestExpiry(certs []*x509.Certificate) *x509.Certificate {
	earliest := certs[0]
	for _, cert := range certs[1:] {
		if cert.NotAfter.Before(earliest.NotAfter) {
			earliest = cert
		}
	}
	return earliest
}

// certExpiryStatus is the one rule for a certificate's expiry, shared by the tls check and
// every https check: CRITICAL once expired or within critDays, WARNING within warnDays. It
// returns the status and, when not OK, a reason.
func certExpiryStatus(cert *x509.Certificate, warnDays, critDays int) (Status, string) {
	days := daysUntil(cert.NotAfter)
	switch {
	case days < 0:
		return Critical, fmt.Sprintf("certificate %q expired on %s", cert.Subject.String(), cert.NotAfter.UTC().Format(time.RFC3339))
	case days < float64(critDays):
		return Critical, fmt.Sprintf("certificate expires in %.1f days (critical below %d)", days, critDays)
	case days < float64(warnDays):
		return Warning, fmt.Sprintf("certificate expires in %.1f days (warning below %d)", days, warnDays)
	}
	return OK, ""
}
