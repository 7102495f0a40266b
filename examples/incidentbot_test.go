package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// syncBuffer is an output buffer a running process writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestIncidentBot runs the incident-bot binary with an operator's token: with -once it
// acknowledges the critical incident already open and exits; left running, it acknowledges a
// critical incident opened through the API while it follows the events, leaves a minor one
// alone, and stops cleanly on SIGINT.
func TestIncidentBot(t *testing.T) {
	bin := build(t, "incident-bot")
	env := servertest.Start(t)
	operator := env.Token(t, "default", access.Operator).Token
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	open := func(title string, sev client.Severity) client.Incident {
		t.Helper()
		inc, err := c.Incidents.Create(ctx, client.IncidentCreate{Title: title, Severity: &sev})
		require.NoError(t, err)
		return *inc
	}
	status := func(inc client.Incident) client.IncidentStatus {
		t.Helper()
		got, err := c.Incidents.Get(ctx, inc.Id)
		require.NoError(t, err)
		return got.Status
	}
	bot := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = append(os.Environ(), "SECUMON_URL="+env.URL, "SECUMON_TOKEN="+operator)
		return cmd
	}

	// -once: the incidents open now, then exit.
	before := open("disk full on db-1", client.SeverityCritical)
	out, err := bot("-once").CombinedOutput()
	t.Logf("incident-bot -once:\n%s", out)
	require.NoError(t, err)
	assert.Contains(t, string(out), "acknowledged critical incident "+before.Id.String())
	assert.Equal(t, client.IncidentStatusAcknowledged, status(before))

	// Following the stream.
	var log syncBuffer
	cmd := bot("-timeout", "50s")
	cmd.Stdout, cmd.Stderr = &log, &log
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		t.Logf("incident-bot:\n%s", log.String())
	}()
	require.Eventually(t, func() bool { return strings.Contains(log.String(), "open incidents") },
		15*time.Second, 20*time.Millisecond, "the bot reads the first event")

	minor := open("slow responses on web-1", client.SeverityMinor)
	critical := open("web-1 is down", client.SeverityCritical)
	require.Eventually(t, func() bool { return status(critical) == client.IncidentStatusAcknowledged },
		15*time.Second, 50*time.Millisecond, "the bot acknowledges the new critical incident")
	// The bot logs after its acknowledgement returns, so the line may follow the status by a moment.
	line := "acknowledged critical incident " + critical.Id.String() + ` "web-1 is down"`
	assert.Eventually(t, func() bool { return strings.Contains(log.String(), line) },
		5*time.Second, 20*time.Millisecond, "the bot logs its acknowledgement: %s", line)

	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-exited:
		require.NoError(t, err, "SIGINT is a normal stop")
	case <-time.After(10 * time.Second):
		t.Fatal("the bot did not stop on SIGINT")
	}
	assert.True(t, strings.HasSuffix(strings.TrimSpace(log.String()), "stopped"))
	assert.Equal(t, client.IncidentStatusInvestigating, status(minor), "a minor incident is left alone")
	assert.NotContains(t, log.String(), minor.Id.String())
	got, err := c.Incidents.Get(ctx, critical.Id)
	require.NoError(t, err)
	assert.NotNil(t, got.AcknowledgedBy, "the acknowledgement names the bot's user")
}
