// Package tracing sets up OpenTelemetry tracing for a SecuMon process: an OTLP/HTTP exporter
// when an endpoint is configured, a no-op provider (no exporter, no goroutines) otherwise.
// It also holds the instrumentation the platform owns: the HTTP server span (Middleware) and
// the PostgreSQL query spans (QueryTracer). Other layers take a trace.TracerProvider and
// make their own spans with it.
package tracing

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"

	"github.com/go-logr/logr"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ServiceName is the service.name of SecuMon's spans unless OTEL_SERVICE_NAME says otherwise.
const ServiceName = "secumon"

// Config says where spans go.
type Config struct {
	// Endpoint is the OTLP/HTTP collector's base URL (e.g. http://collector:4318; /v1/traces
	// is appended when the URL has no path), from --otlp-endpoint / SECUMON_OTLP_ENDPOINT.
	// When empty, the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, then
	// OTEL_EXPORTER_OTLP_ENDPOINT, enable tracing; with none of them set tracing is off.
	Endpoint string
	// Logger receives the SDK's own errors (an unreachable collector); nil: slog.Default().
	Logger *slog.Logger
	// Version is the service.version attribute; empty: none.
	Version string
}

// Tracing is a process's tracer provider.
type Tracing struct {
	// Provider makes the process's spans: a no-op one when tracing is off.
	Provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when off
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// Shutdown exports the spans still queued and stops the exporter; a no-op when off.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.sdk.Shutdown(ctx)
}

// Off is tracing disabled: every span is a no-op.
func Off() *Tracing { return &Tracing{Provider: noop.NewTracerProvider()} }

// Propagator reads and writes W3C traceparent/tracestate headers.
var Propagator propagation.TextMapPropagator = propagation.TraceContext{}

// New returns the process's tracing from c and the standard OTEL_* environment variables: the
// sampler (OTEL_TRACES_SAMPLER, default parent-based always-on), batching (OTEL_BSP_*),
// headers, timeouts and resource attributes are the SDK's to read.
func New(ctx context.Context, c Config) (*Tracing, error) {
	if Endpoint(c) == "" {
		return Off(), nil
	}
	// Without c.Endpoint, the exporter reads the OTEL_EXPORTER_OTLP_* variables itself, with
	// their precedence and path rules.
	var opts []otlptracehttp.Option
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("--otlp-endpoint: want an http(s) URL such as http://collector:4318, got %q", c.Endpoint)
		}
		if u.Path == "" || u.Path == "/" {
			u.Path = "/v1/traces" // as OTEL_EXPORTER_OTLP_ENDPOINT is read
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u.String()))
	}
	log := c.Logger
	if log == nil {
		log = slog.Default()
	}
	// The SDK reports export failures through otel's global handlers, which by default print
	// plain text on stderr: send them through the process's logger.
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { log.Warn("tracing", "err", err) }))
	otel.SetLogger(logr.FromSlogHandler(log.With("component", "otel").Handler()))

	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", ServiceName)}
	if c.Version != "" {
		attrs = append(attrs, attribute.String("service.version", c.Version))
	}
	// WithFromEnv comes last so that OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win.
	res, err := resource.New(ctx, resource.WithTelemetrySDK(), resource.WithAttributes(attrs...), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return &Tracing{Provider: tp, sdk: tp}, nil
}

// Endpoint is where spans go: c.Endpoint, else OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
// OTEL_EXPORTER_OTLP_ENDPOINT; "" means tracing is off.
func Endpoint(c Config) string {
	for _, v := range []string{c.Endpoint, os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"), os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT")} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}
