package notify_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/notify"
)

// chatRequest is what a chat service's receiver got, with the method and path the services
// route on.
type chatRequest struct {
	at           time.Time
	method, path string
	header       http.Header
	body         []byte
}

// chatReceiver stands in for Teams, Discord or Telegram on loopback: it answers the n-th
// request (from 0) with answer(n) and keeps every request.
type chatReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []chatRequest
}

func newChatReceiver(t *testing.T, answer func(n int, w http.ResponseWriter)) *chatReceiver {
	t.Helper()
	r := &chatReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		n := len(r.reqs)
		r.reqs = append(r.reqs, chatRequest{at: time.Now(), method: req.Method, path: req.URL.RequestURI(), header: req.Header.Clone(), body: body})
		r.mu.Unlock()
		answer(n, w)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *chatReceiver) requests() []chatRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]chatRequest(nil), r.reqs...)
}

// answerJSON answers with code and a JSON body (and Retry-After when retryAfter is set).
func answerJSON(code int, body, retryAfter string) func(int, http.ResponseWriter) {
	return func(_ int, w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

// thenAnswer answers the first request with first and every later one with rest.
func thenAnswer(first, rest func(int, http.ResponseWriter)) func(int, http.ResponseWriter) {
	return func(n int, w http.ResponseWriter) {
		if n == 0 {
			first(n, w)
			return
		}
		rest(n, w)
	}
}

const (
	botToken = "123456789:AAF-secret_token_0123456789abcdefghij"
	chatID   = "-1001234567890"
)

var eventTime = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

// incidentEvent is the event alerting queues for an opened incident, as chat channels read it.
func incidentEvent(incident uuid.UUID) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"event": "incident.opened", "time": %q, "note": "",
		"incident": {"id": %q, "title": "web-prod-01 <https> down", "severity": "critical", "status": "investigating",
			"host_name": "web-prod-01", "check_name": "https", "description": "TLS handshake & connect failed"}}`,
		eventTime.Format(time.RFC3339), incident))
}

// chatConfig is fastRetries with incident links and the Telegram API on base.
func chatConfig(base string) notify.Config {
	cfg := fastRetries()
	cfg.IncidentLinkBase = "https://secumon.example.com/api/v2/incidents/"
	cfg.TelegramAPI = base
	return cfg
}

// chatMessage is a message about an incident to the receiver through channel.
func chatMessage(channel, receiverURL string, incident uuid.UUID) notify.Message {
	m := notify.Message{IncidentID: &incident, Channel: channel, Subject: "[SecuMon] CRITICAL opened: web-prod-01 <https> down",
		Text: "Incident opened.", Payload: incidentEvent(incident)}
	switch channel {
	case notify.ChannelTelegram:
		m.Target, m.Secret = chatID, botToken
	case notify.ChannelDiscord:
		m.Target = receiverURL + "/api/webhooks/1234/tok-en"
	default:
		m.Target = receiverURL + "/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3t"
	}
	return m
}

func TestTeamsPostsAnAdaptiveCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newChatReceiver(t, answerJSON(http.StatusAccepted, "", "")) // what Workflows answers
	e.startWorker(t, chatConfig(""))

	incident := uuid.New()
	id := e.enqueue(t, chatMessage(notify.ChannelTeams, rcv.URL, incident))
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s3cr3t", r.path)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.JSONEq(t, `{
		"type": "message",
		"attachments": [{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl": null,
			"content": {
				"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
				"type": "AdaptiveCard",
				"version": "1.4",
				"body": [
					{"type": "TextBlock", "text": "[SecuMon] CRITICAL opened: web-prod-01 <https> down", "weight": "Bolder", "size": "Medium", "wrap": true},
					{"type": "FactSet", "facts": [
						{"title": "Severity", "value": "critical"},
						{"title": "Status", "value": "investigating"},
						{"title": "Host", "value": "web-prod-01"},
						{"title": "Check", "value": "https"}
					]},
					{"type": "TextBlock", "text": "TLS handshake & connect failed", "wrap": true}
				],
				"actions": [{"type": "Action.OpenUrl", "title": "Open the incident",
					"url": "https://secumon.example.com/api/v2/incidents/`+incident.String()+`"}]
			}
		}]
	}`, string(r.body))
}

// Without a public URL there is no link to give, and a message about no incident has no facts.
func TestTeamsPlainMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newChatReceiver(t, answerJSON(http.StatusAccepted, "", ""))
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelTeams, Target: rcv.URL + "/workflows/x", Subject: "Test", Text: "Hello"})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
	require.JSONEq(t, `{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null,
		"content": {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": [
			{"type": "TextBlock", "text": "Test", "weight": "Bolder", "size": "Medium", "wrap": true},
			{"type": "TextBlock", "text": "Hello", "wrap": true}]}}]}`, string(rcv.requests()[0].body))
}

func TestDiscordPostsAnEmbed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newChatReceiver(t, answerJSON(http.StatusNoContent, "", "")) // without ?wait=true
	e.startWorker(t, chatConfig(""))

	incident := uuid.New()
	id := e.enqueue(t, chatMessage(notify.ChannelDiscord, rcv.URL, incident))
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "/api/webhooks/1234/tok-en", r.path)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.JSONEq(t, `{
		"content": "[SecuMon] CRITICAL opened: web-prod-01 <https> down",
		"embeds": [{
			"title": "[SecuMon] CRITICAL opened: web-prod-01 <https> down",
			"description": "TLS handshake & connect failed",
			"url": "https://secumon.example.com/api/v2/incidents/`+incident.String()+`",
			"color": 13840175,
			"fields": [
				{"name": "Severity", "value": "critical", "inline": true},
				{"name": "Status", "value": "investigating", "inline": true},
				{"name": "Host", "value": "web-prod-01", "inline": true},
				{"name": "Check", "value": "https", "inline": true}
			],
			"timestamp": "2026-03-14T09:26:53Z"
		}],
		"allowed_mentions": {"parse": []}
	}`, string(r.body))
}

// Discord's limits are in characters: a longer title or description would be refused whole.
func TestDiscordCutsToItsLimits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newChatReceiver(t, answerJSON(http.StatusNoContent, "", ""))
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelDiscord, Target: rcv.URL, Subject: strings.Repeat("é", 300), Text: strings.Repeat("x", 5000)})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
	var msg struct {
		Embeds []struct {
			Title, Description string
			Color              int
		}
	}
	require.NoError(t, json.Unmarshal(rcv.requests()[0].body, &msg))
	require.Len(t, []rune(msg.Embeds[0].Title), 256)
	require.Len(t, []rune(msg.Embeds[0].Description), 4096)
	require.True(t, strings.HasSuffix(msg.Embeds[0].Description, "…"))
	require.Equal(t, 0x9E9E9E, msg.Embeds[0].Color, "no severity: grey")
}

// Discord's 429 gives the wait in the JSON body (retry_after, seconds, fractional) as well as
// in Retry-After; the body alone is enough.
func TestDiscordHonoursRetryAfterInTheBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newChatReceiver(t, thenAnswer(
		answerJSON(http.StatusTooManyRequests, `{"message": "You are being rate limited.", "retry_after": 0.8, "global": false}`, ""),
		answerJSON(http.StatusNoContent, "", "")))
	cfg := fastRetries()
	cfg.RetryMax = 10 * time.Second
	e.startWorker(t, cfg)

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelDiscord, Target: rcv.URL, Subject: "s"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 2, d.Attempts)
	reqs := rcv.requests()
	require.Len(t, reqs, 2)
	// The backoff alone would have retried within 10 ms.
	require.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), 750*time.Millisecond)
}

func TestTelegramSendsMessage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newChatReceiver(t, answerJSON(http.StatusOK, `{"ok": true, "result": {"message_id": 42, "chat": {"id": -1001234567890, "type": "channel"}, "date": 1773480413, "text": "…"}}`, ""))
	e.startWorker(t, chatConfig(rcv.URL)) // the Bot API's base URL points at the receiver

	incident := uuid.New()
	id := e.enqueue(t, chatMessage(notify.ChannelTelegram, "", incident))
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.method)
	require.Equal(t, "/bot"+botToken+"/sendMessage", r.path)
	require.Equal(t, "application/json", r.header.Get("Content-Type"))
	require.JSONEq(t, `{
		"chat_id": "-1001234567890",
		"text": "<b>[SecuMon] CRITICAL opened: web-prod-01 &lt;https&gt; down</b>\n\nSeverity: critical\nStatus: investigating\nHost: web-prod-01\nCheck: https\n\nTLS handshake &amp; connect failed\n\n<a href=\"https://secumon.example.com/api/v2/incidents/`+incident.String()+`\">Open the incident</a>",
		"parse_mode": "HTML",
		"disable_web_page_preview": true
	}`, string(r.body))

	// The timeline may show the chat; the token is never the target.
	d := e.waitDone(t, id)
	require.Equal(t, chatID, d.Target)
	require.Equal(t, chatID, notify.MaskTarget(notify.ChannelTelegram, d.Target))
}

// Telegram's flood control: 429 with parameters.retry_after in seconds and no Retry-After.
func TestTelegramHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newChatReceiver(t, thenAnswer(
		answerJSON(http.StatusTooManyRequests, `{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": {"retry_after": 1}}`, ""),
		answerJSON(http.StatusOK, `{"ok": true, "result": {}}`, "")))
	cfg := chatConfig(rcv.URL)
	cfg.RetryMax = 10 * time.Second
	e.startWorker(t, cfg)

	id := e.enqueue(t, chatMessage(notify.ChannelTelegram, "", uuid.New()))
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 2, d.Attempts)
	reqs := rcv.requests()
	require.Len(t, reqs, 2)
	require.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), 950*time.Millisecond)
}

