package notify_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/notify"
)

// incidentPayload is the incident event alert policies send (alerting.incidentMessage).
func incidentPayload(event string, incident uuid.UUID, severity string) json.RawMessage {
	return json.RawMessage(`{"event":"` + event + `","time":"2026-12-01T10:00:00Z","note":"2 failures",` +
		`"policy":{"id":"` + uuid.NewString() + `","name":"ops"},` +
		`"incident":{"id":"` + incident.String() + `","title":"web-01 down","severity":"` + severity + `","status":"investigating",` +
		`"tags":{"env":"prod"},"host_id":null,"check_id":null}}`)
}

const routingKey = "R0123456789ABCDEF0123456789ABCDE"

// PagerDuty Events API v2: POST /v2/enqueue, JSON with routing_key, event_action, dedup_key
// and, for a trigger, payload.summary/source/severity; 202 Accepted.
func TestPagerDutyTriggerAndResolve(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter) {
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"success","message":"Event processed","dedup_key":"x"}`))
	})
	cfg := fastRetries()
	cfg.PagerDutyURL = rcv.URL
	e.startWorker(t, cfg)

	inc := uuid.New()
	id := e.enqueue(t, notify.Message{Channel: notify.ChannelPagerDuty, Target: notify.RoutingKeyLabel(routingKey), Secret: routingKey,
		Subject: "[SecuMon] MAJOR opened: web-01 down", Text: "text", Payload: incidentPayload(notify.EventOpened, inc, "major")})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
	id = e.enqueue(t, notify.Message{Channel: notify.ChannelPagerDuty, Target: notify.RoutingKeyLabel(routingKey), Secret: routingKey,
		Subject: "resolved", Payload: incidentPayload(notify.EventResolved, inc, "major"), Options: notify.Options{Severity: "critical"}})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		require.Equal(t, http.MethodPost, r.method)
		require.Equal(t, "/v2/enqueue", r.uri)
		require.Equal(t, "application/json", r.header.Get("Content-Type"))
	}
	var trigger map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].body, &trigger))
	payload := trigger["payload"].(map[string]any)
	require.Equal(t, "major", payload["custom_details"].(map[string]any)["incident"].(map[string]any)["severity"])
	delete(payload, "custom_details")
	require.Equal(t, map[string]any{
		"routing_key": routingKey, "event_action": "trigger", "dedup_key": inc.String(), "client": "SecuMon",
		"payload": map[string]any{
			"summary": "[SecuMon] MAJOR opened: web-01 down", "source": "SecuMon", "severity": "error",
			"timestamp": "2026-12-01T10:00:00.000Z", "group": "ops", "class": "major",
		},
	}, trigger)
	var resolve map[string]any
	require.NoError(t, json.Unmarshal(reqs[1].body, &resolve))
	require.Equal(t, map[string]any{"routing_key": routingKey, "event_action": "resolve", "dedup_key": inc.String(), "client": "SecuMon"}, resolve)
	require.Equal(t, "routing key …BCDE", notify.RoutingKeyLabel(routingKey))
}

// 429 with Retry-After is retried after the wait; 400 (an invalid event) is permanent and
// the error does not show the routing key.
func TestPagerDutyRetriesAndRefusals(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		case 1:
			w.WriteHeader(http.StatusAccepted)
		default:
			http.Error(w, `{"status":"invalid event","message":"Event object is invalid"}`, http.StatusBadRequest)
		}
	})
	cfg := fastRetries()
	cfg.PagerDutyURL = rcv.URL
	cfg.RetryMax = 10 * time.Second
	e.startWorker(t, cfg)

	inc := uuid.New()
	id := e.enqueue(t, notify.Message{Channel: notify.ChannelPagerDuty, Target: "k", Secret: routingKey, Subject: "s",
		Payload: incidentPayload(notify.EventOpened, inc, "critical")})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 2, d.Attempts)
	reqs := rcv.requests()
	require.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), 950*time.Millisecond, "Retry-After honoured")

	id = e.enqueue(t, notify.Message{Channel: notify.ChannelPagerDuty, Target: "k", Secret: routingKey, Subject: "s",
		Payload: incidentPayload(notify.EventOpened, inc, "critical")})
	d = e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.EqualValues(t, 1, d.Attempts, "a 400 is not retried")
	require.Contains(t, *d.LastError, "Event object is invalid")
	require.NotContains(t, *d.LastError, routingKey)
}

// Opsgenie Alert API: create with POST /v2/alerts and Authorization: GenieKey; close with
// POST /v2/alerts/{alias}/close?identifierType=alias; 202 Accepted. A 5xx is retried.
func TestOpsgenieCreateAndClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"result":"Request will be processed","took":0.02,"requestId":"43a29c5c"}`))
	})
	cfg := fastRetries()
	cfg.OpsgenieURL = rcv.URL
	e.startWorker(t, cfg)

	const key = "eb243592-faa2-4ba2-a551-1afdf565c889"
	inc := uuid.New()
	long := "[SecuMon] CRITICAL opened: a very long title that goes on and on and on and on and on and on and on and on and on and on and on and on and on"
	id := e.enqueue(t, notify.Message{Channel: notify.ChannelOpsgenie, Target: notify.OpsgenieEU, Secret: key,
		Subject: long, Text: "Incident opened.", Payload: incidentPayload(notify.EventOpened, inc, "critical")})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 2, d.Attempts, "the 503 was retried")
	id = e.enqueue(t, notify.Message{Channel: notify.ChannelOpsgenie, Target: notify.OpsgenieEU, Secret: key,
		Subject: "resolved", Payload: incidentPayload(notify.EventResolved, inc, "critical")})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 3)
	create, closeReq := reqs[1], reqs[2]
	require.Equal(t, http.MethodPost, create.method)
	require.Equal(t, "/v2/alerts", create.uri)
	require.Equal(t, "GenieKey "+key, create.header.Get("Authorization"))
	require.Equal(t, "application/json", create.header.Get("Content-Type"))
	var alert map[string]any
	require.NoError(t, json.Unmarshal(create.body, &alert))
	require.Len(t, []rune(alert["message"].(string)), 130, "message is at most 130 characters")
	delete(alert, "message")
	require.Equal(t, map[string]any{
		"alias": inc.String(), "description": "Incident opened.", "priority": "P1", "source": "SecuMon",
		"tags":    []any{"secumon", "critical", "env:prod"},
		"details": map[string]any{"incident_id": inc.String(), "severity": "critical", "status": "investigating", "policy": "ops"},
	}, alert)

	require.Equal(t, http.MethodPost, closeReq.method)
	require.Equal(t, "/v2/alerts/"+inc.String()+"/close?identifierType=alias", closeReq.uri)
	require.Equal(t, "GenieKey "+key, closeReq.header.Get("Authorization"))
	var closeBody map[string]any
	require.NoError(t, json.Unmarshal(closeReq.body, &closeBody))
	require.Equal(t, map[string]any{"source": "SecuMon", "note": "2 failures"}, closeBody)

	c := notify.Config{}
	require.Equal(t, "https://api.eu.opsgenie.com", c.OpsgenieBase(notify.OpsgenieEU))
	require.Equal(t, "https://api.opsgenie.com", c.OpsgenieBase(notify.OpsgenieUS))
}

