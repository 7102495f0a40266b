package notify

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/secuaas/secumon/gen/db"
)

// Microsoft Teams through a Workflows (Power Automate) webhook: the flow "Send webhook alerts
// to a channel" takes a message whose attachments are Adaptive Cards, the envelope Microsoft
// documents for incoming webhooks ("Send Adaptive Cards using an Incoming Webhook"), and posts
// the cards to a channel. Workflows answers 202 Accepted; the whole URL is the credential.

// teamsCardVersion is the newest Adaptive Card schema Teams renders everywhere.
const teamsCardVersion = "1.4"

// sendTeams posts the delivery as an Adaptive Card: its title, a FactSet of the incident's
// facts, its description, and a button opening the incident when a link is known.
func sendTeams(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	body, err := json.Marshal(teamsMessage(chatMessageOf(cfg, d)))
	if err != nil {
		return outcome{Err: err, Permanent: true}
	}
	return postJSON(ctx, cfg, d, body, http.Header{})
}

// teamsMessage is the message envelope with its one card.
func teamsMessage(m chatMessage) map[string]any {
	blocks := []any{map[string]any{
		"type": "TextBlock", "text": m.Title, "weight": "Bolder", "size": "Medium", "wrap": true,
	}}
	if facts := m.facts(); len(facts) > 0 {
		list := make([]any, len(facts))
		for i, f := range facts {
			list[i] = map[string]string{"title": f[0], "value": f[1]}
		}
		blocks = append(blocks, map[string]any{"type": "FactSet", "facts": list})
	}
	if m.Description != "" {
		blocks = append(blocks, map[string]any{"type": "TextBlock", "text": m.Description, "wrap": true})
	}
	card := map[string]any{
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"type":    "AdaptiveCard",
		"version": teamsCardVersion,
		"body":    blocks,
	}
	if m.Link != "" {
		card["actions"] = []any{map[string]any{"type": "Action.OpenUrl", "title": "Open the incident", "url": m.Link}}
	}
	return map[string]any{
		"type": "message",
		"attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"contentUrl":  nil,
			"content":     card,
		}},
	}
}