// The bot's token is in the URL's path: no error, whatever went wrong, may show it.
func TestTelegramTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	unauthorized := newChatReceiver(t, answerJSON(http.StatusUnauthorized, `{"ok": false, "error_code": 401, "description": "Unauthorized"}`, ""))
	okFalse := newChatReceiver(t, answerJSON(http.StatusOK, `{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}`, ""))
	echo := newChatReceiver(t, func(_ int, w http.ResponseWriter) {
		http.Error(w, "Bad Request: no route for /bot"+botToken+"/sendMessage", http.StatusBadRequest)
	})
	down := newChatReceiver(t, answerJSON(http.StatusOK, "", ""))
	down.Close() // connection refused

	for _, c := range []struct {
		name, base string
		attempts   int32
	}{
		{"401", unauthorized.URL, 1},
		{"ok false", okFalse.URL, 1},
		{"answer quoting the token", echo.URL, 1},
		{"unreachable", down.URL, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			cfg := chatConfig(c.base)
			cfg.MaxAttempts = 2
			e.startWorker(t, cfg)
			id := e.enqueue(t, chatMessage(notify.ChannelTelegram, "", uuid.New()))
			d := e.waitDone(t, id)
			require.Equal(t, notify.StatusFailed, d.Status)
			require.Equal(t, c.attempts, d.Attempts, "a refusal is permanent, a network error is retried")
			require.NotContains(t, *d.LastError, botToken)
			require.NotContains(t, *d.LastError, "AAF-secret")
			for _, a := range e.attempts(t, id) {
				require.NotContains(t, *a.Error, "AAF-secret")
			}
		})
	}
}

