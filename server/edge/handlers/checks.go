package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/edge/checkconfig"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Defaults of a new check, as the contract documents them.
const (
	defaultIntervalSec      = 60
	defaultTimeoutSec       = 10
	defaultFailureThreshold = 2
)

// runTimes are when a check last ran and runs next, read from its schedules (zero: not known).
type runTimes struct{ last, next *time.Time }

// checkOut is the check as the API shows it, with its run times.
func (a *API) checkOut(c db.Check, runs runTimes) api.Check {
	out := api.Check{
		Id: c.ID, HostId: c.HostID, Name: c.Name, CheckType: api.CheckType(c.CheckType),
		Config:      configOut(a.configs.Masked(c.CheckType, decodeObject(c.Config))),
		IntervalSec: int(c.IntervalSec), TimeoutSec: int(c.TimeoutSec), FailureThreshold: int(c.FailureThreshold),
		Enabled: c.Enabled, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC(),
	}
	if c.Severity != nil {
		s := api.Severity(*c.Severity)
		out.Severity = &s
	}
	if c.LastStatus != nil {
		s := api.CheckStatus(*c.LastStatus)
		out.LastStatus = &s
	}
	if runs.last != nil {
		t := runs.last.UTC()
		out.LastRunAt = &t
	}
	if c.Enabled && runs.next != nil {
		t := runs.next.UTC()
		out.NextRunAt = &t
	}
	locations, confirm := c.Locations, int(c.ConfirmLocations)
	if locations == nil {
		locations = []string{}
	}
	out.Locations, out.ConfirmLocations = &locations, &confirm
	return out
}

// checkLocations refuses locations on a check that does not probe (heartbeat) and a
// confirm_locations above the number of locations (a check any worker runs counts as one).
func checkLocations(checkType string, locations []string, confirm int32) error {
	if checkType == probes.TypeHeartbeat && len(locations) > 0 {
		return problem.Invalid(problem.FieldError{Field: "locations", Message: "a heartbeat check probes nothing and runs in no location"})
	}
	if m := max(len(locations), 1); int(confirm) > m {
		return problem.Invalid(problem.FieldError{Field: "confirm_locations",
			Message: fmt.Sprintf("%d of %d locations: confirm_locations may not exceed the number of locations", confirm, m)})
	}
	return nil
}

// locationsArg is the locations as stored; nil (keep) when absent.
func locationsArg(l *[]api.LocationName) []string {
	if l == nil {
		return nil
	}
	return append([]string{}, *l...)
}

// runTimesOf says when each check last ran and runs next.
func (a *API) runTimesOf(ctx context.Context, ws uuid.UUID, checks ...db.Check) (map[uuid.UUID]runTimes, error) {
	ids := make([]uuid.UUID, len(checks))
	for i, c := range checks {
		ids[i] = c.ID
	}
	rows, err := a.q.ChecksRunTimes(ctx, db.ChecksRunTimesParams{WorkspaceID: ws, CheckIds: ids})
	if err != nil {
		return nil, err
	}
	times := make(map[uuid.UUID]runTimes, len(rows))
	for _, r := range rows {
		times[r.CheckID] = runTimes{last: r.LastRunAt, next: &r.NextRunAt}
	}
	return times, nil
}

// checkWithSchedule is checkOut for one check, with its run times read.
func (a *API) checkWithSchedule(ctx context.Context, c db.Check) (api.Check, error) {
	times, err := a.runTimesOf(ctx, c.WorkspaceID, c)
	if err != nil {
		return api.Check{}, err
	}
	return a.checkOut(c, times[c.ID]), nil
}

func (a *API) ListChecks(ctx context.Context, req api.ListChecksRequestObject) (api.ListChecksResponseObject, error) {
	ws, p := caller(ctx).WorkspaceID, req.Params
	l, err := listPage(ctx, p.Cursor, p.Limit,
		func(ctx context.Context, afterName *string, afterID uuid.UUID, maxRows int32) ([]db.Check, error) {
			return a.q.ListChecks(ctx, db.ListChecksParams{WorkspaceID: ws, HostID: p.HostId, AfterName: afterName, AfterID: afterID, MaxRows: maxRows})
		},
		func(ctx context.Context) (int64, error) {
			return a.q.CountChecks(ctx, db.CountChecksParams{WorkspaceID: ws, HostID: p.HostId})
		},
		func(c db.Check) keyset { return keyset{c.Name, c.ID} })
	if err != nil {
		return nil, err
	}
	out := api.CheckList{Count: l.total, Checks: make([]api.Check, len(l.rows)), NextCursor: l.next}
	times, err := a.runTimesOf(ctx, ws, l.rows...)
	if err != nil {
		return nil, err
	}
	for i, c := range l.rows {
		out.Checks[i] = a.checkOut(c, times[c.ID])
	}
	return api.ListChecks200JSONResponse{Body: out}, nil
}

