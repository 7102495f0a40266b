package client

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The server sends no rate-limit headers yet: a stand-in shows how they will be read.
func TestCaptureReadsRateLimitHeaders(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("RateLimit-Limit", "100")
		w.Header().Set("RateLimit-Remaining", "42")
		w.Header().Set("RateLimit-Reset", "30")
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"count":0,"hosts":[]}`))
	}))
	var resp Response
	before := time.Now()
	_, err := c.Hosts.List(context.Background(), nil, CaptureResponse(&resp))
	require.NoError(t, err)
	require.NotNil(t, resp.RateLimit)
	assert.Equal(t, 100, resp.RateLimit.Limit)
	assert.Equal(t, 42, resp.RateLimit.Remaining)
	assert.WithinRange(t, resp.RateLimit.Reset, before.Add(30*time.Second), time.Now().Add(30*time.Second))
}

func TestRateLimitHeaderForms(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	h := http.Header{}
	assert.Nil(t, rateLimit(h, now))
	h.Set("X-RateLimit-Limit", "60")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", "1800000060") // a Unix time
	assert.Equal(t, &RateLimit{Limit: 60, Remaining: 0, Reset: time.Unix(1_800_000_060, 0)}, rateLimit(h, now))
}
