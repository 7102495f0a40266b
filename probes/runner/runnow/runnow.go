// Package runnow carries "run this check now" requests from the API to the workers through
// River, the PostgreSQL job queue: a queued request survives restarts, and River's
// LISTEN/NOTIFY wakes a worker within moments.
package runnow

import (
	"context"

	"github.com/google/uuid"
	"github.com/riverqueue/river"

	"github.com/secuaas/secumon/server/platform/jobs"
)

// Queue is the River queue of run-now requests.
const Queue = "check_runs"

// Args is one request; its result will carry RunID.
type Args struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	CheckID     uuid.UUID `json:"check_id"`
	RunID       uuid.UUID `json:"run_id"`
}

// Kind names the job type in River.
func (Args) Kind() string { return "run_check" }

// InsertOpts puts requests on their own queue and retries a failed run a few times.
func (Args) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: Queue, MaxAttempts: 5} }

// Enqueuer is the API side: it only inserts.
type Enqueuer struct {
	client *jobs.Client
}

// NewEnqueuer returns the enqueuer that inserts through the process's River client.
func NewEnqueuer(client *jobs.Client) *Enqueuer { return &Enqueuer{client: client} }

// Enqueue queues a run of the check and returns its run id.
func (e *Enqueuer) Enqueue(ctx context.Context, workspaceID, checkID uuid.UUID) (uuid.UUID, error) {
	runID := uuid.New()
	if _, err := e.client.Insert(ctx, Args{WorkspaceID: workspaceID, CheckID: checkID, RunID: runID}, nil); err != nil {
		return uuid.Nil, err
	}
	return runID, nil
}
