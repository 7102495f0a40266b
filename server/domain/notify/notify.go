// Package notify delivers notifications (email, webhook, Slack, SMS and voice calls) through a durable outbox in
// PostgreSQL.
//
// The caller enqueues a Message inside the transaction that changes an incident: Enqueue
// writes a notification_deliveries row and its River job in that transaction, so the
// notification exists if and only if the change committed, and a restart loses none. A River
// worker on Queue sends it, records each attempt in notification_attempts, retries failures
// with exponential backoff and jitter (honouring Retry-After) up to Config.MaxAttempts, and
// marks the delivery sent or failed.
//
// Delivery is at least once: a job always checks the delivery row first and does nothing when
// it is already sent, so only a crash between the send and its commit can send twice. Webhook
// receivers dedupe on the X-SecuMon-Delivery header, which is the delivery id.
//
// The process's River client (server/platform/jobs) works Queue when given QueueOf(cfg, metrics).
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/platform/jobs"
)

// Queue is the River queue that carries notification deliveries.
const Queue = "notifications"

// Channels a Message can go through.
const (
	ChannelEmail   = "email"   // Target is an email address
	ChannelWebhook = "webhook" // Target is an http(s) URL receiving Payload
	ChannelSlack   = "slack"   // Target is a Slack incoming-webhook URL
	ChannelSMS     = "sms"     // Target is an E.164 phone number, texted through Twilio (sms.go)
	ChannelVoice   = "voice"   // Target is an E.164 phone number, called through Twilio (voice.go)
)

// Delivery statuses, as stored in notification_deliveries.status.
const (
	StatusQueued = "queued"
	StatusSent   = "sent"
	StatusFailed = "failed"
)

// Message is one notification to one target.
type Message struct {
	WorkspaceID uuid.UUID
	IncidentID  *uuid.UUID // the incident it is about, if any: lists it in the incident's timeline
	PolicyID    *uuid.UUID // the alert policy that sent it, if any
	Channel     string     // one of the Channel constants
	Target      string     // email address, URL or E.164 phone number
	Secret      string     // webhook only: HMAC-SHA256 key for X-SecuMon-Signature; empty for none
	Subject     string     // email subject; first line of the Slack message
	Text        string     // plain-text body of the email and the Slack message
	// Payload is the JSON event a webhook receives, e.g. {"event":"incident.opened",…}. Its
	// top-level "event" string, if any, is sent as X-SecuMon-Event. When empty, Enqueue
	// stores {"event":"notification","subject":…,"text":…}.
	Payload json.RawMessage
}

// Args is the River job of one delivery; the delivery row holds everything else.
type Args struct {
	WorkspaceID uuid.UUID `json:"workspace_id"`
	DeliveryID  uuid.UUID `json:"delivery_id"`
}

// Kind names the job type in River.
func (Args) Kind() string { return "notify_delivery" }

// InsertOpts puts deliveries on Queue. Delivery attempts are counted on the delivery row
// (Config.MaxAttempts), not by River, which only retries the job after errors of the
// database or the process itself; its limit is a backstop.
func (Args) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: 25}
}

// Enqueue records m as a queued delivery and queues its job, both in tx: they commit or roll
// back with the caller's change. It returns the delivery id. An invalid channel or target is
// an error and nothing is written.
func Enqueue(ctx context.Context, client *jobs.Client, tx pgx.Tx, m Message) (uuid.UUID, error) {
	if m.WorkspaceID == uuid.Nil {
		return uuid.Nil, errors.New("notify: message without a workspace")
	}
	if err := ValidateTarget(m.Channel, m.Target); err != nil {
		return uuid.Nil, err
	}
	payload, err := payloadOf(m)
	if err != nil {
		return uuid.Nil, err
	}
	var secret *string
	if m.Channel == ChannelWebhook && m.Secret != "" {
		secret = &m.Secret
	}
	id := uuid.New()
	err = db.New(tx).CreateDelivery(ctx, db.CreateDeliveryParams{
		WorkspaceID: m.WorkspaceID, ID: id, IncidentID: m.IncidentID, PolicyID: m.PolicyID,
		Channel: m.Channel, Target: strings.TrimSpace(m.Target), Secret: secret,
		Subject: oneLine(m.Subject), Body: m.Text, Payload: payload,
	})
	if err != nil {
		return uuid.Nil, fmt.Errorf("notify: %w", err)
	}
	if _, err := client.InsertTx(ctx, tx, Args{WorkspaceID: m.WorkspaceID, DeliveryID: id}, nil); err != nil {
		return uuid.Nil, fmt.Errorf("notify: queue delivery: %w", err)
	}
	return id, nil
}

// ValidateTarget reports whether target suits channel: an email address for email, an
// absolute http or https URL for webhook and slack. The API can call it when an alert
// policy is saved, so that bad targets are refused then rather than failing every delivery.
func ValidateTarget(channel, target string) error {
	target = strings.TrimSpace(target)
	switch channel {
	case ChannelEmail:
		if _, err := mail.ParseAddress(target); err != nil {
			return fmt.Errorf("notify: %q is not an email address", target)
		}
	case ChannelSMS, ChannelVoice:
		if !ValidPhone(target) {
			return fmt.Errorf("notify: %q is not an E.164 phone number", target)
		}
	case ChannelWebhook, ChannelSlack:
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("notify: %q is not an http or https URL", target)
		}
	default:
		return fmt.Errorf("notify: unknown channel %q (want email, webhook, slack, sms or voice)", channel)
	}
	return nil
}

// MaskTarget returns target fit to show to any reader of the workspace: an email address as
// is, a URL cut to its scheme and host, since webhook and Slack URLs often carry their
// credentials in the path or query.
func MaskTarget(channel, target string) string {
	if channel == ChannelEmail || channel == ChannelSMS || channel == ChannelVoice {
		return target
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "…"
	}
	return u.Scheme + "://" + u.Host + "/…"
}

// payloadOf returns the webhook body to store: m.Payload if it is a JSON object, or a
// minimal event made of the subject and text.
func payloadOf(m Message) (json.RawMessage, error) {
	if len(m.Payload) == 0 {
		return json.Marshal(map[string]string{"event": "notification", "subject": m.Subject, "text": m.Text})
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(m.Payload, &obj); err != nil {
		return nil, fmt.Errorf("notify: payload is not a JSON object: %w", err)
	}
	return m.Payload, nil
}

// oneLine folds line breaks into spaces: a subject becomes a mail header, where a line break
// would let its text add headers of its own.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// Prune deletes finished deliveries created before `before`, with their attempts; queued
// ones stay whatever their age. It returns how many it deleted.
func Prune(ctx context.Context, q *db.Queries, before time.Time) (int64, error) {
	var total int64
	for {
		n, err := q.PruneDeliveries(ctx, before)
		total += n
		if err != nil || n < 10000 {
			return total, err
		}
	}
}
