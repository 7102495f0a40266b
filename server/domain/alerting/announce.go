package alerting

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/incidents"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/domain/oncall"
)

// Announce sends an incident change through the workspace's matching alert policies: an
// opened or reopened incident within each policy's cooldown, a resolved one to the policies
// that announced it. A maintenance window suppressing alerts on the incident's host, or the
// storm the incident belongs to, replaces the individual notifications; either way the
// timeline says what happened.
func (a *Alerting) Announce(ctx context.Context, tx pgx.Tx, c incidents.Change) error {
	inc := c.Incident
	// A resolution may also come as a timeline update that sets the status.
	opened := c.Opened()
	resolved := c.Incident.Status == incidents.Resolved && c.Previous != "" && c.Previous != incidents.Resolved
	// An acknowledgement goes only to the paging services, whose alert it acknowledges.
	acked := c.Event.Action == incidents.ActionAcknowledged && !resolved
	if !opened && !resolved && !acked {
		return nil
	}
	q := db.New(tx)
	subject, err := a.subjectOf(ctx, q, inc)
	if err != nil {
		return err
	}
	// A snoozed incident notifies nobody until the snooze ends; the timeline says so.
	if incidents.Snoozed(inc, time.Now()) {
		_, err := incidents.Note(ctx, tx, inc, incidents.ActionSuppressed, incidents.ActorSystem,
			"snoozed until "+inc.SnoozedUntil.UTC().Format(time.RFC3339)+": notifications silenced")
		return err
	}
	if opened {
		if reason, err := a.suppressed(ctx, q, inc); err != nil || reason != "" {
			if err == nil {
				_, err = incidents.Note(ctx, tx, inc, incidents.ActionSuppressed, incidents.ActorSystem, reason)
			}
			return err
		}
	}
	policies, err := q.EnabledAlertPolicies(ctx, inc.WorkspaceID)
	if err != nil {
		return err
	}
	var sent []string
	var escalations []uuid.UUID // the escalation policies the matching policies route to, once each
	for _, p := range policies {
		cond, channels, err := ParsePolicy(p.Conditions, p.Channels)
		if err != nil {
			a.log.Warn("skipping an unreadable alert policy", "policy_id", p.ID, "err", err)
			continue
		}
		if !cond.Matches(subject) {
			continue
		}
		ok, err := a.mayNotify(ctx, q, p, inc.ID, opened)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if opened && p.EscalationPolicyID != nil && !slices.Contains(escalations, *p.EscalationPolicyID) {
			escalations = append(escalations, *p.EscalationPolicyID)
		}
		if acked {
			channels = Channels{PagerDuty: channels.PagerDuty, Opsgenie: channels.Opsgenie}
		}
		msg := incidentMessage(c, p, subject, acked)
		targets, err := a.deliver(ctx, tx, inc.WorkspaceID, &inc.ID, &p.ID, channels, msg)
		if err != nil {
			return err
		}
		if len(targets) > 0 {
			sent = append(sent, fmt.Sprintf("%s → %s", p.Name, strings.Join(targets, ", ")))
		}
	}
	if len(sent) > 0 {
		if _, err := incidents.Note(ctx, tx, inc, incidents.ActionNotified, incidents.ActorSystem, strings.Join(sent, "; ")); err != nil {
			return err
		}
	}
	for _, id := range escalations {
		if err := a.startEscalation(ctx, tx, inc, id); err != nil {
			return err
		}
	}
	return nil
}

// mayNotify applies the policy's cooldown to openings (recording the send) and sends a
// resolution only where the opening was sent.
func (a *Alerting) mayNotify(ctx context.Context, q *db.Queries, p db.AlertPolicy, incidentID uuid.UUID, opened bool) (bool, error) {
	if !opened {
		return q.PolicyNotifiedAbout(ctx, db.PolicyNotifiedAboutParams{WorkspaceID: p.WorkspaceID, PolicyID: p.ID, IncidentID: incidentID})
	}
	_, err := q.ClaimPolicySend(ctx, db.ClaimPolicySendParams{WorkspaceID: p.WorkspaceID, PolicyID: p.ID, IncidentID: incidentID, CooldownSec: p.CooldownSec})
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // still cooling down
	}
	return err == nil, err
}

// suppressed says why an opening notifies nobody, or "".
func (a *Alerting) suppressed(ctx context.Context, q *db.Queries, inc db.Incident) (string, error) {
	if inc.StormID != nil {
		return fmt.Sprintf("part of storm %s: the storm's notification covers it", inc.StormID), nil
	}
	if inc.HostID == nil {
		return "", nil
	}
	in, err := q.HostInActiveMaintenance(ctx, db.HostInActiveMaintenanceParams{WorkspaceID: inc.WorkspaceID, HostID: *inc.HostID})
	if err != nil || !in {
		return "", err
	}
	return "host in an active maintenance window: notifications suppressed", nil
}

