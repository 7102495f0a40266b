package notify_test

import (
	"bytes"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/notify"
	"github.com/secuaas/secumon/server/domain/notify/smtptest"
)

// mailConfig points the notifier at sink, with fast retries.
func mailConfig(s *smtptest.Sink) notify.Config {
	cfg := fastRetries()
	cfg.SMTP = notify.SMTPConfig{Host: "127.0.0.1", Port: s.Port, From: "SecuMon <alerts@secumon.test>"}
	return cfg
}

func TestEmail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sink := smtptest.Start(t)
	e.startWorker(t, mailConfig(sink))

	subject := "[critical] web-01 : ping échoue"
	body := "Host web-01 stopped answering ping.\nOpened at 10:42 UTC.\n" + strings.Repeat("long line ", 20)
	id := e.enqueue(t, notify.Message{
		Channel: notify.ChannelEmail, Target: "Ops Team <ops@example.test>", Subject: subject, Text: body,
	})

	var got smtptest.Envelope
	select {
	case got = <-sink.Got:
	case <-time.After(15 * time.Second):
		t.Fatal("no mail received")
	}
	require.Equal(t, "alerts@secumon.test", got.From)
	require.Equal(t, []string{"ops@example.test"}, got.To)

	msg, err := mail.ReadMessage(bytes.NewReader(got.Data))
	require.NoError(t, err)
	dec := new(mime.WordDecoder)
	gotSubject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	require.NoError(t, err)
	require.Equal(t, subject, gotSubject)
	require.Equal(t, `"Ops Team" <ops@example.test>`, msg.Header.Get("To"))
	require.Equal(t, id.String(), msg.Header.Get(notify.HeaderDelivery))
	require.Equal(t, "<"+id.String()+"@secumon>", msg.Header.Get("Message-ID"))
	text, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	require.NoError(t, err)
	require.Equal(t, body, strings.TrimSuffix(strings.ReplaceAll(string(text), "\r\n", "\n"), "\n"))

	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusSent, d.Status)
	require.EqualValues(t, 1, d.Attempts)
	att := e.attempts(t, id)
	require.Len(t, att, 1)
	require.True(t, att[0].Ok)
}

func TestEmailRefusedRecipientIsPermanent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sink := smtptest.Start(t)
	e.startWorker(t, mailConfig(sink))

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelEmail, Target: "nobody@refused.test", Subject: "s", Text: "b"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.EqualValues(t, 1, d.Attempts)
	require.Contains(t, *d.LastError, "no such user")
	att := e.attempts(t, id)
	require.Len(t, att, 1)
	require.EqualValues(t, 550, *att[0].StatusCode)
	require.Empty(t, sink.Got)
}

func TestEmailWithoutSMTPHost(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := fastRetries()
	cfg.MaxAttempts = 2
	e.startWorker(t, cfg)

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelEmail, Target: "ops@example.test", Subject: "s", Text: "b"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.EqualValues(t, 2, d.Attempts, "a missing configuration is retried: it may be fixed meanwhile")
	require.Contains(t, *d.LastError, notify.EnvSMTPHost)
}

func TestEmailCredentialsNeedTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cfg := fastRetries()
	cfg.MaxAttempts = 1
	// The guard refuses before dialing: nothing is sent to this name, nor is it resolved.
	cfg.SMTP = notify.SMTPConfig{Host: "smtp.example.test", Username: "u", Password: "p"}
	e.startWorker(t, cfg)

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelEmail, Target: "ops@example.test", Subject: "s"})
	d := e.waitDone(t, id)
	require.Equal(t, notify.StatusFailed, d.Status)
	require.Contains(t, *d.LastError, notify.EnvSMTPStartTLS)
}

func TestEmailAuthenticates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	sink := smtptest.Start(t)
	sink.User, sink.Password = "secumon", "hunter2"
	cfg := mailConfig(sink)
	cfg.SMTP.Username, cfg.SMTP.Password = "secumon", "hunter2" // to loopback: no TLS needed
	e.startWorker(t, cfg)

	id := e.enqueue(t, notify.Message{Channel: notify.ChannelEmail, Target: "ops@example.test", Subject: "s", Text: "b"})
	require.Equal(t, notify.StatusSent, e.waitDone(t, id).Status)
	require.Equal(t, []string{"ops@example.test"}, (<-sink.Got).To)
}
