package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/alerting"
	"github.com/secuaas/secumon/server/notify"
	"github.com/secuaas/secumon/server/notify/smtptest"
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

	// The notification queue is worked as `secumon serve` works it.
	workers := river.NewWorkers()
	require.NoError(t, notify.AddWorkers(workers, notify.Config{SMTP: notify.SMTPConfig{Host: "127.0.0.1", Port: mail.Port}}))
	rc, err := river.NewClient(riverpgxv5.New(f.env.Pool), &river.Config{
		Queues: map[string]river.QueueConfig{notify.Queue: {MaxWorkers: 4}}, Workers: workers,
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
	})
	require.NoError(t, err)
	require.NoError(t, rc.Start(ctx))
	defer func() { _ = rc.Stop(ctx) }()

	start := time.Now().Add(-time.Hour)
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
	tl, err := f.c.GetIncidentWithResponse(ctx, incs[0].Id)
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
