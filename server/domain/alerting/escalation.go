package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/domain/oncall"
)

// An escalation policy notifies its levels one after the other while nobody acknowledges or
// resolves an incident: level 1 when an alert policy routing to it matches the opened
// incident, each next one its predecessor's wait later, the whole chain 1+Repeat times, then
// the last level every Reminder until someone answers.
//
// Durability: every step is a row of incident_escalations whose unique key (incident,
// policy, run, step) is claimed in the transaction that queues the step's deliveries and the
// River job of the next step. A step fires exactly once whatever the retries and restarts,
// and a process stopping between two steps leaves the next one queued in PostgreSQL.

// Escalation target types (the contract's EscalationTarget.type).
const (
	TargetOncall   = "oncall"   // whoever is on call in ScheduleID when the level fires
	TargetMember   = "member"   // the member MemberEmail of ScheduleID
	TargetChannels = "channels" // the channels of Channels
)

// Ways to reach a person (the contract's EscalationVia): notify's channel names.
var vias = []string{notify.ChannelEmail, notify.ChannelSMS, notify.ChannelVoice}

// EscalationLevel is one level of a policy (the contract's EscalationLevel).
type EscalationLevel struct {
	WaitSec int                `json:"wait_sec"`
	Targets []EscalationTarget `json:"targets"`
}

// EscalationTarget is who a level notifies (the contract's EscalationTarget).
type EscalationTarget struct {
	Type        string     `json:"type"`
	ScheduleID  *uuid.UUID `json:"schedule_id,omitempty"`
	MemberEmail string     `json:"member_email,omitempty"`
	Via         []string   `json:"via,omitempty"`
	Channels    *Channels  `json:"channels,omitempty"`
	TimeSlots   []TimeSlot `json:"time_slots,omitempty"`
	Timezone    string     `json:"timezone,omitempty"`
}

// TimeSlot is a weekly time range (Argus's notification profiles): the days it starts on and
// local times; End before Start runs past midnight, End equal to Start is the whole day.
type TimeSlot struct {
	Days  []string `json:"days"`
	Start string   `json:"start"`
	End   string   `json:"end"`
}

var weekdays = []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// InSlots reports whether t falls in one of the target's time slots (always, without slots).
func (t EscalationTarget) InSlots(at time.Time) (bool, error) {
	if len(t.TimeSlots) == 0 {
		return true, nil
	}
	loc := time.UTC
	if t.Timezone != "" {
		var err error
		if loc, err = oncall.LoadLocation(t.Timezone); err != nil {
			return false, err
		}
	}
	local := at.In(loc)
	minute := local.Hour()*60 + local.Minute()
	today := weekdays[local.Weekday()]
	yesterday := weekdays[(local.Weekday()+6)%7]
	for _, s := range t.TimeSlots {
		start, err := oncall.ParseClock(s.Start)
		if err != nil {
			return false, err
		}
		end, err := oncall.ParseClock(s.End)
		if err != nil {
			return false, err
		}
		from, to := start.Hour*60+start.Minute, end.Hour*60+end.Minute
		switch {
		case from < to: // within one day
			if slices.Contains(s.Days, today) && minute >= from && minute < to {
				return true, nil
			}
		default: // past midnight, or the whole day when equal
			if slices.Contains(s.Days, today) && minute >= from {
				return true, nil
			}
			if from != to && slices.Contains(s.Days, yesterday) && minute < to {
				return true, nil
			}
		}
	}
	return false, nil
}

// ParseLevels reads a stored policy's levels.
func ParseLevels(raw []byte) ([]EscalationLevel, error) {
	var levels []EscalationLevel
	if err := json.Unmarshal(raw, &levels); err != nil {
		return nil, fmt.Errorf("escalation levels: %w", err)
	}
	return levels, nil
}

// EscalationQueue is the River queue of escalation steps and acknowledgement expiries.
const EscalationQueue = "escalations"

// EscalationArgs is the job of one step of an escalation.
type EscalationArgs struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	IncidentID  uuid.UUID `json:"incident_id"`
	PolicyID    uuid.UUID `json:"policy_id"`
	Run         int32     `json:"run"`
	Step        int32     `json:"step"`
}

// Kind names the job type in River.
func (EscalationArgs) Kind() string { return "escalation_step" }

// InsertOpts puts steps on EscalationQueue.
func (EscalationArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: EscalationQueue, MaxAttempts: 25}
}

// AckExpiryArgs is the job that ends an acknowledgement at Until.
type AckExpiryArgs struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	IncidentID  uuid.UUID `json:"incident_id"`
	Until       time.Time `json:"until"`
}

// Kind names the job type in River.
func (AckExpiryArgs) Kind() string { return "ack_expiry" }

// InsertOpts puts expiries on EscalationQueue.
func (AckExpiryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: EscalationQueue, MaxAttempts: 25}
}

