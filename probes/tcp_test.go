package probes

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// startTCP serves each connection with fn on 127.0.0.1 and returns the port.
func startTCP(t *testing.T, fn func(c net.Conn)) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				fn(c)
			}()
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func TestTCP(t *testing.T) {
	banner := startTCP(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-probes_test\r\n")) })
	echo := startTCP(t, func(c net.Conn) {
		line, err := bufio.NewReader(c).ReadString('\n')
		if err == nil {
			c.Write([]byte("you said " + strings.ToUpper(line)))
		}
	})
	silent := startTCP(t, func(c net.Conn) { time.Sleep(2 * time.Second) })
	closed := freePort(t, "tcp")

	cases := []struct {
		name    string
		cfg     TCPConfig
		timeout time.Duration
		status  Status
		inError string
	}{
		{name: "connect only", cfg: TCPConfig{Port: banner}, status: OK},
		{name: "banner expected", cfg: TCPConfig{Port: banner, Expect: "SSH-2.0"}, status: OK},
		{name: "banner mismatch", cfg: TCPConfig{Port: banner, Expect: "220 "}, status: Critical, inError: `"SSH-2.0-probes_test\r\n"`},
		{name: "send and expect", cfg: TCPConfig{Port: echo, Send: "ping\n", Expect: "you said PING"}, status: OK},
		{name: "send and wrong expect", cfg: TCPConfig{Port: echo, Send: "ping\n", Expect: "PONG"}, status: Critical, inError: "you said PING"},
		{name: "silent peer", cfg: TCPConfig{Port: silent, Expect: "hello"}, timeout: 300 * time.Millisecond, status: Critical, inError: "timed out"},
		{name: "closed port", cfg: TCPConfig{Port: closed}, status: Critical, inError: "refused"},
		{name: "warn latency", cfg: TCPConfig{Port: banner, WarnLatencyMs: f64(0)}, status: Warning, inError: "warning threshold"},
		{name: "crit latency", cfg: TCPConfig{Port: banner, WarnLatencyMs: f64(0), CritLatencyMs: f64(0)}, status: Critical, inError: "critical threshold"},
		{name: "latency under thresholds", cfg: TCPConfig{Port: banner, WarnLatencyMs: f64(1000), CritLatencyMs: f64(2000)}, status: OK},
		{name: "disallowed host", cfg: TCPConfig{Host: "192.0.2.1", Port: 22}, status: Unknown, inError: "SECUMON_PROBE_ALLOW"},
		{name: "no port", cfg: TCPConfig{}, status: Unknown, inError: "port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 2 * time.Second
			}
			start := time.Now()
			r := run(t, ProbeTCP, "tcp", "127.0.0.1", tc.cfg, timeout)
			want(t, r, tc.status)
			if tc.inError != "" && !strings.Contains(r.ErrorMsg, tc.inError) {
				t.Fatalf("error %q does not contain %q", r.ErrorMsg, tc.inError)
			}
			connected := tc.status != Unknown && tc.name != "closed port"
			if v, ok := r.Metrics["connect_ms"]; ok != connected || (connected && v <= 0) {
				t.Fatalf("connect_ms = %v (present %v), want present: %v", v, ok, connected)
			}
			if time.Since(start) > timeout+400*time.Millisecond {
				t.Fatalf("took %v with a timeout of %v", time.Since(start), timeout)
			}
		})
	}
}