// ntfy: POST to the topic URL, the text as the body, Title, Priority and Tags headers, the
// token as a Bearer authorization.
func TestNtfyPublish(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 1 {
			http.Error(w, `{"code":40301,"http":403,"error":"forbidden"}`, http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"id":"sPs71M8A2T","event":"message","topic":"secumon-ops"}`))
	})
	e.startWorker(t, fastRetries())

	inc := uuid.New()
	id := e.enqueue(t, notify.Message{Channel: notify.ChannelNtfy, Target: rcv.URL + "/secumon-ops", Secret: "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2",
		Subject: "[SecuMon] MAJOR opened: web-01 down", Text: "Incident opened.\nSeverity: major",
		Payload: incidentPayload(notify.EventOpened, inc, "major"), Options: notify.Options{Tags: []string{"rotating_light"}}})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "/secumon-ops", r.uri)
	require.Equal(t, "text/plain; charset=utf-8", r.header.Get("Content-Type"))
	require.Equal(t, "[SecuMon] MAJOR opened: web-01 down", r.header.Get("Title"))
	require.Equal(t, "4", r.header.Get("Priority"), "major → high")
	require.Equal(t, "rotating_light,major", r.header.Get("Tags"))
	require.Equal(t, "Bearer tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", r.header.Get("Authorization"))
	require.Equal(t, "Incident opened.\nSeverity: major", string(r.body))

	// A refused token is permanent; a fixed priority replaces the incident's.
	id = e.enqueue(t, notify.Message{Channel: notify.ChannelNtfy, Target: rcv.URL + "/secumon-ops", Subject: "s", Text: "t",
		Payload: incidentPayload(notify.EventOpened, inc, "major"), Options: notify.Options{Severity: "1"}})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.EqualValues(t, 1, d.Attempts)
	require.Equal(t, "1", rcv.requests()[1].header.Get("Priority"))
	require.Empty(t, rcv.requests()[1].header.Get("Authorization"))
}

// A webhook with a rendered body and extra headers sends that body with its content type,
// signed, with the headers; the reserved ones stay SecuMon's.
func TestWebhookTemplatedBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, status(http.StatusOK))
	e.startWorker(t, fastRetries())

	body := "alert=web-01 down&severity=critical"
	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL + "/form", Secret: "0123456789abcdef",
		Subject: "s", Payload: incidentPayload(notify.EventOpened, uuid.New(), "critical"),
		Headers: map[string]string{"Authorization": "Bearer abc", "X-Team": "ops"},
		Options: notify.Options{Body: &body, ContentType: "application/x-www-form-urlencoded"}})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "/form", r.uri)
	require.Equal(t, body, string(r.body))
	require.Equal(t, "application/x-www-form-urlencoded", r.header.Get("Content-Type"))
	require.Equal(t, "Bearer abc", r.header.Get("Authorization"))
	require.Equal(t, "ops", r.header.Get("X-Team"))
	require.Equal(t, notify.Sign([]byte("0123456789abcdef"), []byte(body)), r.header.Get(notify.HeaderSignature))
	require.Equal(t, notify.EventOpened, r.header.Get(notify.HeaderEvent))
	require.True(t, notify.ReservedHeader("x-secumon-delivery"))
	require.True(t, notify.ReservedHeader("content-type"))
	require.False(t, notify.ReservedHeader("Authorization"))
}
