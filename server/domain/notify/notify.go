// Package notify delivers notifications (email, webhook, Slack, Microsoft Teams, Discord,
// Telegram, PagerDuty, Opsgenie, ntfy, SMS and voice calls) through a durable outbox in
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
	// Target is a Microsoft Teams Workflows webhook URL receiving an Adaptive Card.
	ChannelTeams = "teams"
	// Target is a Discord webhook URL.
	ChannelDiscord = "discord"
	// Target is a Telegram chat id (a number, or @channelname) and Secret the bot's token.
	ChannelTelegram = "telegram"
	// Target is a label of the routing key (RoutingKeyLabel), Secret the key itself; the
	// endpoint is Config.PagerDutyURL.
	ChannelPagerDuty = "pagerduty"
	ChannelOpsgenie  = "opsgenie" // Target is the region, "us" or "eu"; Secret the API key
	ChannelNtfy      = "ntfy"     // Target is the topic URL; Secret the access token, if any
	ChannelSMS       = "sms"      // Target is an E.164 phone number, texted through Twilio (sms.go)
	ChannelVoice     = "voice"    // Target is an E.164 phone number, called through Twilio (voice.go)
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
	Target      string     // email address, URL, E.164 phone number, Telegram chat id, or what the channel's constant says
	// Secret is the webhook's HMAC-SHA256 key for X-SecuMon-Signature, a Telegram bot's token,
	// the PagerDuty routing key, the Opsgenie API key or the ntfy token; empty for none. Stored
	// apart, never listed.
	Secret  string
	Options Options           // the channel's settings; the zero value means its defaults
	Headers map[string]string // webhook only: extra request headers, secrets like Secret
	Subject string            // email subject; first line of the Slack message
	Text    string            // plain-text body of the email and the Slack message
	// Payload is the JSON event a webhook receives, e.g. {"event":"incident.opened",…}. Its
	// top-level "event" string, if any, is sent as X-SecuMon-Event. When empty, Enqueue
	// stores {"event":"notification","subject":…,"text":…}. PagerDuty, Opsgenie and ntfy
	// read the incident from it (see incidentEvent).
	Payload json.RawMessage
}

// Options are the non-secret settings of one delivery, set by the alert policy's channel.
type Options struct {
	// Severity is the PagerDuty severity (critical, error, warning, info); the Opsgenie
	// priority (P1…P5); the ntfy priority ("1"…"5"). Empty: derived from the incident's.
	Severity string   `json:"severity,omitempty"`
	Tags     []string `json:"tags,omitempty"` // ntfy tags
	// Body, when set, is the exact body of a webhook (rendered from the policy's body
	// template), sent with ContentType instead of Payload.
	Body        *string `json:"body,omitempty"`
	ContentType string  `json:"content_type,omitempty"`
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
	if m.Channel == ChannelTelegram && !telegramToken.MatchString(m.Secret) {
		return uuid.Nil, errors.New("notify: a Telegram delivery needs its bot's token")
	}
	if m.Channel != ChannelEmail && m.Channel != ChannelSlack && m.Secret != "" {
		secret = &m.Secret
	}
	options, err := json.Marshal(m.Options)
	if err != nil {
		return uuid.Nil, err
	}
	var headers []byte
	if m.Channel == ChannelWebhook && len(m.Headers) > 0 {
		if headers, err = json.Marshal(m.Headers); err != nil {
			return uuid.Nil, err
		}
	}
	id := uuid.New()
	err = db.New(tx).CreateDelivery(ctx, db.CreateDeliveryParams{
		WorkspaceID: m.WorkspaceID, ID: id, IncidentID: m.IncidentID, PolicyID: m.PolicyID,
		Channel: m.Channel, Target: strings.TrimSpace(m.Target), Secret: secret,
		Subject: oneLine(m.Subject), Body: m.Text, Payload: payload, Options: options, Headers: headers,
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
// absolute http or https URL for webhook, slack, teams and discord, a chat id for telegram. The API can call it when an alert
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
	case ChannelWebhook, ChannelSlack, ChannelTeams, ChannelDiscord, ChannelNtfy:
		u, err := url.Parse(target)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("notify: %q is not an http or https URL", target)
		}
	case ChannelTelegram:
		if !telegramChat.MatchString(target) {
			return fmt.Errorf("notify: %q is not a Telegram chat id (a number or @channelname)", target)
		}
	case ChannelPagerDuty:
		if target == "" {
			return errors.New("notify: a PagerDuty delivery needs a target label")
		}
	case ChannelOpsgenie:
		if target != OpsgenieUS && target != OpsgenieEU {
			return fmt.Errorf("notify: %q is not an Opsgenie region (want us or eu)", target)
		}
	default:
		return fmt.Errorf("notify: unknown channel %q (want one of %s)", channel, strings.Join(Channels(), ", "))
	}
	return nil
}

// MaskTarget returns target fit to show to any reader of the workspace: an email address
// and a Telegram chat id as they are (the bot's token is not the target), a URL cut to its
// scheme and host, since webhook, Slack, Teams and Discord URLs carry their credentials in the
// path or query.
func MaskTarget(channel, target string) string {
	switch channel {
	case ChannelEmail, ChannelSMS, ChannelVoice, ChannelTelegram, ChannelPagerDuty, ChannelOpsgenie:
		return target // an address, a phone number, a chat id (the bot's token is not the target), a key's label, a region
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
