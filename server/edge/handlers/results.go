package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Limits of the result reads.
const (
	// maxMetricPoints caps the points of one GetCheckMetrics answer (raw results or buckets).
	maxMetricPoints = 10_000
	// maxSnmpPoints caps the points of one check's series in GetHostSnmpMetrics.
	maxSnmpPoints = 10_000
	// maxSnmpSpan is the longest window GetHostSnmpMetrics reads (snmp samples are raw rows).
	maxSnmpSpan = 31 * 24 * time.Hour
	// locationLookBack bounds the raw results a location filter reads for "latest" answers:
	// rollups and check_latest are per check, so those answers read raw rows.
	locationLookBack = 7 * 24 * time.Hour
	// maxLocationSpan is the longest window of a GetCheckMetrics with a location (buckets are
	// then computed from raw results).
	maxLocationSpan = 7 * 24 * time.Hour
	// Default windows.
	defaultMetricsWindow = time.Hour
	defaultSnmpWindow    = 6 * time.Hour
)

// bucketSizes is every bucket granularity's size (s): of the stored rollups (1min, 1hour,
// 1day; 5min is folded from the 1 min rows) and of buckets computed from raw results.
var bucketSizes = map[api.GetCheckMetricsParamsGranularity]int32{
	api.GetCheckMetricsParamsGranularity1Min:  60,
	api.GetCheckMetricsParamsGranularity5Min:  300,
	api.GetCheckMetricsParamsGranularity1Hour: 3600,
	api.GetCheckMetricsParamsGranularity1Day:  86400,
}

var uptimeWindows = map[api.GetHostUptimeParamsWindow]time.Duration{
	api.GetHostUptimeParamsWindow24Hours: 24 * time.Hour,
	api.GetHostUptimeParamsWindow7Days:   7 * 24 * time.Hour,
	api.GetHostUptimeParamsWindow30Days:  30 * 24 * time.Hour,
}

// latestOut turns a check_latest row into the contract's CheckResult.
func latestOut(r db.ListHostLatestResultsRow) api.CheckResult {
	hostID := r.HostID
	out := api.CheckResult{
		CheckId: r.CheckID, HostId: &hostID, Time: r.Time.UTC(), Status: api.CheckStatus(r.Status),
		LatencyMs: r.LatencyMs, Output: r.Output, ErrorMsg: r.ErrorMsg, RunId: r.RunID, WorkerId: r.WorkerID,
	}
	if r.Location != "" {
		out.Location = &r.Location
	}
	if len(r.Metrics) > 0 {
		m := decodeMetrics(r.Metrics)
		out.Metrics = &m
	}
	return out
}

// decodeMetrics reads a jsonb object of numbers; anything else gives an empty map.
func decodeMetrics(raw []byte) map[string]float64 {
	m := map[string]float64{}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return map[string]float64{}
		}
	}
	return m
}

func (a *API) hostExists(ctx context.Context, ws, id uuid.UUID) error {
	ok, err := a.q.HostExists(ctx, db.HostExistsParams{WorkspaceID: ws, ID: id})
	if err != nil {
		return err
	}
	if !ok {
		return problem.NotFound("host")
	}
	return nil
}

func (a *API) GetHostLatestResults(ctx context.Context, req api.GetHostLatestResultsRequestObject) (api.GetHostLatestResultsResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	if err := a.hostExists(ctx, ws, req.Id); err != nil {
		return nil, err
	}
	var rows []db.ListHostLatestResultsRow
	if loc := req.Params.Location; loc != nil {
		at, err := a.latestAt(ctx, ws, req.Id, nil, *loc)
		if err != nil {
			return nil, err
		}
		rows = at
	} else {
		var err error
		if rows, err = a.q.ListHostLatestResults(ctx, db.ListHostLatestResultsParams{WorkspaceID: ws, HostID: req.Id}); err != nil {
			return nil, err
		}
	}
	out := make([]api.CheckResult, len(rows))
	for i, r := range rows {
		out[i] = latestOut(r)
	}
	return api.GetHostLatestResults200JSONResponse{Body: out}, nil
}

