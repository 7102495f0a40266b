package server_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/syslog"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// startSyslog runs a syslog receiver on a free loopback port over env's database.
func startSyslog(t *testing.T, env *servertest.Env) *syslog.Receiver {
	t.Helper()
	r, err := syslog.Listen(env.Pool, syslog.Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return r
}

// sendSyslog sends lines from the loopback address from: over UDP one datagram each, over
// TCP octet-counted when octet is set, else one per line.
func sendSyslog(t *testing.T, network, from string, to net.Addr, octet bool, lines ...string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(from)}}
	if network == "tcp" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial(network, to.String())
	require.NoError(t, err)
	defer c.Close()
	for _, l := range lines {
		switch {
		case network == "udp":
			_, err = c.Write([]byte(l))
		case octet:
			_, err = fmt.Fprintf(c, "%d %s", len(l), l)
		default:
			_, err = fmt.Fprintf(c, "%s\n", l)
		}
		require.NoError(t, err)
	}
}

func TestHostLogsFromTheSyslogReceiver(t *testing.T) {
	// The service only needs to know a receiver runs; the test runs its own (startReceiver).
	env := servertest.Start(t, func(o *server.Deps) { o.Syslog = &syslog.Config{Addr: "127.0.0.1:0"} })
	ctx := context.Background()
	c := env.Client(t, env.OwnerToken)
	lo := createHost(t, c, "loopback") // hostname 127.0.0.1: matched by source address
	created, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "app-01", Hostname: "app-01.example.net"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	app := *created.JSON201 // matched by the hostname in the message header
	r := startSyslog(t, env)

	now := time.Now().UTC().Truncate(time.Second)
	at := func(ago time.Duration) string { return now.Add(-ago).Format(time.RFC3339) }
	stamp := func(ago time.Duration) string { return now.Add(-ago).In(time.Local).Format(time.Stamp) }
	// From 127.0.0.1 (the loopback host): RFC 5424 and RFC 3164 over UDP and over TCP.
	sendSyslog(t, "udp", "127.0.0.1", r.UDPAddr(), false,
		"<11>1 "+at(4*time.Minute)+` box nginx 311 ID47 [origin@32473 ip="127.0.0.1"] upstream timed out`, // user.err
		"<30>"+stamp(3*time.Minute)+" box cron[7]: job done")                                              // daemon.info
	sendSyslog(t, "tcp", "127.0.0.1", r.TCPAddr(), true, "<34>1 "+at(2*time.Minute)+" box sshd 812 - - Failed password") // auth.crit
	sendSyslog(t, "tcp", "127.0.0.1", r.TCPAddr(), false, "<4>"+stamp(time.Minute)+" box kernel: link down")             // kern.warning
	// From another loopback address, naming app-01 in its header (case differs).
	sendSyslog(t, "udp", "127.0.0.2", r.UDPAddr(), false, "<134>1 "+at(time.Minute)+" APP-01 billing - - - invoice sent") // local0.info
	sendSyslog(t, "tcp", "127.0.0.2", r.TCPAddr(), false, "<131>"+stamp(30*time.Second)+" app-01 billing[9]: invoice failed")

	logsOf := func(id client.Id, params *client.GetHostLogsParams) *client.HostLogs {
		t.Helper()
		res, err := c.GetHostLogsWithResponse(ctx, id, params)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
		return res.JSON200
	}
	require.Eventually(t, func() bool { return r.Stats().Stored == 6 }, 10*time.Second, 20*time.Millisecond, "%+v", r.Stats())

	got := logsOf(lo.Id, nil)
	assert.True(t, got.Enabled)
	require.Equal(t, 4, got.Count)
	require.Len(t, got.Entries, 4)
	type summary struct {
		App      string
		Severity int
		Message  string
		Source   string
	}
	sum := func(e client.LogEntry) summary {
		return summary{App: *e.AppName, Severity: *e.Severity, Message: e.Message, Source: *e.SourceAddr}
	}
	assert.Equal(t, []summary{ // newest first
		{"kernel", 4, "link down", "127.0.0.1"},
		{"sshd", 2, "Failed password", "127.0.0.1"},
		{"cron", 6, "job done", "127.0.0.1"},
		{"nginx", 3, "upstream timed out", "127.0.0.1"},
	}, []summary{sum(got.Entries[0]), sum(got.Entries[1]), sum(got.Entries[2]), sum(got.Entries[3])})
	assert.True(t, now.Add(-4*time.Minute).Equal(got.Entries[3].Time), "the message's timestamp")
	assert.Equal(t, 1, *got.Entries[3].Facility)
	assert.Equal(t, "box", *got.Entries[3].Hostname)
	assert.Equal(t, "311", *got.Entries[3].ProcId)
	require.NotNil(t, got.Entries[3].MsgId)
	assert.Equal(t, "ID47", *got.Entries[3].MsgId)
	require.NotNil(t, got.Entries[3].Structured)
	assert.Equal(t, map[string]map[string]string{"origin@32473": {"ip": "127.0.0.1"}}, *got.Entries[3].Structured)
	assert.WithinDuration(t, time.Now(), *got.Entries[3].ReceivedAt, time.Minute)

	byName := logsOf(app.Id, nil)
	require.Equal(t, 2, byName.Count)
	assert.Equal(t, summary{"billing", 3, "invoice failed", "127.0.0.2"}, sum(byName.Entries[0]))
	assert.Equal(t, summary{"billing", 6, "invoice sent", "127.0.0.2"}, sum(byName.Entries[1]))
	assert.Equal(t, "APP-01", *byName.Entries[1].Hostname)

	// limit and the window.
	one := 1
	limited := logsOf(lo.Id, &client.GetHostLogsParams{Limit: &one})
	require.Len(t, limited.Entries, 1)
	assert.Equal(t, "link down", limited.Entries[0].Message)
	from, to := now.Add(-210*time.Second), now.Add(-90*time.Second)
	window := logsOf(lo.Id, &client.GetHostLogsParams{From: &from, To: &to})
	require.Equal(t, 2, window.Count)
	assert.Equal(t, "Failed password", window.Entries[0].Message)
	assert.Equal(t, "job done", window.Entries[1].Message)
	past := logsOf(lo.Id, &client.GetHostLogsParams{From: ptr(now.Add(-48 * time.Hour)), To: ptr(now.Add(-47 * time.Hour))})
	assert.True(t, past.Enabled)
	assert.Zero(t, past.Count)
	assert.Empty(t, past.Entries)

	// More than 24 hours: 400 naming the field.
	long, err := c.GetHostLogsWithResponse(ctx, lo.Id, &client.GetHostLogsParams{From: ptr(now.Add(-25 * time.Hour))})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, long.StatusCode(), string(long.Body))
	assert.Equal(t, []string{"from"}, resultsProblemFields(long.ApplicationproblemJSON400))
	for _, bad := range []int{0, 5001} {
		res, err := c.GetHostLogsWithResponse(ctx, lo.Id, &client.GetHostLogsParams{Limit: &bad})
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode(), "limit %d", bad)
		assert.Equal(t, []string{"limit"}, resultsProblemFields(res.ApplicationproblemJSON400), "limit %d", bad)
	}

	// Another workspace's owner does not see the host; a viewer of this one does.
	env.NewWorkspace(t, "other")
	other, err := env.Client(t, env.Token(t, "other", access.Owner).Token).GetHostLogsWithResponse(ctx, lo.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, other.StatusCode())
	viewer, err := env.Client(t, env.Token(t, "default", access.Viewer).Token).GetHostLogsWithResponse(ctx, lo.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, viewer.StatusCode())
}

func TestHostLogsWhenTheReceiverIsOff(t *testing.T) {
	env := servertest.Start(t) // SyslogEnabled false
	c := env.Client(t, env.OwnerToken)
	h := createHost(t, c, "loopback")
	res, err := c.GetHostLogsWithResponse(context.Background(), h.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	assert.False(t, res.JSON200.Enabled)
	assert.Zero(t, res.JSON200.Count)
	assert.NotNil(t, res.JSON200.Entries)
	assert.Empty(t, res.JSON200.Entries)
	assert.JSONEq(t, `{"enabled":false,"count":0,"entries":[]}`, string(res.Body))
}
