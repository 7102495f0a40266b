package main

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/server/platform/database"
	"github.com/secuaas/secumon/server/platform/pgcluster"
)

// embeddedDatabase is the database the embedded cluster serves.
const embeddedDatabase = "secumon"

// openDatabase connects to DATABASE_URL, or starts (or reuses) the embedded PostgreSQL in the
// data directory; it applies the migrations either way. closeAll stops what it started;
// restarts counts the embedded PostgreSQL's restarts by its supervisor (nil unless supervised).
//
// With supervise (`secumon serve`), the process owns the embedded PostgreSQL: it takes over one
// a crashed predecessor left running, restarts it until ctx ends if it dies, and stops it on
// closeAll. Other commands only use the server serve runs.
func openDatabase(ctx context.Context, c *config, log *slog.Logger, supervise bool) (pool *pgxpool.Pool, restarts func() int64, closeAll func(), err error) {
	connString := c.DatabaseURL
	stopCluster := func() {}
	if connString == "" {
		dir, err := c.absDataDir()
		if err != nil {
			return nil, nil, nil, err
		}
		cluster, err := pgcluster.Start(ctx, pgcluster.Options{DataDir: filepath.Join(dir, "postgres"), Logger: log, TakeOver: supervise})
		if err != nil {
			return nil, nil, nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		supervised := make(chan struct{})
		if supervise {
			restarts = cluster.Restarts
			go func() { defer close(supervised); cluster.Supervise(ctx) }()
		} else {
			close(supervised)
		}
		stopCluster = func() {
			<-supervised // ctx has ended: no restart races the stop
			if err := cluster.Stop(); err != nil {
				log.Error("stop embedded PostgreSQL", "err", err)
			}
		}
		if err := database.EnsureDatabase(ctx, cluster.ConnString("postgres"), embeddedDatabase); err != nil {
			stopCluster()
			return nil, nil, nil, err
		}
		connString = cluster.ConnString(embeddedDatabase)
		log.Info("embedded PostgreSQL running", "data_dir", filepath.Join(dir, "postgres"))
	}
	if err := database.Migrate(ctx, connString, log); err != nil {
		stopCluster()
		return nil, nil, nil, err
	}
	// c.trace is set by the commands that trace (startTracing): their queries made under a
	// span get spans of their own.
	pool, err = database.Open(ctx, connString, 0, database.WithTracing(c.trace))
	if err != nil {
		stopCluster()
		return nil, nil, nil, err
	}
	return pool, restarts, func() { pool.Close(); stopCluster() }, nil
}
