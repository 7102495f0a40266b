package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/alerting"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/domain/notify/smtptest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// escalationUnit makes an escalation policy's 60 s waits last 6 s: long enough to stop and
// restart the service between two levels, short enough for a test.
var escalationUnit = alerting.Config{EscalationTimeUnit: 100 * time.Millisecond}

// recorder is a loopback HTTP receiver that keeps what it was sent.
type recorder struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	path, user, pass string
	body             []byte
}

func newRecorder(t *testing.T, status int) *recorder {
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		user, pass, _ := req.BasicAuth()
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{path: req.URL.Path, user: user, pass: pass, body: b})
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) got() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// escalationProcess runs `secumon serve` on pool as the tests configure it: e-mail to the
// SMTP sink, SMS and calls to the Twilio-compatible receiver, loopback allowed, short waits.
func escalationProcess(t *testing.T, pool *pgxpool.Pool, smtpPort int, twilioURL string, w *worker.Options) (stop func()) {
	return servertest.Run(t, server.Deps{Pool: pool, Serve: true, Worker: w, Alerting: escalationUnit,
		Notify: notify.Config{SMTP: notify.SMTPConfig{Host: "127.0.0.1", Port: smtpPort}, Allow: loopbackAllowed,
			Twilio: notify.TwilioConfig{URL: twilioURL, AccountSID: "AC00000000000000000000000000000001", AuthToken: "twilio-secret", From: "+15005550006"}}})
}

