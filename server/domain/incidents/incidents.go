// Package incidents owns the incident lifecycle: statuses investigating → acknowledged →
// resolved (a resolved incident reopens through an update with a status), and a timeline
// event for every change. Functions run on the caller's transaction, so a change and what
// follows from it (notifications, storm grouping) commit together.
package incidents

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
)

// Statuses.
const (
	Investigating = "investigating"
	Acknowledged  = "acknowledged"
	Resolved      = "resolved"
)

// Timeline actions (the contract's IncidentEvent.action).
const (
	ActionOpened       = "opened"
	ActionUpdate       = "update"
	ActionAcknowledged = "acknowledged"
	ActionResolved     = "resolved"
	ActionReopened     = "reopened"
	ActionNotified     = "notified"
	ActionSuppressed   = "suppressed"
	ActionEscalated    = "escalated"   // an escalation policy's step notified someone (or skipped them)
	ActionAckExpired   = "ack_expired" // an acknowledgement with an expiry ran out
)

// ActorSystem is the actor of changes SecuMon makes by itself.
const ActorSystem = "system"

// ErrNotFound: no such incident in the workspace.
var ErrNotFound = errors.New("incident not found")

// TransitionError is an invalid status change (the API answers 409).
type TransitionError struct{ From, To string }

func (e *TransitionError) Error() string {
	return fmt.Sprintf("an incident that is %s cannot become %s", e.From, e.To)
}

// Change is what happened to an incident: its state after the change and the event recorded.
type Change struct {
	Incident db.Incident
	Event    db.IncidentEvent
	// Previous is the status before the change ("" for a new incident).
	Previous string
}

// Opened reports whether the change brought the incident into being or back from resolved.
func (c Change) Opened() bool {
	return c.Event.Action == ActionOpened || c.Event.Action == ActionReopened
}

// New describes an incident to open.
type New struct {
	WorkspaceID uuid.UUID
	Title       string
	Description string
	Severity    string
	Tags        map[string]string
	HostID      *uuid.UUID
	CheckID     *uuid.UUID
	Actor       string
	Note        string // the "opened" event's note (internal)
	// PublicTitle is what public status pages call the incident; nil lets them derive one.
	PublicTitle *string
}

// Open creates an incident with its "opened" event.
func Open(ctx context.Context, tx pgx.Tx, n New) (Change, error) {
	tags, err := json.Marshal(nonNil(n.Tags))
	if err != nil {
		return Change{}, err
	}
	inc, err := db.New(tx).CreateIncident(ctx, db.CreateIncidentParams{
		WorkspaceID: n.WorkspaceID, ID: uuid.New(), Title: n.Title, Description: n.Description, Severity: n.Severity,
		Tags: tags, HostID: n.HostID, CheckID: n.CheckID, PublicTitle: n.PublicTitle,
	})
	if err != nil {
		return Change{}, err
	}
	return record(ctx, tx, inc, "", ActionOpened, n.Actor, n.Note, false)
}

