package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/secuaas/secumon/gen/db"
)

// postJSON POSTs body to the delivery's target with the headers every HTTP channel sends,
// and classifies the answer: 2xx delivered; 408, 429 and 5xx worth retrying (429 and 503
// with the wait of their Retry-After); any other status permanent. Redirects are not
// followed by the default client, so a moved endpoint shows as a 3xx failure rather than a
// POST silently turned into a GET.
func postJSON(ctx context.Context, cfg *Config, d *db.NotificationDelivery, body []byte, h http.Header) outcome {
	h.Set("Content-Type", "application/json")
	return post(ctx, cfg, d, d.Target, body, h)
}

// post POSTs body to target with the headers h (which set the content type) and classifies
// the answer as postJSON says.
func post(ctx context.Context, cfg *Config, d *db.NotificationDelivery, target string, body []byte, h http.Header) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return outcome{Err: err, Permanent: true}
	}
	req.Header = h
	req.Header.Set("User-Agent", cfg.UserAgent)
	req.Header.Set(HeaderDelivery, d.ID.String())
	resp, err := cfg.HTTPClient.Do(req)
	if err != nil {
		// Not the *url.Error itself: its text holds the URL, and a Slack webhook URL is a secret.
		if ue := (*url.Error)(nil); errors.As(err, &ue) {
			err = fmt.Errorf("POST: %w", ue.Err)
		}
		return outcome{Err: err}
	}
	defer resp.Body.Close()
	// A little of the answer explains a refusal; the rest is drained so the connection is reused.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))

	out := outcome{StatusCode: resp.StatusCode}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return out
	}
	out.Err = fmt.Errorf("answered %s", resp.Status)
	if s := strings.TrimSpace(string(snippet)); s != "" {
		out.Err = fmt.Errorf("%w: %s", out.Err, strings.ToValidUTF8(s, "?"))
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		out.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	case code == http.StatusRequestTimeout || code >= 500:
	default:
		out.Permanent = true
	}
	return out
}

// parseRetryAfter reads a Retry-After value, seconds or an HTTP date; 0 when absent or invalid.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