// escalated returns the notes of the incident's "escalated" timeline events.
func escalated(t *testing.T, c *client.ClientWithResponses, id openapi_types.UUID) []string {
	t.Helper()
	r, err := c.GetIncidentWithResponse(context.Background(), id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
	var notes []string
	for _, e := range *r.JSON200.Timeline {
		if e.Action == client.IncidentEventActionEscalated {
			notes = append(notes, deref(e.Note))
		}
	}
	return notes
}

func countPrefix(notes []string, prefix string) int {
	n := 0
	for _, s := range notes {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// The "done when": a real worker sees a loopback service fail and opens an incident;
// level 1 e-mails whoever is on call; nobody acknowledges; the service is stopped and started
// again between the levels; after the wait, level 2 texts the second member's phone through
// the Twilio-compatible API and posts to a webhook, once each; an acknowledgement then stops
// the chain before level 3.
func TestEscalationPagesUntilAcknowledged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	mail := smtptest.Start(t)
	twilio := newRecorder(t, http.StatusCreated)
	hook := newRecorder(t, http.StatusNoContent)
	teams := newRecorder(t, http.StatusAccepted) // a Teams Workflows webhook answers 202
	env := servertest.Start(t, func(d *server.Deps) { d.Alerting = escalationUnit })
	c := env.Client(t, env.OwnerToken)
	stop := escalationProcess(t, env.Pool, mail.Port, twilio.URL, &worker.Options{Name: "escalation", PollEvery: 50 * time.Millisecond})

	start := time.Now().Add(-time.Hour)
	sched, err := c.CreateOncallScheduleWithResponse(ctx, nil, client.OncallScheduleCreate{Name: "web", Timezone: ptr("UTC"), RotationStart: &start,
		Members: &[]client.OncallMember{{Name: "Alice", Email: "alice@example.com"}, {Name: "Bob", Email: "bob@example.com", Phone: ptr("+15145550199")}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, sched.StatusCode(), string(sched.Body))
	scheduleID := sched.JSON201.Id
	bob := openapi_types.Email("bob@example.com")
	esc, err := c.CreateEscalationPolicyWithResponse(ctx, nil, client.EscalationPolicyCreate{Name: "web pager", Levels: []client.EscalationLevel{
		{WaitSec: 60, Targets: []client.EscalationTarget{{Type: client.EscalationTargetTypeOncall, ScheduleId: &scheduleID}}}, // Alice, by e-mail
		{WaitSec: 60, Targets: []client.EscalationTarget{
			{Type: client.EscalationTargetTypeMember, ScheduleId: &scheduleID, MemberEmail: &bob, Via: &[]client.EscalationVia{client.EscalationViaSms}},
			{Type: client.EscalationTargetTypeChannels, Channels: &client.AlertChannels{
				Webhook: &[]client.WebhookChannel{{Url: hook.URL + "/hook"}},
				Teams:   &[]string{teams.URL + "/workflows/pager"},
			}},
		}},
		{WaitSec: 60, Targets: []client.EscalationTarget{{Type: client.EscalationTargetTypeChannels, Channels: &client.AlertChannels{Email: &[]openapi_types.Email{"cto@example.com"}}}}},
	}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, esc.StatusCode(), string(esc.Body))
	policy, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "page web", EscalationPolicyId: &esc.JSON201.Id})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, policy.StatusCode(), string(policy.Body))
	require.Equal(t, esc.JSON201.Id, *policy.JSON201.EscalationPolicyId)

	// A service that stops answering: its check fails twice and the incident opens.
	target, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := target.Addr().(*net.TCPAddr).Port
	require.NoError(t, target.Close())
	host := createHost(t, c, "web-01")
	ck, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: "https",
		Config: client.TcpConfig{Port: port}, IntervalSec: ptr(3600), FailureThreshold: ptr(2)}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ck.StatusCode(), string(ck.Body))
	for range 2 {
		r, err := c.RunCheckWithResponse(ctx, ck.JSON201.Id, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), string(r.Body))
		eventually(t, 15*time.Second, func() bool {
			last, err := c.GetCheckLastResultWithResponse(ctx, ck.JSON201.Id, nil)
			return err == nil && last.JSON200 != nil && last.JSON200.RunId != nil && *last.JSON200.RunId == r.JSON202.RunId
		}, "the run's result")
	}
	var inc client.Incident
	eventually(t, 15*time.Second, func() bool {
		r, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{HostId: &host.Id})
		if err != nil || len(r.JSON200.Incidents) == 0 {
			return false
		}
		inc = r.JSON200.Incidents[0]
		return true
	}, "the incident")

	// Level 1: the on-call person gets an e-mail.
	select {
	case m := <-mail.Got:
		assert.Equal(t, []string{"alice@example.com"}, m.To)
		assert.Contains(t, string(m.Data), "level 1")
	case <-time.After(15 * time.Second):
		t.Fatal("level 1 sent no e-mail")
	}
	assert.Equal(t, []string{"level 1 of web pager: paged Alice by e-mail (alice@example.com)"}, escalated(t, c, inc.Id))

	// The service restarts between the levels: the next step waits in PostgreSQL.
	stop()
	assert.Empty(t, twilio.got(), "level 2 must wait for its time")
	escalationProcess(t, env.Pool, mail.Port, twilio.URL, nil)

	// Level 2, after the wait: an SMS to Bob through the Twilio API, the webhook and Teams.
	eventually(t, 30*time.Second, func() bool { return len(twilio.got()) > 0 && len(hook.got()) > 0 && len(teams.got()) > 0 }, "level 2's SMS, webhook and Teams card")
	var card struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string `json:"contentType"`
			Content     struct {
				Type string `json:"type"`
				Body []struct {
					Type string `json:"type"`
					Text string `json:"text"`
				} `json:"body"`
			} `json:"content"`
		} `json:"attachments"`
	}
	require.NoError(t, json.Unmarshal(teams.got()[0].body, &card))
	assert.Equal(t, "message", card.Type)
	require.Len(t, card.Attachments, 1)
	assert.Equal(t, "application/vnd.microsoft.card.adaptive", card.Attachments[0].ContentType)
	assert.Equal(t, "AdaptiveCard", card.Attachments[0].Content.Type)
	require.NotEmpty(t, card.Attachments[0].Content.Body)
	assert.Contains(t, card.Attachments[0].Content.Body[0].Text, "web-01: https is CRITICAL")
	sms := twilio.got()[0]
	assert.Equal(t, "/2010-04-01/Accounts/AC00000000000000000000000000000001/Messages.json", sms.path)
	assert.Equal(t, "AC00000000000000000000000000000001", sms.user)
	assert.Equal(t, "twilio-secret", sms.pass)
	form, err := url.ParseQuery(string(sms.body))
	require.NoError(t, err)
	assert.Equal(t, "+15145550199", form.Get("To"))
	assert.Equal(t, "+15005550006", form.Get("From"))
	assert.Contains(t, form.Get("Body"), "level 2")
	assert.Contains(t, form.Get("Body"), "web-01: https is CRITICAL")
	var event struct {
		Event    string `json:"event"`
		Incident struct {
			ID string `json:"id"`
		} `json:"incident"`
	}
	require.NoError(t, json.Unmarshal(hook.got()[0].body, &event))
	assert.Equal(t, "incident.escalated", event.Event)
	assert.Equal(t, inc.Id.String(), event.Incident.ID)

	// Acknowledged: level 3's job runs and sends nothing.
	ack, err := c.QuickAckIncidentWithResponse(ctx, inc.Id, nil, client.IncidentAck{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ack.StatusCode(), string(ack.Body))
	eventually(t, 30*time.Second, func() bool {
		var state string
		err := env.Pool.QueryRow(ctx, `SELECT state::text FROM river_job WHERE kind = 'escalation_step' AND (args->>'step')::int = 2`).Scan(&state)
		return err == nil && state == "completed"
	}, "level 3's job, done")

	notes := escalated(t, c, inc.Id)
	assert.Len(t, notes, 2, "%q", notes)
	assert.Equal(t, 1, countPrefix(notes, "level 1 of web pager: paged Alice by e-mail (alice@example.com)"), "%q", notes)
	assert.Equal(t, 1, countPrefix(notes, "level 2 of web pager: paged Bob by SMS (+15145550199); notified webhook"), "%q", notes)
	assert.Len(t, twilio.got(), 1, "one SMS, even across the restart")
	assert.Len(t, hook.got(), 1)
	assert.Len(t, teams.got(), 1)
	select {
	case m := <-mail.Got:
		t.Fatalf("an e-mail after the acknowledgement: %v", m.To)
	default:
	}
	var steps int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM incident_escalations WHERE incident_id = $1`, inc.Id).Scan(&steps))
	assert.Equal(t, 2, steps)
}

// Reminders: once the chain has run, its last level is notified again every reminder_sec
// while nobody acknowledges. An acknowledgement with an expiry stops them; when it expires
// the incident returns to investigating and the escalation starts again from level 1.
func TestEscalationRemindersAndAckExpiry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	fast := alerting.Config{EscalationTimeUnit: 20 * time.Millisecond} // 60 s → 1.2 s
	hook := newRecorder(t, http.StatusNoContent)
	env := servertest.Start(t, func(d *server.Deps) { d.Alerting = fast })
	c := env.Client(t, env.OwnerToken)
	servertest.Run(t, server.Deps{Pool: env.Pool, Serve: true, Alerting: fast, Notify: notify.Config{Allow: loopbackAllowed}})

	esc, err := c.CreateEscalationPolicyWithResponse(ctx, nil, client.EscalationPolicyCreate{Name: "nag", ReminderSec: ptr(60),
		Levels: []client.EscalationLevel{{WaitSec: 60, Targets: []client.EscalationTarget{
			{Type: client.EscalationTargetTypeChannels, Channels: &client.AlertChannels{Webhook: &[]client.WebhookChannel{{Url: hook.URL + "/nag"}}}},
			// Office hours that are not now: skipped, and the timeline says so.
			{Type: client.EscalationTargetTypeChannels, Channels: &client.AlertChannels{Email: &[]openapi_types.Email{"office@example.com"}},
				Timezone: ptr("UTC"), TimeSlots: &[]client.TimeSlot{{Days: allDays, Start: later(2), End: later(3)}}},
		}}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, esc.StatusCode(), string(esc.Body))
	policy, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "all"})
	require.NoError(t, err)
	up, err := c.UpdateAlertPolicyWithResponse(ctx, policy.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "all", EscalationPolicyId: nullable.NewNullableWithValue(esc.JSON201.Id)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))

	inc, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "db-01 down"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode(), string(inc.Body))
	id := inc.JSON201.Id
	eventually(t, 30*time.Second, func() bool { return countPrefix(escalated(t, c, id), "reminder: level 1 of nag") >= 2 }, "two reminders")
	eventually(t, 10*time.Second, func() bool { return len(hook.got()) >= 3 }, "the webhook of level 1 and of the reminders")
	first := escalated(t, c, id)[0]
	assert.Contains(t, first, "channels target skipped: outside its time slots", first)
	var emails int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM notification_deliveries WHERE channel = 'email'`).Scan(&emails))
	assert.Zero(t, emails, "the office target was never notified")

	// Acknowledged until two seconds from now: no more reminders, then back to investigating.
	until := time.Now().Add(2 * time.Second)
	ack, err := c.QuickAckIncidentWithResponse(ctx, id, nil, client.IncidentAck{Until: &until})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ack.StatusCode(), string(ack.Body))
	require.NotNil(t, ack.JSON200.AckExpiresAt)
	assert.WithinDuration(t, until, *ack.JSON200.AckExpiresAt, time.Millisecond)
	acked := len(escalated(t, c, id))
	eventually(t, 30*time.Second, func() bool {
		r, err := c.GetIncidentWithResponse(ctx, id, nil)
		return err == nil && r.JSON200.Status == client.IncidentStatusInvestigating
	}, "the acknowledgement's expiry")
	r, err := c.GetIncidentWithResponse(ctx, id, nil)
	require.NoError(t, err)
	var expired bool
	for _, e := range *r.JSON200.Timeline {
		expired = expired || e.Action == client.IncidentEventActionAckExpired
	}
	assert.True(t, expired, "the timeline says the acknowledgement expired")
	// The escalation starts again: level 1 fires at once, as a new run.
	notes := escalated(t, c, id)
	require.Greater(t, len(notes), acked)
	assert.True(t, strings.HasPrefix(notes[acked], "level 1 of nag"), "%q", notes)
	var runs int
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(DISTINCT run) FROM incident_escalations WHERE incident_id = $1`, id).Scan(&runs))
	assert.Equal(t, 2, runs)

	// An expiry in the past is refused, naming the field.
	past := time.Now().Add(-time.Minute)
	bad, err := c.QuickAckIncidentWithResponse(ctx, id, nil, client.IncidentAck{Until: &past})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"until"`)
}

