package main

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/domain/notify/smtptest"
	"github.com/secuaas/secumon/server/testkit/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// A notification queued when the process dies is delivered after a restart: the real binary
// queues an e-mail while the mail server is down, is killed with SIGKILL, and once restarted
// (with the mail server up) it delivers the e-mail, once.
func TestQueuedNotificationSurvivesACrash(t *testing.T) {
	pool, dsn := dbtest.New(t)
	bin := filepath.Join(t.TempDir(), "secumon")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	smtpPort := freePort(t)
	dataDir := t.TempDir()
	env := append(os.Environ(), "DATABASE_URL="+dsn, "SECUMON_DATA_DIR="+dataDir, "SECUMON_NO_WORKER=true",
		"SECUMON_SMTP_HOST=127.0.0.1", "SECUMON_SMTP_PORT="+strconv.Itoa(smtpPort), "SECUMON_NOTIFY_RETRY_BASE=2s")

	proc, url := startServe(t, bin, env)
	token, err := os.ReadFile(filepath.Join(dataDir, "owner.token"))
	require.NoError(t, err)
	c, err := client.NewClientWithResponses(url+"/api/v2", client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
		return nil
	}))
	require.NoError(t, err)
	ctx := context.Background()
	p, err := c.CreateAlertPolicyWithResponse(ctx, nil, client.AlertPolicyCreate{Name: "ops",
		Channels: &client.AlertChannels{Email: &[]openapi_types.Email{"ops@example.com"}}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, p.StatusCode(), string(p.Body))
	inc, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "db-01 down"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode(), string(inc.Body))

	// The first attempt fails (nothing listens on the SMTP port); then the process dies.
	attempts := func() (n int) {
		require.NoError(t, pool.QueryRow(ctx, "SELECT count(*) FROM notification_attempts").Scan(&n))
		return n
	}
	deadline := time.Now().Add(20 * time.Second)
	jobState := func() (state string) {
		_ = pool.QueryRow(ctx, "SELECT state FROM river_job WHERE kind = 'notify_delivery'").Scan(&state)
		return state
	}
	// Killed while the delivery waits for its retry (a process killed in the middle of an
	// attempt leaves a running job that River rescues after RescueStuckJobsAfter instead).
	for attempts() == 0 || jobState() != "scheduled" {
		require.True(t, time.Now().Before(deadline), "no failed attempt waiting for its retry (job %q)", jobState())
		time.Sleep(20 * time.Millisecond)
	}
	require.NoError(t, proc.Process.Signal(syscall.SIGKILL))
	_ = proc.Wait()
	var status string
	require.NoError(t, pool.QueryRow(ctx, "SELECT status FROM notification_deliveries").Scan(&status))
	require.Equal(t, "queued", status)

	mail := smtptest.StartAt(t, smtpPort)
	startServe(t, bin, env)
	select {
	case m := <-mail.Got:
		assert.Equal(t, []string{"ops@example.com"}, m.To)
		assert.Contains(t, string(m.Data), "db-01 down")
	case <-time.After(30 * time.Second):
		var d, a string
		_ = pool.QueryRow(ctx, "SELECT status || ' ' || attempts || ' ' || last_error FROM notification_deliveries").Scan(&d)
		_ = pool.QueryRow(ctx, "SELECT state || ' ' || attempt || ' ' || scheduled_at::text FROM river_job WHERE kind = 'notify_delivery'").Scan(&a)
		t.Fatalf("the queued e-mail was not delivered after the restart: delivery %s; job %s", d, a)
	}
	select {
	case m := <-mail.Got:
		t.Fatalf("delivered twice: %s", m.Data)
	case <-time.After(2 * time.Second):
	}
	require.NoError(t, pool.QueryRow(ctx, "SELECT status FROM notification_deliveries").Scan(&status))
	assert.Equal(t, "sent", status)
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServe runs `secumon serve` on a free port and returns it once it listens; the process
// is killed when the test ends.
func startServe(t *testing.T, bin string, env []string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = env
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case url := <-urls:
		return cmd, url
	case <-time.After(30 * time.Second):
		t.Fatal("secumon serve did not start")
		return nil, ""
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
