package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Bounds of GetHostLogs (the reference's): entries are raw rows, so the window is short.
const (
	maxLogsSpan       = 24 * time.Hour
	defaultLogsWindow = time.Hour
	defaultLogsLimit  = 100
	maxLogsLimit      = 5000
)

// GetHostLogs returns the syslog entries filed under the host in [from, to), newest first.
func (a *API) GetHostLogs(ctx context.Context, req api.GetHostLogsRequestObject) (api.GetHostLogsResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	from, to, err := window(req.Params.From, req.Params.To, defaultLogsWindow)
	if err != nil {
		return nil, err
	}
	if to.Sub(from) > maxLogsSpan {
		return nil, problem.Invalid(problem.FieldError{Field: "from", Message: fmt.Sprintf("the window from %s to %s exceeds 24 hours",
			from.Format(time.RFC3339), to.Format(time.RFC3339))})
	}
	limit := defaultLogsLimit
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	if limit < 1 || limit > maxLogsLimit { // the contract bounds it too; never trust one layer
		return nil, problem.Invalid(problem.FieldError{Field: "limit", Message: fmt.Sprintf("must be between 1 and %d", maxLogsLimit)})
	}
	if err := a.hostExists(ctx, ws, req.Id); err != nil {
		return nil, err
	}
	if !a.syslogEnabled {
		return api.GetHostLogs200JSONResponse{Body: api.HostLogs{Enabled: false, Count: 0, Entries: []api.LogEntry{}}}, nil
	}
	rows, err := a.q.ListHostLogs(ctx, db.ListHostLogsParams{
		WorkspaceID: ws, HostID: req.Id, FromTime: from, ToTime: to, MaxRows: int32(limit),
	})
	if err != nil {
		return nil, err
	}
	entries := make([]api.LogEntry, len(rows))
	for i, r := range rows {
		entries[i] = logEntryOut(r)
	}
	return api.GetHostLogs200JSONResponse{Body: api.HostLogs{Enabled: true, Count: len(entries), Entries: entries}}, nil
}

func logEntryOut(r db.ListHostLogsRow) api.LogEntry {
	received := r.ReceivedAt.UTC()
	source := r.SourceAddr
	e := api.LogEntry{
		Time: r.Time.UTC(), ReceivedAt: &received, SourceAddr: &source, Hostname: r.Hostname,
		AppName: r.AppName, ProcId: r.ProcID, MsgId: r.MsgID, Facility: intPtr(r.Facility), Severity: intPtr(r.Severity), Message: r.Message,
	}
	if len(r.Structured) > 0 {
		var sd map[string]map[string]string
		if json.Unmarshal(r.Structured, &sd) == nil && len(sd) > 0 {
			e.Structured = &sd
		}
	}
	return e
}

func intPtr(v *int16) *int {
	if v == nil {
		return nil
	}
	n := int(*v)
	return &n
}
