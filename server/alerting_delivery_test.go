package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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

// From a failing check to people being told, with real receivers: an SMTP server gets the
// e-mail for the policy's address and for whoever is on call, and a webhook receiver gets a
// signed JSON event carrying the delivery id.
func TestIncidentReachesPeople(t *testing.T) {
	f := newAlertFixture(t, alerting.Config{})
	ctx := context.Background()
	mail := smtptest.Start(t)
	const secret = "0123456789abcdef-webhook"
	hooks := make(chan *http.Request, 10)
	bodies := make(chan []byte, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks <- r
		bodies <- b
	}))
	defer receiver.Close()

	startNotifications(t, f.env.Pool, mail.Port, nil)

	start := time.Now().Add(-time.Hour)
	var err error
	sched, err := f.c.CreateOncallScheduleWithResponse(ctx, nil, client.OncallScheduleCreate{Name: "web", Timezone: ptr("UTC"),
		RotationStart: &start, Members: &[]client.OncallMember{{Name: "Alice", Email: "alice@example.com"}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, sched.StatusCode(), string(sched.Body))
	f.policy(t, "web", client.AlertConditions{}, client.AlertChannels{
		Email:   &[]openapi_types.Email{"ops@example.com"},
		Webhook: &[]client.WebhookChannel{{Url: receiver.URL + "/secumon", Secret: ptr(secret)}},
		Oncall:  &[]openapi_types.UUID{sched.JSON201.Id},
	}, 300)

	host := createHost(t, f.c, "web-prod-01")
	ck := f.check(t, host, "https", client.CheckTypeTcp)
	f.run(t, 2, ck)
	f.run(t, 2, ck)
	incs := f.incidentsOf(t, ck)
	require.Len(t, incs, 1)

	got := map[string]string{}
	for range 2 {
		select {
		case m := <-mail.Got:
			require.Len(t, m.To, 1)
			got[m.To[0]] = string(m.Data)
		case <-time.After(10 * time.Second):
			t.Fatalf("e-mails received: %v", got)
		}
	}
	require.Contains(t, got, "ops@example.com")
	require.Contains(t, got, "alice@example.com", "the on-call member")
	assert.Contains(t, got["ops@example.com"], "web-prod-01: https is CRITICAL")

	select {
	case r := <-hooks:
		body := <-bodies
		assert.Equal(t, notify.Sign([]byte(secret), body), r.Header.Get("X-SecuMon-Signature"))
		assert.NotEmpty(t, r.Header.Get("X-SecuMon-Delivery"))
		var event struct {
			Event    string `json:"event"`
			Incident struct {
				ID string `json:"id"`
			} `json:"incident"`
		}
		require.NoError(t, json.Unmarshal(body, &event))
		assert.Equal(t, "incident.opened", event.Event)
		assert.Equal(t, incs[0].Id.String(), event.Incident.ID)
	case <-time.After(10 * time.Second):
		t.Fatal("no webhook")
	}

	// The timeline says who was told, without revealing webhook paths.
	tl, err := f.c.GetIncidentWithResponse(ctx, incs[0].Id, nil)
	require.NoError(t, err)
	var notified string
	for _, e := range *tl.JSON200.Timeline {
		if e.Action == "notified" {
			notified = deref(e.Note)
		}
	}
	assert.Contains(t, notified, "ops@example.com")
	assert.Contains(t, notified, "Alice")
	assert.False(t, strings.Contains(notified, "/secumon"), notified)
}

// startNotifications works the notification queue as `secumon serve` does (with worker, a
// probe worker too), sending e-mail to the SMTP server on smtpPort, until the test ends. The
// test receivers listen on loopback, which the default guard denies: it is allowed
// explicitly, as SECUMON_NOTIFY_ALLOW does.
func startNotifications(t *testing.T, pool *pgxpool.Pool, smtpPort int, w *worker.Options) {
	t.Helper()
	servertest.Run(t, server.Deps{Pool: pool, Serve: true, Worker: w,
		Notify: notify.Config{SMTP: notify.SMTPConfig{Host: "127.0.0.1", Port: smtpPort}, Allow: loopbackAllowed}})
}

var loopbackAllowed = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// With the default configuration, webhooks and Slack messages never reach loopback (nor
// private networks): a policy pointing at a local receiver gets a failed delivery naming the
// denied network, and the receiver hears nothing.
func TestWebhooksDoNotReachLoopbackByDefault(t *testing.T) {
	f := newAlertFixture(t, alerting.Config{})
	ctx := context.Background()
	hits := make(chan string, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits <- r.URL.Path }))
	defer receiver.Close()
	metrics, metricsURL := metricsListener(t)
	servertest.Run(t, server.Deps{Pool: f.env.Pool, Serve: true, Metrics: metrics,
		Notify: notify.Config{RetryBase: 5 * time.Millisecond, RetryMax: 20 * time.Millisecond, MaxAttempts: 1}})

	f.policy(t, "local", client.AlertConditions{}, client.AlertChannels{
		Webhook: &[]client.WebhookChannel{{Url: receiver.URL + "/hook"}},
		Slack:   &[]client.SlackChannel{receiver.URL + "/services/T0/B0/x"},
	}, 0)
	inc, err := f.c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "db-01 down"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode(), string(inc.Body))

	deadline := time.Now().Add(15 * time.Second)
	for {
		var failed int
		var lastErr string
		require.NoError(t, f.env.Pool.QueryRow(ctx, `SELECT count(*), coalesce(min(last_error), '')
			FROM notification_deliveries WHERE status = 'failed' AND channel IN ('webhook', 'slack')`).Scan(&failed, &lastErr))
		if failed == 2 {
			assert.Contains(t, lastErr, "denied network")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries not refused: %d failed", failed)
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case p := <-hits:
		t.Fatalf("the loopback receiver was reached: %s", p)
	default:
	}
	fams := scrape(t, metricsURL)
	for _, ch := range []string{notify.ChannelWebhook, notify.ChannelSlack} {
		assert.Equal(t, 1.0, sample(fams, "secumon_notification_deliveries_total", map[string]string{"channel": ch, "outcome": "failed"}), ch)
		assert.Equal(t, -1.0, sample(fams, "secumon_notification_deliveries_total", map[string]string{"channel": ch, "outcome": "sent"}), ch)
	}
}

