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
	host, addr, err := resolveTarget(ctx, g, cfg.Host, c)
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
	conn := tls.Client(raw, &tls.Config{ServerName: sniName(serverName), InsecureSkipVerify: true}) //nolint:gosec // verified by hand below
	if err := conn.HandshakeContext(ctx); err != nil {
		r := errorResult("tls handshake with "+dest, err)
		r.LatencyMs = ms(time.Since(start))
		return r
	}
	handshake := time.Since(start)
	state := conn.ConnectionState()
	_ = conn.Close()
	cert, err := evaluateCert(state, serverName, cfg.VerifyChain, cfg.WarnDays, cfg.CritDays)
	if err != nil {
		return criticalResult("tls %s: %v", dest, err)
	}
	return Result{
		Status:    cert.Status,
		ErrorMsg:  cert.Why,
		LatencyMs: ms(handshake),
		Metrics:   map[string]float64{"days_to_expiry": cert.Days},
		Output:    fmt.Sprintf("%s %s, %s", dest, tls.VersionName(state.Version), cert.Summary),
	}
}

// sniName is the server name to send in a TLS ClientHello: none for IP literals (RFC 6066).
func sniName(serverName string) string {
	if _, err := netip.ParseAddr(serverName); err == nil {
		return ""
	}
	return serverName
}

// certVerdict is what evaluateCert concludes about the certificates of a handshake.
type certVerdict struct {
	Days    float64 // days until the earliest expiry among the presented certificates
	Status  Status  // OK, Warning (warn_days) or Critical (crit_days, expired, not verified)
	Why     string  // the reason when not OK
	Summary string  // `certificate "CN=…" expires 2027-01-01 (120 days)`
}

// evaluateCert judges the certificates a TLS handshake presented: the earliest expiry against
// warnDays and critDays and, with verify, the chain (system roots) and serverName. It is the
// one certificate policy of the probes that negotiate TLS (tls, smtp STARTTLS). The handshake
// itself skips verification so that the expiry is known even when the chain is invalid.
func evaluateCert(state tls.ConnectionState, serverName string, verify bool, warnDays, critDays int) (certVerdict, error) {
	if len(state.PeerCertificates) == 0 {
		return certVerdict{}, fmt.Errorf("the server presented no certificate")
	}
	leaf := state.PeerCertificates[0]
	earliest := earliestExpiry(state.PeerCertificates)
	v := certVerdict{Days: daysUntil(earliest.NotAfter)}
	v.Summary = fmt.Sprintf("certificate %q expires %s (%.0f days)", leaf.Subject.String(), earliest.NotAfter.UTC().Format(time.DateOnly), v.Days)

	if verify {
		opts := x509.VerifyOptions{
			DNSName:       serverName,
			Intermediates: x509.NewCertPool(),
			CurrentTime:   time.Now(),
		}
		for _, cert := range state.PeerCertificates[1:] {
			opts.Intermediates.AddCert(cert)
		}
		if _, err := leaf.Verify(opts); err != nil {
			v.Status, v.Why = Critical, fmt.Sprintf("certificate verification failed for %q: %v", serverName, err)
			return v, nil
		}
	}
	v.Status, v.Why = certExpiryStatus(earliest, warnDays, critDays)
	return v, nil
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
