package notify

import (
	"context"
	"encoding/xml"
	"net/url"
	"strings"

	"github.com/secuaas/secumon/gen/db"
)

// sendVoice calls the delivery's phone number through the Twilio Calls resource; the call
// reads the subject out twice (TwiML <Say>), since the first words of a call are often missed.
func sendVoice(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	return twilioPost(ctx, cfg, d, "Calls.json", url.Values{"Twiml": {voiceTwiML(d.Subject)}})
}

// voiceTwiML is the TwiML document of a call saying text, escaped for XML.
func voiceTwiML(text string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(text))
	return "<Response><Say>" + b.String() + "</Say></Response>"
}
