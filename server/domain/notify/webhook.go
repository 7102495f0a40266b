package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"

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

// sendWebhook POSTs the delivery's JSON payload, signed when the delivery has a secret.
func sendWebhook(ctx context.Context, cfg *Config, d *db.NotificationDelivery) outcome {
	body := []byte(d.Payload)
	h := http.Header{}
	h.Set(HeaderEvent, eventOf(body))
	if d.Secret != nil && *d.Secret != "" {
		h.Set(HeaderSignature, Sign([]byte(*d.Secret), body))
	}
	return postJSON(ctx, cfg, d, body, h)
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
