package incidents

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
)

// Timeline actions of the incident operations (issue 15).
const (
	ActionTitleChanged    = "title_changed"
	ActionSeverityChanged = "severity_changed"
	ActionAssigned        = "assigned"
	ActionUnassigned      = "unassigned"
	ActionSnoozed         = "snoozed"
	ActionUnsnoozed       = "unsnoozed"
	ActionMerged          = "merged"
)

// MaxSnooze is how far ahead an incident may be snoozed.
const MaxSnooze = 7 * 24 * time.Hour

// Snoozed reports whether notifications about inc are silenced at now. Everything that
// notifies about an incident (alert policy deliveries, reminders, escalation steps) asks this
// of the incident row it holds, and records a "suppressed" event instead of sending.
func Snoozed(inc db.Incident, now time.Time) bool {
	return inc.SnoozedUntil != nil && inc.SnoozedUntil.After(now)
}

// ConflictError is an operation the incident's state does not allow (the API answers 409).
type ConflictError struct{ Reason string }

func (e *ConflictError) Error() string { return e.Reason }

// ErrNotMember: an assignee who is not a member of the incident's workspace.
var ErrNotMember = errors.New("no such member of this workspace")

// Edit is a partial change of an incident's fields; a nil pointer (or a false Set…) keeps
// the field.
type Edit struct {
	Actor    string
	Title    *string
	Severity *string
	// SetAssignee replaces the assignee with AssigneeID (nil unassigns), who must be a member
	// of the workspace (else ErrNotMember).
	SetAssignee bool
	AssigneeID  *uuid.UUID
	// SetPublicTitle replaces the public title with PublicTitle (nil clears it).
	SetPublicTitle bool
	PublicTitle    *string
}

// EditIncident applies e and records one timeline event per field that actually changed;
// nothing changing records nothing.
func EditIncident(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID, e Edit) (db.Incident, error) {
	inc, err := lock(ctx, tx, workspaceID, id)
	if err != nil {
		return db.Incident{}, err
	}
	p := db.SetIncidentFieldsParams{
		WorkspaceID: workspaceID, ID: id, Title: inc.Title, Severity: inc.Severity,
		AssigneeID: inc.AssigneeID, PublicTitle: inc.PublicTitle,
	}
	type event struct{ action, note string }
	var events []event
	if e.Title != nil && *e.Title != inc.Title {
		p.Title = *e.Title
		events = append(events, event{ActionTitleChanged, fmt.Sprintf("title: %q → %q", inc.Title, *e.Title)})
	}
	if e.Severity != nil && *e.Severity != inc.Severity {
		p.Severity = *e.Severity
		events = append(events, event{ActionSeverityChanged, fmt.Sprintf("severity: %s → %s", inc.Severity, *e.Severity)})
	}
	if e.SetAssignee {
		switch {
		case e.AssigneeID == nil && inc.AssigneeID != nil:
			p.AssigneeID = nil
			events = append(events, event{ActionUnassigned, fmt.Sprintf("unassigned (was %s)", inc.AssigneeID)})
		case e.AssigneeID != nil && (inc.AssigneeID == nil || *inc.AssigneeID != *e.AssigneeID):
			// Checked after the incident is found, so another workspace's incident is a 404
			// whatever the body says.
			m, err := db.New(tx).GetWorkspaceMember(ctx, db.GetWorkspaceMemberParams{WorkspaceID: workspaceID, UserID: *e.AssigneeID})
			if errors.Is(err, pgx.ErrNoRows) {
				return db.Incident{}, ErrNotMember
			}
			if err != nil {
				return db.Incident{}, err
			}
			p.AssigneeID = &m.ID
			events = append(events, event{ActionAssigned, fmt.Sprintf("assigned to %s (%s)", m.Name, m.ID)})
		}
	}
	if e.SetPublicTitle && !sameString(e.PublicTitle, inc.PublicTitle) {
		p.PublicTitle = e.PublicTitle
		note := "public title cleared"
		if e.PublicTitle != nil {
			note = fmt.Sprintf("public title: %q", *e.PublicTitle)
		}
		events = append(events, event{ActionUpdate, note})
	}
	if len(events) == 0 {
		return inc, nil
	}
	updated, err := db.New(tx).SetIncidentFields(ctx, p)
	if err != nil {
		return db.Incident{}, err
	}
	for _, ev := range events {
		if _, err := record(ctx, tx, updated, updated.Status, ev.action, e.Actor, ev.note, false); err != nil {
			return db.Incident{}, err
		}
	}
	return updated, nil
}

