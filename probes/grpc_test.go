package probes

import (
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// grpcHealthServer starts a real grpc-go server with the standard health service on
// 127.0.0.1 (with TLS when cert is not nil) and returns its port and health server.
func grpcHealthServer(t *testing.T, cert *tls.Certificate) (int, *health.Server) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var opts []grpc.ServerOption
	if cert != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{*cert}})))
	}
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	go srv.Serve(l) //nolint:errcheck // ends with Stop
	t.Cleanup(srv.Stop)
	return l.Addr().(*net.TCPAddr).Port, hs
}

func TestGRPC(t *testing.T) {
	port, hs := grpcHealthServer(t, nil)
	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus("shop.Payments", healthpb.HealthCheckResponse_NOT_SERVING)
	cert := leafCert(t, time.Now().Add(90*24*time.Hour), "grpc.test")
	tlsPort, tlsHS := grpcHealthServer(t, &cert)
	tlsHS.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_SERVING)
	plain := grpc.NewServer() // no health service
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go plain.Serve(pl) //nolint:errcheck // ends with Stop
	t.Cleanup(plain.Stop)

	type cfg = map[string]any
	cases := []struct {
		name   string
		cfg    cfg
		status Status
		inText string // in the error (or the output when OK)
	}{
		{name: "server serving", cfg: cfg{"port": port}, status: OK, inText: "server: SERVING"},
		{name: "service serving", cfg: cfg{"port": port, "service": "shop.Orders"}, status: OK, inText: `service "shop.Orders": SERVING`},
		{name: "service not serving", cfg: cfg{"port": port, "service": "shop.Payments"}, status: Critical, inText: `health status NOT_SERVING for service "shop.Payments"`},
		{name: "service unknown", cfg: cfg{"port": port, "service": "shop.Nope"}, status: Critical, inText: `SERVICE_UNKNOWN for service "shop.Nope"`},
		{name: "no health service", cfg: cfg{"port": pl.Addr().(*net.TCPAddr).Port}, status: Critical, inText: "does not implement grpc.health.v1.Health"},
		{name: "server down", cfg: cfg{"port": freePort(t, "tcp")}, status: Critical, inText: "refused"},
		{name: "latency threshold", cfg: cfg{"port": port, "warn_latency_ms": 0}, status: Warning, inText: "warning threshold"},
		{name: "tls verified", cfg: cfg{"port": tlsPort, "tls": true, "server_name": "grpc.test", "service": "shop.Orders"}, status: OK, inText: "SERVING"},
		{name: "tls wrong name", cfg: cfg{"port": tlsPort, "tls": true, "server_name": "other.test"}, status: Critical, inText: "other.test"},
		{name: "tls not verified", cfg: cfg{"port": tlsPort, "tls": true, "verify_tls": false, "server_name": "other.test"}, status: OK, inText: "SERVING"},
		{name: "plaintext to tls server", cfg: cfg{"port": tlsPort}, status: Critical, inText: "unreachable"},
		{name: "disallowed", cfg: cfg{"host": "192.0.2.1", "port": 50051}, status: Unknown, inText: "SECUMON_PROBE_ALLOW"},
		{name: "no port", cfg: cfg{}, status: Unknown, inText: "port"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, ProbeGRPC, "grpc", "127.0.0.1", tc.cfg, 3*time.Second)
			want(t, r, tc.status)
			text := r.ErrorMsg
			if tc.status == OK {
				text = r.Output
			}
			if !strings.Contains(text, tc.inText) {
				t.Fatalf("%q does not contain %q", text, tc.inText)
			}
		})
	}

	// The status flips: the next run sees it.
	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_NOT_SERVING)
	r := run(t, ProbeGRPC, "grpc", "127.0.0.1", cfg{"port": port, "service": "shop.Orders"}, 3*time.Second)
	want(t, r, Critical)
	if r.Metrics["health_status"] != float64(healthpb.HealthCheckResponse_NOT_SERVING) {
		t.Fatalf("metrics %v", r.Metrics)
	}
	hs.SetServingStatus("shop.Orders", healthpb.HealthCheckResponse_SERVING)
	want(t, run(t, ProbeGRPC, "grpc", "127.0.0.1", cfg{"port": port, "service": "shop.Orders"}, 3*time.Second), OK)
}
