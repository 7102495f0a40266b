package analysis

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/facts"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/platform/jobs"
)

// QueueOf is the analysis queue, worked by the analysis worker, which calls the providers
// of set.
func QueueOf(set *providers.Set) jobs.Queue {
	return jobs.Queue{Name: Queue, MaxWorkers: 5, Register: func(workers *river.Workers) error {
		return river.AddWorkerSafely(workers, &worker{set: set})
	}}
}

// worker runs one analysis step per job run and snoozes the job until the next step while
// the session stays active.
type worker struct {
	river.WorkerDefaults[Args]
	set *providers.Set
}

// Timeout leaves room for a provider call with its retries (three attempts), plus the
// bookkeeping (3.5 min by default: the River client's RescueStuckJobsAfter must be longer).
func (w *worker) Timeout(*river.Job[Args]) time.Duration {
	return 3*w.set.Config().Timeout + 30*time.Second
}

// Work runs one step.
func (w *worker) Work(ctx context.Context, job *river.Job[Args]) error {
	again, err := w.step(ctx, job.Args)
	if err != nil {
		return err
	}
	if !again {
		return nil
	}
	return river.JobSnooze(w.set.Config().AnalysisInterval)
}

// step runs one analysis step of the session and reports whether it is still active. It
// holds no transaction during the provider call: the session row is read and locked before,
// and locked again after to count the cost and post the findings.
func (w *worker) step(ctx context.Context, a Args) (again bool, err error) {
	sess, ic, ok, err := w.prepare(ctx, a)
	if err != nil || !ok {
		return false, err
	}
	p, err := w.set.Get(sess.Provider)
	var findings []ai.Finding
	var usage ai.Usage
	model := sess.Model
	if err == nil {
		// The call is priced at the model it goes to, which is the configured one now: a
		// restart with another model (and prices) must not count it at the old model's
		// price, or at none.
		model = p.Model()
		findings, usage, err = p.Analyze(ctx, ic)
	}
	if err != nil && ctx.Err() != nil {
		return false, ctx.Err() // shutting down: River runs the step again later
	}
	return w.record(ctx, a, model, findings, usage, err)
}

// prepare ends the session when it has nothing left to do (incident resolved, budget spent)
// and otherwise gathers the incident's context. ok is false when there is no step to run.
func (w *worker) prepare(ctx context.Context, a Args) (sess db.AiSession, ic ai.IncidentContext, ok bool, err error) {
	err = inTx(ctx, func(tx pgx.Tx) error {
		q := db.New(tx)
		sess, err = lockSession(ctx, q, a)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && sess.Status != StatusActive) {
			return nil // stopped, or its incident deleted: nothing to do
		}
		if err != nil {
			return err
		}
		inc, events, err := incidents.Get(ctx, q, a.WorkspaceID, sess.IncidentID)
		if err != nil {
			return err
		}
		if done, err := w.endIfDone(ctx, tx, inc, sess); done || err != nil {
			return err
		}
		ic, err = facts.Incident(ctx, q, inc, events, sess.StartedAt)
		ok = err == nil
		return err
	})
	return sess, ic, ok, err
}

// lockSession locks the job's session for the rest of the transaction, after its incident:
// starting a session (Sessions.Start) locks the incident, then the session, and so must
// every step, or the two deadlock. No row: the session or its incident is gone.
func lockSession(ctx context.Context, q *db.Queries, a Args) (db.AiSession, error) {
	if _, err := q.LockIncidentOfAISession(ctx, db.LockIncidentOfAISessionParams{WorkspaceID: a.WorkspaceID, ID: a.SessionID}); err != nil {
		return db.AiSession{}, err
	}
	return q.LockAISession(ctx, db.LockAISessionParams{WorkspaceID: a.WorkspaceID, ID: a.SessionID})
}

