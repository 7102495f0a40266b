package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/probes/runner/worker"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// startWorker runs a probe worker on env's database for the test, as `secumon serve` would.
func startWorker(t *testing.T, env *servertest.Env) {
	t.Helper()
	privileged := os.Geteuid() == 0
	servertest.Run(t, server.Deps{Pool: env.Pool, Worker: &worker.Options{
		Name: "examples-" + t.Name(), Location: "loopback", PollEvery: 50 * time.Millisecond,
		Runner: probes.NewRunner(probes.Options{Privileged: &privileged}),
	}})
}

// build compiles the example package pkg (relative to this directory) and returns its binary.
func build(t *testing.T, pkg string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("needs the go command to build the example")
	}
	bin := filepath.Join(t.TempDir(), filepath.Base(pkg))
	out, err := exec.Command(goTool, "build", "-o", bin, "./"+pkg).CombinedOutput()
	require.NoError(t, err, "go build %s:\n%s", pkg, out)
	return bin
}

// runExample runs cmd against env with the owner's token and returns its output.
func runExample(t *testing.T, env *servertest.Env, timeout time.Duration, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "SECUMON_URL="+env.URL, "SECUMON_TOKEN="+env.OwnerToken)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("%s:\n%s", filepath.Base(name), out.String())
	return out.String(), err
}

func hostCount(t *testing.T, env *servertest.Env) int64 {
	t.Helper()
	n, err := env.Queries.CountHosts(context.Background(), db.CountHostsParams{WorkspaceID: env.Workspace})
	require.NoError(t, err)
	return n
}

func TestQuickstart(t *testing.T) {
	bin := build(t, "quickstart")
	env := servertest.Start(t)
	startWorker(t, env)

	out, err := runExample(t, env, 90*time.Second, bin)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, out)
	assert.Regexp(t, `^created host quickstart-[0-9a-f]{8} \(127\.0\.0\.1\)$`, lines[0])
	assert.Regexp(t, `^created check "ping quickstart-[0-9a-f]{8}"$`, lines[1])
	status := "OK"
	if os.Geteuid() != 0 {
		status = `(OK|UNKNOWN|CRITICAL)` // ICMP may be refused to an unprivileged process
	}
	assert.Regexp(t, `^result: `+status+` in [0-9.]+ ms: `, lines[2])
	assert.Regexp(t, `^uptime over 24h: [0-9.]+% \([0-9]+ samples\)$`, lines[3])
	assert.Regexp(t, `^deleted host quickstart-[0-9a-f]{8}$`, lines[4])
	assert.Zero(t, hostCount(t, env), "the quickstart cleaned up")

	// Without SECUMON_TOKEN it takes the owner token `make run` wrote in .secumon, and
	// without that file either it says what is missing instead of calling the server.
	dir := t.TempDir()
	cmd := exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SECUMON_URL="+env.URL, "SECUMON_TOKEN=", "SECUMON_DATA_DIR=")
	msg, err := cmd.CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(msg), "set SECUMON_TOKEN")
	assert.Contains(t, string(msg), "`make run` wrote .secumon/owner.token")

	require.NoError(t, os.Mkdir(filepath.Join(dir, ".secumon"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".secumon", "owner.token"), []byte(env.OwnerToken+"\n"), 0o600))
	cmd = exec.Command(bin)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SECUMON_URL="+env.URL, "SECUMON_TOKEN=", "SECUMON_DATA_DIR=")
	msg, err = cmd.CombinedOutput()
	require.NoError(t, err, "%s", msg)
	assert.Regexp(t, `(?m)^deleted host quickstart-[0-9a-f]{8}$`, string(msg))
}

func TestCurlScript(t *testing.T) {
	for _, tool := range []string{"curl", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	_, jqErr := exec.LookPath("jq")
	_, pyErr := exec.LookPath("python3")
	if jqErr != nil && pyErr != nil {
		t.Skip("needs jq or python3")
	}
	env := servertest.Start(t)
	startWorker(t, env)

	out, err := runExample(t, env, 120*time.Second, "bash", "curl/secumon-api.sh")
	require.NoError(t, err, "the script reports unexpected answers")
	assert.Contains(t, out, "every call answered as expected")
	// The calls the server implements really ran, with the ids the script created.
	assert.Regexp(t, `POST "\$API/hosts" .*\n\{.*"hostname":"127\.0\.0\.1".*\}\n+→ 201`, out)
	assert.Regexp(t, `POST "\$API/checks/[0-9a-f-]{36}/run".*\n.*"queued":true.*\n+→ 202`, out)
	assert.Regexp(t, `DELETE "\$API/hosts/[0-9a-f-]{36}".*\n+→ 204`, out)
	assert.NotContains(t, out, "10.0.0.12", "nothing points at the documentation address")
	assert.Zero(t, hostCount(t, env), "the script cleaned up")
}
