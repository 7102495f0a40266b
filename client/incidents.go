package client

import (
	"context"
	"iter"
)

// IncidentsService follows and acts on incidents: acknowledgement, resolution, timeline
// updates, edits and assignment, snooze, merging, statistics and the AI analysis mode.
type IncidentsService service

// List returns one page of incidents, newest first (open ones unless opts says otherwise).
func (s *IncidentsService) List(ctx context.Context, opts *ListIncidentsParams, editors ...RequestEditorFn) (*IncidentList, error) {
	return decode[IncidentList](s.c.raw.ListIncidents(ctx, opts, editors...))
}

// All iterates over every incident matching opts (nil for the open ones).
func (s *IncidentsService) All(ctx context.Context, opts *ListIncidentsParams, editors ...RequestEditorFn) iter.Seq2[Incident, error] {
	var p ListIncidentsParams
	if opts != nil {
		p = *opts
	}
	return pages(p.Cursor, func(cursor *string) ([]Incident, *string, error) {
		p.Cursor = cursor
		page, err := s.List(ctx, &p, editors...)
		if err != nil {
			return nil, nil, err
		}
		return page.Incidents, page.NextCursor, nil
	})
}

// Get returns the incident with its timeline.
func (s *IncidentsService) Get(ctx context.Context, id Id, editors ...RequestEditorFn) (*Incident, error) {
	return decode[Incident](s.c.raw.GetIncident(ctx, id, nil, editors...))
}

// Create opens an incident by hand.
func (s *IncidentsService) Create(ctx context.Context, incident IncidentCreate, editors ...RequestEditorFn) (*Incident, error) {
	return decode[Incident](s.c.raw.CreateIncident(ctx, &CreateIncidentParams{IdempotencyKey: newKey()}, incident, editors...))
}

// Acknowledge marks the incident acknowledged (IsConflict when its status does not allow it).
func (s *IncidentsService) Acknowledge(ctx context.Context, id Id, editors ...RequestEditorFn) (*IncidentTransition, error) {
	return s.AcknowledgeWith(ctx, id, IncidentAck{}, editors...)
}

// AcknowledgeWith acknowledges the incident with an expiry (ExpiresInSec or Until): then it
// returns to investigating and its escalation starts again.
func (s *IncidentsService) AcknowledgeWith(ctx context.Context, id Id, ack IncidentAck, editors ...RequestEditorFn) (*IncidentTransition, error) {
	return decode[IncidentTransition](s.c.raw.QuickAckIncident(ctx, id, &QuickAckIncidentParams{IdempotencyKey: newKey()}, ack, editors...))
}

// Resolve marks the incident resolved.
func (s *IncidentsService) Resolve(ctx context.Context, id Id, editors ...RequestEditorFn) (*IncidentTransition, error) {
	return decode[IncidentTransition](s.c.raw.QuickResolveIncident(ctx, id, &QuickResolveIncidentParams{IdempotencyKey: newKey()}, editors...))
}

// AddUpdate adds a note to the incident's timeline, optionally changing its status.
func (s *IncidentsService) AddUpdate(ctx context.Context, id Id, update IncidentUpdateCreate, editors ...RequestEditorFn) (*IncidentUpdateResult, error) {
	return decode[IncidentUpdateResult](s.c.raw.AddIncidentUpdate(ctx, id, &AddIncidentUpdateParams{IdempotencyKey: newKey()}, update, editors...))
}

// Update changes the incident's title, severity, assignee or public title (absent fields keep
// their value; nullable.NewNullNullable unassigns). Each change is a timeline event.
func (s *IncidentsService) Update(ctx context.Context, id Id, change IncidentChange, editors ...RequestEditorFn) (*Incident, error) {
	return decode[Incident](s.c.raw.UpdateIncident(ctx, id, nil, change, editors...))
}

// Snooze silences the incident's notifications until snooze.Until or for snooze.DurationSec
// seconds (at most 7 days).
func (s *IncidentsService) Snooze(ctx context.Context, id Id, snooze IncidentSnooze, editors ...RequestEditorFn) (*Incident, error) {
	return decode[Incident](s.c.raw.SnoozeIncident(ctx, id, &SnoozeIncidentParams{IdempotencyKey: newKey()}, snooze, editors...))
}

// Unsnooze ends the incident's snooze (IsConflict when it is not snoozed).
func (s *IncidentsService) Unsnooze(ctx context.Context, id Id, editors ...RequestEditorFn) (*Incident, error) {
	return decode[Incident](s.c.raw.UnsnoozeIncident(ctx, id, editors...))
}

// Merge resolves the duplicates into the incident id, which it returns with its timeline.
func (s *IncidentsService) Merge(ctx context.Context, id Id, duplicates []Id, editors ...RequestEditorFn) (*Incident, error) {
	return decode[Incident](s.c.raw.MergeIncidents(ctx, id, &MergeIncidentsParams{IdempotencyKey: newKey()}, IncidentMerge{IncidentIds: duplicates}, editors...))
}

// Stats counts the incidents opened in a range by status, severity and source, with their
// MTTA and MTTR (nil opts: the last 30 days).
func (s *IncidentsService) Stats(ctx context.Context, opts *GetIncidentStatsParams, editors ...RequestEditorFn) (*IncidentStats, error) {
	return decode[IncidentStats](s.c.raw.GetIncidentStats(ctx, opts, editors...))
}

// StartAIMode starts the AI analysis of a critical incident within a budget.
func (s *IncidentsService) StartAIMode(ctx context.Context, id Id, start AiModeStart, editors ...RequestEditorFn) (*AiModeSession, error) {
	return decode[AiModeSession](s.c.raw.StartIncidentAiMode(ctx, id, &StartIncidentAiModeParams{IdempotencyKey: newKey()}, start, editors...))
}

// StopAIMode ends the AI analysis and returns what it cost.
func (s *IncidentsService) StopAIMode(ctx context.Context, id Id, editors ...RequestEditorFn) (*AiModeEnded, error) {
	return decode[AiModeEnded](s.c.raw.StopIncidentAiMode(ctx, id, editors...))
}

// AICost returns the spending of the incident's AI analysis.
func (s *IncidentsService) AICost(ctx context.Context, id Id, editors ...RequestEditorFn) (*AiCost, error) {
	return decode[AiCost](s.c.raw.GetIncidentAiCost(ctx, id, nil, editors...))
}