// Snooze silences the incident's notifications until until (the caller bounds it by
// MaxSnooze); snoozing again replaces the time. A merged incident is a ConflictError.
func Snooze(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID, until time.Time, actor string) (db.Incident, error) {
	inc, err := lock(ctx, tx, workspaceID, id)
	if err != nil {
		return db.Incident{}, err
	}
	if inc.MergedInto != nil {
		return db.Incident{}, &ConflictError{Reason: fmt.Sprintf("the incident was merged into %s: snooze that one", inc.MergedInto)}
	}
	until = until.UTC().Truncate(time.Second)
	inc, err = db.New(tx).SetIncidentSnooze(ctx, db.SetIncidentSnoozeParams{WorkspaceID: workspaceID, ID: id, SnoozedUntil: &until})
	if err != nil {
		return db.Incident{}, err
	}
	_, err = record(ctx, tx, inc, inc.Status, ActionSnoozed, actor, "notifications silenced until "+until.Format(time.RFC3339), false)
	return inc, err
}

// Unsnooze ends the snooze now; an incident that is not snoozed is a ConflictError.
func Unsnooze(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID, actor string, now time.Time) (db.Incident, error) {
	inc, err := lock(ctx, tx, workspaceID, id)
	if err != nil {
		return db.Incident{}, err
	}
	if !Snoozed(inc, now) {
		return db.Incident{}, &ConflictError{Reason: "the incident is not snoozed"}
	}
	inc, err = db.New(tx).SetIncidentSnooze(ctx, db.SetIncidentSnoozeParams{WorkspaceID: workspaceID, ID: id})
	if err != nil {
		return db.Incident{}, err
	}
	_, err = record(ctx, tx, inc, inc.Status, ActionUnsnoozed, actor, "notifications resumed", false)
	return inc, err
}

// MissingError names the position in a list of an id that is not one of the workspace's
// incidents (the API answers 404 naming the field).
type MissingError struct{ Index int }

func (e *MissingError) Error() string {
	return fmt.Sprintf("incident %d of the list not found", e.Index)
}

// Merge resolves the duplicates into target: each gets merged_into, is resolved (keeping its
// resolution time if it was resolved already), and both sides' timelines get a "merged"
// event. Timelines are referenced, not copied: each duplicate keeps its own. No notification
// is sent: the duplicates' problem goes on in target. Merging into itself, into a merged
// incident, or merging a merged one is a ConflictError.
func Merge(ctx context.Context, tx pgx.Tx, workspaceID, target uuid.UUID, duplicates []uuid.UUID, actor string) (db.Incident, error) {
	for _, d := range duplicates {
		if d == target {
			return db.Incident{}, &ConflictError{Reason: "an incident cannot be merged into itself"}
		}
	}
	locked, err := db.New(tx).LockIncidents(ctx, db.LockIncidentsParams{WorkspaceID: workspaceID, Ids: append([]uuid.UUID{target}, duplicates...)})
	if err != nil {
		return db.Incident{}, err
	}
	byID := make(map[uuid.UUID]db.Incident, len(locked))
	for _, inc := range locked {
		byID[inc.ID] = inc
	}
	into, ok := byID[target]
	if !ok {
		return db.Incident{}, ErrNotFound
	}
	if into.MergedInto != nil {
		return db.Incident{}, &ConflictError{Reason: fmt.Sprintf("the incident was itself merged into %s: merge into that one", into.MergedInto)}
	}
	for i, d := range duplicates {
		inc, ok := byID[d]
		if !ok {
			return db.Incident{}, &MissingError{Index: i}
		}
		if inc.MergedInto != nil {
			return db.Incident{}, &ConflictError{Reason: fmt.Sprintf("incident %s was already merged into %s", d, inc.MergedInto)}
		}
	}
	merged, err := db.New(tx).MergeIncidents(ctx, db.MergeIncidentsParams{WorkspaceID: workspaceID, TargetID: target, Ids: duplicates, Actor: actor})
	if err != nil {
		return db.Incident{}, err
	}
	for _, d := range merged {
		if _, err := record(ctx, tx, d, d.Status, ActionMerged, actor, fmt.Sprintf("merged into %s (%q)", target, into.Title), false); err != nil {
			return db.Incident{}, err
		}
		if _, err := record(ctx, tx, into, into.Status, ActionMerged, actor, fmt.Sprintf("merged %s (%q) into this incident", d.ID, d.Title), false); err != nil {
			return db.Incident{}, err
		}
	}
	if err := db.New(tx).TouchIncident(ctx, db.TouchIncidentParams{WorkspaceID: workspaceID, ID: target}); err != nil {
		return db.Incident{}, err
	}
	return into, nil
}

// IsConflict reports whether err is a state conflict of this package (TransitionError or
// ConflictError).
func IsConflict(err error) bool {
	var te *TransitionError
	var ce *ConflictError
	return errors.As(err, &te) || errors.As(err, &ce)
}

func sameString(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
