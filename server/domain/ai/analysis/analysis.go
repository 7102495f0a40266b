// Package analysis runs the AI analysis mode of critical incidents. Starting it opens a
// session with a provider and a budget and queues a River job in the same transaction; the
// job runs one analysis step (gather the incident's context, ask the provider, post the new
// findings to the incident's timeline as "ai_finding" events by actor "ai", count the cost),
// then snoozes for the analysis interval and runs again, until the session is stopped, its
// budget is spent, the incident resolves or the provider keeps failing. Being a River job on
// the same PostgreSQL, the loop survives restarts and runs on exactly one process at a time.
//
// The API side (Sessions) only inserts jobs; a River client that works Queue with the worker
// of AddWorkers runs them (`secumon serve` does).
package analysis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/platform/jobs"
)

// Queue is the River queue of analysis steps.
const Queue = "ai_analysis"

// Session statuses (ai_sessions.status): active, or why the session ended.
const (
	StatusActive   = "active"
	StatusStopped  = "stopped"           // by a user (DELETE …/ai-mode)
	StatusBudget   = "budget_exhausted"  // spent reached the budget
	StatusResolved = "incident_resolved" // the incident resolved
	StatusFailed   = "failed"            // the provider failed MaxFailures times in a row
)

// Timeline actions and actor of the analysis mode.
const (
	ActionStarted = "ai_started"
	ActionFinding = "ai_finding"
	ActionStopped = "ai_stopped"
	ActorAI       = "ai"
)

// Budgets in US dollars.
const (
	DefaultBudgetUSD = 50
	MaxBudgetUSD     = 200
)

// MaxFailures is how many provider calls in a row may fail before the session ends.
const MaxFailures = 3

// Errors of Sessions' methods.
var (
	ErrNotFound    = errors.New("incident not found")
	ErrNoSession   = errors.New("this incident never had an AI session")
	ErrActive      = errors.New("AI analysis mode is already active for this incident")
	ErrNotActive   = errors.New("AI analysis mode is not active for this incident")
	ErrNotCritical = errors.New("AI analysis mode is for critical incidents only")
	ErrResolved    = errors.New("the incident is resolved")
)

// Args is one analysis job: the session whose steps it runs.
type Args struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	SessionID   uuid.UUID `json:"session_id"`
}

// Kind names the job type in River.
func (Args) Kind() string { return "ai_analysis_step" }

// InsertOpts puts analysis jobs on their own queue. A step that fails on the database is
// retried by River; provider failures are counted by the session instead.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue, MaxAttempts: 10} }

// Sessions starts, stops and reports analysis sessions (the API side).
type Sessions struct {
	pool      *pgxpool.Pool
	providers *providers.Set
	river     *jobs.Client
}

// NewSessions returns the API side over pool; it inserts jobs through client and works none.
func NewSessions(pool *pgxpool.Pool, set *providers.Set, client *jobs.Client) *Sessions {
	return &Sessions{pool: pool, providers: set, river: client}
}

// Start is a request to start the analysis mode.
type Start struct {
	Provider      string  // "claude" is "anthropic"
	Justification string  // why AI is worth its cost here
	BudgetUSD     float64 // 0 means DefaultBudgetUSD
	Operator      string  // who asked for it; defaults to Actor
	Actor         string  // the caller (token name)
}

// Start opens a session on an open critical incident and queues its first step. Errors:
// ErrNotFound, ErrNotCritical, ErrResolved, ErrActive, and *ai.UnavailableError for a
// provider without its key.
func (s *Sessions) Start(ctx context.Context, workspaceID, incidentID uuid.UUID, st Start) (db.AiSession, error) {
	inc, err := db.New(s.pool).GetIncident(ctx, db.GetIncidentParams{WorkspaceID: workspaceID, ID: incidentID})
	if err != nil {
		return db.AiSession{}, notFound(err, ErrNotFound)
	}
	if err := startable(inc); err != nil {
		return db.AiSession{}, err
	}
	p, err := s.providers.Get(st.Provider)
	if err != nil {
		return db.AiSession{}, err
	}
	if st.BudgetUSD == 0 {
		st.BudgetUSD = DefaultBudgetUSD
	}
	if st.Operator == "" {
		st.Operator = st.Actor
	}
	var sess db.AiSession
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		inc, err := q.LockIncident(ctx, db.LockIncidentParams{WorkspaceID: workspaceID, ID: incidentID})
		if err != nil {
			return notFound(err, ErrNotFound)
		}
		if err := startable(inc); err != nil {
			return err
		}
		if err := s.endOrphan(ctx, tx, inc); err != nil {
			return err
		}
		sess, err = q.StartAISession(ctx, db.StartAISessionParams{
			WorkspaceID: workspaceID, ID: uuid.New(), IncidentID: incidentID, Provider: p.Name(), Model: p.Model(),
			BudgetUsd: st.BudgetUSD, Justification: st.Justification, Operator: st.Operator, StartedBy: st.Actor,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrActive
		}
		if err != nil {
			return err
		}
		note := fmt.Sprintf("AI analysis started by %s with %s (%s), budget %s: %s", st.Operator, p.Name(), p.Model(), usd(st.BudgetUSD), st.Justification)
		if _, err := incidents.Note(ctx, tx, inc, ActionStarted, st.Actor, note); err != nil {
			return err
		}
		_, err = s.river.InsertTx(ctx, tx, Args{WorkspaceID: workspaceID, SessionID: sess.ID}, nil)
		return err
	})
	return sess, err
}

