package probes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
)

// testCA is a certificate authority trusted by this test binary only: TestMain writes it to a
// file named by SSL_CERT_FILE before anything loads the system roots, so certificates it signs
// verify like publicly trusted ones while httptest's own certificate stays untrusted.
var testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "probes-ca-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "secumon probes test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	testCA.cert, _ = x509.ParseCertificate(der)
	testCA.key = key
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv("SSL_CERT_FILE", file)
	os.Setenv("SSL_CERT_DIR", dir)
	return m.Run()
}

// leafCert returns a server certificate signed by testCA for 127.0.0.1 and the given DNS
// names, valid until notAfter.
func leafCert(t *testing.T, notAfter time.Time, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "probes test server"},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     names,
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, testCA.cert, &key.PublicKey, testCA.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// run runs prober p on a check built from typ, target and a config value, with a timeout.
func run(t *testing.T, p Prober, typ, target string, cfg any, timeout time.Duration) Result {
	t.Helper()
	return runMemo(t, p, typ, target, cfg, timeout, NewMemo())
}

func runMemo(t *testing.T, p Prober, typ, target string, cfg any, timeout time.Duration, memo *Memo) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	r := p(ctx, check(t, typ, target, cfg, timeout), memo, NewGuard(nil))
	t.Logf("%s %s → %v in %.3f ms: %s | error: %s | metrics: %v", typ, target, r.Status, r.LatencyMs, r.Output, r.ErrorMsg, r.Metrics)
	return r
}

func check(t *testing.T, typ, target string, cfg any, timeout time.Duration) Check {
	t.Helper()
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return Check{ID: uuid.New(), Type: typ, Target: target, Config: raw, Timeout: timeout}
}

// want fails the test unless r has status s; it prints the whole result.
func want(t *testing.T, r Result, s Status) {
	t.Helper()
	if r.Status != s {
		t.Fatalf("status %v, want %v; result %+v", r.Status, s, r)
	}
	if s == OK && r.ErrorMsg != "" {
		t.Fatalf("OK result with error %q", r.ErrorMsg)
	}
	if s != OK && r.ErrorMsg == "" {
		t.Fatalf("%v result without error message: %+v", s, r)
	}
}

func f64(v float64) *float64 { return &v }

// freePort returns a port that was free on 127.0.0.1 for the given network ("tcp" or "udp").
func freePort(t *testing.T, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