// Every chat channel retries a 5xx and the 429 of its service, and gives up at once on the
// 4xx that say the hook or bot is gone or wrong.
func TestChatChannelsRetryAndGiveUp(t *testing.T) {
	t.Parallel()
	for _, channel := range []string{notify.ChannelTeams, notify.ChannelDiscord, notify.ChannelTelegram} {
		t.Run(channel+" 5xx then accepted", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			rcv := newChatReceiver(t, thenAnswer(answerJSON(http.StatusBadGateway, "", ""), answerJSON(http.StatusOK, `{"ok": true, "result": {}}`, "")))
			e.startWorker(t, chatConfig(rcv.URL))
			id := e.enqueue(t, chatMessage(channel, rcv.URL, uuid.New()))
			d := e.waitDone(t, id)
			require.Equal(t, notify.StatusSent, d.Status)
			require.EqualValues(t, 2, d.Attempts)
			reqs := rcv.requests()
			require.Len(t, reqs, 2)
			require.Equal(t, reqs[0].body, reqs[1].body, "the same message again")
		})
		t.Run(channel+" 429 Retry-After", func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			rcv := newChatReceiver(t, thenAnswer(answerJSON(http.StatusTooManyRequests, "", "1"), answerJSON(http.StatusOK, `{"ok": true, "result": {}}`, "")))
			cfg := chatConfig(rcv.URL)
			cfg.RetryMax = 10 * time.Second
			e.startWorker(t, cfg)
			id := e.enqueue(t, chatMessage(channel, rcv.URL, uuid.New()))
			require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
			reqs := rcv.requests()
			require.Len(t, reqs, 2)
			require.GreaterOrEqual(t, reqs[1].at.Sub(reqs[0].at), 950*time.Millisecond)
		})
		for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound} {
			t.Run(fmt.Sprintf("%s %d", channel, code), func(t *testing.T) {
				t.Parallel()
				e := newEnv(t)
				rcv := newChatReceiver(t, answerJSON(code, `{"ok": false, "error_code": `+fmt.Sprint(code)+`, "description": "refused"}`, ""))
				e.startWorker(t, chatConfig(rcv.URL))
				id := e.enqueue(t, chatMessage(channel, rcv.URL, uuid.New()))
				d := e.waitDone(t, id)
				require.Equal(t, notify.StatusFailed, d.Status)
				require.EqualValues(t, 1, d.Attempts)
				require.Contains(t, *d.LastError, fmt.Sprint(code))
				require.NotContains(t, *d.LastError, "s3cr3t", "the URL is a secret")
				require.NotContains(t, *d.LastError, "tok-en", "the URL is a secret")
				require.NotContains(t, *d.LastError, "AAF-secret")
				time.Sleep(100 * time.Millisecond)
				require.Len(t, rcv.requests(), 1)
			})
		}
	}
}

func TestEnqueueRejectsBadChatTargets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, m := range []notify.Message{
		{Channel: notify.ChannelTeams, Target: "not a url"},
		{Channel: notify.ChannelDiscord, Target: "ftp://127.0.0.1/x"},
		{Channel: notify.ChannelTelegram, Target: "chat 1", Secret: botToken},
		{Channel: notify.ChannelTelegram, Target: chatID},                     // no token
		{Channel: notify.ChannelTelegram, Target: chatID, Secret: "12:short"}, // not a token
	} {
		m.WorkspaceID = e.ws
		err := pgx.BeginFunc(t.Context(), e.pool, func(tx pgx.Tx) error {
			_, err := notify.Enqueue(t.Context(), e.jobs, tx, m)
			return err
		})
		require.Error(t, err, "%+v", m)
		require.NotContains(t, err.Error(), "AAF-secret")
	}
	for _, ok := range []string{"123", "-1001234567890", "@secumon_alerts"} {
		require.NoError(t, notify.ValidateTarget(notify.ChannelTelegram, ok), ok)
	}
}
