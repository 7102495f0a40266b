package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// HTTPConfig is the config of an http check (OpenAPI schema HttpConfig).
type HTTPConfig struct {
	URL             string            `json:"url,omitempty"`
	Method          string            `json:"method,omitempty"`
	Headers         map[string]string `json:"headers,omitempty"`
	Body            string            `json:"body,omitempty"`
	BasicAuth       *HTTPBasicAuth    `json:"basic_auth,omitempty"`
	ExpectedStatus  []int             `json:"expected_status,omitempty"`
	BodyContains    string            `json:"body_contains,omitempty"`
	VerifyTLS       bool              `json:"verify_tls"`
	FollowRedirects bool              `json:"follow_redirects"`
	TLSRequired     bool              `json:"tls_required,omitempty"`
	WarnLatencyMs   *float64          `json:"warn_latency_ms,omitempty"`
	CritLatencyMs   *float64          `json:"crit_latency_ms,omitempty"`
	// CertWarnDays and CertCritDays apply the tls check's expiry rule (certExpiryStatus) to
	// every response that came over TLS.
	CertWarnDays int             `json:"cert_warn_days"`
	CertCritDays int             `json:"cert_crit_days"`
	Assertions   []HTTPAssertion `json:"assertions,omitempty"`
}

// HTTPBasicAuth is HTTP basic authentication (OpenAPI schema HttpBasicAuth).
type HTTPBasicAuth struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// DefaultHTTPConfig returns the defaults of an http check.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{Method: http.MethodGet, VerifyTLS: true, FollowRedirects: true, CertWarnDays: 14, CertCritDays: 3}
}

const (
	maxRedirects = 10
	// maxHTTPBody bounds how much of the response body is read (and searched).
	maxHTTPBody = 1 << 20
	userAgent   = "secumon-probe/2"
)

