package database

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// riverMigrationLock serializes River's migrations between processes starting together;
// River's migrator does not lock by itself.
const riverMigrationLock = 424242002

// migrateRiver creates or upgrades the tables of River, the job queue that carries durable
// background work (queued run-now requests) on this same PostgreSQL.
func migrateRiver(ctx context.Context, cfg *pgx.ConnConfig, log *slog.Logger) error {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", riverMigrationLock); err != nil {
		return fmt.Errorf("database: river migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", riverMigrationLock) //nolint:errcheck // the session ends right after

	// River applies some migrations outside a transaction, so it needs a pool of its own.
	poolCfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	poolCfg.ConnConfig = cfg.Copy()
	poolCfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer pool.Close()
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: log.With("component", "river")})
	if err != nil {
		return fmt.Errorf("database: river migrator: %w", err)
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("database: river migrations: %w", err)
	}
	if len(res.Versions) > 0 {
		log.InfoContext(ctx, "river migrations applied", "count", len(res.Versions))
	}
	return nil
}
