package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/secuaas/secumon/server/platform/tracing"
)

// config is what every command shares: where the data lives and how to log.
type config struct {
	DataDir     string
	DatabaseURL string
	LogLevel    string
	LogFormat   string

	// OTLPEndpoint and traced are set by addTracingFlag (serve, worker): only those
	// commands trace. trace is built once by startTracing.
	OTLPEndpoint string
	traced       bool
	trace        *tracing.Tracing
}

// addTracingFlag declares --otlp-endpoint, for the commands that make spans.
func addTracingFlag(fs *flag.FlagSet, c *config) {
	c.traced = true
	fs.StringVar(&c.OTLPEndpoint, "otlp-endpoint", env("otlp-endpoint", ""),
		"OTLP/HTTP collector receiving traces (e.g. http://127.0.0.1:4318); empty: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, then OTEL_EXPORTER_OTLP_ENDPOINT; none: tracing off [SECUMON_OTLP_ENDPOINT]")
}

// startTracing builds the process's tracing (off unless an endpoint is configured) for
// the commands that declared addTracingFlag; the others get tracing off.
func (c *config) startTracing(ctx context.Context, log *slog.Logger) (*tracing.Tracing, error) {
	if c.trace != nil {
		return c.trace, nil
	}
	if !c.traced {
		c.trace = tracing.Off()
		return c.trace, nil
	}
	cfg := tracing.Config{Endpoint: c.OTLPEndpoint, Logger: log, Version: version}
	t, err := tracing.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if t.Enabled() {
		log.Info("tracing on", "endpoint", tracing.Endpoint(cfg))
	}
	c.trace = t
	return t, nil
}

// env returns the SECUMON_* variable for a flag name ("data-dir" → SECUMON_DATA_DIR).
func env(flagName, def string) string {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v
	}
	return def
}

func envName(flagName string) string {
	return "SECUMON_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// given reports whether the parsed fs's flag was set, on the command line or by its
// SECUMON_* variable, rather than left to its default.
func given(fs *flag.FlagSet, flagName string) bool {
	_, set := os.LookupEnv(envName(flagName))
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == flagName })
	return set
}

// newFlagSet declares the shared flags; commands add their own before parsing.
func newFlagSet(name string, c *config) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.StringVar(&c.DataDir, "data-dir", env("data-dir", ".secumon"), "data directory (embedded PostgreSQL, owner token) [SECUMON_DATA_DIR]")
	fs.StringVar(&c.DatabaseURL, "database-url", os.Getenv("DATABASE_URL"), "external PostgreSQL; empty runs the embedded one [DATABASE_URL]")
	fs.StringVar(&c.LogLevel, "log-level", env("log-level", "info"), "debug, info, warn or error [SECUMON_LOG_LEVEL]")
	fs.StringVar(&c.LogFormat, "log-format", env("log-format", "text"), "text or json [SECUMON_LOG_FORMAT]")
	return fs
}

// envInt is env for integer flags; a malformed value falls back to def (flag parsing of an
// explicit flag still reports errors).
func envInt(flagName string, def int) int {
	v, err := strconv.Atoi(env(flagName, strconv.Itoa(def)))
	if err != nil {
		return def
	}
	return v
}

// envFloat is env for decimal flags, with the same fallback as envInt.
func envFloat(flagName string, def float64) float64 {
	v, err := strconv.ParseFloat(env(flagName, strconv.FormatFloat(def, 'f', -1, 64)), 64)
	if err != nil {
		return def
	}
	return v
}

// envDuration is env for duration flags ("90s", "5m"), with the same fallback as envInt.
func envDuration(flagName string, def time.Duration) time.Duration {
	v, err := time.ParseDuration(env(flagName, def.String()))
	if err != nil {
		return def
	}
	return v
}

func (c *config) absDataDir() (string, error) {
	return filepath.Abs(c.DataDir)
}

// logger returns the process's logger, writing to w, and makes it slog's default: what
// logs through slog.Default() or the standard log package (libraries) goes through the same
// handler, so with --log-format json every line the process writes is JSON.
func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var l *slog.Logger
	switch c.LogFormat {
	case "json":
		l = slog.New(slog.NewJSONHandler(w, opts))
		jsonLog = l
	case "text":
		l = slog.New(slog.NewTextHandler(w, opts))
	default:
		return nil, fmt.Errorf("--log-format: want text or json, got %q", c.LogFormat)
	}
	slog.SetDefault(l)
	return l, nil
}

// jsonLog is the logger of --log-format json once made: main reports a failed command
// through it, so that even the last line is JSON.
var jsonLog *slog.Logger

// jsonLogs reports whether the process logs JSON (the lines meant for a person at a terminal,
// such as serve's banner, then go through the logger).
func (c *config) jsonLogs() bool { return c.LogFormat == "json" }

// addMetricsFlag declares --metrics-addr, shared by `serve` and `worker`.
func addMetricsFlag(fs *flag.FlagSet) *string {
	return fs.String("metrics-addr", env("metrics-addr", ""),
		"listen address of GET /metrics for Prometheus (e.g. 127.0.0.1:9464), apart from the API; empty: off [SECUMON_METRICS_ADDR]")
}

// listenMetrics opens the metrics listener at addr; none (nil) when addr is empty.
func listenMetrics(addr string) (net.Listener, error) {
	if addr == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	return ln, nil
}