// ProbeHTTP sends one request to the configured URL and judges the response: the status
// code, an optional body keyword, optional latency thresholds (total time to the end of the
// body read), tls_required, the certificate's expiry on https, and every assertion. All of
// them are evaluated; the run has the worst status of the failing ones, and its output names
// each.
func ProbeHTTP(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
	cfg := DefaultHTTPConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("http: %v", err)
	}
	u, err := url.Parse(strings.TrimSpace(cfg.URL))
	if err != nil || cfg.URL == "" {
		return unknownResult("http: invalid config: url %q is not a valid URL", cfg.URL)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return unknownResult("http: invalid config: url %q must be http:// or https://", cfg.URL)
	}
	if u.Hostname() == "" {
		return unknownResult("http: invalid config: url %q has no host", cfg.URL)
	}
	assertions, bad := compileAssertions(cfg.Assertions)
	if len(bad) > 0 {
		return unknownResult("http: invalid config: %v", bad[0])
	}
	method := strings.ToUpper(strings.TrimSpace(cfg.Method))
	if method == "" {
		method = http.MethodGet
	}
	if _, err := g.Resolve(ctx, u.Hostname()); err != nil {
		return unknownResult("http: %v", err)
	}

	timeout := remaining(ctx, DefaultTimeout)
	transport := &http.Transport{
		Proxy:                  nil, // never through a proxy: the Guard checks the target itself
		DialContext:            g.Dialer(timeout).DialContext,
		TLSClientConfig:        &tls.Config{InsecureSkipVerify: !cfg.VerifyTLS}, //nolint:gosec // verify_tls: false asks for it
		TLSHandshakeTimeout:    timeout,
		DisableKeepAlives:      true,
		ForceAttemptHTTP2:      true,
		MaxResponseHeaderBytes: 1 << 20,
	}
	defer transport.CloseIdleConnections()
	redirects := 0
	client := &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if !cfg.FollowRedirects {
				return http.ErrUseLastResponse
			}
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			if _, err := g.Resolve(req.Context(), req.URL.Hostname()); err != nil {
				return err
			}
			redirects = len(via)
			return nil
		},
	}

	var body io.Reader
	if cfg.Body != "" {
		body = strings.NewReader(cfg.Body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return unknownResult("http: invalid request: %v", err)
	}
	req.Header.Set("User-Agent", userAgent)
	if cfg.BasicAuth != nil {
		req.SetBasicAuth(cfg.BasicAuth.Username, cfg.BasicAuth.Password)
	}
	// Explicit headers come last: an Authorization header wins over basic_auth.
	for k, v := range cfg.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}

	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		r := errorResult("http "+method+" "+redactURL(u), unwrapURLError(err))
		r.LatencyMs = ms(time.Since(start))
		return r
	}
	defer resp.Body.Close()
	data, readErr := io.ReadAll(io.LimitReader(resp.Body, maxHTTPBody))
	elapsed := time.Since(start)

	res := Result{LatencyMs: ms(elapsed), Metrics: map[string]float64{
		"http_status":         float64(resp.StatusCode),
		"http_content_length": float64(len(data)),
		"http_redirects":      float64(redirects),
	}}
	if resp.ContentLength >= 0 {
		res.Metrics["http_content_length"] = float64(resp.ContentLength)
	}
	res.Output = fmt.Sprintf("HTTP %d %s, %d bytes in %s ms", resp.StatusCode, http.StatusText(resp.StatusCode), len(data), fmtMs(res.LatencyMs))
	if redirects > 0 {
		res.Output += fmt.Sprintf(" after %d redirect(s)", redirects)
	}
	seen := &httpResponse{status: resp.StatusCode, header: resp.Header, body: data, latencyMs: res.LatencyMs}

	var findings []finding
	if !statusAccepted(resp.StatusCode, cfg.ExpectedStatus) {
		findings = append(findings, finding{Critical, fmt.Sprintf("status %d, expected %s", resp.StatusCode, describeStatuses(cfg.ExpectedStatus))})
	}
	if final := resp.Request.URL; cfg.TLSRequired && (final.Scheme != "https" || resp.TLS == nil) {
		findings = append(findings, finding{Critical, fmt.Sprintf("TLS required but the final URL %s is not https", redactURL(final))})
	}
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		findings = append(findings, finding{Critical, fmt.Sprintf("reading body: %v", readErr)})
	}
	if cfg.BodyContains != "" && !strings.Contains(string(data), cfg.BodyContains) {
		findings = append(findings, finding{Critical, fmt.Sprintf("body does not contain %q", cfg.BodyContains)})
	}
	if status, msg := latencyStatus(res.LatencyMs, cfg.WarnLatencyMs, cfg.CritLatencyMs); status != OK {
		findings = append(findings, finding{status, msg})
	}
	// Plain http has no certificate, so no expiry to judge.
	if resp.TLS != nil && len(resp.TLS.PeerCertificates) > 0 {
		cert := earliestExpiry(resp.TLS.PeerCertificates)
		days := daysUntil(cert.NotAfter)
		seen.certDays = &days
		res.Metrics["tls_days_to_expiry"] = days
		if days >= 0 {
			res.Output += fmt.Sprintf(", certificate expires in %.0f days", days)
		} else {
			res.Output += fmt.Sprintf(", certificate expired %.0f days ago", -days)
		}
		if status, msg := certExpiryStatus(cert, cfg.CertWarnDays, cfg.CertCritDays); status != OK {
			findings = append(findings, finding{status, msg})
		}
	}
	if len(assertions) > 0 {
		failed := evaluateAssertions(assertions, seen)
		res.Metrics["assertions_failed"] = float64(len(failed))
		findings = append(findings, failed...)
	}

	res.Status, res.ErrorMsg = judge(findings)
	if res.ErrorMsg != "" {
		res.Output += "; " + res.ErrorMsg
	}
	return res
}

// finding is one reason a run is not OK.
type finding struct {
	status Status
	msg    string
}

// judge combines findings: the worst status, and every reason in the order found.
func judge(findings []finding) (Status, string) {
	status := OK
	msgs := make([]string, len(findings))
	for i, f := range findings {
		status = Worse(status, f.status)
		msgs[i] = f.msg
	}
	return status, strings.Join(msgs, "; ")
}

func statusAccepted(code int, expected []int) bool {
	if len(expected) == 0 {
		return code >= 200 && code <= 299
	}
	return slices.Contains(expected, code)
}

func describeStatuses(expected []int) string {
	if len(expected) == 0 {
		return "2xx"
	}
	s := make([]string, len(expected))
	for i, c := range expected {
		s[i] = strconv.Itoa(c)
	}
	return strings.Join(s, "|")
}

// unwrapURLError drops *url.Error's repetition of method and URL; the caller names them.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redactURL hides the URL's credentials (MaskURL): run output is shown to every viewer.
func redactURL(u *url.URL) string {
	return MaskURL(u.String())
}

// daysUntil returns the (fractional) number of days until t; negative when t has passed.
func daysUntil(t time.Time) float64 {
	return time.Until(t).Hours() / 24
}
