package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/secuaas/secumon/gen/db"
)

// Webhook request headers.
const (
	// HeaderSignature is "sha256=" and the hex HMAC-SHA256 of the exact request body, keyed
	// with the delivery's secret; absent when it has none.
	HeaderSignature = "X-SecuMon-Signature"
	// HeaderDelivery is the delivery id: the same on every retry of one notification, so
	// receivers can drop duplicates.
	HeaderDelivery = "X-SecuMon-Delivery"
	// HeaderEvent is the payload's "event" field, or "notification".
	HeaderEvent = "X-SecuMon-Event"
)

// sendWebhook POSTs the delivery's JSON payload, or the body rendered from the policy's
// template with its content type, signed when the delivery has a secret, with the policy's
// extra headers.
func sendWebhook(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	body := []byte(d.Payload)
	contentType := "application/json"
	var opts Options
	_ = json.Unmarshal(d.Options, &opts)
	if opts.Body != nil {
		body = []byte(*opts.Body)
		if opts.ContentType != "" {
			contentType = opts.ContentType
		}
	}
	h := http.Header{}
	if len(d.Headers) > 0 {
		var extra map[string]string
		if err := json.Unmarshal(d.Headers, &extra); err != nil {
			return outcome{Err: errors.New("unreadable extra headers"), Permanent: true}
		}
		for k, v := range extra {
			h.Set(k, v)
		}
	}
	h.Set("Content-Type", contentType)
	h.Set(HeaderEvent, eventOf(d.Payload))
	if d.Secret != nil && *d.Secret != "" {
		h.Set(HeaderSignature, Sign([]byte(*d.Secret), body))
	}
	out, _ := post(ctx, cfg, d, d.Target, body, h)
	return out
}

// ReservedHeader reports whether a webhook's extra header may not be set by a policy: the
// ones the request itself defines.
func ReservedHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "Content-Type", "Content-Length", "Host", "User-Agent", "Transfer-Encoding", "Connection":
		return true
	}
	return strings.HasPrefix(strings.ToLower(name), "x-secumon-")
}

// Sign returns the X-SecuMon-Signature value of body under secret: "sha256=<hex HMAC>".
// Receivers compute the same over the raw body they read and compare with hmac.Equal.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// eventOf returns the payload's top-level "event" string, or "notification".
func eventOf(payload []byte) string {
	var p struct {
		Event string `json:"event"`
	}
	if json.Unmarshal(payload, &p) != nil || p.Event == "" {
		return "notification"
	}
	return p.Event
}
