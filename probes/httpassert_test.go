package probes

import (
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// assertHandler answers /json with a JSON document and known headers, /html with text, and
// /auth only to monitor:s3cret.
func assertHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, `{"status":"degraded","version":"2.4.1","items":[1,2,3],"load":0.75,"empty":[],"name":"façade","error":null}`)
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html>Maintenance in progress, build 42</html>")
	})
	mux.HandleFunc("/auth", func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "monitor" || pass != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, "welcome")
	})
	return mux
}

// TestHTTPAssertions runs each assertion kind once passing and once failing against a loopback
// server; a failing one must be named in the output, with its index and what was found.
func TestHTTPAssertions(t *testing.T) {
	srv := httptest.NewServer(assertHandler())
	defer srv.Close()
	type a = map[string]any
	cases := []struct {
		name    string
		path    string
		assert  a
		status  Status // of the run; OK means the assertion passed
		inOuput string // for failures: what the output must say after "assertion 1 ("
	}{
		{"status_in pass", "/json", a{"kind": "status_in", "codes": []int{200, 204}}, OK, ""},
		{"status_in fail", "/auth", a{"kind": "status_in", "codes": []int{200, 204}}, Critical, `status_in 200|204) failed: got 401`},
		{"latency_below_ms pass", "/json", a{"kind": "latency_below_ms", "ms": 2000}, OK, ""},
		{"latency_below_ms fail", "/json", a{"kind": "latency_below_ms", "ms": 0}, Critical, `latency_below_ms 0.000) failed: got `},
		{"header_equals pass", "/json", a{"kind": "header_equals", "name": "cache-control", "value": "no-store"}, OK, ""},
		{"header_equals fail", "/json", a{"kind": "header_equals", "name": "Cache-Control", "value": "max-age=60"}, Critical, `header_equals Cache-Control: "max-age=60") failed: got "no-store"`},
		{"header_equals absent", "/html", a{"kind": "header_equals", "name": "Cache-Control", "value": "no-store"}, Critical, `header_equals Cache-Control: "no-store") failed: got no such header`},
		{"header_matches pass", "/json", a{"kind": "header_matches", "name": "Content-Type", "regex": "^application/json"}, OK, ""},
		{"header_matches fail", "/html", a{"kind": "header_matches", "name": "Content-Type", "regex": "^application/json"}, Critical, `header_matches Content-Type ~ /^application/json/) failed: got "text/html"`},
		{"body_contains pass", "/html", a{"kind": "body_contains", "text": "build 42"}, OK, ""},
		{"body_contains fail", "/html", a{"kind": "body_contains", "text": "build 43"}, Critical, `body_contains "build 43") failed: got a 46-byte body without it`},
		{"body_not_contains pass", "/json", a{"kind": "body_not_contains", "text": "Maintenance"}, OK, ""},
		{"body_not_contains fail", "/html", a{"kind": "body_not_contains", "text": "Maintenance"}, Critical, `body_not_contains "Maintenance") failed: got a body containing it`},
		{"body_matches pass", "/html", a{"kind": "body_matches", "regex": `build \d+`}, OK, ""},
		{"body_matches fail", "/json", a{"kind": "body_matches", "regex": `build \d+`}, Critical, `body_matches /build \d+/) failed`},
		{"json_path == pass", "/json", a{"kind": "json_path", "path": "$.version", "op": "==", "value": "2.4.1"}, OK, ""},
		{"json_path == fail", "/json", a{"kind": "json_path", "path": "$.status", "op": "==", "value": "ok"}, Critical, `json_path $.status == "ok") failed: got "degraded"`},
		{"json_path != pass", "/json", a{"kind": "json_path", "path": "$.status", "op": "!=", "value": "down"}, OK, ""},
		{"json_path < pass", "/json", a{"kind": "json_path", "path": "$.load", "op": "<", "value": 0.9}, OK, ""},
		{"json_path > fail", "/json", a{"kind": "json_path", "path": "$.load", "op": ">", "value": 0.9}, Critical, `json_path $.load > 0.9) failed: got 0.75`},
		{"json_path len > pass", "/json", a{"kind": "json_path", "path": "$.items", "measure": "length", "op": ">", "value": 0}, OK, ""},
		{"json_path len > fail", "/json", a{"kind": "json_path", "path": "$.empty", "measure": "length", "op": ">", "value": 0}, Critical, `json_path len($.empty) > 0) failed: got 0`},
		{"json_path len of a string", "/json", a{"kind": "json_path", "path": "$.name", "measure": "length", "op": "==", "value": 6}, OK, ""},
		{"json_path filter", "/json", a{"kind": "json_path", "path": "$.items[?@ > 2]", "op": "==", "value": 3}, OK, ""},
		{"json_path == null pass", "/json", a{"kind": "json_path", "path": "$.error", "op": "==", "value": nil}, OK, ""},
		{"json_path == null fail", "/json", a{"kind": "json_path", "path": "$.status", "op": "==", "value": nil}, Critical, `json_path $.status == null) failed: got "degraded"`},
		{"json_path exists pass", "/json", a{"kind": "json_path", "path": "$.items[2]", "op": "exists"}, OK, ""},
		{"json_path exists fail", "/json", a{"kind": "json_path", "path": "$.items[5]", "op": "exists"}, Critical, `json_path $.items[5] exists) failed: got nothing`},
		{"json_path not_exists fail", "/json", a{"kind": "json_path", "path": "$.status", "op": "not_exists"}, Critical, `json_path $.status not_exists) failed: got 1 value(s)`},
		{"json_path several nodes", "/json", a{"kind": "json_path", "path": "$.items[*]", "op": "==", "value": 1}, Critical, `json_path $.items[*] == 1) failed: got 3 values (the query must select exactly one)`},
		{"json_path not JSON", "/html", a{"kind": "json_path", "path": "$.status", "op": "==", "value": "ok"}, Critical, `json_path $.status == "ok") failed: got a body that is not JSON`},
		{"cert_days_above on http", "/json", a{"kind": "cert_days_above", "days": 1}, Critical, `cert_days_above 1) failed: got no certificate (not https)`},
		{"severity warning", "/json", a{"kind": "json_path", "path": "$.status", "op": "==", "value": "ok", "severity": "warning"}, Warning, `json_path $.status == "ok") failed: got "degraded"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Assertion 0 always passes, so the one under test is "assertion 1": indexes count.
			r := run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{
				"url": srv.URL + tc.path, "expected_status": []int{200, 401},
				"assertions": []any{a{"kind": "status_in", "codes": []int{200, 401}}, tc.assert},
			}, 3*time.Second)
			want(t, r, tc.status)
			if tc.status == OK {
				if r.Metrics["assertions_failed"] != 0 || strings.Contains(r.Output, "assertion") {
					t.Fatalf("passing assertion reported: %q %v", r.Output, r.Metrics)
				}
				return
			}
			if !strings.Contains(r.Output, "assertion 1 ("+tc.inOuput) || !strings.Contains(r.ErrorMsg, "assertion 1 ("+tc.inOuput) {
				t.Fatalf("output %q / error %q do not name the failing assertion as %q", r.Output, r.ErrorMsg, "assertion 1 ("+tc.inOuput)
			}
			if r.Metrics["assertions_failed"] != 1 {
				t.Fatalf("assertions_failed %v, want 1", r.Metrics["assertions_failed"])
			}
		})
	}

	t.Run("every failing assertion is named, the worst severity wins", func(t *testing.T) {
		r := run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/json", "assertions": []any{
			a{"kind": "json_path", "path": "$.status", "op": "==", "value": "ok", "severity": "warning"},
			a{"kind": "body_contains", "text": "degraded"},
			a{"kind": "header_equals", "name": "X-Missing", "value": "1"},
		}}, 3*time.Second)
		want(t, r, Critical)
		for _, s := range []string{`assertion 0 (json_path $.status == "ok") failed: got "degraded"`, `assertion 2 (header_equals X-Missing: "1") failed`} {
			if !strings.Contains(r.Output, s) {
				t.Errorf("output %q does not contain %q", r.Output, s)
			}
		}
		if strings.Contains(r.Output, "assertion 1") || r.Metrics["assertions_failed"] != 2 {
			t.Errorf("output %q, assertions_failed %v: only 0 and 2 fail", r.Output, r.Metrics["assertions_failed"])
		}
	})

	t.Run("long patterns are cut in the output", func(t *testing.T) {
		long := strings.Repeat("é", 600) // 1200 bytes
		r := run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/json",
			"assertions": []any{a{"kind": "body_contains", "text": long}}}, 3*time.Second)
		want(t, r, Critical)
		if len(r.ErrorMsg) > 400 || !strings.Contains(r.ErrorMsg, "…) failed") || !utf8.ValidString(r.ErrorMsg) {
			t.Fatalf("error %q (%d bytes) is not cut cleanly", r.ErrorMsg, len(r.ErrorMsg))
		}
	})

	t.Run("an invalid assertion makes the run UNKNOWN", func(t *testing.T) {
		r := run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/json",
			"assertions": []any{a{"kind": "body_matches", "regex": "(unclosed"}}}, 3*time.Second)
		want(t, r, Unknown)
		if !strings.Contains(r.ErrorMsg, "assertions.0.regex") {
			t.Fatalf("error %q does not name assertions.0.regex", r.ErrorMsg)
		}
	})
}

func TestValidateHTTPConfig(t *testing.T) {
	cases := []struct {
		assertion string
		field     string // "" when valid
		message   string
	}{
		{`{"kind":"body_matches","regex":"build \\d+"}`, "", ""},
		{`{"kind":"body_matches","regex":"(unclosed"}`, "assertions.1.regex", "missing closing )"},
		{`{"kind":"header_matches","name":"X","regex":"a{2000}"}`, "assertions.1.regex", "invalid repeat count"},
		{`{"kind":"body_matches","regex":"(?<=x)y"}`, "assertions.1.regex", "not a valid RE2"},
		{`{"kind":"json_path","path":"$.items[?@.a ==]","op":"exists"}`, "assertions.1.path", "RFC 9535"},
		{`{"kind":"json_path","path":"$..","op":"exists"}`, "assertions.1.path", "RFC 9535"},
		{`{"kind":"json_path","path":"$.a","op":"=="}`, "assertions.1.value", "required with op =="},
		{`{"kind":"json_path","path":"$.a","op":"exists","value":1}`, "assertions.1.value", "absent"},
		{`{"kind":"json_path","path":"$.a","op":">","value":true}`, "assertions.1.value", "a number or a string"},
		{`{"kind":"json_path","path":"$.a","op":"==","measure":"length","value":"3"}`, "assertions.1.value", "a number with measure length"},
		{`{"kind":"json_path","path":"$.a","op":"==","value":{"x":[1,null]}}`, "", ""},
	}
	for _, tc := range cases {
		raw := `{"url":"http://127.0.0.1/","assertions":[{"kind":"status_in","codes":[200]},` + tc.assertion + `]}`
		errs := ValidateHTTPConfig([]byte(raw))
		if tc.field == "" {
			if len(errs) != 0 {
				t.Errorf("%s: unexpected %v", tc.assertion, errs)
			}
			continue
		}
		if len(errs) != 1 || errs[0].Field != tc.field || !strings.Contains(errs[0].Message, tc.message) {
			t.Errorf("%s: got %v, want %s: …%s…", tc.assertion, errs, tc.field, tc.message)
		}
	}
}

func TestHTTPBasicAuth(t *testing.T) {
	srv := httptest.NewServer(assertHandler())
	defer srv.Close()
	r := run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/auth",
		"basic_auth": map[string]string{"username": "monitor", "password": "s3cret"}}, 3*time.Second)
	want(t, r, OK)
	r = run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/auth",
		"basic_auth": map[string]string{"username": "monitor", "password": "wrong"}}, 3*time.Second)
	want(t, r, Critical)
	if !strings.Contains(r.Output, "status 401") {
		t.Fatalf("output %q", r.Output)
	}
	// An explicit Authorization header wins over basic_auth.
	r = run(t, ProbeHTTP, "http", "127.0.0.1", map[string]any{"url": srv.URL + "/auth",
		"basic_auth": map[string]string{"username": "monitor", "password": "wrong"},
		"headers":    map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("monitor:s3cret"))}}, 3*time.Second)
	want(t, r, OK)
}

// TestHTTPCertificateExpiry: every https check judges its certificate with the tls check's
// rule (cert_warn_days / cert_crit_days), cert_days_above asserts on it, and tls_required
// refuses a final URL that is not https.
func TestHTTPCertificateExpiry(t *testing.T) {
	server := func(notAfter time.Time) *httptest.Server {
		srv := httptest.NewUnstartedServer(assertHandler())
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{leafCert(t, notAfter, "probe.test")}}
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv
	}
	day := 24 * time.Hour
	far := server(time.Now().Add(200*day + time.Hour))
	tenDays := server(time.Now().Add(10*day + time.Hour))
	twoDays := server(time.Now().Add(2*day + time.Hour))
	expired := server(time.Now().Add(-day))
	plain := httptest.NewServer(assertHandler())
	defer plain.Close()
	// An https server that redirects to the plain one.
	downgrade := httptest.NewTLSServer(http.RedirectHandler(plain.URL+"/json", http.StatusFound))
	defer downgrade.Close()

	type cfg = map[string]any
	cases := []struct {
		name     string
		cfg      cfg
		status   Status
		inOutput string
	}{
		{"200 days: OK", cfg{"url": far.URL + "/json"}, OK, "certificate expires in 200 days"},
		{"10 days: WARNING below the default 14", cfg{"url": tenDays.URL + "/json"}, Warning, "certificate expires in 10.0 days (warning below 14)"},
		{"10 days: OK with cert_warn_days 7", cfg{"url": tenDays.URL + "/json", "cert_warn_days": 7}, OK, "certificate expires in 10 days"},
		{"2 days: CRITICAL below the default 3", cfg{"url": twoDays.URL + "/json"}, Critical, "certificate expires in 2.0 days (critical below 3)"},
		{"10 days: CRITICAL with cert_crit_days 11", cfg{"url": tenDays.URL + "/json", "cert_crit_days": 11}, Critical, "(critical below 11)"},
		{"expired, verify_tls off", cfg{"url": expired.URL + "/json", "verify_tls": false}, Critical, "certificate expired 1 days ago; certificate \"CN=probes test server\" expired on"},
		{"plain http skips it", cfg{"url": plain.URL + "/json", "cert_warn_days": 3650}, OK, ""},
		{"cert_days_above pass", cfg{"url": far.URL + "/json", "assertions": []any{cfg{"kind": "cert_days_above", "days": 30}}}, OK, ""},
		{"cert_days_above fail", cfg{"url": tenDays.URL + "/json", "cert_warn_days": 0, "assertions": []any{cfg{"kind": "cert_days_above", "days": 30, "severity": "warning"}}}, Warning, "assertion 0 (cert_days_above 30) failed: got 10.0 days"},
		{"tls_required on https", cfg{"url": far.URL + "/json", "tls_required": true}, OK, ""},
		{"tls_required on http", cfg{"url": plain.URL + "/json", "tls_required": true}, Critical, "TLS required but the final URL " + plain.URL + "/json is not https"},
		{"tls_required, redirected to http", cfg{"url": downgrade.URL + "/", "verify_tls": false, "tls_required": true}, Critical, "is not https"},
		{"redirect to http not followed", cfg{"url": downgrade.URL + "/", "verify_tls": false, "tls_required": true, "follow_redirects": false, "expected_status": []int{302}}, OK, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, ProbeHTTP, "http", "127.0.0.1", tc.cfg, 3*time.Second)
			want(t, r, tc.status)
			if !strings.Contains(r.Output, tc.inOutput) {
				t.Fatalf("output %q does not contain %q", r.Output, tc.inOutput)
			}
			// The certificate is the final response's: none after a redirect to http.
			_, hasDays := r.Metrics["tls_days_to_expiry"]
			if hasDays != (strings.HasPrefix(tc.cfg["url"].(string), "https") && r.Metrics["http_redirects"] == 0) {
				t.Fatalf("tls_days_to_expiry present %v for %s", hasDays, tc.cfg["url"])
			}
		})
	}
}