// startEscalation starts a new run of the policy's escalation of inc: level 1 fires now, in
// tx, and queues what follows.
func (a *Alerting) startEscalation(ctx context.Context, tx pgx.Tx, inc db.Incident, policyID uuid.UUID) error {
	run, err := db.New(tx).NextEscalationRun(ctx, db.NextEscalationRunParams{WorkspaceID: inc.WorkspaceID, IncidentID: inc.ID, PolicyID: policyID})
	if err != nil {
		return err
	}
	return a.fireStep(ctx, tx, inc, policyID, run, 0)
}

// fireStep fires step number step of the run, unless it fired already, and queues the next
// one. Steps 0 … levels×(1+repeat)−1 are the levels of each pass; later ones are reminders.
func (a *Alerting) fireStep(ctx context.Context, tx pgx.Tx, inc db.Incident, policyID uuid.UUID, run, step int32) error {
	q := db.New(tx)
	p, err := q.GetEscalationPolicy(ctx, db.GetEscalationPolicyParams{WorkspaceID: inc.WorkspaceID, ID: policyID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // deleted: the escalation stops
	}
	if err != nil {
		return err
	}
	levels, err := ParseLevels(p.Levels)
	if err != nil || len(levels) == 0 {
		a.log.Warn("skipping an unreadable escalation policy", "policy_id", p.ID, "err", err)
		return nil
	}
	n := int32(len(levels))
	chain := n * (p.Repeat + 1)
	reminder := step >= chain
	if reminder && p.ReminderSec == nil {
		return nil
	}
	level, pass := step%n, step/n
	if reminder {
		level, pass = n-1, p.Repeat
	}
	claimed, err := q.ClaimEscalationStep(ctx, db.ClaimEscalationStepParams{
		WorkspaceID: inc.WorkspaceID, IncidentID: inc.ID, PolicyID: policyID, Run: run, Step: step,
		Pass: pass, Level: level, Reminder: reminder,
	})
	if err != nil || claimed == 0 {
		return err // 0: this step fired already
	}

	label := fmt.Sprintf("level %d", level+1)
	if pass > 0 && !reminder {
		label += fmt.Sprintf(" (pass %d)", pass+1)
	}
	if reminder {
		label = fmt.Sprintf("reminder: %s", label)
	}
	msg := escalationMessage(inc, p, label)
	now := time.Now()
	var notes []string
	for _, t := range levels[level].Targets {
		note, err := a.fireTarget(ctx, tx, inc, p.ID, t, msg, now)
		if err != nil {
			return err
		}
		notes = append(notes, note)
	}
	note := fmt.Sprintf("%s of %s: %s", label, p.Name, strings.Join(notes, "; "))
	if _, err := incidents.Note(ctx, tx, inc, incidents.ActionEscalated, incidents.ActorSystem, note); err != nil {
		return err
	}

	var wait time.Duration
	switch {
	case step+1 < chain:
		wait = time.Duration(levels[level].WaitSec) * a.cfg.EscalationTimeUnit
	case p.ReminderSec != nil:
		wait = time.Duration(*p.ReminderSec) * a.cfg.EscalationTimeUnit
	default:
		return nil // the chain has run and there are no reminders
	}
	_, err = a.jobs.InsertTx(ctx, tx, EscalationArgs{WorkspaceID: inc.WorkspaceID, IncidentID: inc.ID, PolicyID: policyID, Run: run, Step: step + 1},
		&river.InsertOpts{ScheduledAt: now.Add(wait)})
	return err
}

// fireTarget queues a target's deliveries and says, for the timeline, whom it reached or why
// it skipped them. Problems of the target itself (a schedule deleted since, nobody on call, a
// member without a phone) are said, not errors: the other targets still fire.
func (a *Alerting) fireTarget(ctx context.Context, tx pgx.Tx, inc db.Incident, policyID uuid.UUID, t EscalationTarget, msg message, now time.Time) (string, error) {
	in, err := t.InSlots(now)
	if err != nil {
		return fmt.Sprintf("%s target skipped: %v", t.Type, err), nil
	}
	if !in {
		return fmt.Sprintf("%s target skipped: outside its time slots", t.Type), nil
	}
	if t.Type == TargetChannels {
		if t.Channels == nil {
			return "no channels", nil
		}
		targets, err := a.deliver(ctx, tx, inc.WorkspaceID, &inc.ID, nil, *t.Channels, msg)
		if err != nil {
			return "", err
		}
		if len(targets) == 0 {
			return "no channels", nil
		}
		return "notified " + strings.Join(targets, ", "), nil
	}
	if t.ScheduleID == nil {
		return t.Type + " target without a schedule", nil
	}
	q := db.New(tx)
	var member *oncall.Member
	switch t.Type {
	case TargetOncall:
		member, _, err = oncall.Current(ctx, q, inc.WorkspaceID, *t.ScheduleID, now)
		if errors.Is(err, oncall.ErrNotFound) {
			return "on-call schedule " + t.ScheduleID.String() + " no longer exists", nil
		}
		if err != nil {
			return "", err
		}
		if member == nil {
			return "nobody on call in schedule " + t.ScheduleID.String(), nil
		}
	case TargetMember:
		member, err = scheduleMember(ctx, q, inc.WorkspaceID, *t.ScheduleID, t.MemberEmail)
		if err != nil {
			return "", err
		}
		if member == nil {
			return t.MemberEmail + " is no longer a member of schedule " + t.ScheduleID.String(), nil
		}
	default:
		return "unknown target type " + t.Type, nil
	}
	via := t.Via
	if len(via) == 0 {
		via = []string{notify.ChannelEmail}
	}
	var done []string
	for _, v := range via {
		to := member.Email
		if v != notify.ChannelEmail {
			if member.Phone == "" {
				done = append(done, fmt.Sprintf("no phone for %s", strings.ToUpper(v)))
				continue
			}
			to = member.Phone
		}
		if _, err := notify.Enqueue(ctx, a.jobs, tx, notify.Message{
			WorkspaceID: inc.WorkspaceID, IncidentID: &inc.ID, Channel: v, Target: to,
			Subject: msg.subject, Text: msg.text, Payload: msg.payload,
		}); err != nil {
			return "", err
		}
		done = append(done, viaWords[v]+" ("+to+")")
	}
	return fmt.Sprintf("paged %s by %s", member.Name, strings.Join(done, ", ")), nil
}

var viaWords = map[string]string{notify.ChannelEmail: "e-mail", notify.ChannelSMS: "SMS", notify.ChannelVoice: "voice call"}

// scheduleMember is the member (or override) of the schedule with that e-mail, or nil.
func scheduleMember(ctx context.Context, q *db.Queries, workspaceID, scheduleID uuid.UUID, email string) (*oncall.Member, error) {
	row, err := q.GetOncallSchedule(ctx, db.GetOncallScheduleParams{WorkspaceID: workspaceID, ID: scheduleID})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := oncall.FromRow(row)
	if err != nil {
		return nil, err
	}
	for _, m := range s.Members {
		if strings.EqualFold(m.Email, email) {
			return &m, nil
		}
	}
	for _, o := range s.Overrides {
		if strings.EqualFold(o.Email, email) {
			return &o.Member, nil
		}
	}
	return nil, nil
}

// escalationMessage renders a step for people and machines.
func escalationMessage(inc db.Incident, p db.EscalationPolicy, label string) message {
	subject := fmt.Sprintf("[SecuMon] %s unacknowledged (%s): %s", strings.ToUpper(inc.Severity), label, inc.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "Incident %s is %s and nobody has acknowledged it.\n\n", inc.ID, inc.Status)
	fmt.Fprintf(&b, "Title:    %s\nSeverity: %s\nOpened:   %s\n", inc.Title, inc.Severity, inc.CreatedAt.UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "\nEscalation policy: %s, %s\n", p.Name, label)
	payload, _ := json.Marshal(map[string]any{
		"event": "incident.escalated",
		"time":  time.Now().UTC(),
		"note":  label,
		"escalation_policy": map[string]any{
			"id": p.ID, "name": p.Name,
		},
		"incident": map[string]any{
			"id": inc.ID, "title": inc.Title, "severity": inc.Severity, "status": inc.Status,
			"tags": inc.Tags, "host_id": inc.HostID, "check_id": inc.CheckID,
			"created_at": inc.CreatedAt.UTC(),
		},
		"workspace_id": inc.WorkspaceID,
	})
	return message{subject: subject, text: b.String(), payload: payload}
}

// ExpireAckAt makes the acknowledgement of inc (acknowledged in tx) end at until, replacing
// any earlier expiry; a zero until makes it last. Call it in the acknowledgement's transaction.
func (a *Alerting) ExpireAckAt(ctx context.Context, tx pgx.Tx, inc db.Incident, until time.Time) error {
	var at *time.Time
	if !until.IsZero() {
		until = until.UTC().Truncate(time.Microsecond) // as PostgreSQL stores it
		at = &until
	}
	if err := db.New(tx).SetIncidentAckExpiry(ctx, db.SetIncidentAckExpiryParams{WorkspaceID: inc.WorkspaceID, ID: inc.ID, AckExpiresAt: at}); err != nil {
		return err
	}
	if at == nil {
		return nil
	}
	_, err := a.jobs.InsertTx(ctx, tx, AckExpiryArgs{WorkspaceID: inc.WorkspaceID, IncidentID: inc.ID, Until: until}, &river.InsertOpts{ScheduledAt: until})
	return err
}
