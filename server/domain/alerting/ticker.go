package alerting

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/domain/notify"
)

// Run applies the changes that time brings, every `every` until ctx ends: maintenance
// windows start and end at their times, storms resolve after their quiet period, and
// (hourly) finished notification deliveries older than DeliveryRetention are forgotten. Every
// API process may run it: each change is one idempotent UPDATE.
func (a *Alerting) Run(ctx context.Context, pool *pgxpool.Pool, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var pruned time.Time
	for {
		if err := a.Tick(ctx, pool); err != nil && ctx.Err() == nil {
			a.log.Warn("alerting tick failed", "err", err)
		}
		if time.Since(pruned) > time.Hour {
			pruned = time.Now()
			n, err := notify.Prune(ctx, db.New(pool), pruned.Add(-a.cfg.DeliveryRetention))
			switch {
			case err != nil && ctx.Err() == nil:
				a.log.Warn("pruning old notification deliveries failed", "err", err)
			case n > 0:
				a.log.Info("pruned old notification deliveries", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Tick applies what is due now.
func (a *Alerting) Tick(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		started, err := q.StartDueMaintenance(ctx)
		if err != nil {
			return err
		}
		ended, err := q.EndDueMaintenance(ctx)
		if err != nil {
			return err
		}
		calm, err := q.ResolveQuietStorms(ctx, int32(a.cfg.Storm.Quiet/time.Second))
		if err != nil {
			return err
		}
		for _, w := range started {
			a.log.Info("maintenance window started", "workspace_id", w.WorkspaceID, "id", w.ID)
		}
		for _, w := range ended {
			a.log.Info("maintenance window ended", "workspace_id", w.WorkspaceID, "id", w.ID)
		}
		for _, s := range calm {
			a.log.Info("storm resolved", "workspace_id", s.WorkspaceID, "id", s.ID)
			if err := incidents.PublishChange(ctx, q, s.WorkspaceID); err != nil {
				return err
			}
		}
		return nil
	})
}
