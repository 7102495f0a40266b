package probes

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pingProber returns the prober a Runner would use here, and skips the test when this
// process may not open ICMP sockets at all (non-root without CAP_NET_RAW, ping_group_range
// excluding its group): the error hint is tested separately.
func pingProber(t *testing.T) Prober {
	t.Helper()
	priv := os.Geteuid() == 0
	p := NewPingProber(priv)
	if !priv {
		r := run(t, p, "ping", "127.0.0.1", map[string]any{"count": 1}, time.Second)
		if strings.Contains(r.ErrorMsg, "CAP_NET_RAW") {
			t.Skipf("no ICMP socket for this process: %s", r.ErrorMsg)
		}
	}
	return p
}

func TestPing(t *testing.T) {
	p := pingProber(t)
	type cfg = map[string]any
	cases := []struct {
		name    string
		target  string
		cfg     cfg
		status  Status
		inError string
	}{
		{name: "loopback", target: "127.0.0.1", cfg: cfg{}, status: OK},
		// Every 127/8 address is local on Linux, so this one answers too: loopback offers no
		// address that stays silent, hence the threshold cases below.
		{name: "other loopback address", target: "127.255.255.254", cfg: cfg{"count": 2, "interval_ms": 10}, status: OK},
		{name: "config host overrides target", target: "192.0.2.1", cfg: cfg{"host": "127.0.0.1", "count": 1}, status: OK},
		{name: "rtt warning", target: "127.0.0.1", cfg: cfg{"count": 2, "interval_ms": 10, "warn_rtt_ms": 0.000001}, status: Warning, inError: "warning threshold"},
		{name: "rtt critical", target: "127.0.0.1", cfg: cfg{"count": 2, "interval_ms": 10, "warn_rtt_ms": 0.000001, "crit_rtt_ms": 0.000002}, status: Critical, inError: "critical threshold"},
		{name: "minimum payload", target: "127.0.0.1", cfg: cfg{"count": 1, "size": 8}, status: OK},
		{name: "ipv6 loopback", target: "::1", cfg: cfg{"count": 1, "ipv6": true}, status: OK},
		{name: "ipv6 asked, ipv4 given", target: "127.0.0.1", cfg: cfg{"count": 1, "ipv6": true}, status: Unknown, inError: "not an IPv6 address"},
		{name: "bad count", target: "127.0.0.1", cfg: cfg{"count": -1}, status: Unknown, inError: "count"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, p, "ping", tc.target, tc.cfg, 3*time.Second)
			want(t, r, tc.status)
			if tc.inError != "" && !strings.Contains(r.ErrorMsg, tc.inError) {
				t.Fatalf("error %q does not contain %q", r.ErrorMsg, tc.inError)
			}
			if tc.status == Unknown {
				return
			}
			count := 3.0
			if c, ok := tc.cfg["count"].(int); ok {
				count = float64(c)
			}
			m := r.Metrics
			if m["loss_pct"] != 0 || m["packets_sent"] != count || m["packets_recv"] != count {
				t.Fatalf("metrics %v, want no loss over %v packets", m, count)
			}
			if m["rtt_min_ms"] <= 0 || m["rtt_min_ms"] > m["rtt_avg_ms"] || m["rtt_avg_ms"] > m["rtt_max_ms"] || m["rtt_max_ms"] > 100 {
				t.Fatalf("rtt metrics %v", m)
			}
			if r.LatencyMs != m["rtt_avg_ms"] {
				t.Fatalf("latency %v is not the average rtt %v", r.LatencyMs, m["rtt_avg_ms"])
			}
			if !strings.Contains(r.Output, strconv.Itoa(int(count))+"/"+strconv.Itoa(int(count))+" replies") {
				t.Fatalf("output %q", r.Output)
			}
		})
	}
}

// The Guard refuses before any socket is opened: no echo request can leave, and the refusal is
// immediate where a real ping of an unanswering address would wait for its replies.
func TestPingDisallowed(t *testing.T) {
	for _, priv := range []bool{true, false} {
		start := time.Now()
		r := run(t, NewPingProber(priv), "ping", "192.0.2.1", map[string]any{"count": 3, "interval_ms": 200}, 2*time.Second)
		el := time.Since(start)
		want(t, r, Unknown)
		if !strings.Contains(r.ErrorMsg, "192.0.2.1") || !strings.Contains(r.ErrorMsg, "SECUMON_PROBE_ALLOW") {
			t.Fatalf("error %q", r.ErrorMsg)
		}
		if el > 200*time.Millisecond || len(r.Metrics) != 0 {
			t.Fatalf("refusal took %v with metrics %v: packets were sent", el, r.Metrics)
		}
	}
	// Through a Runner too.
	r := NewRunner(Options{}).Run(t.Context(), check(t, "ping", "10.0.0.12", nil, time.Second))
	want(t, r, Unknown)
	if !strings.Contains(r.ErrorMsg, "10.0.0.12") {
		t.Fatalf("runner: %q", r.ErrorMsg)
	}
}

// When the kernel refuses unprivileged ICMP sockets, the error tells how to fix it.
func TestPingPermissionHint(t *testing.T) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		t.Skip("no ping_group_range")
	}
	f := strings.Fields(string(b))
	lo, _ := strconv.Atoi(f[0])
	hi, _ := strconv.Atoi(f[1])
	if gid := os.Getegid(); gid >= lo && gid <= hi {
		t.Skipf("ping_group_range %s allows gid %d: unprivileged ping works here", strings.TrimSpace(string(b)), gid)
	}
	r := run(t, NewPingProber(false), "ping", "127.0.0.1", map[string]any{"count": 1}, time.Second)
	want(t, r, Unknown)
	for _, s := range []string{"setcap cap_net_raw+ep secumon", "net.ipv4.ping_group_range", "unprivileged"} {
		if !strings.Contains(r.ErrorMsg, s) {
			t.Fatalf("error %q does not mention %q", r.ErrorMsg, s)
		}
	}
}

// Loopback always answers, so the loss thresholds are checked on the verdict function.
func TestPingThresholds(t *testing.T) {
	def := DefaultPingConfig()
	zeroWarn := def
	zeroWarn.WarnLossPct = 0
	for _, tc := range []struct {
		cfg     PingConfig
		recv    int
		loss    float64
		avg     float64
		status  Status
		inError string
	}{
		{def, 3, 0, 0.1, OK, ""},
		{def, 2, 100.0 / 3, 0.1, Warning, "packet loss 33% reaches warning threshold 20%"},
		{def, 0, 100, 0, Critical, "packet loss 100% reaches critical threshold 100%"},
		{def, 3, 0, 250, Warning, "rtt avg 250 ms above warning threshold 200 ms"},
		{def, 3, 0, 1500, Critical, "above critical threshold 1000 ms"},
		{def, 2, 100.0 / 3, 1500, Critical, "rtt avg"},
		{zeroWarn, 3, 0, 0.1, OK, ""},
		{zeroWarn, 19, 5, 0.1, Warning, "packet loss 5%"},
	} {
		st, why := pingStatus(tc.cfg, tc.recv, tc.loss, tc.avg)
		if st != tc.status || !strings.Contains(why, tc.inError) {
			t.Errorf("pingStatus(recv %d, loss %.1f, avg %v) = %v %q, want %v %q", tc.recv, tc.loss, tc.avg, st, why, tc.status, tc.inError)
		}
	}
}
