package probes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"

	probing "github.com/prometheus-community/pro-bing"
)

// PingConfig is the config of a ping check (OpenAPI schema PingConfig).
type PingConfig struct {
	Host        string  `json:"host,omitempty"`
	Count       int     `json:"count,omitempty"`
	IntervalMs  int     `json:"interval_ms,omitempty"`
	Size        int     `json:"size,omitempty"`
	IPv6        bool    `json:"ipv6"`
	WarnLossPct float64 `json:"warn_loss_pct"`
	CritLossPct float64 `json:"crit_loss_pct"`
	WarnRttMs   float64 `json:"warn_rtt_ms"`
	CritRttMs   float64 `json:"crit_rtt_ms"`
}

// DefaultPingConfig returns the defaults of a ping check.
func DefaultPingConfig() PingConfig {
	return PingConfig{Count: 3, IntervalMs: 200, Size: 56, WarnLossPct: 20, CritLossPct: 100, WarnRttMs: 200, CritRttMs: 1000}
}

// pro-bing needs room for its timestamp (8 bytes) and tracker UUID (16 bytes) in the payload.
const minPingSize = 24

// PingPermissionHint is appended to the error when the kernel refuses ICMP sockets.
const PingPermissionHint = "the kernel refused the ICMP socket: grant the binary CAP_NET_RAW " +
	"(setcap cap_net_raw+ep secumon) or allow unprivileged ping sockets for its group " +
	"(sysctl -w net.ipv4.ping_group_range=\"0 2147483647\")"

// NewPingProber returns the ping prober. privileged selects raw ICMP sockets (root or
// CAP_NET_RAW); otherwise unprivileged ICMP datagram sockets are used, which the kernel allows
// only to the groups in net.ipv4.ping_group_range.
func NewPingProber(privileged bool) Prober {
	return func(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
		return probePing(ctx, c, g, privileged)
	}
}

func probePing(ctx context.Context, c Check, g *Guard, privileged bool) Result {
	cfg := DefaultPingConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("ping: %v", err)
	}
	def := DefaultPingConfig()
	cfg.Count = cmp.Or(cfg.Count, def.Count)
	cfg.IntervalMs = cmp.Or(cfg.IntervalMs, def.IntervalMs)
	cfg.Size = cmp.Or(cfg.Size, def.Size)
	if cfg.Count < 1 || cfg.Count > 1000 {
		return unknownResult("ping: invalid config: count %d out of range 1..1000", cfg.Count)
	}
	if cfg.IntervalMs < 1 {
		return unknownResult("ping: invalid config: interval_ms %d must be positive", cfg.IntervalMs)
	}
	if cfg.Size < minPingSize {
		cfg.Size = minPingSize
	}
	host, err := targetHost(cfg.Host, c)
	if err != nil {
		return unknownResult("ping: %v", err)
	}
	network := "ip4"
	if cfg.IPv6 {
		network = "ip6"
	}
	addr, err := g.ResolveNetwork(ctx, network, host)
	if err != nil {
		return unknownResult("ping: %v", err)
	}

	p := probing.New(addr.String())
	p.SetIPAddr(&net.IPAddr{IP: addr.AsSlice(), Zone: addr.Zone()})
	p.SetNetwork(network)
	p.SetPrivileged(privileged)
	p.SetLogger(probing.NoopLogger{})
	p.Count = cfg.Count
	p.Interval = time.Duration(cfg.IntervalMs) * time.Millisecond
	p.Size = cfg.Size
	p.RecordRtts = false
	p.RecordTTLs = false
	// Stop a little before the context so that the statistics, not ctx's error, end the run.
	budget := time.Duration(cfg.Count)*p.Interval + 2*time.Second
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl) - 20*time.Millisecond
		if left <= 0 {
			return unknownResult("ping: no time left before the timeout")
		}
		budget = min(budget, left)
	}
	p.Timeout = budget

	runErr := p.RunWithContext(ctx)
	st := p.Statistics()
	if runErr != nil && st.PacketsSent == 0 {
		if errors.Is(runErr, syscall.EPERM) || errors.Is(runErr, syscall.EACCES) || errors.Is(runErr, os.ErrPermission) {
			mode := "unprivileged"
			if privileged {
				mode = "raw"
			}
			return unknownResult("ping %s: cannot open %s ICMP socket: %v; %s", addr, mode, runErr, PingPermissionHint)
		}
		if errors.Is(runErr, context.DeadlineExceeded) || errors.Is(runErr, context.Canceled) {
			return unknownResult("ping %s: no packet sent before the timeout", addr)
		}
		return unknownResult("ping %s: %v", addr, runErr)
	}

	res := Result{Metrics: map[string]float64{
		"loss_pct":     st.PacketLoss,
		"packets_sent": float64(st.PacketsSent),
		"packets_recv": float64(st.PacketsRecv),
	}}
	if st.PacketsSent == 0 {
		// Cannot happen without an error, but never report 0% loss for nothing sent.
		return unknownResult("ping %s: no packet sent", addr)
	}
	if st.PacketsRecv > 0 {
		res.Metrics["rtt_min_ms"] = ms(st.MinRtt)
		res.Metrics["rtt_avg_ms"] = ms(st.AvgRtt)
		res.Metrics["rtt_max_ms"] = ms(st.MaxRtt)
		res.LatencyMs = ms(st.AvgRtt)
		res.Output = fmt.Sprintf("%s: %d/%d replies, %.0f%% loss, rtt min/avg/max %s/%s/%s ms",
			addr, st.PacketsRecv, st.PacketsSent, st.PacketLoss, fmtMs(ms(st.MinRtt)), fmtMs(ms(st.AvgRtt)), fmtMs(ms(st.MaxRtt)))
	} else {
		res.Output = fmt.Sprintf("%s: 0/%d replies, 100%% loss", addr, st.PacketsSent)
	}

	res.Status, res.ErrorMsg = pingStatus(cfg, st.PacketsRecv, st.PacketLoss, ms(st.AvgRtt))
	return res
}

// pingStatus applies the thresholds. Loss thresholds match when the loss reaches them and
// something was lost (so 0 means "any loss" and 100 "every packet lost"); rtt thresholds when
// the average round trip is above them.
func pingStatus(cfg PingConfig, recv int, lossPct, avgMs float64) (Status, string) {
	lossAt := func(t float64) bool { return lossPct > 0 && lossPct >= t }
	switch {
	case lossAt(cfg.CritLossPct):
		return Critical, fmt.Sprintf("packet loss %.0f%% reaches critical threshold %g%%", lossPct, cfg.CritLossPct)
	case recv > 0 && avgMs > cfg.CritRttMs:
		return Critical, fmt.Sprintf("rtt avg %s ms above critical threshold %g ms", fmtMs(avgMs), cfg.CritRttMs)
	case lossAt(cfg.WarnLossPct):
		return Warning, fmt.Sprintf("packet loss %.0f%% reaches warning threshold %g%%", lossPct, cfg.WarnLossPct)
	case recv > 0 && avgMs > cfg.WarnRttMs:
		return Warning, fmt.Sprintf("rtt avg %s ms above warning threshold %g ms", fmtMs(avgMs), cfg.WarnRttMs)
	case recv == 0:
		// Every packet lost with crit_loss_pct above 100: still, nothing answered.
		return Critical, "no reply"
	}
	return OK, ""
}
