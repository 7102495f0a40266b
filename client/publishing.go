package client

import (
	"context"
	"iter"
)

// StatusPagesService manages status pages; the public pages themselves are served outside
// /api/v2, at /status/<slug>.
type StatusPagesService service

// List returns one page of status pages; opts may be nil.
func (s *StatusPagesService) List(ctx context.Context, opts *ListStatusPagesParams, editors ...RequestEditorFn) (*StatusPageList, error) {
	return decode[StatusPageList](s.c.raw.ListStatusPages(ctx, opts, editors...))
}

// All iterates over every status page.
func (s *StatusPagesService) All(ctx context.Context, opts *ListStatusPagesParams, editors ...RequestEditorFn) iter.Seq2[StatusPage, error] {
	var p ListStatusPagesParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]StatusPage, *string, error) {
		p.Cursor = cursor
		page, err := s.List(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.StatusPages, page.NextCursor, nil
	})
}

// Get returns the status page with this id.
func (s *StatusPagesService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*StatusPage, error) {
	return decode[StatusPage](s.c.raw.GetStatusPage(ctx, id, nil, editors...))
}

// Create adds a status page; its slug must be unique.
func (s *StatusPagesService) Create(ctx context.Context, page StatusPageCreate, editors ...RequestEditorFn) (*StatusPage, error) {
	return decode[StatusPage](s.c.raw.CreateStatusPage(ctx, &CreateStatusPageParams{IdempotencyKey: newKey()}, page, editors...))
}

// Update changes the fields set in update; the others keep their value.
func (s *StatusPagesService) Update(ctx context.Context, id Id, update StatusPageUpdate, editors ...RequestEditorFn) (*StatusPage, error) {
	return decode[StatusPage](s.c.raw.UpdateStatusPage(ctx, id, nil, update, editors...))
}

// Delete removes a status page.
func (s *StatusPagesService) Delete(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.DeleteStatusPage(ctx, id, nil, editors...))
}

// MaintenanceService manages planned maintenance windows, which suppress alerts on the hosts
// they affect.
type MaintenanceService service

// List returns one page of maintenance windows; opts may be nil or filter on a status.
func (s *MaintenanceService) List(ctx context.Context, opts *ListMaintenanceWindowsParams, editors ...RequestEditorFn) (*MaintenanceWindowList, error) {
	return decode[MaintenanceWindowList](s.c.raw.ListMaintenanceWindows(ctx, opts, editors...))
}

// All iterates over every maintenance window matching opts.
func (s *MaintenanceService) All(ctx context.Context, opts *ListMaintenanceWindowsParams, editors ...RequestEditorFn) iter.Seq2[MaintenanceWindow, error] {
	var p ListMaintenanceWindowsParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]MaintenanceWindow, *string, error) {
		p.Cursor = cursor
		page, err := s.List(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.MaintenanceWindows, page.NextCursor, nil
	})
}

// Get returns the maintenance window with this id.
func (s *MaintenanceService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*MaintenanceWindow, error) {
	return decode[MaintenanceWindow](s.c.raw.GetMaintenanceWindow(ctx, id, nil, editors...))
}

// Create schedules a maintenance window.
func (s *MaintenanceService) Create(ctx context.Context, window MaintenanceWindowCreate, editors ...RequestEditorFn) (*MaintenanceWindow, error) {
	return decode[MaintenanceWindow](s.c.raw.CreateMaintenanceWindow(ctx, &CreateMaintenanceWindowParams{IdempotencyKey: newKey()}, window, editors...))
}

// Update changes the fields set in update; the others keep their value.
func (s *MaintenanceService) Update(ctx context.Context, id Id, update MaintenanceWindowUpdate, editors ...RequestEditorFn) (*MaintenanceWindow, error) {
	return decode[MaintenanceWindow](s.c.raw.UpdateMaintenanceWindow(ctx, id, nil, update, editors...))
}

// Start moves a scheduled window to active.
func (s *MaintenanceService) Start(ctx context.Context, id Id, editors ...RequestEditorFn) (*MaintenanceTransition, error) {
	return decode[MaintenanceTransition](s.c.raw.StartMaintenanceWindow(ctx, id, &StartMaintenanceWindowParams{IdempotencyKey: newKey()}, editors...))
}

// End moves an active window to completed.
func (s *MaintenanceService) End(ctx context.Context, id Id, editors ...RequestEditorFn) (*MaintenanceTransition, error) {
	return decode[MaintenanceTransition](s.c.raw.EndMaintenanceWindow(ctx, id, &EndMaintenanceWindowParams{IdempotencyKey: newKey()}, editors...))
}

// Cancel cancels a window.
func (s *MaintenanceService) Cancel(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.CancelMaintenanceWindow(ctx, id, &CancelMaintenanceWindowParams{IdempotencyKey: newKey()}, editors...))
}