// The whole loop with a real worker: a local TCP service stops, its check fails twice, the
// incident opens and the e-mail arrives; it is acknowledged; the service comes back and the
// incident resolves by itself.
func TestOutageToResolution(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	mail := smtptest.Start(t)
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	startNotifications(t, env.Pool, mail.Port, &worker.Options{Name: "outage", PollEvery: 50 * time.Millisecond})

	target, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := target.Addr().String()
	serve := func(l net.Listener) {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			conn.Close()
		}
	}
	go serve(target)

	policy, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "ops",
		Channels: &client.AlertChannels{Email: &[]openapi_types.Email{"ops@example.com"}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, policy.StatusCode(), string(policy.Body))
	host := createHost(t, c, "api-01")
	ck, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: "api",
		Config: client.TcpConfig{Port: target.Addr().(*net.TCPAddr).Port}, IntervalSec: ptr(3600), FailureThreshold: ptr(2)}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ck.StatusCode(), string(ck.Body))
	checkID := ck.JSON201.Id
	runNow := func(want client.CheckStatus) {
		t.Helper()
		r, err := c.RunCheckWithResponse(ctx, checkID, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, r.StatusCode(), string(r.Body))
		eventually(t, 15*time.Second, func() bool {
			last, err := c.GetCheckLastResultWithResponse(ctx, checkID, nil)
			return err == nil && last.JSON200 != nil && last.JSON200.RunId != nil && *last.JSON200.RunId == r.JSON202.RunId
		}, "the run's result")
		last, err := c.GetCheckLastResultWithResponse(ctx, checkID, nil)
		require.NoError(t, err)
		require.Equal(t, want, last.JSON200.Status, last.JSON200.Output)
	}
	incident := func() *client.Incident {
		all := client.ListIncidentsParamsStatusAll
		r, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{Status: &all, HostId: &host.Id})
		require.NoError(t, err)
		if len(r.JSON200.Incidents) == 0 {
			return nil
		}
		require.Len(t, r.JSON200.Incidents, 1)
		return &r.JSON200.Incidents[0]
	}

	runNow(0)
	require.NoError(t, target.Close()) // the service stops
	runNow(2)
	runNow(2)
	eventually(t, 10*time.Second, func() bool { return incident() != nil }, "incident")
	inc := incident()
	assert.Equal(t, client.SeverityCritical, inc.Severity)
	select {
	case m := <-mail.Got:
		assert.Equal(t, []string{"ops@example.com"}, m.To)
		assert.Contains(t, string(m.Data), "api-01: api is CRITICAL")
	case <-time.After(15 * time.Second):
		t.Fatal("no e-mail")
	}

	ack, err := c.QuickAckIncidentWithResponse(ctx, inc.Id, nil, client.IncidentAck{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ack.StatusCode(), string(ack.Body))

	back, err := net.Listen("tcp", addr) // the service comes back on its port
	require.NoError(t, err)
	defer back.Close()
	go serve(back)
	runNow(0)
	eventually(t, 10*time.Second, func() bool { return incident().Status == client.IncidentStatusResolved }, "resolution")
	select {
	case m := <-mail.Got:
		assert.Contains(t, string(m.Data), "resolved")
	case <-time.After(15 * time.Second):
		t.Fatal("no resolution e-mail")
	}
}
