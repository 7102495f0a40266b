package notify

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/secuaas/secumon/gen/db"
)

// sender sends a delivery once, through one channel. Each channel's file has one.
type sender func(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome

// senders maps a delivery's channel to its sender.
var senders = map[string]sender{
	ChannelEmail:     sendEmail,
	ChannelWebhook:   sendWebhook,
	ChannelSlack:     sendSlack,
	ChannelTeams:     sendTeams,
	ChannelDiscord:   sendDiscord,
	ChannelTelegram:  sendTelegram,
	ChannelPagerDuty: sendPagerDuty,
	ChannelOpsgenie:  sendOpsgenie,
	ChannelNtfy:      sendNtfy,
	ChannelSMS:       sendSMS,
	ChannelVoice:     sendVoice,
}

// Channels lists every channel a delivery may use (the keys of senders, sorted): the database's
// CHECK on notification_deliveries.channel must name exactly these.
func Channels() []string {
	return slices.Sorted(maps.Keys(senders))
}

// outcome is the result of one attempt.
type outcome struct {
	Err        error         // nil when the receiver accepted the notification
	StatusCode int           // HTTP status, or the SMTP reply code of a refusal; 0 if none
	Permanent  bool          // trying again cannot help (a 4xx, a refused recipient)
	RetryAfter time.Duration // how long the receiver asked us to wait, 0 if it did not
}
