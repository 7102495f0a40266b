package notify

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/secuaas/secumon/gen/db"
)

// phonePattern is E.164: a plus, a country code not starting with 0, 7 to 15 digits in all.
// The contract's OncallMember.phone says the same.
var phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// ValidPhone reports whether s is an E.164 phone number such as +15145550123.
func ValidPhone(s string) bool { return phonePattern.MatchString(s) }

// smsMaxRunes keeps a text to a few SMS segments: Twilio refuses bodies over 1600 characters.
const smsMaxRunes = 320

// sendSMS texts the subject (and as much of the text as fits) through the Twilio Messages
// resource.
func sendSMS(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	body := d.Subject
	if d.Body != "" {
		body += "\n" + d.Body
	}
	if r := []rune(body); len(r) > smsMaxRunes {
		body = string(r[:smsMaxRunes-1]) + "…"
	}
	return twilioPost(ctx, cfg, d, "Messages.json", url.Values{"Body": {body}})
}

// twilioPost creates a resource of the account (Messages.json, Calls.json) for the delivery's
// phone number: a form-encoded POST with HTTP basic authentication, To and From plus fields.
// Twilio answers 201; 4xx refusals (a bad number, an unverified sender) are permanent, and
// 429/5xx are retried like webhooks.
func twilioPost(ctx context.Context, cfg *Config, d *db.NotificationDelivery, resource string, fields url.Values) outcome {
	tw := &cfg.Twilio
	if tw.AccountSID == "" || tw.AuthToken == "" || tw.From == "" {
		return outcome{Err: fmt.Errorf("%s is not configured: set %s, %s and %s", d.Channel, EnvTwilioAccountSID, EnvTwilioAuthToken, EnvTwilioFrom)}
	}
	if !ValidPhone(d.Target) {
		return outcome{Err: fmt.Errorf("recipient %q is not an E.164 phone number", d.Target), Permanent: true}
	}
	fields.Set("To", d.Target)
	fields.Set("From", tw.From)
	target := strings.TrimRight(tw.URL, "/") + "/2010-04-01/Accounts/" + url.PathEscape(tw.AccountSID) + "/" + resource
	h := http.Header{}
	h.Set("Content-Type", "application/x-www-form-urlencoded")
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(tw.AccountSID+":"+tw.AuthToken)))
	out, _ := post(ctx, cfg, d, target, []byte(fields.Encode()), h)
	return out
}
