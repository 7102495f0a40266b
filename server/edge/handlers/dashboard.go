package handlers

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/edge/problem"
)

// recentIncidents is how many incidents the dashboard summary lists (the contract says 10).
const recentIncidents = 10

func (a *API) GetStatus(ctx context.Context, _ api.GetStatusRequestObject) (api.GetStatusResponseObject, error) {
	c, err := a.q.StatusCounters(ctx, db.StatusCountersParams{
		WorkspaceID: caller(ctx).WorkspaceID, HeartbeatSince: time.Now().Add(-a.workerStaleAfter), Ok: int16(probes.OK),
	})
	if err != nil {
		return nil, err
	}
	var out api.StatusOverview
	out.Hosts.Total, out.Hosts.Active = int(c.HostsTotal), int(c.HostsActive)
	out.Checks.Total, out.Checks.Enabled, out.Checks.Failing = int(c.ChecksTotal), int(c.ChecksEnabled), int(c.ChecksFailing)
	if c.ChecksEnabled > 0 {
		out.Checks.FailingPct = math.Round(float64(c.ChecksFailing)*1000/float64(c.ChecksEnabled)) / 10
	}
	out.ActiveIncidents, out.ActiveStorms, out.Workers = int(c.ActiveIncidents), int(c.ActiveStorms), int(c.Workers)
	return api.GetStatus200JSONResponse{Body: out}, nil
}

func (a *API) GetDashboard(ctx context.Context, _ api.GetDashboardRequestObject) (api.GetDashboardResponseObject, error) {
	s, err := a.DashboardSummary(ctx, caller(ctx).WorkspaceID)
	if err != nil {
		return nil, err
	}
	return api.GetDashboard200JSONResponse{Body: s}, nil
}

// DashboardSummary is GET /dashboard's answer for a workspace; the live event stream
// (server/edge/events) sends the same.
func (a *API) DashboardSummary(ctx context.Context, ws uuid.UUID) (api.DashboardSummary, error) {
	c, err := a.q.DashboardCounters(ctx, ws)
	if err != nil {
		return api.DashboardSummary{}, err
	}
	recent, err := a.q.DashboardRecentIncidents(ctx, db.DashboardRecentIncidentsParams{WorkspaceID: ws, Limit: recentIncidents})
	if err != nil {
		return api.DashboardSummary{}, err
	}
	out := api.DashboardSummary{
		HostsTotal: int(c.HostsTotal), ChecksEnabled: int(c.ChecksEnabled), IncidentsOpen: int(c.IncidentsOpen),
		RecentIncidents: make([]api.Incident, len(recent)),
	}
	for i, inc := range recent {
		out.RecentIncidents[i] = incidentOut(inc, nil)
	}
	return out, nil
}

// DashboardJSON is DashboardSummary encoded, the data of the live stream's events
// (server/edge/events.Loader).
func (a *API) DashboardJSON(ctx context.Context, ws uuid.UUID) ([]byte, error) {
	s, err := a.DashboardSummary(ctx, ws)
	if err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// StreamEvents is never reached: GET /events streams, which a strict handler cannot do, so
// server.New mounts server/edge/events' handler on that path inside the contract gate.
func (a *API) StreamEvents(context.Context, api.StreamEventsRequestObject) (api.StreamEventsResponseObject, error) {
	return nil, problem.New(http.StatusInternalServerError, "GET /events is served by the event stream handler")
}
