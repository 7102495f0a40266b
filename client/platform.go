package client

import (
	"context"
	"iter"
)

// WorkersService lists and retires the probe workers.
type WorkersService service

// List returns every worker; Status "stale" means no heartbeat within the lease time.
func (s *WorkersService) List(ctx context.Context, editors ...RequestEditorFn) ([]Worker, error) {
	return decodeSlice[Worker](s.c.raw.ListWorkers(ctx, nil, editors...))
}

// Delete retires a worker: its leased checks move to the others.
func (s *WorkersService) Delete(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.DeleteWorker(ctx, id, editors...))
}

// WorkspacesService tells which workspaces the token's user belongs to.
type WorkspacesService service

// List returns the caller's workspaces, their role in each and the active one.
func (s *WorkspacesService) List(ctx context.Context, editors ...RequestEditorFn) (*WorkspaceList, error) {
	return decode[WorkspaceList](s.c.raw.ListWorkspaces(ctx, nil, editors...))
}

// DashboardService reads the counters and summaries of the dashboard, and the alert storms.
type DashboardService service

// Status returns the counters of hosts, checks, incidents, storms and workers.
func (s *DashboardService) Status(ctx context.Context, editors ...RequestEditorFn) (*StatusOverview, error) {
	return decode[StatusOverview](s.c.raw.GetStatus(ctx, nil, editors...))
}

// Summary returns the dashboard summary, the shape of the events of c.Events.Stream.
func (s *DashboardService) Summary(ctx context.Context, editors ...RequestEditorFn) (*DashboardSummary, error) {
	return decode[DashboardSummary](s.c.raw.GetDashboard(ctx, nil, editors...))
}

// AppSecurity returns the application-security posture built from ingested scan reports.
func (s *DashboardService) AppSecurity(ctx context.Context, editors ...RequestEditorFn) (*AppSecurityDashboard, error) {
	return decode[AppSecurityDashboard](s.c.raw.GetAppSecurityDashboard(ctx, nil, editors...))
}

// Storms returns one page of correlated alert storms, newest first; opts may be nil.
func (s *DashboardService) Storms(ctx context.Context, opts *ListStormsParams, editors ...RequestEditorFn) (*StormList, error) {
	return decode[StormList](s.c.raw.ListStorms(ctx, opts, editors...))
}

// AllStorms iterates over every storm matching opts (nil for all).
func (s *DashboardService) AllStorms(ctx context.Context, opts *ListStormsParams, editors ...RequestEditorFn) iter.Seq2[Storm, error] {
	var p ListStormsParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]Storm, *string, error) {
		p.Cursor = cursor
		page, err := s.Storms(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Storms, page.NextCursor, nil
	})
}
