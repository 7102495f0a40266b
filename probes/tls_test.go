package probes

import (
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// tlsServer starts an HTTPS server on 127.0.0.1 with the given certificate (nil: httptest's
// own, self-signed for example.com and 127.0.0.1) and returns its port and server.
func tlsServer(t *testing.T, cert *tls.Certificate) (int, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if cert != nil {
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{*cert}}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().(*net.TCPAddr).Port, srv
}

func TestTLS(t *testing.T) {
	selfSigned, srv := tlsServer(t, nil)
	selfDays := time.Until(srv.Certificate().NotAfter).Hours() / 24

	good := leafCert(t, time.Now().Add(200*24*time.Hour), "probe.test")
	goodPort, _ := tlsServer(t, &good)
	soon := leafCert(t, time.Now().Add(10*24*time.Hour), "probe.test")
	soonPort, _ := tlsServer(t, &soon)
	expired := leafCert(t, time.Now().Add(-24*time.Hour), "probe.test")
	expiredPort, _ := tlsServer(t, &expired)

	type cfg = map[string]any
	cases := []struct {
		name    string
		cfg     cfg
		status  Status
		inError string
		days    float64 // expected days_to_expiry, ±1 (0: not checked)
	}{
		{name: "self-signed, chain verified", cfg: cfg{"port": selfSigned}, status: Critical, inError: "certificate verification failed", days: selfDays},
		{name: "self-signed, chain not verified", cfg: cfg{"port": selfSigned, "verify_chain": false}, status: OK, days: selfDays},
		{name: "warn days", cfg: cfg{"port": selfSigned, "verify_chain": false, "warn_days": 100000, "crit_days": 7}, status: Warning, inError: "warning below 100000"},
		{name: "crit days", cfg: cfg{"port": selfSigned, "verify_chain": false, "warn_days": 100000, "crit_days": 90000}, status: Critical, inError: "critical below 90000"},
		{name: "trusted chain, name matches", cfg: cfg{"port": goodPort, "server_name": "probe.test"}, status: OK, days: 200},
		{name: "trusted chain, ip literal host", cfg: cfg{"port": goodPort}, status: OK, days: 200},
		{name: "trusted chain, wrong name", cfg: cfg{"port": goodPort, "server_name": "other.test"}, status: Critical, inError: "other.test"},
		{name: "expires in 10 days: warning", cfg: cfg{"port": soonPort, "server_name": "probe.test"}, status: Warning, days: 10},
		{name: "expires in 10 days, crit_days 14", cfg: cfg{"port": soonPort, "server_name": "probe.test", "crit_days": 14}, status: Critical, days: 10},
		{name: "expired, verified", cfg: cfg{"port": expiredPort, "server_name": "probe.test"}, status: Critical, inError: "expired", days: -1},
		{name: "expired, not verified", cfg: cfg{"port": expiredPort, "verify_chain": false}, status: Critical, inError: "expired on", days: -1},
		{name: "closed port", cfg: cfg{"port": freePort(t, "tcp")}, status: Critical, inError: "refused"},
		{name: "disallowed", cfg: cfg{"host": "192.0.2.1"}, status: Unknown, inError: "SECUMON_PROBE_ALLOW"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, ProbeTLS, "tls", "127.0.0.1", tc.cfg, 3*time.Second)
			want(t, r, tc.status)
			if tc.inError != "" && !strings.Contains(r.ErrorMsg, tc.inError) {
				t.Fatalf("error %q does not contain %q", r.ErrorMsg, tc.inError)
			}
			if tc.days != 0 {
				got, ok := r.Metrics["days_to_expiry"]
				if !ok || got < tc.days-1 || got > tc.days+1 {
					t.Fatalf("days_to_expiry = %v (present %v), want %v±1", got, ok, tc.days)
				}
			}
		})
	}
}
