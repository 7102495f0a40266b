package probes

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// TCPConfig is the config of a tcp check (OpenAPI schema TcpConfig).
type TCPConfig struct {
	Host          string   `json:"host,omitempty"`
	Port          int      `json:"port,omitempty"`
	Send          string   `json:"send,omitempty"`
	Expect        string   `json:"expect,omitempty"`
	WarnLatencyMs *float64 `json:"warn_latency_ms,omitempty"`
	CritLatencyMs *float64 `json:"crit_latency_ms,omitempty"`
}

// maxBanner bounds what the tcp probe reads while looking for expect.
const maxBanner = 64 << 10

// ProbeTCP connects to host:port, optionally sends a payload and looks for a substring in what
// the peer sends back. Latency thresholds apply to the connect time.
func ProbeTCP(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
	var cfg TCPConfig
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("tcp: %v", err)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return unknownResult("tcp: invalid config: port %d (1..65535 required)", cfg.Port)
	}
	_, addr, err := resolveTarget(ctx, g, cfg.Host, c)
	if err != nil {
		return unknownResult("tcp: %v", err)
	}
	dest := netip.AddrPortFrom(addr, uint16(cfg.Port)).String()

	start := time.Now()
	conn, err := g.Dialer(remaining(ctx, DefaultTimeout)).DialContext(ctx, "tcp", dest)
	connect := time.Since(start)
	if err != nil {
		return errorResult("tcp connect "+dest, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Close the connection when ctx is canceled, so reads return at once.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	res := Result{
		LatencyMs: ms(connect),
		Metrics:   map[string]float64{"connect_ms": ms(connect)},
		Output:    fmt.Sprintf("connected to %s in %s ms", dest, fmtMs(ms(connect))),
	}
	if cfg.Send != "" {
		if _, err := io.WriteString(conn, cfg.Send); err != nil {
			return withMetrics(errorResult("tcp send to "+dest, err), res.Metrics, res.LatencyMs)
		}
	}
	if cfg.Expect != "" {
		got, err := readUntil(conn, cfg.Expect, maxBanner)
		if !strings.Contains(got, cfg.Expect) {
			why := "connection closed"
			if err != nil && !errors.Is(err, io.EOF) {
				why = err.Error()
				if isTimeout(err) || ctx.Err() != nil {
					why = "timed out"
				}
			}
			r := criticalResult("tcp %s: expected %q not found in reply %s (%s)", dest, cfg.Expect, quoteTrunc(got, 120), why)
			return withMetrics(r, res.Metrics, res.LatencyMs)
		}
		res.Output += fmt.Sprintf(", reply contains %q", cfg.Expect)
	}
	if st, why := latencyStatus(ms(connect), cfg.WarnLatencyMs, cfg.CritLatencyMs); st != OK {
		res.Status, res.ErrorMsg = st, "connect "+why
	}
	return res
}

// readUntil reads from r until what it read contains want, the peer closes, an error occurs
// or limit bytes were read.
func readUntil(r io.Reader, want string, limit int) (string, error) {
	var sb strings.Builder
	buf := make([]byte, 4096)
	for sb.Len() < limit {
		n, err := r.Read(buf)
		sb.Write(buf[:n])
		if strings.Contains(sb.String(), want) {
			return sb.String(), nil
		}
		if err != nil {
			return sb.String(), err
		}
	}
	return sb.String(), fmt.Errorf("no match in the first %d bytes", limit)
}

// quoteTrunc quotes s, cut to n bytes.
func quoteTrunc(s string, n int) string {
	if len(s) > n {
		return strconv.Quote(s[:n]) + "…"
	}
	return strconv.Quote(s)
}

func withMetrics(r Result, m map[string]float64, latency float64) Result {
	r.Metrics = m
	r.LatencyMs = latency
	return r
}
