package client

import (
	"context"
	"iter"
)

// AlertPoliciesService manages which incidents notify whom, through which channels.
type AlertPoliciesService service

// List returns one page of alert policies; opts may be nil.
func (s *AlertPoliciesService) List(ctx context.Context, opts *ListAlertPoliciesParams, editors ...RequestEditorFn) (*AlertPolicyList, error) {
	return decode[AlertPolicyList](s.c.raw.ListAlertPolicies(ctx, opts, editors...))
}

// All iterates over every alert policy.
func (s *AlertPoliciesService) All(ctx context.Context, opts *ListAlertPoliciesParams, editors ...RequestEditorFn) iter.Seq2[AlertPolicy, error] {
	var p ListAlertPoliciesParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]AlertPolicy, *string, error) {
		p.Cursor = cursor
		page, err := s.List(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Policies, page.NextCursor, nil
	})
}

// Get returns the alert policy with this id.
func (s *AlertPoliciesService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*AlertPolicy, error) {
	return decode[AlertPolicy](s.c.raw.GetAlertPolicy(ctx, id, nil, editors...))
}

// Create adds an alert policy.
func (s *AlertPoliciesService) Create(ctx context.Context, policy AlertPolicyCreate, editors ...RequestEditorFn) (*AlertPolicy, error) {
	return decode[AlertPolicy](s.c.raw.CreateAlertPolicy(ctx, &CreateAlertPolicyParams{IdempotencyKey: newKey()}, policy, editors...))
}

// Update changes an alert policy.
func (s *AlertPoliciesService) Update(ctx context.Context, id Id, update AlertPolicyUpdate, editors ...RequestEditorFn) (*AlertPolicy, error) {
	return decode[AlertPolicy](s.c.raw.UpdateAlertPolicy(ctx, id, nil, update, editors...))
}

// Delete removes an alert policy.
func (s *AlertPoliciesService) Delete(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.DeleteAlertPolicy(ctx, id, nil, editors...))
}

// OncallService manages on-call schedules and tells who is on call.
type OncallService service

// List returns every on-call schedule.
func (s *OncallService) List(ctx context.Context, editors ...RequestEditorFn) ([]OncallSchedule, error) {
	return decodeSlice[OncallSchedule](s.c.raw.ListOncallSchedules(ctx, nil, editors...))
}

// Get returns a schedule with the member on call now.
func (s *OncallService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*OncallScheduleDetail, error) {
	return decode[OncallScheduleDetail](s.c.raw.GetOncallSchedule(ctx, id, nil, editors...))
}

// Create adds an on-call schedule.
func (s *OncallService) Create(ctx context.Context, schedule OncallScheduleCreate, editors ...RequestEditorFn) (*OncallSchedule, error) {
	return decode[OncallSchedule](s.c.raw.CreateOncallSchedule(ctx, &CreateOncallScheduleParams{IdempotencyKey: newKey()}, schedule, editors...))
}

// Update changes a schedule (the server answers 204: Get it to see the result).
func (s *OncallService) Update(ctx context.Context, id Id, update OncallScheduleUpdate, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.UpdateOncallSchedule(ctx, id, nil, update, editors...))
}

// Delete removes a schedule.
func (s *OncallService) Delete(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.DeleteOncallSchedule(ctx, id, nil, editors...))
}

// Current returns who is on call now in every schedule.
func (s *OncallService) Current(ctx context.Context, editors ...RequestEditorFn) ([]CurrentOncall, error) {
	return decodeSlice[CurrentOncall](s.c.raw.GetCurrentOncall(ctx, nil, editors...))
}
