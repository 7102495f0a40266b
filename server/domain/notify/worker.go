package notify

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/platform/jobs"
	"github.com/secuaas/secumon/server/platform/metrics"
)

// QueueOf is the delivery queue, worked by the delivery worker configured by cfg (unset
// fields take their defaults), which counts its attempts in m (may be nil). Only
// `secumon serve` processes work it.
func QueueOf(cfg Config, m *metrics.Metrics) jobs.Queue {
	return jobs.Queue{Name: Queue, MaxWorkers: 10, Register: func(workers *river.Workers) error {
		return river.AddWorkerSafely(workers, &worker{cfg: cfg.withDefaults(), metrics: m})
	}}
}

// worker sends one delivery per job run: one attempt, recorded, then done, failed or
// snoozed until the next attempt. The delivery row, not River, counts attempts: River's
// snooze does not use up the job's attempts, and the row is what users see.
type worker struct {
	river.WorkerDefaults[Args]
	cfg     Config
	metrics *metrics.Metrics
}

// Timeout leaves room for the slowest channel's own timeout plus the bookkeeping.
func (w *worker) Timeout(*river.Job[Args]) time.Duration {
	return max(w.cfg.HTTPTimeout, w.cfg.SMTP.Timeout) + 30*time.Second
}

// NextRetry spaces out River's own retries, which follow errors of the database or the
// worker rather than of the receiver, like delivery attempts.
func (w *worker) NextRetry(job *river.Job[Args]) time.Time {
	return time.Now().Add(w.cfg.backoff(job.Attempt))
}

// Work makes one attempt at the job's delivery.
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	d, err := w.load(ctx, job.Args)
	if errors.Is(err, pgx.ErrNoRows) {
		return river.JobCancel(fmt.Errorf("delivery %s no longer exists", job.Args.DeliveryID))
	}
	if err != nil {
		return err
	}
	if d.Status != StatusQueued { // sent or given up by an earlier run of this job
		return nil
	}
	send, ok := senders[d.Channel]
	if !ok {
		return river.JobCancel(fmt.Errorf("delivery %s: unknown channel %q", d.ID, d.Channel))
	}
	start := time.Now()
	out := w.send(ctx, send, &d)
	elapsed := time.Since(start)
	if out.Err != nil && ctx.Err() != nil {
		// Shutting down (or the job was cancelled): this attempt says nothing about the
		// receiver, so it is not counted; River runs the job again later.
		return ctx.Err()
	}

	// Record the attempt even if ctx ends now: after a successful send, losing the record
	// would mean sending again.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	attempt := d.Attempts + 1
	final := out.Err == nil || out.Permanent || int(attempt) >= w.cfg.MaxAttempts
	if err := w.record(rctx, job, &d, attempt, out, elapsed, final); err != nil {
		return err
	}
	switch {
	case out.Err == nil:
		w.metrics.Delivery(d.Channel, metrics.DeliverySent)
		return nil
	case final:
		w.metrics.Delivery(d.Channel, metrics.DeliveryFailed)
		return river.JobCancel(fmt.Errorf("delivery %s failed after %d attempts: %w", d.ID, attempt, out.Err))
	default:
		w.metrics.Delivery(d.Channel, metrics.DeliveryRetry)
		return river.JobSnooze(w.cfg.retryDelay(int(attempt), out.RetryAfter))
	}
}

// send makes one attempt in its own span: the channel, the attempt's number and its outcome
// (sent, failed, permanent failure), never the receiver's address or the message.
func (w *worker) send(ctx context.Context, send sender, d *db.NotificationDelivery) outcome {
	ctx, span := w.cfg.Tracer.Tracer("github.com/secuaas/secumon/server/domain/notify").Start(ctx, "notify.deliver "+d.Channel,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("secumon.notify.channel", d.Channel), attribute.Int("secumon.notify.attempt", int(d.Attempts)+1),
			attribute.String("secumon.delivery_id", d.ID.String()), attribute.String("secumon.workspace_id", d.WorkspaceID.String())))
	defer span.End()
	out := send(ctx, &w.cfg, d)
	result := "sent"
	switch {
	case out.Err != nil && out.Permanent:
		result = "permanent_failure"
	case out.Err != nil:
		result = "failed"
	}
	span.SetAttributes(attribute.String("secumon.notify.outcome", result))
	if out.StatusCode != 0 {
		span.SetAttributes(attribute.Int("secumon.notify.status_code", out.StatusCode))
	}
	if out.Err != nil {
		span.SetStatus(codes.Error, result)
	}
	return out
}

// load reads the delivery.
func (w *worker) load(ctx context.Context, a Args) (db.NotificationDelivery, error) {
	tx, err := begin(ctx)
	if err != nil {
		return db.NotificationDelivery{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read only
	return db.New(tx).GetDelivery(ctx, db.GetDeliveryParams{WorkspaceID: a.WorkspaceID, ID: a.DeliveryID})
}

// record writes the attempt and the delivery's new state in one transaction. A success also
// completes the job in it, so "sent" and "job done" commit together. When the delivery is no
// longer queued, another run of the job has recorded it first and nothing is written.
func (w *worker) record(ctx context.Context, job *river.Job[Args], d *db.NotificationDelivery,
	attempt int32, out outcome, elapsed time.Duration, final bool) error {
	tx, err := begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // a no-op after Commit
	q := db.New(tx)
	var n int64
	if out.Err == nil {
		n, err = q.MarkDeliverySent(ctx, db.MarkDeliverySentParams{Attempt: attempt, WorkspaceID: d.WorkspaceID, ID: d.ID})
	} else {
		status := StatusQueued
		if final {
			status = StatusFailed
		}
		msg := out.Err.Error()
		n, err = q.MarkDeliveryAttemptFailed(ctx, db.MarkDeliveryAttemptFailedParams{
			Status: status, Attempt: attempt, LastError: &msg, WorkspaceID: d.WorkspaceID, ID: d.ID,
		})
	}
	if err != nil || n == 0 {
		return err
	}
	rec := db.InsertDeliveryAttemptParams{
		WorkspaceID: d.WorkspaceID, DeliveryID: d.ID, Attempt: attempt, Ok: out.Err == nil,
		DurationMs: int32(min(elapsed.Milliseconds(), 1<<31-1)),
	}
	if out.StatusCode != 0 {
		code := int32(out.StatusCode)
		rec.StatusCode = &code
	}
	if out.Err != nil {
		msg := out.Err.Error()
		rec.Error = &msg
	}
	if err := q.InsertDeliveryAttempt(ctx, rec); err != nil {
		return err
	}
	if out.Err == nil {
		if _, err := river.JobCompleteTx[*riverpgxv5.Driver](ctx, tx, job); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// begin opens a transaction on the database of the River client running the job.
func begin(ctx context.Context) (pgx.Tx, error) { return jobs.Begin(ctx) }

// retryDelay is how long to wait after failed attempt number attempt: what the receiver
// asked for with Retry-After, else the backoff; never more than RetryMax.
func (c *Config) retryDelay(attempt int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, c.RetryMax)
	}
	return c.backoff(attempt)
}

// backoff doubles RetryBase with each attempt, up to RetryMax, and keeps a random half of
// it ("equal jitter"): deliveries that failed together, say when a receiver went down, do
// not all come back at the same instant.
func (c *Config) backoff(attempt int) time.Duration {
	d := c.RetryMax
	if shift := attempt - 1; shift >= 0 && shift < 32 {
		if b := c.RetryBase << shift; b > 0 && b < d {
			d = b
		}
	}
	return d/2 + rand.N(d/2+1)
}
