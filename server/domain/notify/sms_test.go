package notify_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/notify"
)

// twilioConfig points the Twilio settings at a loopback receiver.
func twilioConfig(base string) notify.Config {
	cfg := fastRetries()
	cfg.Twilio = notify.TwilioConfig{URL: base, AccountSID: "AC0123456789abcdef", AuthToken: "s3cret-token", From: "+15005550006"}
	return cfg
}

// An SMS is a form-encoded POST to the account's Messages resource with HTTP basic auth,
// as Twilio documents it.
func TestSMS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) })
	e.startWorker(t, twilioConfig(rcv.URL))

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelSMS, Target: "+15145550123", Subject: "[SecuMon] CRITICAL opened: db-01 down", Text: "level 2"})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodPost, r.method)
	assert.Equal(t, "/2010-04-01/Accounts/AC0123456789abcdef/Messages.json", r.path)
	assert.Equal(t, "application/x-www-form-urlencoded", r.header.Get("Content-Type"))
	user, pass, ok := (&http.Request{Header: r.header}).BasicAuth()
	require.True(t, ok)
	assert.Equal(t, "AC0123456789abcdef", user)
	assert.Equal(t, "s3cret-token", pass)
	form, err := url.ParseQuery(string(r.body))
	require.NoError(t, err)
	assert.Equal(t, url.Values{"To": {"+15145550123"}, "From": {"+15005550006"}, "Body": {"[SecuMon] CRITICAL opened: db-01 down\nlevel 2"}}, form)
}

// A voice call posts TwiML that says the subject to the Calls resource.
func TestVoice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) })
	e.startWorker(t, twilioConfig(rcv.URL))

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelVoice, Target: "+15145550123", Subject: "db-01 <down> & out"})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, "/2010-04-01/Accounts/AC0123456789abcdef/Calls.json", reqs[0].path)
	form, err := url.ParseQuery(string(reqs[0].body))
	require.NoError(t, err)
	assert.Equal(t, url.Values{"To": {"+15145550123"}, "From": {"+15005550006"},
		"Twiml": {"<Response><Say>db-01 &lt;down&gt; &amp; out</Say></Response>"}}, form)
}

// Twilio refuses an unreachable number with a 400: permanent, and the token is never in the
// recorded error. A 429 with Retry-After is retried.
func TestSMSRefusalsAndRetries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		http.Error(w, `{"code":21211,"message":"The 'To' number is not a valid phone number."}`, http.StatusBadRequest)
	})
	e.startWorker(t, twilioConfig(rcv.URL))
	id := e.enqueue(t, notify.Message{Channel: notify.ChannelSMS, Target: "+15145550123", Subject: "s"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	assert.EqualValues(t, 2, d.Attempts)
	assert.Contains(t, *d.LastError, "21211")
	assert.NotContains(t, *d.LastError, "s3cret-token")
}

func TestPhoneTargetsAreE164(t *testing.T) {
	assert.NoError(t, notify.ValidateTarget(notify.ChannelSMS, "+33612345678"))
	for _, bad := range []string{"0612345678", "+0612345678", "+1 514 555 0123", "+123"} {
		assert.Error(t, notify.ValidateTarget(notify.ChannelVoice, bad), bad)
	}
}
