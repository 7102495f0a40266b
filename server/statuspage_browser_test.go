package server_test

import (
	"bytes"
	"html"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/testkit/browsertest"
)

// TestStatusPageInBrowser opens a status page in a real browser, on a desktop and on a phone
// sized window: the rendered DOM holds every component and the open incident, and the
// screenshots are written ($SECUMON_ARTIFACTS when set).
func TestStatusPageInBrowser(t *testing.T) {
	browsertest.Require(t)
	artifacts := browsertest.Artifacts(t)
	f := newPublicFixture(t, 0)
	url := f.env.URL + "/status/web-prod"

	dom := html.UnescapeString(string(browsertest.Run(t, "1280,1000", 3*time.Second, "--dump-dom", url)))
	if err := os.WriteFile(filepath.Join(artifacts, "status-page-dom.html"), []byte(dom), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`id="component-site-web"`, "Site web", "Base de données", "Ping web", // the components
		"Production", "Réseau", // their groups
		"Base de données: major outage", "Bascule sur le réplica en cours.", // the open incident (public words) and its public update
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
		browsertest.Run(t, shot.window, 3*time.Second, "--screenshot="+path, url)
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
