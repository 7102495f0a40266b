package server_test

import (
	"bytes"
	"context"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const chromiumPath = "/usr/bin/chromium"

// runChromium runs headless Chromium once with extra flags (the last being the URL) and
// returns its stdout.
func runChromium(t *testing.T, window string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--disable-background-networking", "--disable-component-update", "--no-first-run",
		"--disable-sync", "--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--window-size=" + window,
		"--virtual-time-budget=3000",
	}, extra...)
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, chromiumPath, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", extra, err, stderr.Bytes())
	}
	return stdout.Bytes()
}

// TestStatusPageInBrowser opens a status page in a real browser, on a desktop and on a phone
// sized window: the rendered DOM holds every component and the open incident, and the
// screenshots are written ($SECUMON_ARTIFACTS when set).
func TestStatusPageInBrowser(t *testing.T) {
	if os.Getenv("SECUMON_SKIP_BROWSER") == "1" {
		t.Skip("SECUMON_SKIP_BROWSER=1")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("%s not found (%v): run `apt-get install chromium`, or set SECUMON_SKIP_BROWSER=1 to skip this test", chromiumPath, err)
	}
	artifacts := os.Getenv("SECUMON_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	f := newPublicFixture(t, 0)
	url := f.env.URL + "/status/web-prod"

	dom := html.UnescapeString(string(runChromium(t, "1280,1000", "--dump-dom", url)))
	if err := os.WriteFile(filepath.Join(artifacts, "status-page-dom.html"), []byte(dom), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`id="component-site-web"`, "Site web", "Base de données", "Ping web", // the components
		"Production", "Réseau", // their groups
		"Base de données injoignable", "Bascule sur le réplica en cours.", // the open incident and its update
		"Mise à jour web-prod-01", // the maintenance window ahead
		"Some systems are down",   // the overall state
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if n := strings.Count(dom, `class="card component"`); n != 3 {
		t.Errorf("%d components rendered, want 3", n)
	}

	for _, shot := range []struct{ name, window string }{{"status-page.png", "1280,1000"}, {"status-page-phone.png", "390,844"}} {
		path := filepath.Join(artifacts, shot.name)
		runChromium(t, shot.window, "--screenshot="+path, url)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", shot.name, err)
		}
		if len(data) < 10<<10 {
			t.Errorf("%s is only %d bytes: the page is probably blank", shot.name, len(data))
		}
		t.Logf("screenshot %s: %d bytes, %v", path, len(data), img.Bounds().Size())
	}
}