func (a *Alerting) subjectOf(ctx context.Context, q *db.Queries, inc db.Incident) (Subject, error) {
	s := Subject{Severity: inc.Severity, HostID: inc.HostID}
	if inc.HostID != nil {
		h, err := q.HostForAlert(ctx, db.HostForAlertParams{WorkspaceID: inc.WorkspaceID, ID: *inc.HostID})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return s, err
		}
		if err == nil {
			_ = json.Unmarshal(h.Tags, &s.HostTags)
			s.HostName = h.Name
		}
	}
	if inc.CheckID != nil {
		ck, err := q.CheckForAlert(ctx, db.CheckForAlertParams{WorkspaceID: inc.WorkspaceID, ID: *inc.CheckID})
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return s, err
		}
		s.CheckType, s.CheckName = ck.CheckType, ck.Name
	}
	return s, nil
}

// message is what every channel of one notification carries.
type message struct {
	subject, text string
	payload       json.RawMessage
	data          TemplateData // what a webhook's body template sees
	severity      string       // the incident's
}

// deliver queues msg on every channel of a policy and returns the targets, as the timeline
// shows them. On-call channels go by e-mail to whoever is on call now.
func (a *Alerting) deliver(ctx context.Context, tx pgx.Tx, workspaceID uuid.UUID, incidentID, policyID *uuid.UUID, ch Channels, msg message) ([]string, error) {
	var targets []string
	send := func(m notify.Message) error {
		m.WorkspaceID, m.IncidentID, m.PolicyID = workspaceID, incidentID, policyID
		m.Subject, m.Text, m.Payload = msg.subject, msg.text, msg.payload
		_, err := notify.Enqueue(ctx, a.jobs, tx, m)
		if err == nil {
			targets = append(targets, m.Channel+" "+notify.MaskTarget(m.Channel, m.Target))
		}
		return err
	}
	queue := func(channel, target, secret string) error {
		return send(notify.Message{Channel: channel, Target: target, Secret: secret})
	}
	for _, to := range ch.Email {
		if err := queue(notify.ChannelEmail, to, ""); err != nil {
			return nil, err
		}
	}
	for _, w := range ch.Webhook {
		m := notify.Message{Channel: notify.ChannelWebhook, Target: w.URL, Secret: w.Secret, Headers: w.ExtraHeaders}
		if w.BodyTemplate != "" {
			body, err := a.renderBody(w, msg.data)
			if err != nil {
				// Checked when the policy was saved, so rare (an index out of range): the
				// receiver gets the standard event rather than nothing.
				a.log.Warn("a webhook body template failed; sending the standard event", "policy_id", policyID, "err", err)
			} else {
				m.Options = notify.Options{Body: &body, ContentType: w.ContentType}
			}
		}
		if err := send(m); err != nil {
			return nil, err
		}
	}
	for _, p := range ch.PagerDuty {
		if err := send(notify.Message{Channel: notify.ChannelPagerDuty, Target: notify.RoutingKeyLabel(p.RoutingKey),
			Secret: p.RoutingKey, Options: notify.Options{Severity: p.Severity}}); err != nil {
			return nil, err
		}
	}
	for _, o := range ch.Opsgenie {
		region := o.Region
		if region == "" {
			region = notify.OpsgenieUS
		}
		if err := send(notify.Message{Channel: notify.ChannelOpsgenie, Target: region, Secret: o.APIKey,
			Options: notify.Options{Severity: o.Priority}}); err != nil {
			return nil, err
		}
	}
	for _, n := range ch.Ntfy {
		opts := notify.Options{Tags: n.Tags}
		if n.Priority > 0 {
			opts.Severity = strconv.Itoa(n.Priority)
		}
		if err := send(notify.Message{Channel: notify.ChannelNtfy, Target: n.URL, Secret: n.Token, Options: opts}); err != nil {
			return nil, err
		}
	}
	for _, url := range ch.Slack {
		if err := queue(notify.ChannelSlack, url, ""); err != nil {
			return nil, err
		}
	}
	for _, url := range ch.Teams {
		if err := queue(notify.ChannelTeams, url, ""); err != nil {
			return nil, err
		}
	}
	for _, url := range ch.Discord {
		if err := queue(notify.ChannelDiscord, url, ""); err != nil {
			return nil, err
		}
	}
	for _, tg := range ch.Telegram {
		if tg.BotToken == "" { // the API refuses such a policy; never fail the incident over one
			a.log.Warn("an alert policy's Telegram channel has no bot token", "chat_id", tg.ChatID)
			continue
		}
		if err := queue(notify.ChannelTelegram, tg.ChatID, tg.BotToken); err != nil {
			return nil, err
		}
	}
	for _, schedule := range ch.Oncall {
		member, _, err := oncall.Current(ctx, db.New(tx), workspaceID, schedule, time.Now())
		if errors.Is(err, oncall.ErrNotFound) {
			a.log.Warn("an alert policy names a missing on-call schedule", "schedule_id", schedule)
			continue
		}
		if err != nil {
			return nil, err
		}
		if member == nil {
			a.log.Warn("nobody on call to notify", "schedule_id", schedule)
			continue
		}
		if err := queue(notify.ChannelEmail, member.Email, ""); err != nil {
			return nil, err
		}
		targets[len(targets)-1] = fmt.Sprintf("on-call %s <%s>", member.Name, member.Email)
	}
	return targets, nil
}

