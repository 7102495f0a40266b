package notify_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/notify"
)

func TestSlack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter) { _, _ = w.Write([]byte("ok")) })
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{
		Channel: notify.ChannelSlack, Target: rcv.URL + "/services/T0/B0/xyz",
		Subject: "web-01 <down>", Text: "ping & http failing",
	})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	reqs := rcv.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "application/json", reqs[0].header.Get("Content-Type"))
	var msg map[string]any
	require.NoError(t, json.Unmarshal(reqs[0].body, &msg))
	// Slack reads <…> as links and mentions: the text escapes them.
	require.Equal(t, map[string]any{"text": "*web-01 &lt;down&gt;*\nping &amp; http failing"}, msg)
}

func TestSlackGoneIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	// Slack answers 410 for an archived channel, 404 for a revoked hook.
	rcv := newReceiver(t, func(_ int, w http.ResponseWriter) { http.Error(w, "channel_is_archived", http.StatusGone) })
	e.startWorker(t, fastRetries())

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelSlack, Target: rcv.URL, Subject: "s"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.EqualValues(t, 1, d.Attempts)
	require.Contains(t, *d.LastError, "channel_is_archived")
	require.NotContains(t, *d.LastError, rcv.URL, "a Slack hook URL is a secret")
}