func (a *API) GetCheck(ctx context.Context, req api.GetCheckRequestObject) (api.GetCheckResponseObject, error) {
	c, err := a.q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "check")
	}
	out, err := a.checkWithSchedule(ctx, c)
	if err != nil {
		return nil, err
	}
	return api.GetCheck200JSONResponse{Body: out}, nil
}

func (a *API) CreateCheck(ctx context.Context, req api.CreateCheckRequestObject) (api.CreateCheckResponseObject, error) {
	// The gate validated the body against the variant its check_type selects; every variant
	// shares CheckCreateBase's fields.
	var b api.CheckCreateBase
	if err := remarshal(req.Body, &b); err != nil {
		return nil, err
	}
	config := map[string]any{}
	if b.Config != nil {
		config = *b.Config
	}
	if bad := a.configs.Validate(string(b.CheckType), config); len(bad) > 0 {
		return nil, problem.Invalid(bad...)
	}
	if err := checkHeartbeatConfig(string(b.CheckType), config); err != nil {
		return nil, err
	}
	locations, confirm := locationsArg(b.Locations), int32(derefOr(b.ConfirmLocations, 1))
	if locations == nil {
		locations = []string{}
	}
	if err := checkLocations(string(b.CheckType), locations, confirm); err != nil {
		return nil, err
	}
	var c db.Check
	var hbURL *string
	err := a.inTx(ctx, func(q *db.Queries) error {
		var err error
		var row db.CreateCheckRow
		row, err = q.CreateCheck(ctx, db.CreateCheckParams{
			WorkspaceID: caller(ctx).WorkspaceID, ID: uuid.New(), HostID: b.HostId, Name: b.Name,
			CheckType: string(b.CheckType), Config: mustJSON(config),
			IntervalSec:      int32(derefOr(b.IntervalSec, defaultIntervalSec)),
			TimeoutSec:       int32(derefOr(b.TimeoutSec, defaultTimeoutSec)),
			FailureThreshold: int32(derefOr(b.FailureThreshold, defaultFailureThreshold)),
			Severity:         severityArg(b.Severity), Enabled: derefOr(b.Enabled, true),
			Locations: locations, ConfirmLocations: &confirm,
		})
		c = db.Check(row)
		if err == nil && c.CheckType == probes.TypeHeartbeat {
			hbURL, err = a.createHeartbeat(ctx, q, c.WorkspaceID, c.ID)
		}
		return err
	})
	switch {
	case foreignKeyViolation(err):
		return nil, problem.NotFound("host")
	case uniqueViolation(err):
		return nil, problem.Conflict("a check named %q already exists", b.Name)
	case err != nil:
		return nil, err
	}
	out, err := a.checkWithSchedule(ctx, c)
	if err != nil {
		return nil, err
	}
	out.PingUrl = hbURL // shown this once: the token is stored as a hash only
	return api.CreateCheck201JSONResponse(out), nil
}

