package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/server/platform/tracing"
)

// Open returns a connection pool to connString, after checking that the server answers.
// maxConns <= 0 means pool_max_conns from the connection string, else 4×GOMAXPROCS (at least
// 8): enough for the API and the probe writers without crowding PostgreSQL's 100 connections.
func Open(ctx context.Context, connString string, maxConns int32, opts ...Option) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	switch {
	case maxConns > 0:
		cfg.MaxConns = maxConns
	case !strings.Contains(connString, "pool_max_conns"):
		cfg.MaxConns = int32(max(8, 4*runtime.GOMAXPROCS(0)))
	}
	// Find connections broken by a server restart before a request does (default: 1 min).
	cfg.HealthCheckPeriod = 15 * time.Second
	// No JIT compilation: SecuMon's statements are short, and PostgreSQL judges whether to
	// compile one by its estimated cost, which for the scheduler's claim (an index scan it
	// cannot bound, with sequential scans off) is far above jit_above_cost. Compiling it took
	// 30 of its 35 ms, 200 times a minute at 10,000 checks. A connection string that sets
	// jit itself (options=-cjit=on) keeps its choice.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set && !strings.Contains(cfg.ConnConfig.RuntimeParams["options"], "jit") {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	for _, o := range opts {
		o(cfg)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return pool, nil
}

// Option adjusts a pool's configuration.
type Option func(*pgxpool.Config)

// WithTracing makes a span per query made under a span (tracing.QueryTracer), when t
// exports spans; otherwise the pool has no tracer at all.
func WithTracing(t *tracing.Tracing) Option {
	return func(cfg *pgxpool.Config) {
		if t.Enabled() {
			cfg.ConnConfig.Tracer = tracing.NewQueryTracer(t.Provider)
		}
	}
}

// IsUnavailable reports whether err means that the database cannot be reached right now: not
// running, restarting, shutting down, or the connection to it dropped. The HTTP layer answers
// those with 503 and Retry-After instead of 500, because retrying later can succeed.
//
// A context deadline counts too: it is how a pool that cannot get a connection (or a server
// too overloaded to answer in time) shows up. A canceled context does not: the caller left.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if pgErr := (*pgconn.PgError)(nil); errors.As(err, &pgErr) {
		switch {
		case strings.HasPrefix(pgErr.Code, "08"), // connection exception
			pgErr.Code == "57P01", // admin_shutdown
			pgErr.Code == "57P02", // crash_shutdown
			pgErr.Code == "57P03": // cannot_connect_now (starting up, recovering)
			return true
		}
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, context.DeadlineExceeded)
}
