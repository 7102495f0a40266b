package notify

import (
	"context"
	"time"

	"github.com/secuaas/secumon/gen/db"
)

// sender sends a delivery once, through one channel. Each channel's file has one.
type sender func(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome

// senders maps a delivery's channel to its sender.
var senders = map[string]sender{
	ChannelEmail:   sendEmail,
	ChannelWebhook: sendWebhook,
	ChannelSlack:   sendSlack,
	ChannelSMS:     sendSMS,
	ChannelVoice:   sendVoice,
}

// outcome is the result of one attempt.
type outcome struct {
	Err        error         // nil when the receiver accepted the notification
	StatusCode int           // HTTP status, or the SMTP reply code of a refusal; 0 if none
	Permanent  bool          // trying again cannot help (a 4xx, a refused recipient)
	RetryAfter time.Duration // how long the receiver asked us to wait, 0 if it did not
}
