// Package database connects SecuMon to PostgreSQL: it applies the schema migrations, opens the
// connection pool, and tells "the database is unreachable" (HTTP 503, retry later) apart from
// every other error.
package database

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/secuaas/secumon/sql/schema"
)

// connectTimeout bounds a connection attempt when the connection string sets none, so a
// request against a vanished server fails fast instead of hanging until its deadline.
const connectTimeout = 5 * time.Second

// Migrate applies the pending migrations of sql/schema. Every SecuMon process calls it at
// start; concurrent calls (several replicas starting at once) take turns on a PostgreSQL
// advisory lock, so each migration runs exactly once. It logs what it applied to log (nil:
// slog.Default()).
func Migrate(ctx context.Context, connString string, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	db := stdlib.OpenDB(*cfg) // goose speaks database/sql
	// Wait for another process's migrations for up to 10 minutes, checking every second
	// (goose's default period, 5 s, would delay every replica but the first).
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		db.Close()
		return fmt.Errorf("database: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, schema.FS,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		db.Close()
		return fmt.Errorf("database: migrations: %w", err)
	}
	defer p.Close()

	results, err := p.Up(ctx)
	if partial := (*goose.PartialError)(nil); errors.As(err, &partial) {
		results = partial.Applied
	}
	for _, r := range results {
		log.InfoContext(ctx, "migration applied", "version", r.Source.Version,
			"file", path.Base(r.Source.Path), "duration", r.Duration)
	}
	if err != nil {
		return fmt.Errorf("database: migrate: %w", err)
	}
	version, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("database: schema version: %w", err)
	}
	log.InfoContext(ctx, "database schema up to date", "version", version, "applied", len(results))
	return migrateRiver(ctx, cfg, log)
}
