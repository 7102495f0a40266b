package notify_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/secuaas/secumon/server/domain/notify"
)

// Each delivery attempt is a span naming the channel, the attempt and its outcome, and
// never the receiver's address.
func TestDeliveryAttemptsAreSpans(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	rcv := newReceiver(t, func(n int, w http.ResponseWriter) {
		if n == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	spans := tracetest.NewSpanRecorder()
	cfg := fastRetries()
	cfg.Tracer = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	e.startWorker(t, cfg)

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelWebhook, Target: rcv.URL, Subject: "s"})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)

	ended := spans.Ended()
	require.Len(t, ended, 2)
	for i, want := range []struct {
		outcome string
		status  int64
		code    codes.Code
	}{{"failed", 503, codes.Error}, {"sent", 204, codes.Unset}} {
		s := ended[i]
		assert.Equal(t, "notify.deliver webhook", s.Name())
		assert.Equal(t, want.code, s.Status().Code)
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value
			assert.NotContains(t, kv.Value.Emit(), rcv.URL, "the target stays out of spans")
		}
		assert.Equal(t, "webhook", attrs["secumon.notify.channel"].AsString())
		assert.EqualValues(t, i+1, attrs["secumon.notify.attempt"].AsInt64())
		assert.Equal(t, want.outcome, attrs["secumon.notify.outcome"].AsString())
		assert.Equal(t, want.status, attrs["secumon.notify.status_code"].AsInt64())
		assert.Equal(t, id.String(), attrs["secumon.delivery_id"].AsString())
	}
}