// UpdateCheck applies a partial update. A new config replaces the old one, except that
// masked secrets sent back unchanged keep their stored value.
func (a *API) UpdateCheck(ctx context.Context, req api.UpdateCheckRequestObject) (api.UpdateCheckResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	b := req.Body
	params := db.UpdateCheckParams{
		WorkspaceID: ws, ID: req.Id, Name: b.Name, Enabled: b.Enabled, Severity: severityArg(b.Severity),
		IntervalSec: int32Arg(b.IntervalSec), TimeoutSec: int32Arg(b.TimeoutSec), FailureThreshold: int32Arg(b.FailureThreshold),
		Locations: locationsArg(b.Locations), ConfirmLocations: int32Arg(b.ConfirmLocations),
	}
	// The stored check, when the request needs it: a config is validated against the stored
	// check's type, and a request that resumes the check or changes its interval wakes its
	// schedules where one that repeats them (a whole object sent back, as automation does)
	// leaves them alone.
	var current db.Check
	read := b.Config != nil || (b.Enabled != nil && *b.Enabled) || b.IntervalSec != nil
	if read {
		var err error
		if current, err = a.q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: ws, ID: req.Id}); err != nil {
			return nil, notFoundAs(err, "check")
		}
	}
	if b.Config != nil {
		// The gate leaves this config to us (x-validated-by-handler): its schema is the one of
		// the stored check's type.
		var sent map[string]any
		if err := remarshal(b.Config, &sent); err != nil || sent == nil {
			return nil, problem.Invalid(problem.FieldError{Field: "config", Message: "must be an object"})
		}
		config := checkconfig.KeepSecrets(decodeObject(current.Config), sent)
		if bad := a.configs.Validate(current.CheckType, config); len(bad) > 0 {
			return nil, problem.Invalid(bad...)
		}
		if err := checkHeartbeatConfig(current.CheckType, config); err != nil {
			return nil, err
		}
		params.Config = mustJSON(config)
	}
	// The combination is checked on the updated row, inside the transaction, so that a
	// concurrent update cannot slip an invalid one in; a refused update changes nothing.
	var c db.Check
	err := a.inTx(ctx, func(q *db.Queries) error {
		var err error
		if c, err = q.UpdateCheck(ctx, params); err != nil {
			return err
		}
		if err := checkLocations(c.CheckType, c.Locations, c.ConfirmLocations); err != nil {
			return err
		}
		if params.Locations != nil {
			if err := q.SyncCheckSchedules(ctx, db.SyncCheckSchedulesParams{WorkspaceID: ws, ID: c.ID}); err != nil {
				return err
			}
		}
		// A paused check's schedules were parked by the claims; a resumed one, or one given
		// a new interval, runs within moments rather than at its old time.
		if read && ((!current.Enabled && c.Enabled) || current.IntervalSec != c.IntervalSec) {
			return q.WakeCheckSchedules(ctx, db.WakeCheckSchedulesParams{WorkspaceID: ws, ID: c.ID})
		}
		return nil
	})
	if uniqueViolation(err) {
		return nil, problem.Conflict("a check named %q already exists", deref(b.Name))
	}
	if err != nil {
		return nil, notFoundAs(err, "check")
	}
	out, err := a.checkWithSchedule(ctx, c)
	if err != nil {
		return nil, err
	}
	return api.UpdateCheck200JSONResponse{Body: out}, nil
}

// DeleteCheck removes the check and, in the same transaction, its results.
func (a *API) DeleteCheck(ctx context.Context, req api.DeleteCheckRequestObject) (api.DeleteCheckResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	err := a.inTx(ctx, func(q *db.Queries) error {
		if err := q.DeleteCheckData(ctx, db.DeleteCheckDataParams{WorkspaceID: ws, CheckIds: []uuid.UUID{req.Id}}); err != nil {
			return err
		}
		n, err := q.DeleteCheck(ctx, db.DeleteCheckParams{WorkspaceID: ws, ID: req.Id})
		if err == nil && n == 0 {
			err = problem.NotFound("check")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.DeleteCheck204Response{}, nil
}

// RunCheck makes the check's schedules due now with a run id; the workers' next claims take
// them (within moments), wherever the check runs.
func (a *API) RunCheck(ctx context.Context, req api.RunCheckRequestObject) (api.RunCheckResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	if _, err := a.q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: ws, ID: req.Id}); err != nil {
		return nil, notFoundAs(err, "check")
	}
	runID, err := a.q.RequestRun(ctx, db.RequestRunParams{WorkspaceID: ws, CheckID: req.Id, RunID: uuid.New()})
	if err != nil {
		return nil, err
	}
	return api.RunCheck202JSONResponse{Queued: true, CheckId: req.Id, RunId: runID}, nil
}

func severityArg(s *api.Severity) *string {
	if s == nil {
		return nil
	}
	v := string(*s)
	return &v
}

func int32Arg(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}

// remarshal converts between JSON-shaped values: a generated union and the struct or map
// that reads it.
func remarshal(from, to any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, to)
}

// configOut wraps a stored (masked) config as the response's CheckConfig union.
func configOut(config map[string]any) api.CheckConfig {
	var out api.CheckConfig
	if config == nil {
		config = map[string]any{}
	}
	_ = out.UnmarshalJSON(mustJSON(config))
	return out
}