// latestAt is the newest result of each of the host's checks (or of one) measured from a
// location, read from the raw results of the last locationLookBack.
func (a *API) latestAt(ctx context.Context, ws, hostID uuid.UUID, checkID *uuid.UUID, location string) ([]db.ListHostLatestResultsRow, error) {
	at, err := a.q.ListHostLatestResultsAt(ctx, db.ListHostLatestResultsAtParams{
		WorkspaceID: ws, HostID: hostID, CheckID: checkID, Location: location, Since: time.Now().Add(-locationLookBack),
	})
	if err != nil {
		return nil, err
	}
	rows := make([]db.ListHostLatestResultsRow, len(at))
	for i, r := range at {
		rows[i] = db.ListHostLatestResultsRow(r)
	}
	return rows, nil
}

func (a *API) GetCheckLastResult(ctx context.Context, req api.GetCheckLastResultRequestObject) (api.GetCheckLastResultResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	if loc := req.Params.Location; loc != nil {
		c, err := a.q.GetCheck(ctx, db.GetCheckParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return nil, notFoundAs(err, "check")
		}
		rows, err := a.latestAt(ctx, ws, c.HostID, &c.ID, *loc)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return nil, problem.New(http.StatusNotFound, fmt.Sprintf("check has no result from location %q in the last 7 days", *loc))
		}
		return api.GetCheckLastResult200JSONResponse{Body: latestOut(rows[0])}, nil
	}
	r, err := a.q.GetCheckLatestResult(ctx, db.GetCheckLatestResultParams{WorkspaceID: ws, CheckID: req.Id})
	if errors.Is(err, pgx.ErrNoRows) {
		exists, err := a.q.CheckExists(ctx, db.CheckExistsParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, problem.NotFound("check")
		}
		return nil, problem.New(http.StatusNotFound, "check has no result yet")
	}
	if err != nil {
		return nil, err
	}
	return api.GetCheckLastResult200JSONResponse{Body: latestOut(db.ListHostLatestResultsRow(r))}, nil
}

// window resolves optional from/to: to defaults to now, from to `to - def`; from must come first.
func window(from, to *time.Time, def time.Duration) (time.Time, time.Time, error) {
	end := time.Now().UTC().Truncate(time.Microsecond) // the database's precision
	if to != nil {
		end = to.UTC()
	}
	start := end.Add(-def)
	if from != nil {
		start = from.UTC()
	}
	if !start.Before(end) {
		return start, end, problem.Invalid(problem.FieldError{Field: "from", Message: "must be before to"})
	}
	return start, end, nil
}

