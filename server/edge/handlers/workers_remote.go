package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server/domain/remoteworkers"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Worker tokens (managed by workspace admins) and the worker protocol (called with one).
// The gate lets only worker tokens reach the protocol's operations, and no worker token
// reach anything else.

func (a *API) ListWorkerTokens(ctx context.Context, _ api.ListWorkerTokensRequestObject) (api.ListWorkerTokensResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	rows, err := a.q.ListWorkerTokens(ctx, &ws)
	if err != nil {
		return nil, err
	}
	out := api.WorkerTokenList{Count: len(rows), WorkerTokens: make([]api.WorkerToken, len(rows))}
	for i, r := range rows {
		out.WorkerTokens[i] = api.WorkerToken{Id: r.ID, Name: r.Name, Location: r.Location, CreatedAt: r.CreatedAt.UTC(), LastUsedAt: utc(r.LastUsedAt), RevokedAt: utc(r.RevokedAt)}
	}
	return api.ListWorkerTokens200JSONResponse{Body: out}, nil
}

func (a *API) CreateWorkerToken(ctx context.Context, req api.CreateWorkerTokenRequestObject) (api.CreateWorkerTokenResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	t, err := remoteworkers.CreateToken(ctx, a.q, &ws, req.Body.Name, deref(req.Body.Location))
	if err != nil {
		return nil, err
	}
	out := api.CreateWorkerToken201JSONResponse{Id: t.ID, Name: t.Name, CreatedAt: t.CreatedAt.UTC(), Token: &t.Token}
	if t.Location != "" {
		out.Location = &t.Location
	}
	return out, nil
}

func (a *API) RevokeWorkerToken(ctx context.Context, req api.RevokeWorkerTokenRequestObject) (api.RevokeWorkerTokenResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	n, err := a.q.RevokeWorkerToken(ctx, db.RevokeWorkerTokenParams{WorkspaceID: &ws, ID: req.Id})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, problem.NotFound("worker token")
	}
	a.revoked() // this process stops accepting it at once; others within the auth cache's TTL
	return api.RevokeWorkerToken204Response{}, nil
}

// workerScope is the calling worker token's scope.
func workerScope(ctx context.Context) remoteworkers.Scope {
	p := caller(ctx)
	return remoteworkers.Scope{TokenID: p.TokenID, WorkspaceID: p.WorkerScope(), Location: p.WorkerLocation}
}

// workerRefusal is a 403 naming `location` for a worker its pinned token refuses; other
// errors pass through.
func workerRefusal(err error) error {
	var wrong *remoteworkers.WrongLocation
	if !errors.As(err, &wrong) {
		return err
	}
	return problem.Fields(http.StatusForbidden, problem.FieldError{Field: "location", Message: wrong.Error()})
}

func (a *API) WorkerHeartbeat(ctx context.Context, req api.WorkerHeartbeatRequestObject) (api.WorkerHeartbeatResponseObject, error) {
	id, err := a.remote.Heartbeat(ctx, workerScope(ctx), remoteworkers.Worker{Name: req.Body.Name, Location: deref(req.Body.Location), Version: deref(req.Body.Version)})
	if err != nil {
		return nil, workerRefusal(err)
	}
	return api.WorkerHeartbeat200JSONResponse{WorkerId: id,
		HeartbeatEverySec: int32(remoteworkers.HeartbeatEvery.Seconds()), LeaseMarginSec: int32(remoteworkers.LeaseMargin.Seconds())}, nil
}

func (a *API) ClaimWorkerChecks(ctx context.Context, req api.ClaimWorkerChecksRequestObject) (api.ClaimWorkerChecksResponseObject, error) {
	claims, err := a.remote.Claim(ctx, workerScope(ctx), remoteworkers.Worker{Name: req.Body.Name, Location: deref(req.Body.Location)}, req.Body.MaxChecks)
	if err != nil {
		return nil, workerRefusal(err)
	}
	out := api.WorkerClaims{Checks: make([]api.ClaimedCheck, len(claims))}
	for i, c := range claims {
		out.Checks[i] = api.ClaimedCheck{
			WorkspaceId: c.WorkspaceID, CheckId: c.CheckID, HostId: c.HostID, CheckType: api.CheckType(c.CheckType),
			Config: decodeObject(c.Config), TimeoutSec: c.TimeoutSec, Hostname: c.Hostname, RunId: c.RunID, Location: c.Location,
		}
		if p := c.Pings; p != nil {
			out.Checks[i].Pings = &api.HeartbeatPings{Since: p.Since.UTC(), LastPingAt: zeroNil(p.LastOK), LastStartAt: zeroNil(p.LastStart), LastFailAt: zeroNil(p.LastFail)}
		}
	}
	return api.ClaimWorkerChecks200JSONResponse(out), nil
}

func (a *API) PostWorkerResults(ctx context.Context, req api.PostWorkerResultsRequestObject) (api.PostWorkerResultsResponseObject, error) {
	recs := make([]store.Record, len(req.Body.Results))
	for i, r := range req.Body.Results {
		recs[i] = store.Record{
			WorkspaceID: r.WorkspaceId, CheckID: r.CheckId, RunID: r.RunId, Time: r.Time.UTC(), Status: int16(r.Status),
			LatencyMs: r.LatencyMs, Output: deref(r.Output), ErrorMsg: deref(r.ErrorMsg),
		}
		if r.Metrics != nil {
			recs[i].Metrics = *r.Metrics
		}
		if r.Facts != nil {
			recs[i].Facts = *r.Facts
		}
		if r.Samples != nil {
			for _, s := range *r.Samples {
				recs[i].Samples = append(recs[i].Samples, probes.Sample{OID: s.Oid, Name: s.Name, Instance: deref(s.Instance), Value: s.Value})
			}
		}
	}
	skipped, err := a.remote.Store(ctx, workerScope(ctx), remoteworkers.Worker{Name: req.Body.Name, Location: deref(req.Body.Location)}, recs)
	var bad *remoteworkers.BadResult
	if errors.As(err, &bad) {
		return nil, problem.Invalid(problem.FieldError{Field: fmt.Sprintf("results[%d].%s", bad.Index, bad.Field), Message: bad.Message})
	}
	if err != nil {
		return nil, err
	}
	out := api.PostWorkerResults202JSONResponse{Accepted: int32(len(recs) - len(skipped)), Skipped: make([]api.WorkerSkippedResult, len(skipped))}
	for i, sk := range skipped {
		out.Skipped[i] = api.WorkerSkippedResult{Index: int32(sk.Index), CheckId: sk.CheckID, Reason: "no such check in the worker token's scope"}
	}
	return out, nil
}

// zeroNil is t in UTC, or nil for the zero time (nothing received).
func zeroNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
