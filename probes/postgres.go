package probes

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgresConfig is the config of a postgres check (OpenAPI schema PostgresConfig).
type PostgresConfig struct {
	Host          string   `json:"host,omitempty"`
	Port          int      `json:"port,omitempty"`
	Database      string   `json:"database,omitempty"`
	User          string   `json:"user,omitempty"`
	Password      string   `json:"password,omitempty"`
	SSLMode       string   `json:"sslmode,omitempty"`
	Query         string   `json:"query,omitempty"`
	ExpectRowsMin *int     `json:"expect_rows_min,omitempty"`
	WarnLatencyMs *float64 `json:"warn_latency_ms,omitempty"`
	CritLatencyMs *float64 `json:"crit_latency_ms,omitempty"`
}

// DefaultPostgresConfig returns the defaults of a postgres check.
func DefaultPostgresConfig() PostgresConfig {
	return PostgresConfig{Port: 5432, Database: "postgres", User: "postgres", SSLMode: "prefer"}
}

// ProbePostgres logs in to a PostgreSQL server (pgconn: the wire protocol alone, no pool) and
// optionally runs one statement inside a READ ONLY transaction, with statement_timeout set to
// what is left of the check's timeout (less a small margin), and rolls it back. The latency is the time to connect,
// log in and run the query. The password never appears in the output.
func ProbePostgres(ctx context.Context, c Check, _ *Memo, g *Guard) Result {
	cfg := DefaultPostgresConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("postgres: %v", err)
	}
	cfg.Port = cmp.Or(cfg.Port, 5432)
	cfg.Database = cmp.Or(cfg.Database, "postgres")
	cfg.User = cmp.Or(cfg.User, "postgres")
	cfg.SSLMode = cmp.Or(cfg.SSLMode, "prefer")
	switch cfg.SSLMode {
	case "disable", "prefer", "require", "verify-full":
	default:
		return unknownResult("postgres: invalid config: sslmode %q (disable, prefer, require or verify-full)", cfg.SSLMode)
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return unknownResult("postgres: invalid config: port %d out of range 1..65535", cfg.Port)
	}
	// Resolving here (not in pgconn) refuses Unix socket paths and disallowed addresses alike.
	host, addr, err := resolveTarget(ctx, g, cfg.Host, c)
	if err != nil {
		return unknownResult("postgres: %v", err)
	}
	dest := netip.AddrPortFrom(addr, uint16(cfg.Port)).String()
	redact := func(s string) string {
		if cfg.Password != "" {
			s = strings.ReplaceAll(s, cfg.Password, Mask)
		}
		return s
	}

	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(cfg.User, cfg.Password),
		Host:     dest,
		Path:     "/" + cfg.Database,
		RawQuery: url.Values{"sslmode": {cfg.SSLMode}, "application_name": {"secumon-probe"}}.Encode(),
	}
	pc, err := pgconn.ParseConfig(u.String())
	if err != nil {
		return unknownResult("postgres: invalid config: %s", redact(err.Error()))
	}
	// ParseConfig also reads PG* variables and ~/.pgpass of the process: the check's settings
	// alone apply.
	pc.Password = cfg.Password
	serverName := strings.Trim(host, "[]")
	for _, tc := range append([]*pgconn.FallbackConfig{{TLSConfig: pc.TLSConfig}}, pc.Fallbacks...) {
		if tc.TLSConfig != nil {
			tc.TLSConfig.ServerName = serverName // verify-full checks the name, not the address
		}
	}
	pc.DialFunc = func(ctx context.Context, network, a string) (net.Conn, error) {
		return g.Dialer(remaining(ctx, DefaultTimeout)).DialContext(ctx, network, a)
	}
	pc.LookupFunc = func(ctx context.Context, h string) ([]string, error) {
		a, err := g.Resolve(ctx, h)
		if err != nil {
			return nil, err
		}
		return []string{a.String()}, nil
	}

	start := time.Now()
	conn, err := pgconn.ConnectConfig(ctx, pc)
	connect := ms(time.Since(start))
	if err != nil {
		r := errorResult("postgres "+dest, fmt.Errorf("%s", redact(pgErrorText(err))))
		r.LatencyMs = connect
		return r
	}
	defer conn.Close(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { _ = conn.Conn().Close() })
	defer stop()

	version := conn.ParameterStatus("server_version")
	tlsNote := ""
	if _, ok := conn.Conn().(*tls.Conn); ok {
		tlsNote = ", TLS"
	}
	res := Result{
		Metrics: map[string]float64{"connect_ms": connect},
		Output:  fmt.Sprintf("PostgreSQL %s at %s, database %s as %s%s, connected in %s ms", version, dest, cfg.Database, cfg.User, tlsNote, fmtMs(connect)),
	}
	if v, err := strconv.ParseFloat(conn.ParameterStatus("server_version_num"), 64); err == nil {
		res.Metrics["server_version_num"] = v
	}
	if strings.TrimSpace(cfg.Query) != "" {
		rows, err := readOnlyQuery(ctx, conn, cfg.Query)
		total := ms(time.Since(start))
		res.LatencyMs = total
		res.Metrics["query_ms"] = total - connect
		if err != nil {
			r := criticalResult("postgres %s: query failed: %s", dest, redact(pgErrorText(err)))
			return withMetrics(r, res.Metrics, total)
		}
		res.Metrics["rows"] = float64(rows)
		res.Output += fmt.Sprintf(", query returned %d row(s)", rows)
		if cfg.ExpectRowsMin != nil && rows < *cfg.ExpectRowsMin {
			res.Status = Critical
			res.ErrorMsg = fmt.Sprintf("query returned %d row(s), expected at least %d", rows, *cfg.ExpectRowsMin)
			return res
		}
	}
	res.LatencyMs = ms(time.Since(start))
	res.Status, res.ErrorMsg = latencyStatus(res.LatencyMs, cfg.WarnLatencyMs, cfg.CritLatencyMs)
	return res
}

// readOnlyQuery runs query in a READ ONLY transaction that it rolls back, and counts the rows.
// The extended protocol (ExecParams) takes exactly one statement, so the query cannot end the
// transaction and run more after it.
func readOnlyQuery(ctx context.Context, conn *pgconn.PgConn, query string) (int, error) {
	// A margin below the check's deadline lets the server's own "canceling statement due to
	// statement timeout" arrive before the probe gives up on the connection.
	left := remaining(ctx, DefaultTimeout)
	timeoutMs := max(int64((left-min(left/5, 200*time.Millisecond))/time.Millisecond), 1)
	setup := fmt.Sprintf("BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = %d", timeoutMs)
	if _, err := conn.Exec(ctx, setup).ReadAll(); err != nil {
		return 0, err
	}
	rr := conn.ExecParams(ctx, query, nil, nil, nil, nil)
	rows := 0
	for rr.NextRow() {
		rows++
	}
	_, err := rr.Close()
	if _, rbErr := conn.Exec(ctx, "ROLLBACK").ReadAll(); err == nil {
		err = rbErr
	}
	return rows, err
}

// pgErrorText is the server's message when there is one ("FATAL: password authentication
// failed for user …", SQLSTATE included), else the error.
func pgErrorText(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return fmt.Sprintf("%s: %s (SQLSTATE %s)", pgErr.Severity, pgErr.Message, pgErr.Code)
	}
	// pgconn names each address it tried; with sslmode prefer that is every address twice.
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		if !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}