// GetCheckMetrics returns one check's results in [from, to): raw results, or buckets read from
// the rollups (1min, 1h, 1d as stored; 5min summed from the 1-minute rollups). A bucket is
// returned whole when it overlaps the window.
func (a *API) GetCheckMetrics(ctx context.Context, req api.GetCheckMetricsRequestObject) (api.GetCheckMetricsResponseObject, error) {
	ws, p := caller(ctx).WorkspaceID, req.Params
	from, to, err := window(p.From, p.To, defaultMetricsWindow)
	if err != nil {
		return nil, err
	}
	gran := api.GetCheckMetricsParamsGranularityRaw
	if p.Granularity != nil {
		gran = *p.Granularity
	}
	exists, err := a.q.CheckExists(ctx, db.CheckExistsParams{WorkspaceID: ws, ID: p.CheckId})
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, problem.NotFound("check")
	}

	location := ""
	if p.Location != nil {
		location = *p.Location
		if to.Sub(from) > maxLocationSpan {
			return nil, problem.Invalid(problem.FieldError{Field: "from", Message: "with a location, the window may not exceed 7 days"})
		}
	}

	var points []api.MetricPoint
	switch {
	case location != "" && gran != api.GetCheckMetricsParamsGranularityRaw:
		size, ok := bucketSizes[gran]
		if !ok { // the contract gate refuses other values
			return nil, problem.Invalid(problem.FieldError{Field: "granularity", Message: fmt.Sprintf("unknown granularity %q", gran)})
		}
		// Whole buckets, as the rollups give them: the window widened to bucket edges.
		step := time.Duration(size) * time.Second
		rows, err := a.q.ListCheckBucketsAt(ctx, db.ListCheckBucketsAtParams{
			WorkspaceID: ws, CheckID: p.CheckId, Location: location, BucketSize: size,
			FromTime: from.Truncate(step), ToTime: to.Add(-time.Microsecond).Truncate(step).Add(step), MaxRows: maxMetricPoints + 1,
			Ok: int16(probes.OK), Warning: int16(probes.Warning), Critical: int16(probes.Critical),
		})
		if err != nil {
			return nil, err
		}
		points = make([]api.MetricPoint, len(rows))
		for i, r := range rows {
			points[i] = bucketOut(db.ListCheckRollupsRow{
				Bucket: r.Bucket, Samples: r.Samples, Ok: r.Ok, Warning: r.Warning, Critical: r.Critical, Unknown: r.Unknown,
				MinLatencyMs: r.MinLatencyMs, AvgLatencyMs: r.AvgLatencyMs, MaxLatencyMs: r.MaxLatencyMs,
			})
		}
	case gran == api.GetCheckMetricsParamsGranularityRaw:
		rows, err := a.q.ListCheckResultsRaw(ctx, db.ListCheckResultsRawParams{
			WorkspaceID: ws, CheckID: p.CheckId, FromTime: from, ToTime: to, MaxRows: maxMetricPoints + 1, Location: location,
		})
		if err != nil {
			return nil, err
		}
		points = make([]api.MetricPoint, len(rows))
		for i, r := range rows {
			status, latency := api.CheckStatus(r.Status), r.LatencyMs
			points[i] = api.MetricPoint{Time: r.Time.UTC(), Status: &status, LatencyMs: &latency}
		}
	case gran == api.GetCheckMetricsParamsGranularity5Min:
		rows, err := a.q.ListCheckRollups5Min(ctx, db.ListCheckRollups5MinParams{
			WorkspaceID: ws, CheckID: p.CheckId, FromTime: from, ToTime: to, MaxRows: maxMetricPoints + 1,
		})
		if err != nil {
			return nil, err
		}
		points = make([]api.MetricPoint, len(rows))
		for i, r := range rows {
			points[i] = bucketOut(db.ListCheckRollupsRow{
				Bucket: r.Bin, Samples: r.Samples, Ok: r.Ok, Warning: r.Warning, Critical: r.Critical, Unknown: r.Unknown,
				MinLatencyMs: r.MinLatencyMs, AvgLatencyMs: r.AvgLatencyMs, MaxLatencyMs: r.MaxLatencyMs,
			})
		}
	default:
		size, ok := bucketSizes[gran]
		if !ok { // the contract gate refuses other values; this only guards a contract change
			return nil, problem.Invalid(problem.FieldError{Field: "granularity", Message: fmt.Sprintf("unknown granularity %q", gran)})
		}
		rows, err := a.q.ListCheckRollups(ctx, db.ListCheckRollupsParams{
			WorkspaceID: ws, CheckID: p.CheckId, BucketSize: size, FromTime: from, ToTime: to, MaxRows: maxMetricPoints + 1,
		})
		if err != nil {
			return nil, err
		}
		points = make([]api.MetricPoint, len(rows))
		for i, r := range rows {
			points[i] = bucketOut(r)
		}
	}
	if len(points) > maxMetricPoints {
		msg := fmt.Sprintf("more than %d points in the window: use a coarser granularity or a shorter window", maxMetricPoints)
		return nil, problem.Invalid(problem.FieldError{Field: "granularity", Message: msg})
	}
	return api.GetCheckMetrics200JSONResponse{Body: api.CheckMetrics{
		CheckId: p.CheckId, From: from, To: to, Granularity: api.CheckMetricsGranularity(gran),
		Count: len(points), Results: points,
	}}, nil
}

func bucketOut(r db.ListCheckRollupsRow) api.MetricPoint {
	samples, ok, warning, critical, unknown := int(r.Samples), int(r.Ok), int(r.Warning), int(r.Critical), int(r.Unknown)
	uptime := 0.0
	if samples > 0 {
		uptime = float64(ok) * 100 / float64(samples) // not ok/samples*100: 0.4*100 is 40.00000000000001
	}
	minL, avgL, maxL := r.MinLatencyMs, r.AvgLatencyMs, r.MaxLatencyMs
	return api.MetricPoint{
		Time: r.Bucket.UTC(), Samples: &samples, Ok: &ok, Warning: &warning, Critical: &critical, Unknown: &unknown,
		UptimePct: &uptime, MinLatencyMs: &minL, AvgLatencyMs: &avgL, MaxLatencyMs: &maxL,
	}
}

