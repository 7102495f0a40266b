// Package browsertest runs Debian's headless Chromium for tests that must see a page as a
// browser renders it: what tests assert on is the DOM Chromium dumps, or its screenshot.
package browsertest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Path is where Debian's chromium package installs the browser.
const Path = "/usr/bin/chromium"

// Require skips t when SECUMON_SKIP_BROWSER=1, and fails it with the install hint when
// Chromium is missing: a browser test never passes silently without a browser.
func Require(t testing.TB) {
	t.Helper()
	if os.Getenv("SECUMON_SKIP_BROWSER") == "1" {
		t.Skip("SECUMON_SKIP_BROWSER=1")
	}
	if _, err := os.Stat(Path); err != nil {
		t.Fatalf("%s not found (%v): run `apt-get install chromium`, or set SECUMON_SKIP_BROWSER=1 to skip this test", Path, err)
	}
}

// Artifacts is the folder screenshots and dumps go to: $SECUMON_ARTIFACTS (created when
// missing) so CI can keep them, else a temporary folder of t.
func Artifacts(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("SECUMON_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Run runs headless Chromium once, in a window of the given size ("1280,1000"), with extra
// flags (the last being the URL), and returns its stdout. Virtual time lets the page settle
// (fetches, rendering) for up to settle without wall-clock sleeps.
func Run(t testing.TB, window string, settle time.Duration, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--disable-background-networking", "--disable-component-update", "--no-first-run",
		"--disable-sync", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--window-size=" + window,
		"--virtual-time-budget=" + strconv.FormatInt(settle.Milliseconds(), 10),
	}, extra...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, Path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.Bytes())
	}
	t.Logf("chromium %s took %v", extra[0], time.Since(start).Round(time.Millisecond))
	return stdout.Bytes()
}