// orphanAfter is how long a session must have been active before it may be judged orphaned:
// a young session's job is never in doubt, whatever River is doing with it at the moment.
const orphanAfter = time.Minute

// liveJobStates are the River states of a job that will still run.
var liveJobStates = []rivertype.JobState{
	rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
	rivertype.JobStateRunning, rivertype.JobStateScheduled,
}

// endOrphan ends the incident's active session if River gave up on its job (it failed too
// often and was discarded): such a session would never step or end by itself, and would
// keep the mode from starting again.
func (s *Sessions) endOrphan(ctx context.Context, tx pgx.Tx, inc db.Incident) error {
	active, err := db.New(tx).LockActiveAISession(ctx, db.LockActiveAISessionParams{WorkspaceID: inc.WorkspaceID, IncidentID: inc.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if time.Since(active.StartedAt) < orphanAfter {
		return nil // its first step is still to come
	}
	jobs, err := s.river.JobListTx(ctx, tx, river.NewJobListParams().Kinds(Args{}.Kind()).States(liveJobStates...).
		Where("args->>'session_id' = @session", river.NamedArgs{"session": active.ID.String()}).First(1))
	if err != nil {
		return err
	}
	if len(jobs.Jobs) > 0 {
		return nil // alive: starting again is a conflict
	}
	_, err = end(ctx, tx, inc, active, StatusFailed, incidents.ActorSystem,
		"AI analysis had stopped: its background job failed too often and was given up")
	return err
}

func startable(inc db.Incident) error {
	switch {
	case inc.Severity != "critical":
		return ErrNotCritical
	case inc.Status == incidents.Resolved:
		return ErrResolved
	}
	return nil
}

// Stop ends the incident's active session. Errors: ErrNotFound, ErrNotActive.
func (s *Sessions) Stop(ctx context.Context, workspaceID, incidentID uuid.UUID, actor string) (db.AiSession, error) {
	var sess db.AiSession
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		// The incident first, then its session: the order every session change takes.
		inc, err := q.LockIncident(ctx, db.LockIncidentParams{WorkspaceID: workspaceID, ID: incidentID})
		if err != nil {
			return notFound(err, ErrNotFound)
		}
		active, err := q.LockActiveAISession(ctx, db.LockActiveAISessionParams{WorkspaceID: workspaceID, IncidentID: incidentID})
		if err != nil {
			return notFound(err, ErrNotActive)
		}
		sess, err = end(ctx, tx, inc, active, StatusStopped, actor,
			fmt.Sprintf("AI analysis stopped by %s after %d calls; spent %s of %s", actor, active.Calls, usd(active.SpentUsd), usd(active.BudgetUsd)))
		return err
	})
	return sess, err
}

// Latest is the incident's most recent session. Errors: ErrNotFound, ErrNoSession.
func (s *Sessions) Latest(ctx context.Context, workspaceID, incidentID uuid.UUID) (db.AiSession, error) {
	q := db.New(s.pool)
	if _, err := q.GetIncident(ctx, db.GetIncidentParams{WorkspaceID: workspaceID, ID: incidentID}); err != nil {
		return db.AiSession{}, notFound(err, ErrNotFound)
	}
	sess, err := q.LatestAISession(ctx, db.LatestAISessionParams{WorkspaceID: workspaceID, IncidentID: incidentID})
	return sess, notFound(err, ErrNoSession)
}

// end closes an active session with status and records why on the timeline.
func end(ctx context.Context, tx pgx.Tx, inc db.Incident, sess db.AiSession, status, actor, note string) (db.AiSession, error) {
	ended, err := db.New(tx).EndAISession(ctx, db.EndAISessionParams{WorkspaceID: sess.WorkspaceID, ID: sess.ID, Status: status, EndedBy: &actor})
	if err != nil {
		return db.AiSession{}, err
	}
	_, err = incidents.Note(ctx, tx, inc, ActionStopped, actor, note)
	return ended, err
}

// notFound maps "no row" to sentinel and passes other errors through.
func notFound(err, sentinel error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return sentinel
	}
	return err
}

// usd formats dollars: cents, or more digits below a cent so that small spends show.
func usd(f float64) string {
	if f > 0 && f < 0.01 {
		return strings.TrimRight(fmt.Sprintf("$%.6f", f), "0")
	}
	return fmt.Sprintf("$%.2f", f)
}
