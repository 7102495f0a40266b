package handlers

import (
	"context"
	"time"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/edge/problem"
)

func (a *API) ListWorkers(ctx context.Context, _ api.ListWorkersRequestObject) (api.ListWorkersResponseObject, error) {
	rows, err := a.q.ListWorkers(ctx, caller(ctx).WorkspaceID)
	if err != nil {
		return nil, err
	}
	staleBefore := time.Now().Add(-a.workerStaleAfter)
	out := make([]api.Worker, len(rows))
	for i, w := range rows {
		status := api.WorkerStatusActive
		if w.LastHeartbeat.Before(staleBefore) {
			status = api.WorkerStatusStale
		}
		started := w.StartedAt.UTC()
		out[i] = api.Worker{
			Id: w.ID, Name: w.Name, Location: w.Location, Status: status, ChecksExecuted: w.ChecksExecuted,
			LastHeartbeat: w.LastHeartbeat.UTC(), StartedAt: &started,
		}
		if w.Version != "" {
			out[i].Version = &w.Version
		}
	}
	return api.ListWorkers200JSONResponse{Body: out}, nil
}

// DeleteWorker retires a worker: it stops claiming checks, and the checks it leased become
// claimable by the others when their leases run out.
func (a *API) DeleteWorker(ctx context.Context, req api.DeleteWorkerRequestObject) (api.DeleteWorkerResponseObject, error) {
	n, err := a.q.RetireWorker(ctx, db.RetireWorkerParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, problem.NotFound("worker")
	}
	return api.DeleteWorker204Response{}, nil
}
