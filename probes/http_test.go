package probes

import (
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// httpSeen records what the test server received.
type httpSeen struct {
	mu     sync.Mutex
	method string
	header http.Header
	host   string
	body   string
	paths  []string
}

func (s *httpSeen) get() (string, http.Header, string, string, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.method, s.header, s.host, s.body, append([]string(nil), s.paths...)
}

func testHTTPHandler(seen *httpSeen) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen.mu.Lock()
		seen.method, seen.header, seen.host, seen.body = r.Method, r.Header.Clone(), r.Host, string(b)
		seen.paths = append(seen.paths, r.URL.Path)
		seen.mu.Unlock()
		fmt.Fprint(w, "hello from the probes test server")
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.WriteHeader(code)
		fmt.Fprintf(w, "status %d", code)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(60 * time.Millisecond)
		fmt.Fprint(w, "slow")
	})
	mux.HandleFunc("/redirect/{n}", func(w http.ResponseWriter, r *http.Request) {
		seen.mu.Lock()
		seen.paths = append(seen.paths, r.URL.Path)
		seen.mu.Unlock()
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n <= 0 {
			http.Redirect(w, r, "/final", http.StatusFound)
			return
		}
		http.Redirect(w, r, fmt.Sprintf("/redirect/%d", n-1), http.StatusFound)
	})
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "final destination") })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://192.0.2.1/stolen", http.StatusFound)
	})
	return mux
}

func TestHTTP(t *testing.T) {
	seen := &httpSeen{}
	srv := httptest.NewServer(testHTTPHandler(seen))
	defer srv.Close()
	u := srv.URL

	type cfg = map[string]any
	cases := []struct {
		name    string
		cfg     cfg
		status  Status
		inError string
		check   func(t *testing.T, r Result)
	}{
		{name: "200 default", cfg: cfg{"url": u + "/"}, status: OK, check: func(t *testing.T, r Result) {
			if r.Metrics["http_status"] != 200 || r.Metrics["http_content_length"] != float64(len("hello from the probes test server")) {
				t.Errorf("metrics %v", r.Metrics)
			}
			if _, ok := r.Metrics["tls_days_to_expiry"]; ok {
				t.Error("tls_days_to_expiry on plain http")
			}
		}},
		{name: "201 is 2xx", cfg: cfg{"url": u + "/status/201"}, status: OK},
		{name: "503 not 2xx", cfg: cfg{"url": u + "/status/503"}, status: Critical, inError: "status 503, expected 2xx"},
		{name: "503 expected", cfg: cfg{"url": u + "/status/503", "expected_status": []int{500, 503}}, status: OK},
		{name: "200 not in set", cfg: cfg{"url": u + "/status/200", "expected_status": []int{401, 403}}, status: Critical, inError: "expected 401|403"},
		{name: "body keyword found", cfg: cfg{"url": u + "/", "body_contains": "probes test"}, status: OK},
		{name: "body keyword missing", cfg: cfg{"url": u + "/", "body_contains": "goodbye"}, status: Critical, inError: `"goodbye"`},
		{name: "redirects followed", cfg: cfg{"url": u + "/redirect/2", "body_contains": "final destination"}, status: OK, check: func(t *testing.T, r Result) {
			if r.Metrics["http_redirects"] != 3 {
				t.Errorf("redirects %v, want 3", r.Metrics["http_redirects"])
			}
		}},
		{name: "redirect not followed", cfg: cfg{"url": u + "/redirect/2", "follow_redirects": false}, status: Critical, inError: "status 302"},
		{name: "redirect not followed, 302 expected", cfg: cfg{"url": u + "/redirect/0", "follow_redirects": false, "expected_status": []int{302}}, status: OK},
		{name: "redirect loop stops at 10", cfg: cfg{"url": u + "/loop"}, status: Critical, inError: "stopped after 10 redirects"},
		{name: "redirect to a disallowed address", cfg: cfg{"url": u + "/away"}, status: Unknown, inError: "192.0.2.1"},
		{name: "warn latency", cfg: cfg{"url": u + "/slow", "warn_latency_ms": 20}, status: Warning, inError: "warning threshold"},
		{name: "crit latency", cfg: cfg{"url": u + "/slow", "warn_latency_ms": 10, "crit_latency_ms": 20}, status: Critical, inError: "critical threshold"},
		{name: "latency under thresholds", cfg: cfg{"url": u + "/slow", "warn_latency_ms": 2000, "crit_latency_ms": 5000}, status: OK},
		{name: "disallowed url", cfg: cfg{"url": "http://192.0.2.1/"}, status: Unknown, inError: "SECUMON_PROBE_ALLOW"},
		{name: "refused", cfg: cfg{"url": fmt.Sprintf("http://127.0.0.1:%d/", freePort(t, "tcp"))}, status: Critical, inError: "refused"},
		{name: "no url", cfg: cfg{}, status: Unknown, inError: "url"},
		{name: "not http", cfg: cfg{"url": "ftp://127.0.0.1/"}, status: Unknown, inError: "http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			r := run(t, ProbeHTTP, "http", "127.0.0.1", tc.cfg, 3*time.Second)
			want(t, r, tc.status)
			if tc.inError != "" && !strings.Contains(r.ErrorMsg, tc.inError) {
				t.Fatalf("error %q does not contain %q", r.ErrorMsg, tc.inError)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
			if time.Since(start) > 2*time.Second {
				t.Fatalf("took %v", time.Since(start))
			}
		})
	}

	t.Run("method, headers and body sent", func(t *testing.T) {
		r := run(t, ProbeHTTP, "http", "127.0.0.1", cfg{
			"url": u + "/submit", "method": "POST", "body": `{"ping":true}`,
			"headers": map[string]string{"Authorization": "Bearer s3cret", "X-Probe": "yes", "Host": "virtual.test"},
		}, 3*time.Second)
		want(t, r, OK)
		method, header, host, body, _ := seen.get()
		if method != "POST" || body != `{"ping":true}` || header.Get("Authorization") != "Bearer s3cret" ||
			header.Get("X-Probe") != "yes" || host != "virtual.test" || !strings.HasPrefix(header.Get("User-Agent"), "secumon-probe") {
			t.Fatalf("server saw %s %q host %q headers %v", method, body, host, header)
		}
	})
}

