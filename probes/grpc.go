package probes

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// GRPCConfig is the config of a grpc check (OpenAPI schema GrpcConfig).
type GRPCConfig struct {
	Host          string   `json:"host,omitempty"`
	Port          int      `json:"port,omitempty"`
	Service       string   `json:"service,omitempty"`
	TLS           bool     `json:"tls"`
	VerifyTLS     bool     `json:"verify_tls"`
	ServerName    string   `json:"server_name,omitempty"`
	WarnLatencyMs *float64 `json:"warn_latency_ms,omitempty"`
	CritLatencyMs *float64 `json:"crit_latency_ms,omitempty"`
}

// DefaultGRPCConfig returns the defaults of a grpc check.
func DefaultGRPCConfig() GRPCConfig {
	return GRPCConfig{VerifyTLS: true}
}

// ProbeGRPC calls grpc.health.v1.Health/Check for the configured service (empty: the server
// as a whole). SERVING is OK; any other answer, an unknown service or an unreachable server is
// Critical. The latency, connection included, is the time until the answer.
func ProbeGRPC(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
	cfg := DefaultGRPCConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("grpc: %v", err)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return unknownResult("grpc: invalid config: port %d (1..65535 required)", cfg.Port)
	}
	host, addr, err := resolveTarget(ctx, g, cfg.Host, c)
	if err != nil {
		return unknownResult("grpc: %v", err)
	}
	dest := netip.AddrPortFrom(addr, uint16(cfg.Port)).String()

	creds := insecure.NewCredentials()
	if cfg.TLS {
		serverName := cmp.Or(strings.TrimSpace(cfg.ServerName), strings.Trim(host, "[]"))
		creds = credentials.NewTLS(&tls.Config{ServerName: serverName, InsecureSkipVerify: !cfg.VerifyTLS}) //nolint:gosec // verify_tls: false is the user's choice
	}
	conn, err := grpc.NewClient("passthrough:///"+dest,
		grpc.WithTransportCredentials(creds),
		// Every connection goes through the Guard's dialer, like the other probes'.
		grpc.WithContextDialer(func(ctx context.Context, a string) (net.Conn, error) {
			return g.Dialer(remaining(ctx, DefaultTimeout)).DialContext(ctx, "tcp", a)
		}),
		grpc.WithUserAgent("secumon-probe"),
	)
	if err != nil {
		return unknownResult("grpc: %v", err)
	}
	defer conn.Close()

	what := "server"
	if cfg.Service != "" {
		what = fmt.Sprintf("service %q", cfg.Service)
	}
	start := time.Now()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: cfg.Service})
	latency := ms(time.Since(start))
	if err != nil {
		r := grpcErrorResult(dest, what, err)
		r.LatencyMs = latency
		return r
	}
	st := resp.GetStatus()
	res := Result{
		LatencyMs: latency,
		Metrics:   map[string]float64{"health_status": float64(st), "response_ms": latency},
		Output:    fmt.Sprintf("grpc %s %s: %s in %s ms", dest, what, st, fmtMs(latency)),
	}
	if st != healthpb.HealthCheckResponse_SERVING {
		res.Status = Critical
		res.ErrorMsg = fmt.Sprintf("health status %s for %s", st, what)
		return res
	}
	res.Status, res.ErrorMsg = latencyStatus(latency, cfg.WarnLatencyMs, cfg.CritLatencyMs)
	return res
}

// grpcErrorResult names what a failed health call means: NotFound is the protocol's
// SERVICE_UNKNOWN, Unimplemented a server without the health service, anything else (mostly
// Unavailable: refused, TLS failure) the server being unreachable.
func grpcErrorResult(dest, what string, err error) Result {
	s, _ := status.FromError(err)
	switch s.Code() {
	case codes.NotFound:
		return criticalResult("health status SERVICE_UNKNOWN for %s at %s", what, dest)
	case codes.Unimplemented:
		return criticalResult("grpc %s does not implement grpc.health.v1.Health: %s", dest, s.Message())
	case codes.Unavailable:
		return criticalResult("grpc %s unreachable: %s", dest, s.Message())
	case codes.DeadlineExceeded:
		return criticalResult("grpc %s %s: timed out (%s)", dest, what, s.Message())
	}
	return criticalResult("grpc %s %s: %s: %s", dest, what, s.Code(), s.Message())
}
