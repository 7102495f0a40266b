package client

import (
	"context"
	"iter"
	"time"
)

// ChecksService manages the probes attached to hosts and runs them on demand.
type ChecksService service

// List returns one page of checks; opts may be nil or filter on a host.
func (s *ChecksService) List(ctx context.Context, opts *ListChecksParams, editors ...RequestEditorFn) (*CheckList, error) {
	return decode[CheckList](s.c.raw.ListChecks(ctx, opts, editors...))
}

// All iterates over every check matching opts (nil for all), page after page.
func (s *ChecksService) All(ctx context.Context, opts *ListChecksParams, editors ...RequestEditorFn) iter.Seq2[Check, error] {
	var p ListChecksParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]Check, *string, error) {
		p.Cursor = cursor
		page, err := s.List(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Checks, page.NextCursor, nil
	})
}

// Get returns the check with this id (secrets in its config are masked).
func (s *ChecksService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*Check, error) {
	return decode[Check](s.c.raw.GetCheck(ctx, id, nil, editors...))
}

// Create adds a check to a host; its config is validated against its check_type.
func (s *ChecksService) Create(ctx context.Context, check CheckCreate, editors ...RequestEditorFn) (*Check, error) {
	return decode[Check](s.c.raw.CreateCheck(ctx, &CreateCheckParams{IdempotencyKey: newKey()}, check, editors...))
}

// Update changes the fields set in update; the others keep their value.
func (s *ChecksService) Update(ctx context.Context, id Id, update CheckUpdate, editors ...RequestEditorFn) (*Check, error) {
	return decode[Check](s.c.raw.UpdateCheck(ctx, id, nil, update, editors...))
}

// Delete removes the check and its results.
func (s *ChecksService) Delete(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.DeleteCheck(ctx, id, nil, editors...))
}

// Run queues an immediate run of the check; a worker picks it up within moments, and the
// result it writes carries the returned run_id (see WaitForRun).
func (s *ChecksService) Run(ctx context.Context, id Id, editors ...RequestEditorFn) (*CheckRunQueued, error) {
	return decode[CheckRunQueued](s.c.raw.RunCheck(ctx, id, &RunCheckParams{IdempotencyKey: newKey()}, editors...))
}

// RotatePingToken gives a heartbeat check a new secret ping URL (returned this once); the
// old one stops working.
func (s *ChecksService) RotatePingToken(ctx context.Context, id Id, editors ...RequestEditorFn) (*PingToken, error) {
	return decode[PingToken](s.c.raw.RotateCheckPingToken(ctx, id, &RotateCheckPingTokenParams{IdempotencyKey: newKey()}, editors...))
}

// LastResult returns the check's latest result; IsNotFound when it has none yet.
func (s *ChecksService) LastResult(ctx context.Context, id Id, editors ...RequestEditorFn) (*CheckResult, error) {
	return decode[CheckResult](s.c.raw.GetCheckLastResult(ctx, id, nil, editors...))
}

// PollInterval is how often WaitForRun and RunAndWait look for a result.
const PollInterval = 200 * time.Millisecond

// WaitForRun waits until the check's latest result is the one of run (from Run) and returns
// it. Bound the wait with ctx: a run waits for a free worker.
func (s *ChecksService) WaitForRun(ctx context.Context, run CheckRunQueued, editors ...RequestEditorFn) (*CheckResult, error) {
	for {
		res, err := s.LastResult(ctx, run.CheckId, editors...)
		switch {
		case err == nil && res.RunId != nil && *res.RunId == run.RunId:
			return res, nil
		case err != nil && !IsNotFound(err): // 404 here means "no result yet"
			return nil, err
		}
		if err := sleep(ctx, PollInterval); err != nil {
			return nil, err
		}
	}
}

// RunAndWait runs the check now and returns the result of that run.
func (s *ChecksService) RunAndWait(ctx context.Context, id Id, editors ...RequestEditorFn) (*CheckResult, error) {
	run, err := s.Run(ctx, id, editors...)
	if err != nil {
		return nil, err
	}
	return s.WaitForRun(ctx, *run, editors...)
}