var allDays = []client.TimeSlotDays{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// later is the UTC time of day h hours from now, as HH:00.
func later(h int) string {
	return time.Now().UTC().Add(time.Duration(h)*time.Hour).Format("15") + ":00"
}

// The contract refuses phone numbers that are not E.164 and escalation targets that miss
// what their type needs, naming the field.
func TestEscalationPolicyValidation(t *testing.T) {
	ctx := context.Background()
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	bad, err := c.CreateOncallScheduleWithResponse(ctx, nil, client.OncallScheduleCreate{Name: "x",
		Members: &[]client.OncallMember{{Name: "Bob", Email: "bob@example.com", Phone: ptr("0612345678")}}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"members.0.phone"`)

	sched, err := c.CreateOncallScheduleWithResponse(ctx, nil, client.OncallScheduleCreate{Name: "web",
		Members: &[]client.OncallMember{{Name: "Bob", Email: "bob@example.com"}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, sched.StatusCode(), string(sched.Body))
	bob := openapi_types.Email("bob@example.com")
	for name, tc := range map[string]struct {
		target client.EscalationTarget
		field  string
	}{
		"no schedule":      {client.EscalationTarget{Type: client.EscalationTargetTypeOncall}, "levels.0.targets.0.schedule_id"},
		"no phone for SMS": {client.EscalationTarget{Type: client.EscalationTargetTypeMember, ScheduleId: &sched.JSON201.Id, MemberEmail: &bob, Via: &[]client.EscalationVia{client.EscalationViaSms}}, "levels.0.targets.0.via"},
		"no channels":      {client.EscalationTarget{Type: client.EscalationTargetTypeChannels}, "levels.0.targets.0.channels"},
		"bad zone":         {client.EscalationTarget{Type: client.EscalationTargetTypeOncall, ScheduleId: &sched.JSON201.Id, Timezone: ptr("Mars/Olympus")}, "levels.0.targets.0.timezone"},
		// A paging key sent masked with nothing stored would reach PagerDuty as the key.
		"masked key": {client.EscalationTarget{Type: client.EscalationTargetTypeChannels, Channels: &client.AlertChannels{
			Pagerduty: &[]client.PagerdutyChannel{{RoutingKey: ptr("********")}}}}, "levels.0.targets.0.channels.pagerduty.0.routing_key"},
	} {
		r, err := c.CreateEscalationPolicyWithResponse(ctx, nil, client.EscalationPolicyCreate{Name: name,
			Levels: []client.EscalationLevel{{WaitSec: 60, Targets: []client.EscalationTarget{tc.target}}}})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, r.StatusCode(), name)
		assert.Contains(t, string(r.Body), `"`+tc.field+`"`, name)
	}
	short, err := c.CreateEscalationPolicyWithResponse(ctx, nil, client.EscalationPolicyCreate{Name: "short",
		Levels: []client.EscalationLevel{{WaitSec: 5, Targets: []client.EscalationTarget{{Type: client.EscalationTargetTypeOncall, ScheduleId: &sched.JSON201.Id}}}}})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, short.StatusCode())
	assert.Contains(t, string(short.Body), "wait_sec")

	// Through the SDK: create, list, update (reminder off, levels kept), delete; channel
	// secrets come back masked and stay stored when sent back masked.
	sdk, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	p, err := sdk.EscalationPolicies.Create(ctx, client.EscalationPolicyCreate{Name: "sdk", ReminderSec: ptr(600), Levels: []client.EscalationLevel{
		{WaitSec: 60, Targets: []client.EscalationTarget{{Type: client.EscalationTargetTypeChannels,
			Channels: &client.AlertChannels{Webhook: &[]client.WebhookChannel{{Url: "https://hooks.example.com/x?token=abc", Secret: ptr("0123456789abcdef-secret")}}}}}}}})
	require.NoError(t, err)
	hookOut := (*p.Levels[0].Targets[0].Channels.Webhook)[0]
	assert.NotContains(t, hookOut.Url, "abc", "URL credentials are masked")
	assert.Equal(t, "********", *hookOut.Secret)
	up, err := sdk.EscalationPolicies.Update(ctx, p.Id, client.EscalationPolicyUpdate{Name: "sdk", ReminderSec: ptr(0), Levels: &p.Levels})
	require.NoError(t, err)
	assert.Nil(t, up.ReminderSec)
	var stored string
	require.NoError(t, env.Pool.QueryRow(ctx, `SELECT levels::text FROM escalation_policies WHERE id = $1`, p.Id).Scan(&stored))
	assert.Contains(t, stored, "token=abc")
	assert.Contains(t, stored, "0123456789abcdef-secret")
	var n int
	for _, err := range sdk.EscalationPolicies.All(ctx, nil) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 1, n)
	require.NoError(t, sdk.EscalationPolicies.Delete(ctx, p.Id))
	_, err = sdk.EscalationPolicies.Get(ctx, p.Id)
	assert.True(t, client.IsNotFound(err))
}
