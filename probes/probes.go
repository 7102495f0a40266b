// Package probes runs one monitoring check once: ICMP ping, SNMP, HTTP, TCP, DNS, TLS, gRPC
// health, SMTP and PostgreSQL, and judges heartbeat checks, whose jobs ping SecuMon instead of
// being probed (heartbeat.go).
//
// Every prober has the same small signature (Prober) and decodes its own config struct,
// pre-filled with defaults, from the check's JSON config. Every connection a prober opens goes
// through a Guard, which refuses addresses outside the allowed networks (loopback by default;
// the SECUMON_PROBE_ALLOW setting widens it) before any packet is sent.
//
// The package depends only on the standard library, google/uuid, pro-bing, gosnmp, miekg/dns,
// robfig/cron (heartbeat schedules), theory/jsonpath (RFC 9535, for HTTP assertions), grpc-go
// (the health client) and pgx's pgconn (the PostgreSQL wire protocol, to log in to a monitored
// server): it knows nothing about HTTP handlers or SecuMon's own database. A Runner dispatches a
// Check to its prober, applies the timeout, keeps per-check state between runs (Memo) and turns
// panics and unknown types into Unknown results.
package probes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Status is a check result's status, with the API's codes (the contract's CheckStatus). It
// is the one definition of the statuses: the database stores these codes, and every reader of
// them (alerting, status pages, AI facts) names and compares them through this type.
type Status int

// Status codes, as stored and as exposed by the API.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

// Statuses lists every status, in code order.
func Statuses() []Status { return []Status{OK, Warning, Critical, Unknown} }

// Valid reports whether s is one of the four statuses.
func (s Status) Valid() bool { return s >= OK && s <= Unknown }

// String names the status: OK, WARNING, CRITICAL or UNKNOWN. A code that is no status reads
// UNKNOWN, as the Runner reports it.
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	}
	return "UNKNOWN"
}

// ParseStatus returns the status String names, in any letter case.
func ParseStatus(name string) (Status, error) {
	for _, s := range Statuses() {
		if strings.EqualFold(name, s.String()) {
			return s, nil
		}
	}
	return Unknown, fmt.Errorf("unknown check status %q", name)
}

// severity orders statuses for combining several verdicts: OK < Warning < Unknown < Critical.
func (s Status) severity() int {
	switch s {
	case OK:
		return 0
	case Warning:
		return 1
	case Unknown:
		return 2
	case Critical:
		return 3
	}
	return 2
}

// Worse returns the more severe of a and b (OK < Warning < Unknown < Critical).
func Worse(a, b Status) Status {
	if b.severity() > a.severity() {
		return b
	}
	return a
}

// Sample is one SNMP value of a run (counters already turned into per-second rates).
type Sample struct {
	OID      string
	Name     string
	Instance string
	Value    float64
}

// Result is the outcome of one run of one check.
type Result struct {
	Status    Status
	LatencyMs float64
	Output    string             // short human summary, e.g. "3/3 replies, rtt avg 0.08 ms"
	ErrorMsg  string             // "" when OK
	Metrics   map[string]float64 // named numbers: loss_pct, rtt_avg_ms, days_to_expiry, http_status, …
	Samples   []Sample           // SNMP only
	Facts     map[string]string  // SNMP only: sysDescr, sysName, … (text inventory)
}

// Check is what a probe needs to know about one check.
type Check struct {
	ID      uuid.UUID
	Type    string          // one of Types(): TypePing, TypeSNMP, …
	Target  string          // the host's hostname; a config "host" overrides it
	Config  json.RawMessage // the check's config object (JSON) as stored
	Timeout time.Duration
	Pings   *Pings // heartbeat checks only: what the ping URL has received
}

// Prober runs one check once. memo is this check's private state between runs (SNMP counters);
// it may be nil, in which case nothing is remembered. g must be used for every connection.
// A prober returns when ctx is done, with whatever it has measured so far.
type Prober func(ctx context.Context, c Check, memo *Memo, g *Guard) Result

// unknownResult is the result of a probe that could not be evaluated.
func unknownResult(format string, args ...any) Result {
	msg := fmt.Sprintf(format, args...)
	return Result{Status: Unknown, Output: msg, ErrorMsg: msg}
}

// criticalResult is the result of a probe whose target failed.
func criticalResult(format string, args ...any) Result {
	msg := fmt.Sprintf(format, args...)
	return Result{Status: Critical, Output: msg, ErrorMsg: msg}
}

// errorResult turns an error of the network layer into a result: a Guard refusal is Unknown
// (the probe was not allowed to run), anything else is Critical (the target failed).
func errorResult(what string, err error) Result {
	var na *NotAllowedError
	if errors.As(err, &na) {
		return unknownResult("%s: %v", what, err)
	}
	if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
		return criticalResult("%s: timed out (%v)", what, err)
	}
	return criticalResult("%s: %v", what, err)
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// decodeConfig decodes a check's config into cfg, which holds the defaults beforehand.
// An empty or null config keeps every default. Unknown fields are ignored (the API validates
// configs against the OpenAPI schemas before they are stored).
func decodeConfig(raw json.RawMessage, cfg any) error {
	s := strings.TrimSpace(string(raw))
	if s == "" || s == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, cfg); err != nil {
		return fmt.Errorf("invalid config: %w", err)
	}
	return nil
}

// targetHost returns the config's host when set, the check's target otherwise.
func targetHost(cfgHost string, c Check) (string, error) {
	h := strings.TrimSpace(cfgHost)
	if h == "" {
		h = strings.TrimSpace(c.Target)
	}
	if h == "" {
		return "", errors.New("no target: the check has no host and its config sets none")
	}
	return h, nil
}

// resolveTarget is the probes' first step: the target host (the config's, else the check's)
// and its address, resolved and allowed by the Guard before any packet is sent.
func resolveTarget(ctx context.Context, g *Guard, cfgHost string, c Check) (host string, addr netip.Addr, err error) {
	if host, err = targetHost(cfgHost, c); err != nil {
		return "", netip.Addr{}, err
	}
	addr, err = g.Resolve(ctx, host)
	return host, addr, err
}

// ms converts a duration to milliseconds as a float.
func ms(d time.Duration) float64 {
	return float64(d) / float64(time.Millisecond)
}

// fmtMs formats milliseconds for outputs: 3 significant digits below 10 ms.
func fmtMs(v float64) string {
	switch {
	case v < 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
}

// latencyStatus applies optional warn/crit latency thresholds (milliseconds, strictly above).
// It returns the status and, when not OK, a reason.
func latencyStatus(latencyMs float64, warn, crit *float64) (Status, string) {
	if crit != nil && latencyMs > *crit {
		return Critical, fmt.Sprintf("latency %s ms above critical threshold %s ms", fmtMs(latencyMs), fmtMs(*crit))
	}
	if warn != nil && latencyMs > *warn {
		return Warning, fmt.Sprintf("latency %s ms above warning threshold %s ms", fmtMs(latencyMs), fmtMs(*warn))
	}
	return OK, ""
}

// remaining returns the time left before ctx's deadline, or def when it has none.
func remaining(ctx context.Context, def time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		return time.Until(dl)
	}
	return def
}