// GetHostUptime is the share of OK ping results of the host's ping checks over the window,
// read from the 1-hour rollups: every hourly bucket that overlaps the window counts whole, so
// results up to an hour older than the window's start may count too.
func (a *API) GetHostUptime(ctx context.Context, req api.GetHostUptimeRequestObject) (api.GetHostUptimeResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	win := api.GetHostUptimeParamsWindow24Hours
	if req.Params.Window != nil {
		win = *req.Params.Window
	}
	span, ok := uptimeWindows[win]
	if !ok { // the contract gate refuses other values
		return nil, problem.Invalid(problem.FieldError{Field: "window", Message: fmt.Sprintf("unknown window %q", win)})
	}
	if err := a.hostExists(ctx, ws, req.Id); err != nil {
		return nil, err
	}
	to := time.Now().UTC()
	u, err := a.q.HostPingUptime(ctx, db.HostPingUptimeParams{WorkspaceID: ws, HostID: req.Id, FromTime: to.Add(-span), ToTime: to})
	if err != nil {
		return nil, err
	}
	pct := 100.0
	if u.Samples > 0 {
		pct = float64(u.Ok) * 100 / float64(u.Samples)
	}
	return api.GetHostUptime200JSONResponse{Body: api.Uptime{UptimePct: pct, Samples: int(u.Samples), Window: api.UptimeWindow(win)}}, nil
}

// GetHostSnmpMetrics returns, for every snmp check of the host, its samples in [from, to)
// oldest first; a series longer than maxSnmpPoints keeps its newest points.
func (a *API) GetHostSnmpMetrics(ctx context.Context, req api.GetHostSnmpMetricsRequestObject) (api.GetHostSnmpMetricsResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	from, to, err := window(req.Params.From, req.Params.To, defaultSnmpWindow)
	if err != nil {
		return nil, err
	}
	if to.Sub(from) > maxSnmpSpan {
		return nil, problem.Invalid(problem.FieldError{Field: "from", Message: "the window may not exceed 31 days"})
	}
	if err := a.hostExists(ctx, ws, req.Id); err != nil {
		return nil, err
	}
	checks, err := a.q.ListHostSnmpChecks(ctx, db.ListHostSnmpChecksParams{WorkspaceID: ws, HostID: req.Id})
	if err != nil {
		return nil, err
	}
	out := api.SnmpMetrics{Checks: make([]api.SnmpCheckSeries, len(checks))}
	if len(checks) == 0 {
		return api.GetHostSnmpMetrics200JSONResponse{Body: out}, nil
	}
	samples, err := a.q.ListHostSnmpSamples(ctx, db.ListHostSnmpSamplesParams{
		WorkspaceID: ws, HostID: req.Id, FromTime: from, ToTime: to, MaxPoints: maxSnmpPoints,
	})
	if err != nil {
		return nil, err
	}
	series := map[uuid.UUID][]api.SnmpPoint{}
	for _, s := range samples { // newest first per check
		pt := api.SnmpPoint{Time: s.Time.UTC(), Oid: s.Oid, Name: &s.Name, Value: s.Value}
		if s.Instance != "" {
			pt.Instance = &s.Instance
		}
		series[s.CheckID] = append(series[s.CheckID], pt)
	}
	for i, c := range checks {
		points := series[c.ID]
		if points == nil {
			points = []api.SnmpPoint{}
		}
		slices.Reverse(points)
		out.Checks[i] = api.SnmpCheckSeries{CheckId: c.ID, CheckName: c.Name, Points: points}
	}
	return api.GetHostSnmpMetrics200JSONResponse{Body: out}, nil
}

// ListSnmpDevices lists the workspace's snmp checks with what their latest result reported.
func (a *API) ListSnmpDevices(ctx context.Context, _ api.ListSnmpDevicesRequestObject) (api.ListSnmpDevicesResponseObject, error) {
	rows, err := a.q.ListSnmpDevices(ctx, caller(ctx).WorkspaceID)
	if err != nil {
		return nil, err
	}
	out := make([]api.SnmpDevice, len(rows))
	for i, r := range rows {
		d := api.SnmpDevice{Id: r.ID, HostId: r.HostID, Name: r.Name, Hostname: r.Hostname, Metrics: decodeMetrics(r.Metrics)}
		if r.SysDescr != "" {
			d.SysDescr = &r.SysDescr
		}
		if r.SysName != "" {
			d.SysName = &r.SysName
		}
		if r.LastSeen != nil {
			seen := r.LastSeen.UTC()
			d.LastSeen = &seen
		}
		out[i] = d
	}
	return api.ListSnmpDevices200JSONResponse{Body: out}, nil
}
