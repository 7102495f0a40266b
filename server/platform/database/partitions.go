// Daily partitions of the time-series tables (check results, SNMP samples, host logs): created
// ahead of time and dropped whole past retention. The probe runner and the syslog receiver
// both write into them, so they are managed here, below both.

package database

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
)

// daysAhead is how many daily partitions exist before they are needed.
const daysAhead = 7

// EnsurePartitions creates the daily partitions from yesterday to a week ahead.
func EnsurePartitions(ctx context.Context, pool *pgxpool.Pool, now time.Time) error {
	today := now.UTC().Truncate(24 * time.Hour)
	_, err := db.New(pool).EnsurePartitions(ctx, db.EnsurePartitionsParams{
		FirstDay: today.AddDate(0, 0, -1), LastDay: today.AddDate(0, 0, daysAhead),
	})
	return err
}

// MaintainPartitions keeps partitions ahead of time and drops those older than retentionDays (0 keeps
// everything), hourly, until ctx ends.
func MaintainPartitions(ctx context.Context, pool *pgxpool.Pool, retentionDays int, log *slog.Logger) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		now := time.Now()
		if err := EnsurePartitions(ctx, pool, now); err != nil && ctx.Err() == nil {
			log.Warn("creating result partitions", "err", err)
		}
		if retentionDays > 0 {
			cutoff := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -retentionDays)
			n, err := db.New(pool).DropPartitionsBefore(ctx, cutoff)
			if err != nil && ctx.Err() == nil {
				log.Warn("dropping old result partitions", "err", err)
			} else if n > 0 {
				log.Info("dropped old result partitions", "count", n, "before", cutoff.Format(time.DateOnly))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
