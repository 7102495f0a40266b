package docs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/server/edge/docs"
	"github.com/secuaas/secumon/server/testkit/browsertest"
)

func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	h, err := docs.NewHandler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, ifNoneMatch string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

// countOperations counts method keys under paths, the way a client generator sees the document.
func countOperations(t *testing.T, jsonDoc []byte) int {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(jsonDoc, &doc); err != nil {
		t.Fatalf("served JSON does not parse: %v", err)
	}
	n := 0
	for _, item := range doc.Paths {
		for k := range item {
			if httpMethods[k] {
				n++
			}
		}
	}
	return n
}

// operationsIn counts the operations of an embedded YAML document, so that the JSON served
// for it must have every one of them.
func operationsIn(t *testing.T, yamlDoc []byte) int {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(yamlDoc)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, item := range doc.Paths.Map() {
		n += len(item.Operations())
	}
	return n
}

func TestEndpoints(t *testing.T) {
	srv := newServer(t)
	if n := operationsIn(t, openapi.MainYAML); n < 62 {
		t.Fatalf("the contract has %d operations, fewer than the reference's 62", n)
	}
	for _, tc := range []struct {
		path, contentType string
		operations        int // for the documents
		want              []byte
	}{
		{docs.MainYAMLPath, "application/yaml", operationsIn(t, openapi.MainYAML), nil},
		{docs.MainJSONPath, "application/json", operationsIn(t, openapi.MainYAML), nil},
		{docs.PublicYAMLPath, "application/yaml", operationsIn(t, openapi.PublicYAML), nil},
		{docs.PublicJSONPath, "application/json", operationsIn(t, openapi.PublicYAML), nil},
		{docs.PingYAMLPath, "application/yaml", operationsIn(t, openapi.PingYAML), nil},
		{docs.PingJSONPath, "application/json", operationsIn(t, openapi.PingYAML), nil},
		{docs.PagePath, "text/html; charset=utf-8", 0, nil},
		{docs.RedocPath, "text/javascript; charset=utf-8", 0, openapi.RedocJS},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, body := get(t, srv.URL+tc.path, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if ct := resp.Header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if tc.want != nil && !bytes.Equal(body, tc.want) {
				t.Errorf("body differs from the embedded asset")
			}
			if tc.operations != 0 {
				if tc.contentType == "application/yaml" {
					// The served YAML is the authored document with one more server.
					if n := operationsIn(t, body); n != tc.operations {
						t.Errorf("%d operations, want %d", n, tc.operations)
					}
				} else if n := countOperations(t, body); n != tc.operations {
					t.Errorf("%d operations under paths, want %d", n, tc.operations)
				}
			}
			etag := resp.Header.Get("ETag")
			if etag == "" {
				t.Fatal("no ETag")
			}
			resp, body = get(t, srv.URL+tc.path, etag)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("If-None-Match: status %d with %d bytes, want 304 and no body", resp.StatusCode, len(body))
			}
		})
	}

	// The page must not pull anything from another origin (CDN, web fonts).
	_, page := get(t, srv.URL+docs.PagePath, "")
	if bytes.Contains(page, []byte("//")) {
		t.Errorf("page references an absolute URL:\n%s", page)
	}
	if resp, _ := get(t, srv.URL+docs.RedocPath, ""); !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") {
		t.Errorf("Redoc Cache-Control %q, want a long max-age", resp.Header.Get("Cache-Control"))
	}
}

// serverURLs loads an OpenAPI document (YAML or JSON) and returns its servers' URLs.
func serverURLs(t *testing.T, doc []byte) []string {
	t.Helper()
	loaded, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		t.Fatalf("the document does not load: %v", err)
	}
	var urls []string
	for _, s := range loaded.Servers {
		urls = append(urls, s.URL)
	}
	return urls
}

