package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// pagingRequest is one request a paging receiver got.
type pagingRequest struct {
	method, uri string
	header      http.Header
	body        []byte
}

// pagingReceiver stands in for PagerDuty, Opsgenie, an ntfy server and a webhook on one
// loopback server, keeping every request.
type pagingReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []pagingRequest
}

func newPagingReceiver(t *testing.T) *pagingReceiver {
	r := &pagingReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, pagingRequest{method: req.Method, uri: req.URL.RequestURI(), header: req.Header.Clone(), body: b})
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(r.Close)
	return r
}

// waitFor waits until n requests arrived and returns them by path.
func (r *pagingReceiver) waitFor(t *testing.T, n int) map[string][]pagingRequest {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r.mu.Lock()
		got := append([]pagingRequest(nil), r.reqs...)
		r.mu.Unlock()
		if len(got) >= n {
			byURI := map[string][]pagingRequest{}
			for _, q := range got {
				byURI[q.uri] = append(byURI[q.uri], q)
			}
			return byURI
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests of %d: %+v", len(got), n, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An alert policy made with the SDK sends an incident to PagerDuty, Opsgenie, ntfy and a
// templated webhook; its acknowledgement acknowledges the PagerDuty and Opsgenie alerts and
// its resolution resolves and closes them.
func TestPagingChannelsThroughTheStack(t *testing.T) {
	ctx := context.Background()
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	rcv := newPagingReceiver(t)
	servertest.Run(t, server.Deps{Pool: env.Pool, Serve: true, Notify: notify.Config{Allow: loopbackAllowed,
		PagerDutyURL: rcv.URL, OpsgenieURL: rcv.URL, RetryBase: 5 * time.Millisecond, RetryMax: 50 * time.Millisecond}})

	const pdKey, ogKey, token = "R0123456789ABCDEF0123456789ABCDE", "eb243592-faa2-4ba2-a551-1afdf565c889", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"
	sev := client.PagerdutyCritical
	region := client.OpsgenieEu
	p, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "paging", Channels: &client.AlertChannels{
		Pagerduty: &[]client.PagerdutyChannel{{RoutingKey: ptr(pdKey), Severity: &sev}},
		Opsgenie:  &[]client.OpsgenieChannel{{ApiKey: ptr(ogKey), Region: &region}},
		Ntfy:      &[]client.NtfyChannel{{Url: rcv.URL + "/secumon-ops", Token: ptr(token), Priority: ptr(int32(5))}},
		Webhook: &[]client.WebhookChannel{{Url: rcv.URL + "/chat",
			BodyTemplate: ptr(`{"text": {{json .Subject}}, "id": {{json .IncidentID}}, "sev": {{json .Severity}}}`),
			ExtraHeaders: &map[string]string{"Authorization": "Bearer chat-token"}}},
	}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, p.StatusCode(), string(p.Body))

	inc, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "db-01 down"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode(), string(inc.Body))
	id := inc.JSON201.Id.String()

	got := rcv.waitFor(t, 4)
	require.Len(t, got["/v2/enqueue"], 1)
	var trigger struct {
		RoutingKey  string `json:"routing_key"`
		EventAction string `json:"event_action"`
		DedupKey    string `json:"dedup_key"`
		Payload     struct{ Summary, Severity, Source string }
	}
	require.NoError(t, json.Unmarshal(got["/v2/enqueue"][0].body, &trigger))
	assert.Equal(t, pdKey, trigger.RoutingKey)
	assert.Equal(t, "trigger", trigger.EventAction)
	assert.Equal(t, id, trigger.DedupKey)
	assert.Equal(t, "critical", trigger.Payload.Severity, "the channel's fixed severity")
	assert.Contains(t, trigger.Payload.Summary, "db-01 down")

	require.Len(t, got["/v2/alerts"], 1)
	og := got["/v2/alerts"][0]
	assert.Equal(t, "GenieKey "+ogKey, og.header.Get("Authorization"))
	var alert struct{ Message, Alias, Source string }
	require.NoError(t, json.Unmarshal(og.body, &alert))
	assert.Equal(t, id, alert.Alias)
	assert.Equal(t, "SecuMon", alert.Source)

	require.Len(t, got["/secumon-ops"], 1)
	nt := got["/secumon-ops"][0]
	assert.Equal(t, "5", nt.header.Get("Priority"))
	assert.Equal(t, "Bearer "+token, nt.header.Get("Authorization"))
	assert.Contains(t, nt.header.Get("Title"), "db-01 down")

	require.Len(t, got["/chat"], 1)
	hook := got["/chat"][0]
	assert.Equal(t, "Bearer chat-token", hook.header.Get("Authorization"))
	assert.Equal(t, "application/json", hook.header.Get("Content-Type"))
	var rendered map[string]string
	require.NoError(t, json.Unmarshal(hook.body, &rendered), string(hook.body))
	assert.Equal(t, id, rendered["id"])
	assert.Contains(t, rendered["text"], "db-01 down")

	ack, err := c.AcknowledgeIncidentWithResponse(ctx, inc.JSON201.Id, client.IncidentAck{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ack.StatusCode(), string(ack.Body))
	got = rcv.waitFor(t, 6)
	require.Len(t, got["/v2/enqueue"], 2)
	assert.Contains(t, string(got["/v2/enqueue"][1].body), `"event_action":"acknowledge"`)
	require.Len(t, got["/v2/alerts/"+id+"/acknowledge?identifierType=alias"], 1)

	res, err := c.ResolveIncidentWithResponse(ctx, inc.JSON201.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	got = rcv.waitFor(t, 10)
	require.Len(t, got["/v2/enqueue"], 3)
	assert.Contains(t, string(got["/v2/enqueue"][2].body), `"event_action":"resolve"`)
	require.Len(t, got["/v2/alerts/"+id+"/close?identifierType=alias"], 1)
	assert.Len(t, got["/secumon-ops"], 2, "ntfy hears the resolution")
	assert.Len(t, got["/chat"], 2, "the webhook hears the resolution")
}

// Secrets of the new channels are write-only: responses mask them, sending the masks back
// keeps the stored values, and a body template is checked when the policy is saved.
func TestPagingChannelSecretsAndTemplates(t *testing.T) {
	ctx := context.Background()
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)

	const pdKey, ogKey, token = "R0123456789ABCDEF0123456789ABCDE", "eb243592-faa2-4ba2-a551-1afdf565c889", "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"
	channels := client.AlertChannels{
		Pagerduty: &[]client.PagerdutyChannel{{RoutingKey: ptr(pdKey)}},
		Opsgenie:  &[]client.OpsgenieChannel{{ApiKey: ptr(ogKey)}},
		Ntfy:      &[]client.NtfyChannel{{Url: "https://ntfy.example.com/secret-topic", Token: ptr(token)}},
		Webhook: &[]client.WebhookChannel{{Url: "https://hooks.example.com/x", BodyTemplate: ptr(`{"t": {{json .Title}}}`),
			ExtraHeaders: &map[string]string{"Authorization": "Bearer chat-token"}}},
	}
	p, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "paging", Channels: &channels})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, p.StatusCode(), string(p.Body))
	for _, secret := range []string{pdKey, ogKey, token, "secret-topic", "chat-token"} {
		assert.NotContains(t, string(p.Body), secret)
	}
	got, err := c.GetAlertPolicyWithResponse(ctx, p.JSON201.Id, nil)
	require.NoError(t, err)
	ch := got.JSON200.Channels
	assert.Equal(t, "********", *(*ch.Pagerduty)[0].RoutingKey)
	assert.Equal(t, "********", *(*ch.Opsgenie)[0].ApiKey)
	assert.Equal(t, "https://ntfy.example.com/********", (*ch.Ntfy)[0].Url)
	assert.Equal(t, "********", *(*ch.Ntfy)[0].Token)
	assert.Equal(t, "********", (*(*ch.Webhook)[0].ExtraHeaders)["Authorization"])
	assert.Equal(t, `{"t": {{json .Title}}}`, *(*ch.Webhook)[0].BodyTemplate, "a template is not a secret")

	// Read-modify-write with the masks keeps every stored secret.
	up, err := c.UpdateAlertPolicyWithResponse(ctx, p.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "renamed", Channels: &ch})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	var stored string
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT channels::text FROM alert_policies WHERE id = $1", p.JSON201.Id).Scan(&stored))
	for _, secret := range []string{pdKey, ogKey, token, "https://ntfy.example.com/secret-topic", "Bearer chat-token"} {
		assert.Contains(t, stored, secret)
	}
	assert.NotContains(t, stored, "********")

	// Templates are checked when saved, naming the field.
	for _, tc := range []struct{ template, contentType, want string }{
		{`{"t": {{json .Nope}}}`, "", "can't evaluate field Nope"},
		{`{"t": {{.Title}}}`, "", "not valid JSON"},
		{`{{if}}`, "text/plain", "missing value for if"},
		{`{{exec "ls"}}`, "text/plain", `function "exec" not defined`},
	} {
		hook := client.WebhookChannel{Url: "https://hooks.example.com/x", BodyTemplate: ptr(tc.template)}
		if tc.contentType != "" {
			hook.ContentType = ptr(tc.contentType)
		}
		r, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "bad",
			Channels: &client.AlertChannels{Webhook: &[]client.WebhookChannel{hook}}})
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
		assert.Equal(t, "channels.webhook.0.body_template", (*r.ApplicationproblemJSON400.Errors)[0].Field, tc.template)
		assert.Contains(t, (*r.ApplicationproblemJSON400.Errors)[0].Message, tc.want)
	}
	// A plain-text template need not be JSON; a reserved header is refused.
	r, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "text", Channels: &client.AlertChannels{
		Webhook: &[]client.WebhookChannel{{Url: "https://hooks.example.com/x", BodyTemplate: ptr(`{{.Title}} is {{.Severity}}`), ContentType: ptr("text/plain")}}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	r, err = c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "hdr", Channels: &client.AlertChannels{
		Webhook: &[]client.WebhookChannel{{Url: "https://hooks.example.com/x", ExtraHeaders: &map[string]string{"X-SecuMon-Signature": "forged"}}}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
	assert.Equal(t, "channels.webhook.0.extra_headers.X-SecuMon-Signature", (*r.ApplicationproblemJSON400.Errors)[0].Field)
	// A masked key with nothing stored to keep is refused.
	r, err = c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "pd", Channels: &client.AlertChannels{
		Pagerduty: &[]client.PagerdutyChannel{{RoutingKey: ptr("********")}}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
	assert.Equal(t, "channels.pagerduty.0.routing_key", (*r.ApplicationproblemJSON400.Errors)[0].Field)
	// A routing key of the wrong length is refused by the contract.
	r, err = c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "pd", Channels: &client.AlertChannels{
		Pagerduty: &[]client.PagerdutyChannel{{RoutingKey: ptr("short-key-123")}}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, r.StatusCode(), string(r.Body))
	assert.Contains(t, (*r.ApplicationproblemJSON400.Errors)[0].Field, "routing_key")
}
