package alerting

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/platform/jobs"
)

// EscalationQueueOf is the queue of escalation steps and acknowledgement expiries, worked by
// `secumon serve` processes. alerting returns the process's engine, which is built once the
// River client exists (the engine queues deliveries on it).
func EscalationQueueOf(alerting func() *Alerting) jobs.Queue {
	return jobs.Queue{Name: EscalationQueue, MaxWorkers: 5, Register: func(workers *river.Workers) error {
		if err := river.AddWorkerSafely(workers, &stepWorker{alerting: alerting}); err != nil {
			return err
		}
		return river.AddWorkerSafely(workers, &ackExpiryWorker{alerting: alerting})
	}}
}

// stepWorker fires one step of an escalation, in one transaction with the incident's row
// locked: an acknowledgement or resolution committed before it stops the escalation, one
// made while it runs waits for it.
type stepWorker struct {
	river.WorkerDefaults[EscalationArgs]
	alerting func() *Alerting
}

func (w *stepWorker) Timeout(*river.Job[EscalationArgs]) time.Duration { return time.Minute }

func (w *stepWorker) Work(ctx context.Context, job *river.Job[EscalationArgs]) error {
	a := job.Args
	tx, err := jobs.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	inc, err := incidents.Lock(ctx, tx, a.WorkspaceID, a.IncidentID)
	if errors.Is(err, incidents.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if inc.Status != incidents.Investigating {
		return nil // acknowledged or resolved: the escalation stops here
	}
	// A reopening or an expired acknowledgement started a newer run, which owns the incident.
	current, err := db.New(tx).CurrentEscalationRun(ctx, db.CurrentEscalationRunParams{WorkspaceID: a.WorkspaceID, IncidentID: a.IncidentID, PolicyID: a.PolicyID})
	if err != nil {
		return err
	}
	if current != a.Run {
		return nil
	}
	if err := w.alerting().fireStep(ctx, tx, inc, a.PolicyID, a.Run, a.Step); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// ackExpiryWorker ends an acknowledgement at its expiry: the incident returns to
// investigating and every escalation that ran for it starts again from level 1.
type ackExpiryWorker struct {
	river.WorkerDefaults[AckExpiryArgs]
	alerting func() *Alerting
}

func (w *ackExpiryWorker) Timeout(*river.Job[AckExpiryArgs]) time.Duration { return time.Minute }

func (w *ackExpiryWorker) Work(ctx context.Context, job *river.Job[AckExpiryArgs]) error {
	a := job.Args
	tx, err := jobs.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	inc, err := incidents.Lock(ctx, tx, a.WorkspaceID, a.IncidentID)
	if errors.Is(err, incidents.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	// Resolved, acknowledged again with another expiry or none, or investigating already:
	// this expiry is no longer the incident's.
	if inc.Status != incidents.Acknowledged || inc.AckExpiresAt == nil || !inc.AckExpiresAt.Equal(a.Until) {
		return nil
	}
	q := db.New(tx)
	if err := q.SetIncidentAckExpiry(ctx, db.SetIncidentAckExpiryParams{WorkspaceID: a.WorkspaceID, ID: a.IncidentID}); err != nil {
		return err
	}
	c, err := incidents.ExpireAck(ctx, tx, inc, "the acknowledgement expired: escalation starts again")
	if err != nil {
		return err
	}
	policies, err := q.IncidentEscalationPolicies(ctx, db.IncidentEscalationPoliciesParams{WorkspaceID: a.WorkspaceID, IncidentID: a.IncidentID})
	if err != nil {
		return err
	}
	for _, p := range policies {
		if err := w.alerting().startEscalation(ctx, tx, c.Incident, p); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}