// The served documents name the server they were read from first, whatever address it
// listens on, so /docs shows (and a generated client calls) the address in use; the
// authored servers follow.
func TestServedDocumentsNameThisServerFirst(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		path, base string
		authored   []byte
	}{
		{docs.MainJSONPath, "/api/v2", openapi.MainYAML},
		{docs.MainYAMLPath, "/api/v2", openapi.MainYAML},
		{docs.PublicJSONPath, "", openapi.PublicYAML},
		{docs.PublicYAMLPath, "", openapi.PublicYAML},
		{docs.PingJSONPath, "", openapi.PingYAML},
		{docs.PingYAMLPath, "", openapi.PingYAML},
	} {
		t.Run(tc.path, func(t *testing.T) {
			authored := serverURLs(t, tc.authored)
			resp, body := get(t, srv.URL+tc.path, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d", resp.StatusCode)
			}
			urls := serverURLs(t, body)
			if len(urls) == 0 || urls[0] != srv.URL+tc.base {
				t.Fatalf("servers %q: the first should be %s", urls, srv.URL+tc.base)
			}
			if !slices.Equal(urls[1:], authored) {
				t.Errorf("servers %q: after this server, want the authored ones %q", urls, authored)
			}

			// Behind a proxy that terminates TLS, under another name.
			req, err := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "monitor.example.net"
			req.Header.Set("X-Forwarded-Proto", "https")
			proxied, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer proxied.Body.Close()
			body, err = io.ReadAll(proxied.Body)
			if err != nil {
				t.Fatal(err)
			}
			if urls := serverURLs(t, body); urls[0] != "https://monitor.example.net"+tc.base {
				t.Errorf("behind a proxy: first server %q", urls[0])
			}
			if proxied.Header.Get("ETag") == resp.Header.Get("ETag") {
				t.Error("two different documents have the same ETag")
			}

			// A Host HTTP allows that is not a plain host name never reaches the document.
			req.Host = "x'y(z).example"
			odd, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer odd.Body.Close()
			body, err = io.ReadAll(odd.Body)
			if err != nil || odd.StatusCode != http.StatusOK {
				t.Fatalf("with an odd Host: status %d, %v", odd.StatusCode, err)
			}
			if urls := serverURLs(t, body); !slices.Equal(urls, authored) {
				t.Errorf("with an odd Host: servers %q, want the authored ones", urls)
			}
		})
	}
}

// chromium runs the browser on the docs page: a tall window, and time for Redoc to fetch
// the spec and render it.
func chromium(t *testing.T, extra ...string) []byte {
	t.Helper()
	return browsertest.Run(t, "1280,2000", 15*time.Second, extra...)
}

// TestBrowserRendersDocs opens /docs in a real browser and checks that Redoc rendered every
// operation and tag of the embedded spec: only a browser proves the page works offline.
func TestBrowserRendersDocs(t *testing.T) {
	browsertest.Require(t)
	artifacts := browsertest.Artifacts(t)

	spec, err := openapi.Load(context.Background(), openapi.MainYAML)
	if err != nil {
		t.Fatal(err)
	}
	srv := newServer(t)
	url := srv.URL + docs.PagePath

	t.Run("dom", func(t *testing.T) {
		netLog := filepath.Join(t.TempDir(), "netlog.json")
		dom := string(chromium(t, "--dump-dom", "--log-net-log="+netLog, url))
		if err := os.WriteFile(filepath.Join(artifacts, "docs-dom.html"), []byte(dom), 0o644); err != nil {
			t.Fatal(err)
		}
		// Redoc renders each tag and operation as a section whose <h2> holds an anchor then
		// the title; Chromium serializes text with only &, < and > escaped.
		esc := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
		ops := 0
		for _, item := range spec.Paths.Map() {
			for method, op := range item.Operations() {
				ops++
				if op.Summary == "" {
					t.Errorf("%s %s has no summary", method, op.OperationID)
				}
				if !strings.Contains(dom, "</a>"+esc(op.Summary)) {
					t.Errorf("operation %s: summary %q not rendered", op.OperationID, op.Summary)
				}
				if !strings.Contains(dom, `"operation/`+op.OperationID+`"`) {
					t.Errorf("operation %s: no Redoc section", op.OperationID)
				}
			}
		}
		for _, tag := range spec.Tags {
			if !strings.Contains(dom, "</a>"+esc(tag.Name)+"</h2>") {
				t.Errorf("tag %q: no section heading", tag.Name)
			}
		}
		if ops == 0 || len(spec.Tags) == 0 {
			t.Fatalf("spec has %d operations and %d tags: nothing was checked", ops, len(spec.Tags))
		}
		t.Logf("%d operations and %d tags rendered", ops, len(spec.Tags))
		// Each operation's code samples: a curl tab (shown first) and a Go SDK tab.
		for _, tab := range []string{"curl", "Go SDK"} {
			if n := strings.Count(dom, `data-rttab="true">`+tab+`</li>`); n != ops {
				t.Errorf("%d %q sample tabs rendered, want one per operation (%d)", n, tab, ops)
			}
		}
		// Every check type's config fields render, with their documented defaults: the
		// schemas of the contract's config variants, field by field.
		configs := 0
		for _, name := range []string{"PingConfig", "SnmpConfig", "HttpConfig", "TcpConfig", "DnsConfig", "TlsConfig", "GrpcConfig", "SmtpConfig", "PostgresConfig"} {
			schema := spec.Components.Schemas[name]
			if schema == nil {
				t.Errorf("the contract has no %s", name)
				continue
			}
			for field, prop := range schema.Value.Properties {
				configs++
				if !strings.Contains(dom, ">"+field+"<") {
					t.Errorf("%s.%s is not rendered", name, field)
				}
				if desc := prop.Value.Description; desc != "" && !strings.Contains(dom, esc(firstWords(desc))) {
					t.Errorf("%s.%s: its description %q is not rendered", name, field, desc)
				}
			}
		}
		for _, field := range []string{"body_contains", "query_name", "crit_loss_pct", "warn_days", "community"} {
			if !strings.Contains(dom, ">"+field+"<") {
				t.Errorf("config field %s is not rendered", field)
			}
		}
		t.Logf("%d config fields rendered", configs)
		if !strings.Contains(dom, srv.URL+"/api/v2") {
			t.Errorf("the page does not show this server's URL %s/api/v2", srv.URL)
		}
		checkSameOrigin(t, netLog, srv.URL)
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(artifacts, "docs.png")
		chromium(t, "--screenshot="+shot, url)
		data, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) <= 20<<10 {
			t.Errorf("screenshot is only %d bytes: the page is probably blank", len(data))
		}
		img, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("screenshot is not a PNG: %v", err)
		}
		t.Logf("screenshot %s: %d bytes, %v", shot, len(data), img.Bounds().Size())
	})
}