func TestHTTPS(t *testing.T) {
	srv := httptest.NewTLSServer(testHTTPHandler(&httpSeen{}))
	defer srv.Close()

	r := run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/"}, 3*time.Second)
	want(t, r, Critical)
	if !strings.Contains(r.ErrorMsg, "certificate") {
		t.Fatalf("self-signed certificate with verify_tls: error %q", r.ErrorMsg)
	}

	r = run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/", "verify_tls": false}, 3*time.Second)
	want(t, r, OK)
	days := time.Until(srv.Certificate().NotAfter).Hours() / 24
	if got := r.Metrics["tls_days_to_expiry"]; got < days-1 || got > days+1 {
		t.Fatalf("tls_days_to_expiry %v, the certificate has %v days left", got, days)
	}

	// A certificate from the CA this test binary trusts verifies with verify_tls on.
	trusted := httptest.NewUnstartedServer(testHTTPHandler(&httpSeen{}))
	trusted.TLS = &tls.Config{Certificates: []tls.Certificate{leafCert(t, time.Now().Add(90*24*time.Hour), "probe.test")}}
	trusted.StartTLS()
	defer trusted.Close()
	r = run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": trusted.URL + "/"}, 3*time.Second)
	want(t, r, OK)
	if got := r.Metrics["tls_days_to_expiry"]; got < 89 || got > 90 {
		t.Fatalf("tls_days_to_expiry %v, want ~90", got)
	}
}
