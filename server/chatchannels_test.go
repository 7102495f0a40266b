package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

const (
	teamsURL   = "https://prod-00.westeurope.logic.azure.com:443/workflows/wf-0a1b/triggers/manual/paths/invoke?api-version=2016-06-01&sig=teams-sig-secret"
	discordURL = "https://discord.com/api/webhooks/1234567890/discord-token-secret"
	tgToken    = "123456789:AAF-telegram_token_secret_0123456789"
)

// Teams and Discord URLs are secrets as a whole, a Telegram bot's token is write-only: answers
// and lists show them masked, sending the masked values back keeps the stored ones, and a
// masked token that matches no stored chat is refused, naming the field.
func TestChatChannelSecretsAreMasked(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	noSecret := func(t *testing.T, body []byte, what string) {
		t.Helper()
		for _, s := range []string{"teams-sig-secret", "wf-0a1b", "discord-token-secret", "1234567890/", "AAF-telegram"} {
			assert.NotContains(t, string(body), s, what)
		}
	}
	p, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "chat", Channels: &client.AlertChannels{
		Teams:    &[]client.TeamsChannel{teamsURL},
		Discord:  &[]client.DiscordChannel{discordURL},
		Telegram: &[]client.TelegramChannel{{BotToken: ptr(tgToken), ChatId: "-1001234567890"}},
	}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, p.StatusCode(), string(p.Body))
	noSecret(t, p.Body, "create answer")
	assert.Equal(t, []string{"https://prod-00.westeurope.logic.azure.com:443/workflows/********"}, *p.JSON201.Channels.Teams)
	assert.Equal(t, []string{"https://discord.com/api/********"}, *p.JSON201.Channels.Discord)
	assert.Equal(t, []client.TelegramChannel{{BotToken: ptr("********"), ChatId: "-1001234567890"}}, *p.JSON201.Channels.Telegram)

	got, err := c.GetAlertPolicyWithResponse(ctx, p.JSON201.Id, nil)
	require.NoError(t, err)
	noSecret(t, got.Body, "get")
	list, err := c.ListAlertPoliciesWithResponse(ctx, nil)
	require.NoError(t, err)
	noSecret(t, list.Body, "list")

	stored := func() (teams, discord, token, chat string) {
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT channels->'teams'->>0, channels->'discord'->>0,
			channels->'telegram'->0->>'bot_token', channels->'telegram'->0->>'chat_id' FROM alert_policies WHERE id = $1`,
			p.JSON201.Id).Scan(&teams, &discord, &token, &chat))
		return
	}
	// Read-modify-write with the masked values keeps what is stored.
	up, err := c.UpdateAlertPolicyWithResponse(ctx, p.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "renamed", Channels: &got.JSON200.Channels})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	noSecret(t, up.Body, "update answer")
	teams, discord, token, chat := stored()
	assert.Equal(t, teamsURL, teams)
	assert.Equal(t, discordURL, discord)
	assert.Equal(t, tgToken, token)
	assert.Equal(t, "-1001234567890", chat)

	fieldOf := func(t *testing.T, status int, body []byte) string {
		t.Helper()
		require.Equal(t, http.StatusBadRequest, status, string(body))
		var pb client.Problem
		require.NoError(t, json.Unmarshal(body, &pb))
		require.NotNil(t, pb.Errors, string(body))
		require.NotEmpty(t, *pb.Errors)
		return (*pb.Errors)[0].Field
	}
	// The masked token of another chat: there is no token to keep.
	moved := client.AlertChannels{Telegram: &[]client.TelegramChannel{{BotToken: ptr("********"), ChatId: "@other_channel"}}}
	bad, err := c.UpdateAlertPolicyWithResponse(ctx, p.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "renamed", Channels: &moved})
	require.NoError(t, err)
	assert.Equal(t, "channels.telegram.0.bot_token", fieldOf(t, bad.StatusCode(), bad.Body))
	_, _, token, _ = stored()
	assert.Equal(t, tgToken, token, "a refused update changes nothing")

	for _, c2 := range []struct {
		ch    client.AlertChannels
		field string
	}{
		{client.AlertChannels{Telegram: &[]client.TelegramChannel{{BotToken: ptr("********"), ChatId: "42"}}}, "channels.telegram.0.bot_token"},
		{client.AlertChannels{Telegram: &[]client.TelegramChannel{{BotToken: ptr("not-a-token"), ChatId: "42"}}}, "channels.telegram.0.bot_token"},
		{client.AlertChannels{Telegram: &[]client.TelegramChannel{{BotToken: ptr(tgToken), ChatId: "chat 42"}}}, "channels.telegram.0.chat_id"},
		{client.AlertChannels{Teams: &[]client.TeamsChannel{"not a url"}}, "channels.teams.0"},
		{client.AlertChannels{Discord: &[]client.DiscordChannel{"ftp://discord.com/x"}}, "channels.discord.0"},
	} {
		r, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "bad", Channels: &c2.ch})
		require.NoError(t, err)
		assert.Equal(t, c2.field, fieldOf(t, r.StatusCode(), r.Body))
		assert.NotContains(t, string(r.Body), "AAF-telegram")
	}
}

// From an incident to the chat services, through the whole stack: an alert policy created
// with the SDK names a Teams workflow, a Discord webhook and a Telegram chat; opening an
// incident sends each its documented payload, linking to the incident at the public URL.
func TestIncidentReachesChatChannels(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()

	type got struct {
		method, path, contentType string
		body                      map[string]any
	}
	received := make(chan got, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(b, &body)
		received <- got{r.Method, r.URL.RequestURI(), r.Header.Get("Content-Type"), body}
		switch {
		case strings.HasPrefix(r.URL.Path, "/bot"):
			_, _ = io.WriteString(w, `{"ok": true, "result": {"message_id": 1}}`)
		case strings.HasPrefix(r.URL.Path, "/api/webhooks/"):
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusAccepted)
		}
	}))
	defer receiver.Close()
	const publicURL = "https://secumon.example.com"
	servertest.Run(t, server.Deps{Pool: env.Pool, Serve: true, PublicURL: publicURL,
		Notify: notify.Config{Allow: loopbackAllowed, TelegramAPI: receiver.URL}})

	pol, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "chat", Channels: &client.AlertChannels{
		Teams:    &[]client.TeamsChannel{receiver.URL + "/workflows/wf/triggers/manual/paths/invoke?sig=x"},
		Discord:  &[]client.DiscordChannel{receiver.URL + "/api/webhooks/1/tok"},
		Telegram: &[]client.TelegramChannel{{BotToken: ptr(tgToken), ChatId: "@secumon_alerts"}},
	}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, pol.StatusCode(), string(pol.Body))

	host := createHost(t, c, "db-01")
	sev := client.SeverityMajor
	inc, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "db-01 replication lag", Severity: &sev,
		HostId: &host.Id, Description: ptr("Replica 40 s behind")})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode(), string(inc.Body))
	link := publicURL + "/api/v2/incidents/" + inc.JSON201.Id.String()

	byPath := map[string]got{}
	for range 3 {
		select {
		case g := <-received:
			byPath[g.path] = g
		case <-time.After(15 * time.Second):
			t.Fatalf("received only %d requests", len(byPath))
		}
	}
	for path, g := range byPath {
		assert.Equal(t, http.MethodPost, g.method, path)
		assert.Equal(t, "application/json", g.contentType, path)
	}

	teams, ok := byPath["/workflows/wf/triggers/manual/paths/invoke?sig=x"]
	require.True(t, ok, "Teams got nothing: %v", byPath)
	var card struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string  `json:"contentType"`
			ContentURL  *string `json:"contentUrl"`
			Content     struct {
				Type, Version string
				Body          []map[string]any
				Actions       []map[string]any
			} `json:"content"`
		} `json:"attachments"`
	}
	remarshal(t, teams.body, &card)
	require.Equal(t, "message", card.Type)
	require.Len(t, card.Attachments, 1)
	a := card.Attachments[0]
	assert.Equal(t, "application/vnd.microsoft.card.adaptive", a.ContentType)
	assert.Nil(t, a.ContentURL)
	assert.Equal(t, "AdaptiveCard", a.Content.Type)
	assert.Equal(t, "1.4", a.Content.Version)
	require.Len(t, a.Content.Body, 3)
	assert.Equal(t, "[SecuMon] MAJOR opened: db-01 replication lag", a.Content.Body[0]["text"])
	assert.Equal(t, []any{
		map[string]any{"title": "Severity", "value": "major"},
		map[string]any{"title": "Status", "value": "investigating"},
		map[string]any{"title": "Host", "value": "db-01"},
	}, a.Content.Body[1]["facts"])
	assert.Equal(t, "Replica 40 s behind", a.Content.Body[2]["text"])
	assert.Equal(t, []map[string]any{{"type": "Action.OpenUrl", "title": "Open the incident", "url": link}}, a.Content.Actions)

	discord, ok := byPath["/api/webhooks/1/tok"]
	require.True(t, ok, "Discord got nothing: %v", byPath)
	assert.Equal(t, "[SecuMon] MAJOR opened: db-01 replication lag", discord.body["content"])
	assert.Equal(t, map[string]any{"parse": []any{}}, discord.body["allowed_mentions"])
	embeds := discord.body["embeds"].([]any)
	require.Len(t, embeds, 1)
	embed := embeds[0].(map[string]any)
	assert.Equal(t, "Replica 40 s behind", embed["description"])
	assert.Equal(t, link, embed["url"])
	assert.EqualValues(t, 0xF57C00, embed["color"], "major: orange")
	assert.Len(t, embed["fields"], 3)
	ts, err := time.Parse(time.RFC3339, embed["timestamp"].(string))
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), ts, time.Minute)

	tg, ok := byPath["/bot"+tgToken+"/sendMessage"]
	require.True(t, ok, "Telegram got nothing: %v", byPath)
	assert.Equal(t, "@secumon_alerts", tg.body["chat_id"])
	assert.Equal(t, "HTML", tg.body["parse_mode"])
	assert.Equal(t, true, tg.body["disable_web_page_preview"])
	assert.Equal(t, "<b>[SecuMon] MAJOR opened: db-01 replication lag</b>\n\nSeverity: major\nStatus: investigating\nHost: db-01"+
		"\n\nReplica 40 s behind\n\n<a href=\""+link+"\">Open the incident</a>", tg.body["text"])

	// The timeline names the chat services, never their URLs nor the bot's token.
	eventually(t, 10*time.Second, func() bool {
		var sent int
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM notification_deliveries WHERE status = 'sent'
			AND channel IN ('teams', 'discord', 'telegram')`).Scan(&sent))
		return sent == 3
	}, "three sent deliveries")
	tl, err := c.GetIncidentWithResponse(ctx, inc.JSON201.Id, nil)
	require.NoError(t, err)
	assert.Contains(t, string(tl.Body), "telegram @secumon_alerts")
	for _, secret := range []string{"AAF-telegram", "/tok", "sig=x"} {
		assert.NotContains(t, string(tl.Body), secret)
	}
}

// remarshal decodes a JSON object already decoded into a map into a typed value.
func remarshal(t *testing.T, from map[string]any, to any) {
	t.Helper()
	b, err := json.Marshal(from)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, to))
}
