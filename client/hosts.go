package client

import (
	"context"
	"iter"
)

// HostsService manages the monitored hosts.
type HostsService service

// List returns one page of hosts, ordered by name; opts may be nil.
func (s *HostsService) List(ctx context.Context, opts *ListHostsParams, editors ...RequestEditorFn) (*HostList, error) {
	return decode[HostList](s.c.raw.ListHosts(ctx, opts, editors...))
}

// All iterates over every host matching opts (nil for all), page after page.
func (s *HostsService) All(ctx context.Context, opts *ListHostsParams, editors ...RequestEditorFn) iter.Seq2[Host, error] {
	var p ListHostsParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]Host, *string, error) {
		p.Cursor = cursor
		page, err := s.List(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Hosts, page.NextCursor, nil
	})
}

// Get returns the host with this id.
func (s *HostsService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*Host, error) {
	return decode[Host](s.c.raw.GetHost(ctx, id, nil, editors...))
}

// Create adds a host; its name must be unique in the workspace (IsConflict otherwise).
func (s *HostsService) Create(ctx context.Context, host HostCreate, editors ...RequestEditorFn) (*Host, error) {
	return decode[Host](s.c.raw.CreateHost(ctx, &CreateHostParams{IdempotencyKey: newKey()}, host, editors...))
}

// Update changes the fields set in update; the others keep their value.
func (s *HostsService) Update(ctx context.Context, id Id, update HostUpdate, editors ...RequestEditorFn) (*Host, error) {
	return decode[Host](s.c.raw.UpdateHost(ctx, id, nil, update, editors...))
}

// Delete removes the host with its checks and their results.
func (s *HostsService) Delete(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.DeleteHost(ctx, id, nil, editors...))
}

// Logs returns the syslog entries correlated with the host; opts may be nil.
func (s *HostsService) Logs(ctx context.Context, id Id, opts *GetHostLogsParams, editors ...RequestEditorFn) (*HostLogs, error) {
	return decode[HostLogs](s.c.raw.GetHostLogs(ctx, id, opts, editors...))
}

// AITag asks the AI provider for tags describing the host; they are stored under "ai:".
func (s *HostsService) AITag(ctx context.Context, id Id, editors ...RequestEditorFn) (*HostAiTagResult, error) {
	return decode[HostAiTagResult](s.c.raw.AiTagHost(ctx, id, &AiTagHostParams{IdempotencyKey: newKey()}, editors...))
}

// AITagAll tags the workspace's hosts one after the other (at most 200).
func (s *HostsService) AITagAll(ctx context.Context, req AiTagBulkRequest, editors ...RequestEditorFn) (*AiTagBulkResult, error) {
	return decode[AiTagBulkResult](s.c.raw.AiTagHosts(ctx, &AiTagHostsParams{IdempotencyKey: newKey()}, req, editors...))
}
