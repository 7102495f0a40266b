package handlers

import (
	"context"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
)

// ListWorkerLocations is each location in use with its live workers and the checks that need
// it; a location checks need and no live worker serves is flagged (its checks get UNKNOWN
// results from the location reporter, probes/runner/locations).
func (a *API) ListWorkerLocations(ctx context.Context, _ api.ListWorkerLocationsRequestObject) (api.ListWorkerLocationsResponseObject, error) {
	rows, err := a.q.ListWorkerLocations(ctx, db.ListWorkerLocationsParams{
		WorkspaceID: caller(ctx).WorkspaceID, StaleAfterSec: int32(a.workerStaleAfter.Seconds()),
	})
	if err != nil {
		return nil, err
	}
	out := make([]api.WorkerLocation, len(rows))
	for i, r := range rows {
		status := api.WorkerLocationStatusOk
		switch {
		case r.Checks > 0 && r.LiveWorkers == 0:
			status = api.WorkerLocationStatusNoWorker
		case r.Checks == 0:
			status = api.WorkerLocationStatusUnused
		}
		out[i] = api.WorkerLocation{Location: r.Location, LiveWorkers: int(r.LiveWorkers), Checks: int(r.Checks), Status: status}
	}
	return api.ListWorkerLocations200JSONResponse{Body: out}, nil
}
