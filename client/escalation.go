package client

import (
	"context"
	"iter"
)

// EscalationPoliciesService manages who is notified next, and how, while nobody acknowledges
// an incident.
type EscalationPoliciesService service

// List returns one page of escalation policies; opts may be nil.
func (s *EscalationPoliciesService) List(ctx context.Context, opts *ListEscalationPoliciesParams, editors ...RequestEditorFn) (*EscalationPolicyList, error) {
	return decode[EscalationPolicyList](s.c.raw.ListEscalationPolicies(ctx, opts, editors...))
}

// All iterates over every escalation policy.
func (s *EscalationPoliciesService) All(ctx context.Context, opts *ListEscalationPoliciesParams, editors ...RequestEditorFn) iter.Seq2[EscalationPolicy, error] {
	var p ListEscalationPoliciesParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]EscalationPolicy, *string, error) {
		p.Cursor = cursor
		page, err := s.List(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Policies, page.NextCursor, nil
	})
}

// Get returns the escalation policy with this id.
func (s *EscalationPoliciesService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*EscalationPolicy, error) {
	return decode[EscalationPolicy](s.c.raw.GetEscalationPolicy(ctx, id, nil, editors...))
}

// Create adds an escalation policy.
func (s *EscalationPoliciesService) Create(ctx context.Context, policy EscalationPolicyCreate, editors ...RequestEditorFn) (*EscalationPolicy, error) {
	return decode[EscalationPolicy](s.c.raw.CreateEscalationPolicy(ctx, &CreateEscalationPolicyParams{IdempotencyKey: newKey()}, policy, editors...))
}

// Update changes an escalation policy.
func (s *EscalationPoliciesService) Update(ctx context.Context, id Id, update EscalationPolicyUpdate, editors ...RequestEditorFn) (*EscalationPolicy, error) {
	return decode[EscalationPolicy](s.c.raw.UpdateEscalationPolicy(ctx, id, nil, update, editors...))
}

// Delete removes an escalation policy.
func (s *EscalationPoliciesService) Delete(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.DeleteEscalationPolicy(ctx, id, nil, editors...))
}