// OpenAuto opens the automatic incident of a check, unless one is open already (ok false).
func OpenAuto(ctx context.Context, tx pgx.Tx, n New) (c Change, ok bool, err error) {
	tags, err := json.Marshal(nonNil(n.Tags))
	if err != nil {
		return Change{}, false, err
	}
	inc, err := db.New(tx).OpenAutoIncident(ctx, db.OpenAutoIncidentParams{
		WorkspaceID: n.WorkspaceID, ID: uuid.New(), Title: n.Title, Description: n.Description, Severity: n.Severity,
		Tags: tags, HostID: n.HostID, CheckID: n.CheckID,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Change{}, false, nil
	}
	if err != nil {
		return Change{}, false, err
	}
	c, err = record(ctx, tx, inc, "", ActionOpened, n.Actor, n.Note, false)
	return c, err == nil, err
}

// Acknowledge moves an investigating incident to acknowledged. Acknowledging an acknowledged
// incident changes nothing (changed false), so retries are safe; a resolved one is a
// TransitionError.
func Acknowledge(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID, actor string, at *time.Time) (c Change, changed bool, err error) {
	inc, err := lock(ctx, tx, workspaceID, id)
	if err != nil {
		return Change{}, false, err
	}
	switch inc.Status {
	case Acknowledged:
		return Change{Incident: inc, Previous: inc.Status}, false, nil
	case Resolved:
		return Change{}, false, &TransitionError{From: inc.Status, To: Acknowledged}
	}
	c, err = move(ctx, tx, inc, Acknowledged, ActionAcknowledged, actor, "", false, at)
	return c, err == nil, err
}

// Resolve resolves an open incident; resolving a resolved one is a TransitionError.
func Resolve(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID, actor, note string, at *time.Time) (Change, error) {
	inc, err := lock(ctx, tx, workspaceID, id)
	if err != nil {
		return Change{}, err
	}
	if inc.Status == Resolved {
		return Change{}, &TransitionError{From: inc.Status, To: Resolved}
	}
	return move(ctx, tx, inc, Resolved, ActionResolved, actor, note, false, at)
}

// UpdateArgs is what a timeline update says.
type UpdateArgs struct {
	Actor string
	Note  string
	// Status, when set, changes the incident's status.
	Status *string
	// Public publishes the note on the status pages that show the incident; other notes
	// stay internal.
	Public bool
	// SetPublicTitle replaces the incident's public title with PublicTitle (nil clears it).
	SetPublicTitle bool
	PublicTitle    *string
}

// Update adds a note to the timeline and, with a status, changes the incident's status: any
// status may follow any other, and leaving resolved reopens the incident.
func Update(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID, u UpdateArgs) (Change, error) {
	inc, err := lock(ctx, tx, workspaceID, id)
	if err != nil {
		return Change{}, err
	}
	if u.SetPublicTitle {
		inc, err = db.New(tx).SetIncidentPublicTitle(ctx, db.SetIncidentPublicTitleParams{WorkspaceID: workspaceID, ID: id, PublicTitle: u.PublicTitle})
		if err != nil {
			return Change{}, err
		}
	}
	if u.Status == nil || *u.Status == inc.Status {
		if err := db.New(tx).TouchIncident(ctx, db.TouchIncidentParams{WorkspaceID: workspaceID, ID: id}); err != nil {
			return Change{}, err
		}
		return record(ctx, tx, inc, inc.Status, ActionUpdate, u.Actor, u.Note, u.Public)
	}
	if inc.MergedInto != nil {
		// A duplicate stays resolved: its problem goes on in the incident it was merged into.
		return Change{}, &ConflictError{Reason: fmt.Sprintf("the incident was merged into %s: update that one", inc.MergedInto)}
	}
	action := ActionUpdate
	if inc.Status == Resolved {
		action = ActionReopened
	}
	return move(ctx, tx, inc, *u.Status, action, u.Actor, u.Note, u.Public, nil)
}

// ExpireAck brings an acknowledged incident back to investigating when its acknowledgement
// expires.
func ExpireAck(ctx context.Context, tx pgx.Tx, inc db.Incident, note string) (Change, error) {
	if inc.Status != Acknowledged {
		return Change{}, &TransitionError{From: inc.Status, To: Investigating}
	}
	return move(ctx, tx, inc, Investigating, ActionAckExpired, ActorSystem, note, false, nil)
}

// Lock reads the incident and locks its row until the transaction ends, so that a change
// decided on its status (an escalation step, an expiry) cannot race an acknowledgement.
func Lock(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID) (db.Incident, error) {
	return lock(ctx, tx, workspaceID, id)
}

// Reopen brings a resolved incident back to investigating (a check failing again soon after
// recovering).
func Reopen(ctx context.Context, tx pgx.Tx, inc db.Incident, actor, note string) (Change, error) {
	if inc.Status != Resolved {
		return Change{}, &TransitionError{From: inc.Status, To: Investigating}
	}
	return move(ctx, tx, inc, Investigating, ActionReopened, actor, note, false, nil)
}

// Note records an event that does not change the status (notified, suppressed, …).
func Note(ctx context.Context, tx pgx.Tx, inc db.Incident, action, actor, note string) (db.IncidentEvent, error) {
	c, err := record(ctx, tx, inc, inc.Status, action, actor, note, false)
	return c.Event, err
}

// Get returns an incident with its timeline, oldest event first.
func Get(ctx context.Context, q *db.Queries, workspaceID, id uuid.UUID) (db.Incident, []db.IncidentEvent, error) {
	inc, err := q.GetIncident(ctx, db.GetIncidentParams{WorkspaceID: workspaceID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return db.Incident{}, nil, ErrNotFound
	}
	if err != nil {
		return db.Incident{}, nil, err
	}
	events, err := q.ListIncidentEvents(ctx, db.ListIncidentEventsParams{WorkspaceID: workspaceID, IncidentID: id})
	return inc, events, err
}

func lock(ctx context.Context, tx pgx.Tx, workspaceID, id uuid.UUID) (db.Incident, error) {
	inc, err := db.New(tx).LockIncident(ctx, db.LockIncidentParams{WorkspaceID: workspaceID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return db.Incident{}, ErrNotFound
	}
	return inc, err
}

func move(ctx context.Context, tx pgx.Tx, inc db.Incident, to, action, actor, note string, public bool, at *time.Time) (Change, error) {
	updated, err := db.New(tx).SetIncidentStatus(ctx, db.SetIncidentStatusParams{
		WorkspaceID: inc.WorkspaceID, ID: inc.ID, Status: to, Actor: actor, At: at,
	})
	if err != nil {
		return Change{}, err
	}
	return record(ctx, tx, updated, inc.Status, action, actor, note, public)
}

// record adds the event (its note shown on public status pages when public) and tells
// listeners of the live event stream that the workspace's incidents changed.
func record(ctx context.Context, tx pgx.Tx, inc db.Incident, previous, action, actor, note string, public bool) (Change, error) {
	ev, err := db.New(tx).AddIncidentEvent(ctx, db.AddIncidentEventParams{
		WorkspaceID: inc.WorkspaceID, ID: uuid.New(), IncidentID: inc.ID, Action: action, Actor: actor, Note: note, Status: inc.Status,
		Public: public,
	})
	if err != nil {
		return Change{}, err
	}
	if err := PublishChange(ctx, db.New(tx), inc.WorkspaceID); err != nil {
		return Change{}, err
	}
	return Change{Incident: inc, Event: ev, Previous: previous}, nil
}

// EventsChannel is the PostgreSQL NOTIFY channel on which incident changes are announced
// (the payload is the workspace id), for the live event stream of every API process.
const EventsChannel = "secumon_events"

// PublishChange tells the live event stream of every API process, on EventsChannel, that what
// it shows of the workspace changed (incidents, check states, storms). Inside a transaction
// the notification goes out when it commits.
func PublishChange(ctx context.Context, q *db.Queries, workspaceID uuid.UUID) error {
	return q.Notify(ctx, db.NotifyParams{Channel: EventsChannel, Payload: workspaceID.String()})
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
