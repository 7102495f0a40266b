package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/secuaas/secumon/gen/db"
)

// slackEscaper escapes the three characters Slack's mrkdwn reserves for links and mentions.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// sendSlack posts the subject (in bold) and the text to a Slack incoming webhook.
func sendSlack(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	text := "*" + slackEscaper.Replace(d.Subject) + "*"
	if d.Body != "" {
		text += "\n" + slackEscaper.Replace(d.Body)
	}
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return outcome{Err: err, Permanent: true}
	}
	return postJSON(ctx, cfg, d, body, http.Header{})
}
