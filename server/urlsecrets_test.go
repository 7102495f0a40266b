package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// Credentials carried by URLs (a Slack webhook URL as a whole, a token in a webhook's query
// string, the password of an HTTP check's user info) are secrets: answers, lists and
// idempotent replays show them masked, the replay table never holds them in clear, and
// sending the masked value back on update keeps the stored URL.
func TestCredentialsInURLsAreMasked(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()

	const (
		slackURL   = "https://hooks.slack.com/services/T0001/B0002/slack-secret-xyz"
		webhookURL = "https://ops.example.com/hook?token=hook-token-abc&team=ops"
		checkURL   = "https://monitor:check-pass-123@shop.example.com/health?api_key=check-key-456"
	)
	clearSecrets := []string{"slack-secret-xyz", "T0001/B0002", "hook-token-abc", "check-pass-123", "check-key-456"}
	noSecret := func(t *testing.T, body []byte, what string) {
		t.Helper()
		for _, s := range clearSecrets {
			assert.NotContains(t, string(body), s, what)
		}
	}

	// Alert policies: Slack and webhook URLs.
	key := uuid.NewString()
	create := client.AlertPolicyCreate{Name: "urls", Channels: &client.AlertChannels{
		Slack:   &[]client.SlackChannel{slackURL},
		Webhook: &[]client.WebhookChannel{{Url: webhookURL}},
	}}
	p, err := c.CreateAlertPolicyWithResponse(ctx, &client.CreateAlertPolicyParams{IdempotencyKey: &key}, create)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, p.StatusCode(), string(p.Body))
	noSecret(t, p.Body, "create answer")
	assert.Equal(t, []string{"https://hooks.slack.com/services/********"}, *p.JSON201.Channels.Slack)
	assert.Equal(t, "https://ops.example.com/hook?token=********&team=********", (*p.JSON201.Channels.Webhook)[0].Url)

	replay, err := c.CreateAlertPolicyWithResponse(ctx, &client.CreateAlertPolicyParams{IdempotencyKey: &key}, create)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, replay.StatusCode(), string(replay.Body))
	assert.Equal(t, "true", replay.HTTPResponse.Header.Get("Idempotent-Replayed"))
	noSecret(t, replay.Body, "replay")

	got, err := c.GetAlertPolicyWithResponse(ctx, p.JSON201.Id, nil)
	require.NoError(t, err)
	noSecret(t, got.Body, "get")
	list, err := c.ListAlertPoliciesWithResponse(ctx, nil)
	require.NoError(t, err)
	noSecret(t, list.Body, "list")

	// Read-modify-write with the masked values keeps the stored URLs.
	up, err := c.UpdateAlertPolicyWithResponse(ctx, p.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "renamed", Channels: &got.JSON200.Channels})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	noSecret(t, up.Body, "update answer")
	var storedSlack, storedHook string
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT channels->'slack'->>0, channels->'webhook'->0->>'url' FROM alert_policies WHERE id = $1", p.JSON201.Id).Scan(&storedSlack, &storedHook))
	assert.Equal(t, slackURL, storedSlack)
	assert.Equal(t, webhookURL, storedHook)
	// A new URL replaces the stored one.
	newSlack := "https://hooks.slack.com/services/T9/B9/other-secret"
	up, err = c.UpdateAlertPolicyWithResponse(ctx, p.JSON201.Id, nil, client.AlertPolicyUpdate{Name: "renamed", Channels: &client.AlertChannels{Slack: &[]client.SlackChannel{newSlack}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	require.NoError(t, env.Pool.QueryRow(ctx, "SELECT channels->'slack'->>0 FROM alert_policies WHERE id = $1", p.JSON201.Id).Scan(&storedSlack))
	assert.Equal(t, newSlack, storedSlack)

	// HTTP checks: user-info password and query values.
	host := createHost(t, c, "shop")
	ckey := uuid.NewString()
	checkCreate := client.NewCheckCreate(client.HttpCheckCreate{HostId: host.Id, Name: "shop health", Config: client.HttpConfig{URL: checkURL}})
	ch, err := c.CreateCheckWithResponse(ctx, &client.CreateCheckParams{IdempotencyKey: &ckey}, checkCreate)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ch.StatusCode(), string(ch.Body))
	noSecret(t, ch.Body, "check create answer")
	cfg, err := ch.JSON201.Config.AsHttpConfig()
	require.NoError(t, err)
	assert.Equal(t, "https://monitor:********@shop.example.com/health?api_key=********", cfg.URL)

	creplay, err := c.CreateCheckWithResponse(ctx, &client.CreateCheckParams{IdempotencyKey: &ckey}, checkCreate)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, creplay.StatusCode(), string(creplay.Body))
	assert.Equal(t, "true", creplay.HTTPResponse.Header.Get("Idempotent-Replayed"))
	noSecret(t, creplay.Body, "check replay")
	cget, err := c.GetCheckWithResponse(ctx, ch.JSON201.Id, nil)
	require.NoError(t, err)
	noSecret(t, cget.Body, "check get")
	clist, err := c.ListChecksWithResponse(ctx, nil)
	require.NoError(t, err)
	noSecret(t, clist.Body, "check list")

	cfg.Method = ptr(client.HttpMethodHEAD)
	cup, err := c.UpdateCheckWithResponse(ctx, ch.JSON201.Id, nil, client.CheckUpdate{Config: client.NewCheckConfig(cfg)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, cup.StatusCode(), string(cup.Body))
	noSecret(t, cup.Body, "check update answer")
	stored, err := env.Queries.GetCheck(ctx, db.GetCheckParams{WorkspaceID: env.Workspace, ID: ch.JSON201.Id})
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(stored.Config, &raw))
	assert.Equal(t, checkURL, raw["url"])
	assert.Equal(t, "HEAD", raw["method"])

	// The idempotency replay table holds the masked answers only.
	rows, err := env.Pool.Query(ctx, "SELECT coalesce(body, ''::bytea) FROM idempotency_keys")
	require.NoError(t, err)
	n := 0
	for rows.Next() {
		var body []byte
		require.NoError(t, rows.Scan(&body))
		noSecret(t, body, "idempotency_keys.body")
		n++
	}
	require.NoError(t, rows.Err())
	assert.Equal(t, 2, n)
}