// checkSameOrigin reads Chromium's NetLog and fails on any request the page itself started
// (initiator = the docs origin) towards another origin: a CDN script, web font or logo would
// break air-gapped installs and leak visits. Chromium's own background requests carry no
// origin as initiator and are not the page's doing.
func checkSameOrigin(t *testing.T, netLogPath, origin string) {
	t.Helper()
	data, err := os.ReadFile(netLogPath)
	if err != nil {
		t.Fatal(err)
	}
	var netLog struct {
		Constants struct {
			LogEventTypes map[string]int `json:"logEventTypes"`
		} `json:"constants"`
		Events []struct {
			Type   int `json:"type"`
			Params struct {
				URL       string `json:"url"`
				Initiator string `json:"initiator"`
			} `json:"params"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &netLog); err != nil {
		t.Fatalf("NetLog: %v", err)
	}
	startJob, ok := netLog.Constants.LogEventTypes["URL_REQUEST_START_JOB"]
	if !ok {
		t.Fatal("NetLog has no URL_REQUEST_START_JOB event type")
	}
	seen := 0
	for _, e := range netLog.Events {
		if e.Type != startJob || e.Params.Initiator != origin {
			continue
		}
		seen++
		if !strings.HasPrefix(e.Params.URL, origin+"/") {
			t.Errorf("the page requested %s", e.Params.URL)
		}
	}
	if seen == 0 {
		t.Error("NetLog shows no request from the page: the check proves nothing")
	}
}

// Every operation of the served document carries its curl and Go SDK samples (x-codeSamples,
// rendered by Redoc), made from the contract by package samples.
func TestServedDocumentHasCodeSamples(t *testing.T) {
	srv := newServer(t)
	_, body := get(t, srv.URL+docs.MainJSONPath, "")
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths {
		for method, raw := range item {
			if !httpMethods[method] {
				continue
			}
			n++
			var op struct {
				Samples []struct{ Lang, Label, Source string } `json:"x-codeSamples"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			var langs []string
			for _, s := range op.Samples {
				langs = append(langs, s.Lang)
				if s.Source == "" {
					t.Errorf("%s %s: empty %s sample", method, path, s.Lang)
				}
			}
			if !slices.Equal(langs, []string{"Shell", "Go"}) {
				t.Errorf("%s %s: samples %q, want curl then Go", method, path, langs)
			}
		}
	}
	if n != operationsIn(t, openapi.MainYAML) {
		t.Errorf("%d operations served, want %d", n, operationsIn(t, openapi.MainYAML))
	}
}

// firstWords is the start of a description up to its first markup (backquotes render as
// <code>), enough to prove the text is on the page.
func firstWords(desc string) string {
	if i := strings.IndexAny(desc, "`*_[\n"); i >= 0 {
		desc = desc[:i]
	}
	return strings.TrimSpace(desc)
}