// incidentMessage renders a change for people (subject, text) and machines (payload).
// The host and check names come from s, so chat messages can name them; acked says the
// change is an acknowledgement (sent to the paging services only).
func incidentMessage(c incidents.Change, p db.AlertPolicy, s Subject, acked bool) message {
	inc := c.Incident
	verb := map[string]string{incidents.ActionOpened: "opened", incidents.ActionReopened: "reopened"}[c.Event.Action]
	switch {
	case acked:
		verb = "acknowledged"
	case verb == "":
		verb = "resolved" // Announce sends nothing else
	}
	subject := fmt.Sprintf("[SecuMon] %s %s: %s", strings.ToUpper(inc.Severity), verb, inc.Title)
	var b strings.Builder
	fmt.Fprintf(&b, "Incident %s was %s.\n\n", inc.ID, verb)
	fmt.Fprintf(&b, "Title:    %s\nSeverity: %s\nStatus:   %s\n", inc.Title, inc.Severity, inc.Status)
	if c.Event.Note != "" {
		fmt.Fprintf(&b, "Note:     %s\n", c.Event.Note)
	}
	if inc.Description != "" {
		fmt.Fprintf(&b, "\n%s\n", inc.Description)
	}
	fmt.Fprintf(&b, "\nPolicy: %s\n", p.Name)
	payload, _ := json.Marshal(map[string]any{
		"event": "incident." + verb,
		"time":  c.Event.Time.UTC(),
		"note":  c.Event.Note,
		"policy": map[string]any{
			"id": p.ID, "name": p.Name,
		},
		"incident": map[string]any{
			"id": inc.ID, "title": inc.Title, "severity": inc.Severity, "status": inc.Status,
			"tags": inc.Tags, "host_id": inc.HostID, "check_id": inc.CheckID, "storm_id": inc.StormID,
			"created_at": inc.CreatedAt.UTC(), "resolved_at": inc.ResolvedAt,
			"description": inc.Description, "host_name": s.HostName, "check_name": s.CheckName,
		},
		"workspace_id": inc.WorkspaceID,
	})
	data := TemplateData{
		Event: "incident." + verb, Time: c.Event.Time.UTC().Format(time.RFC3339), Note: c.Event.Note,
		IncidentID: inc.ID.String(), Title: inc.Title, Severity: inc.Severity, Status: inc.Status,
		Description: inc.Description, CreatedAt: inc.CreatedAt.UTC().Format(time.RFC3339),
		PolicyID: p.ID.String(), PolicyName: p.Name, WorkspaceID: inc.WorkspaceID.String(), Subject: subject, Text: b.String(),
	}
	_ = json.Unmarshal(inc.Tags, &data.Tags)
	if inc.HostID != nil {
		data.HostID = inc.HostID.String()
	}
	if inc.CheckID != nil {
		data.CheckID = inc.CheckID.String()
	}
	return message{subject: subject, text: b.String(), payload: payload, data: data, severity: inc.Severity}
}

// renderBody renders a webhook's body template; a JSON content type needs valid JSON.
func (a *Alerting) renderBody(w Webhook, d TemplateData) (string, error) {
	bt, err := ParseBodyTemplate(w.BodyTemplate, false)
	if err != nil {
		return "", err
	}
	body, err := bt.Render(d)
	if err != nil {
		return "", err
	}
	if IsJSON(w.ContentType) && !json.Valid([]byte(body)) {
		return "", errors.New("the rendered body is not valid JSON")
	}
	return body, nil
}
