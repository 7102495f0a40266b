package jobs

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/server/platform/metrics"
)

// queueDepths counts the jobs waiting in each queue, per waiting state. River's tables are
// River's (migrated by its own migrator, unknown to sqlc), hence SQL here, next to the
// client. The count uses River's fetch index (state, queue, …); queues River knows with
// nothing waiting count 0, so their series do not vanish when they empty.
const queueDepths = `
SELECT queue, state::text, count(*) FROM river_job
WHERE state IN ('available', 'scheduled', 'retryable') GROUP BY queue, state
UNION ALL
SELECT name, s, 0 FROM river_queue, unnest(ARRAY['available', 'scheduled', 'retryable']) AS s`

// Depths returns what reads the queues' depths for the metrics (secumon_queue_jobs).
func Depths(pool *pgxpool.Pool) func(context.Context) ([]metrics.QueueDepth, error) {
	return func(ctx context.Context) ([]metrics.QueueDepth, error) {
		rows, err := pool.Query(ctx, queueDepths)
		if err != nil {
			return nil, fmt.Errorf("jobs: queue depths: %w", err)
		}
		defer rows.Close()
		sum := map[[2]string]int64{}
		var keys [][2]string
		for rows.Next() {
			var k [2]string
			var n int64
			if err := rows.Scan(&k[0], &k[1], &n); err != nil {
				return nil, fmt.Errorf("jobs: queue depths: %w", err)
			}
			if _, seen := sum[k]; !seen {
				keys = append(keys, k)
			}
			sum[k] += n
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("jobs: queue depths: %w", err)
		}
		out := make([]metrics.QueueDepth, len(keys))
		for i, k := range keys {
			out[i] = metrics.QueueDepth{Queue: k[0], State: k[1], Jobs: sum[k]}
		}
		return out, nil
	}
}
