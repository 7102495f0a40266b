package examples_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/syslog"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// readmeMarker precedes each ```sh block of the README that belongs to the walkthrough.
const readmeMarker = "<!-- readme-test -->"

// readmeBlock is one marked shell block of the README and the line its code starts on.
type readmeBlock struct {
	line int
	code string
}

// readmeBlocks returns the marked ```sh blocks of the README at path, in order.
func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var blocks []readmeBlock
	var cur *readmeBlock
	marked := false
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			cur.code += line + "\n"
		case strings.TrimSpace(line) == readmeMarker:
			marked = true
		case marked:
			require.Equal(t, "```sh", strings.TrimSpace(line), "README.md:%d: %s must come right before a ```sh block", n, readmeMarker)
			cur, marked = &readmeBlock{line: n + 1}, false
		}
	}
	require.NoError(t, sc.Err())
	require.Nil(t, cur, "README.md: a marked block is not closed")
	return blocks
}

// TestReadmeWalkthrough runs the README's walkthrough as a newcomer pastes it after
// `make run`: the ```sh blocks marked <!-- readme-test -->, in order, in one bash with
// `set -euo pipefail` (curl failing on HTTP errors), from the repository's root, against a
// real server with a probe worker and the syslog receiver. The blocks read the server's
// address, a token and the syslog port from SECUMON_URL, SECUMON_TOKEN and SYSLOG_PORT, which
// default to what `make run` uses.
func TestReadmeWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "jq", "logger", "make", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (make deps installs curl and jq)", tool)
		}
	}
	blocks := readmeBlocks(t, filepath.Join("..", "README.md"))
	require.GreaterOrEqual(t, len(blocks), 4, "the README's walkthrough blocks are marked with %s", readmeMarker)
	var script strings.Builder
	script.WriteString("set -euo pipefail\n")
	// An HTTP error fails the walkthrough; the README shows plain `curl -s`.
	script.WriteString("curl() { command curl --fail-with-body --show-error \"$@\"; }\n")
	for _, b := range blocks {
		fmt.Fprintf(&script, "printf '\\n### README.md:%d\\n'\n%s", b.line, b.code)
	}
	for _, want := range []string{"logger ", "app-security/reports", "token create", "status-pages"} {
		require.Contains(t, script.String(), want, "a walkthrough step is no longer marked %s", readmeMarker)
	}

	// The service is told a receiver runs; the test runs it (startSyslog) to know its port.
	env := servertest.Start(t, func(d *server.Deps) { d.Syslog = &syslog.Config{Addr: "127.0.0.1:0"} })
	startWorker(t, env)
	logs := startSyslog(t, env)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
	cmd.Dir = ".."
	for _, kv := range os.Environ() { // `make build` is not a sub-make of a `make test` running this
		if name, _, _ := strings.Cut(kv, "="); name != "MAKEFLAGS" && name != "MFLAGS" && name != "MAKELEVEL" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "SECUMON_URL="+env.URL, "SECUMON_TOKEN="+env.OwnerToken,
		"SYSLOG_PORT="+strconv.Itoa(logs.UDPAddr().Port),
		"DATABASE_URL="+env.Pool.Config().ConnString()) // for ./bin/secumon token create
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("README walkthrough:\n%s", out.String())
	require.NoError(t, err, "a README block failed (see the last ### README.md:line above)")

	got := out.String()
	assert.Contains(t, got, `{"count":0,"hosts":[]}`, "the first listing of the quick start")
	assert.Regexp(t, `created host [0-9a-f-]{36}\n`, got)
	assert.Regexp(t, `(?m)^web-prod-01$`, got, "the token minted by ./bin/secumon works")
	assert.Contains(t, got, `"name": "Site web"`, "the public status page lists its component")
	assert.Contains(t, got, `"ai_tags"`)
	assert.Contains(t, got, `"critical": 1`, "the app-security dashboard counts the sample report's findings")
	assert.Contains(t, got, "critical CVE-2024-45490: libexpat")
	assert.Regexp(t, `(?m)^\S+ nginx upstream timed out$`, got, "the host got its syslog entry")
	assert.Zero(t, logs.Stats().Unmatched, "no entry was dropped")
}

// startSyslog runs a syslog receiver on a free loopback port over env's database, as
// `make run` does on 127.0.0.1:5514.
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
