package probes

import (
	"crypto/tls"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// smtpBackend accepts sessions and no mail: the probe never sends any.
type smtpBackend struct{}

func (smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return smtpSession{}, nil }

type smtpSession struct{}

func (smtpSession) Mail(string, *smtp.MailOptions) error {
	return &smtp.SMTPError{Code: 550, Message: "no mail here"}
}
func (smtpSession) Rcpt(string, *smtp.RcptOptions) error {
	return &smtp.SMTPError{Code: 550, Message: "no mail here"}
}
func (smtpSession) Data(io.Reader) error { return &smtp.SMTPError{Code: 550, Message: "no mail here"} }
func (smtpSession) Reset()               {}
func (smtpSession) Logout() error        { return nil }

// smtpServer runs a real SMTP server (go-smtp) on 127.0.0.1 that offers STARTTLS with cert
// when cert is not nil, and returns its port.
func smtpServer(t *testing.T, domain string, cert *tls.Certificate) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtpBackend{})
	srv.Domain = domain
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	go srv.Serve(l) //nolint:errcheck // ends with Close
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

func TestSMTP(t *testing.T) {
	good := leafCert(t, time.Now().Add(200*24*time.Hour), "mx.test")
	tlsPort := smtpServer(t, "mx.test", &good)
	soon := leafCert(t, time.Now().Add(5*24*time.Hour), "mx.test")
	soonPort := smtpServer(t, "mx.test", &soon)
	plainPort := smtpServer(t, "plain.test", nil)
	// Something that is no SMTP server: answers with an HTTP-like line and hangs up.
	notSMTP, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { notSMTP.Close() })
	go func() {
		for {
			c, err := notSMTP.Accept()
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
			c.Close()
		}
	}()

	type cfg = map[string]any
	cases := []struct {
		name   string
		cfg    cfg
		status Status
		inText string // in the error, or in the output when OK
		days   bool   // days_to_expiry recorded
	}{
		{name: "starttls verified", cfg: cfg{"port": tlsPort, "server_name": "mx.test"}, status: OK, inText: "STARTTLS TLS 1.3", days: true},
		{name: "starttls required and offered", cfg: cfg{"port": tlsPort, "server_name": "mx.test", "starttls": "required", "expect_banner": "mx.test"}, status: OK, inText: "expires", days: true},
		{name: "starttls wrong name", cfg: cfg{"port": tlsPort, "server_name": "other.test"}, status: Critical, inText: "certificate verification failed", days: true},
		{name: "starttls not verified", cfg: cfg{"port": tlsPort, "server_name": "other.test", "verify_tls": false}, status: OK, inText: "STARTTLS", days: true},
		{name: "certificate expires soon", cfg: cfg{"port": soonPort, "server_name": "mx.test"}, status: Critical, inText: "critical below 7", days: true},
		{name: "certificate expires soon, warn only", cfg: cfg{"port": soonPort, "server_name": "mx.test", "crit_days": 2}, status: Warning, inText: "warning below 30", days: true},
		{name: "starttls none", cfg: cfg{"port": tlsPort, "starttls": "none"}, status: OK, inText: "STARTTLS offered (not used)"},
		{name: "no starttls, optional", cfg: cfg{"port": plainPort}, status: OK, inText: "no STARTTLS"},
		{name: "no starttls, required", cfg: cfg{"port": plainPort, "starttls": "required"}, status: Critical, inText: "STARTTLS required but not offered"},
		{name: "banner mismatch", cfg: cfg{"port": plainPort, "expect_banner": "Postfix"}, status: Critical, inText: `expected "Postfix" not found in banner`},
		{name: "custom ehlo name", cfg: cfg{"port": plainPort, "ehlo_name": "probe.example.org"}, status: OK, inText: "plain.test"},
		{name: "latency threshold", cfg: cfg{"port": plainPort, "warn_latency_ms": 0}, status: Warning, inText: "banner latency"},
		{name: "not an smtp server", cfg: cfg{"port": notSMTP.Addr().(*net.TCPAddr).Port}, status: Critical, inText: "banner"},
		{name: "server down", cfg: cfg{"port": freePort(t, "tcp")}, status: Critical, inText: "refused"},
		{name: "disallowed", cfg: cfg{"host": "192.0.2.1"}, status: Unknown, inText: "SECUMON_PROBE_ALLOW"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, ProbeSMTP, "smtp", "127.0.0.1", tc.cfg, 3*time.Second)
			want(t, r, tc.status)
			text := r.ErrorMsg
			if tc.status == OK {
				text = r.Output
			}
			if !strings.Contains(text, tc.inText) {
				t.Fatalf("%q does not contain %q", text, tc.inText)
			}
			if _, ok := r.Metrics["days_to_expiry"]; ok != tc.days {
				t.Fatalf("days_to_expiry recorded: %v, want %v (metrics %v)", ok, tc.days, r.Metrics)
			}
		})
	}
}