// endIfDone ends the session when its incident is resolved or its budget spent.
func (w *worker) endIfDone(ctx context.Context, tx pgx.Tx, inc db.Incident, sess db.AiSession) (bool, error) {
	var status, note string
	switch {
	case inc.Status == incidents.Resolved:
		status = StatusResolved
		note = fmt.Sprintf("AI analysis stopped: the incident is resolved; spent %s of %s", usd(sess.SpentUsd), usd(sess.BudgetUsd))
	case sess.SpentUsd >= sess.BudgetUsd:
		status = StatusBudget
		note = fmt.Sprintf("AI analysis stopped: its budget of %s is spent (%s in %d calls)", usd(sess.BudgetUsd), usd(sess.SpentUsd), sess.Calls)
	default:
		return false, nil
	}
	_, err := end(ctx, tx, inc, sess, status, ActorAI, note)
	return true, err
}

// record counts the call against the session, posts the findings it has not posted yet, and
// ends the session when this call spent its budget or the provider failed too often.
func (w *worker) record(ctx context.Context, a Args, model string, findings []ai.Finding, usage ai.Usage, callErr error) (again bool, err error) {
	// The call is paid for: count it even if the job's context ends now.
	ctx = context.WithoutCancel(ctx)
	cost := w.set.Cost(model, usage)
	err = inTx(ctx, func(tx pgx.Tx) error {
		q := db.New(tx)
		sess, err := lockSession(ctx, q, a)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // the incident was deleted meanwhile
		}
		if err != nil {
			return err
		}
		if callErr == nil || usage != (ai.Usage{}) {
			if err := q.RecordAIUsage(ctx, db.RecordAIUsageParams{
				WorkspaceID: a.WorkspaceID, ID: uuid.New(), Purpose: "analysis", Provider: sess.Provider, Model: model,
				InputTokens: usage.InputTokens, OutputTokens: usage.OutputTokens, CostUsd: cost, SessionID: &sess.ID,
			}); err != nil {
				return err
			}
			if sess, err = q.AddAISessionSpend(ctx, db.AddAISessionSpendParams{
				WorkspaceID: a.WorkspaceID, ID: sess.ID, CostUsd: cost, InputTokens: usage.InputTokens, OutputTokens: usage.OutputTokens,
				Succeeded: callErr == nil,
			}); err != nil {
				return err
			}
		}
		if callErr != nil {
			if sess, err = q.AddAISessionFailure(ctx, db.AddAISessionFailureParams{WorkspaceID: a.WorkspaceID, ID: sess.ID, LastError: callErr.Error()}); err != nil {
				return err
			}
		}
		if sess.Status != StatusActive {
			return nil // stopped while the provider answered: its findings come too late
		}
		inc, events, err := incidents.Get(ctx, q, a.WorkspaceID, sess.IncidentID)
		if err != nil {
			return err
		}
		if callErr != nil && sess.Failures >= MaxFailures {
			_, err := end(ctx, tx, inc, sess, StatusFailed, ActorAI,
				fmt.Sprintf("AI analysis stopped after %d failed calls to %s: %s", sess.Failures, sess.Provider, callErr))
			return err
		}
		if err := post(ctx, tx, inc, events, sess, findings); err != nil {
			return err
		}
		done, err := w.endIfDone(ctx, tx, inc, sess)
		again = !done
		return err
	})
	return again, err
}

// post adds the findings that this session has not posted yet (same note) to the timeline.
func post(ctx context.Context, tx pgx.Tx, inc db.Incident, events []db.IncidentEvent, sess db.AiSession, findings []ai.Finding) error {
	posted := map[string]bool{}
	for _, e := range events {
		if e.Action == ActionFinding && !e.Time.Before(sess.StartedAt) {
			posted[e.Note] = true
		}
	}
	for _, f := range ai.CleanFindings(findings) {
		note := f.Note()
		if posted[note] {
			continue
		}
		posted[note] = true
		if _, err := incidents.Note(ctx, tx, inc, ActionFinding, ActorAI, note); err != nil {
			return err
		}
	}
	return nil
}

// inTx runs fn in a transaction on the database of the River client running the job, so the
// worker needs no pool of its own.
func inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	client, err := river.ClientFromContextSafely[pgx.Tx](ctx)
	if err != nil {
		return err
	}
	execTx, err := client.Driver().GetExecutor().Begin(ctx)
	if err != nil {
		return err
	}
	tx := client.Driver().UnwrapTx(execTx)
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
