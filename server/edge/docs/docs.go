// Package docs serves SecuMon's API reference: the OpenAPI documents as YAML and JSON, and a
// Redoc page that renders them. Everything, Redoc included, comes from the binary (package
// openapi), so /docs works on an air-gapped install and never leaks a visit to a third party.
// The served documents name the server they are read from first in their servers, so the
// reference shows (and clients generated from it call) the address in use.
package docs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/openapi/samples"
	"github.com/secuaas/secumon/openapi/yamljson"
	"github.com/secuaas/secumon/server/edge/problem"
)

// URL paths served by NewHandler. The public status-page document lives under /docs/ rather than
// next to the /status/{slug} routes it describes, so it cannot collide with a page slug.
const (
	MainYAMLPath   = "/api/v2/openapi.yaml"
	MainJSONPath   = "/api/v2/openapi.json"
	PublicYAMLPath = "/docs/status-public.yaml"
	PublicJSONPath = "/docs/status-public.json"
	PingYAMLPath   = "/docs/ping.yaml"
	PingJSONPath   = "/docs/ping.json"
	PagePath       = "/docs"
	RedocPath      = "/docs/redoc.standalone.js"
)

// pageCSP confines the docs page to its own origin. Redoc's sidebar footer always loads a
// Redocly logo from cdn.redoc.ly (there is no option to turn it off); img-src 'self' blocks that
// request before it reaches the network, and the component then drops the broken image.
// styled-components injects inline <style>, and Redoc's search runs in a blob: worker.
const pageCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
	"worker-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// pageTemplate is the /docs page. hide-loading skips Redoc's spinner; Redoc 2 renders every
// operation eagerly, so nothing depends on scrolling (the browser test relies on that).
var pageTemplate = template.Must(template.New("docs").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SecuMon API v2</title>
<style>
body { margin: 0; }
.secumon-public { margin: 0; padding: 4px 16px; font: 13px sans-serif; color: #555; background: #f4f4f4; border-bottom: 1px solid #ddd; }
</style>
</head>
<body>
<p class="secumon-public">Public status-page routes (no authentication):
<a href="{{.PublicJSON}}">OpenAPI JSON</a> · <a href="{{.PublicYAML}}">YAML</a>.
Heartbeat pings (<code>/ping/{token}</code>, no authentication):
<a href="{{.PingJSON}}">OpenAPI JSON</a> · <a href="{{.PingYAML}}">YAML</a></p>
<redoc spec-url="{{.MainJSON}}" hide-loading></redoc>
<script src="{{.Redoc}}"></script>
</body>
</html>
`))

// asset is one immutable response body with its precomputed headers.
type asset struct {
	body         []byte
	contentType  string
	cacheControl string
	etag         string
	csp          string
}

func newAsset(body []byte, contentType, cacheControl string) *asset {
	sum := sha256.Sum256(body)
	return &asset{
		body:         body,
		contentType:  contentType,
		cacheControl: cacheControl,
		etag:         `"` + hex.EncodeToString(sum[:16]) + `"`,
	}
}

// ServeHTTP lets http.ServeContent do conditional requests (If-None-Match → 304), HEAD and
// ranges: with the ETag pre-set and a zero modtime, it has everything it needs.
func (a *asset) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cacheControl)
	h.Set("ETag", a.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if a.csp != "" {
		h.Set("Content-Security-Policy", a.csp)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(a.body))
}

// revalidate makes clients check the ETag on every use: the documents change with each release
// under the same URL, and a 304 costs almost nothing.
const revalidate = "no-cache"

// NewHandler returns the docs routes (see the *Path constants). The YAML documents are
// converted to JSON once here, so a broken embedded document fails at startup, not per request.
// The main document is served with a curl and a Go SDK sample on every operation
// (x-codeSamples, which Redoc renders), derived from the contract by package samples.
func NewHandler() (http.Handler, error) {
	withSamples, err := samples.AddToYAML(openapi.MainYAML)
	if err != nil {
		return nil, fmt.Errorf("docs: code samples: %w", err)
	}
	mainYAML, mainJSON, err := newServedDocs(withSamples, mainBasePath)
	if err != nil {
		return nil, fmt.Errorf("docs: main OpenAPI document: %w", err)
	}
	publicYAML, publicJSON, err := newServedDocs(openapi.PublicYAML, "")
	if err != nil {
		return nil, fmt.Errorf("docs: public OpenAPI document: %w", err)
	}
	pingYAML, pingJSON, err := newServedDocs(openapi.PingYAML, "")
	if err != nil {
		return nil, fmt.Errorf("docs: ping OpenAPI document: %w", err)
	}

	// Redoc's URL carries its hash, so it can be cached for a year and still be replaced the
	// moment an upgraded binary serves a page pointing at the new hash.
	redoc := newAsset(openapi.RedocJS, "text/javascript; charset=utf-8", "public, max-age=31536000, immutable")
	var page bytes.Buffer
	err = pageTemplate.Execute(&page, map[string]string{
		"MainJSON":   MainJSONPath,
		"PublicJSON": PublicJSONPath,
		"PublicYAML": PublicYAMLPath,
		"PingJSON":   PingJSONPath,
		"PingYAML":   PingYAMLPath,
		"Redoc":      RedocPath + "?v=" + redoc.etag[1:17],
	})
	if err != nil {
		return nil, fmt.Errorf("docs: render page: %w", err)
	}
	pageAsset := newAsset(page.Bytes(), "text/html; charset=utf-8", revalidate)
	pageAsset.csp = pageCSP

	mux := http.NewServeMux()
	mux.Handle("GET "+MainYAMLPath, mainYAML)
	mux.Handle("GET "+MainJSONPath, mainJSON)
	mux.Handle("GET "+PublicYAMLPath, publicYAML)
	mux.Handle("GET "+PublicJSONPath, publicJSON)
	mux.Handle("GET "+PingYAMLPath, pingYAML)
	mux.Handle("GET "+PingJSONPath, pingJSON)
	mux.Handle("GET "+PagePath, pageAsset)
	mux.Handle("GET "+RedocPath, redoc)
	mux.Handle("GET "+PagePath+"/{$}", pageAsset)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		problem.Write(w, r, problem.Newf(http.StatusNotFound, "nothing at %s", r.URL.Path))
	})
	return mux, nil
}

// mainBasePath is where the main document's operations live on a server.
const mainBasePath = samples.BasePath

// originMark stands for the request's origin in a served document until it is served.
const originMark = "SECUMON-SERVED-ORIGIN"

// servedDoc is an OpenAPI document whose first server is the one the request reached: the
// document split around the origin of that server's URL. The authored list follows, so a
// document read from the production server names it twice; one read through a host name
// that cannot be trusted (see requestOrigin) is served as authored.
type servedDoc struct {
	prefix, suffix []byte
	asAuthored     *asset
	contentType    string
	etag           string // of the document without the origin, quotes removed
}

// newServedDocs returns the YAML and JSON forms of the YAML document src, each naming the
// server the request reached first. basePath is where the document's paths start on it.
func newServedDocs(src []byte, basePath string) (yamlDoc, jsonDoc *servedDoc, err error) {
	// The documents are ours: the top-level servers list is a block sequence, indented by two.
	const key = "\nservers:\n"
	i := bytes.Index(src, []byte(key))
	if i < 0 {
		return nil, nil, fmt.Errorf("no top-level %q block", strings.TrimSpace(key))
	}
	i += len(key)
	self := "  - url: " + originMark + basePath + "\n    description: This server (the address your request reached)\n"
	marked := append(append(append([]byte{}, src[:i]...), self...), src[i:]...)
	markedJSON, err := yamljson.Convert(marked)
	if err != nil {
		return nil, nil, err
	}
	authoredJSON, err := yamljson.Convert(src)
	if err != nil {
		return nil, nil, err
	}
	if yamlDoc, err = newServedDoc(marked, src, "application/yaml"); err != nil {
		return nil, nil, err
	}
	if jsonDoc, err = newServedDoc(markedJSON, authoredJSON, "application/json"); err != nil {
		return nil, nil, err
	}
	return yamlDoc, jsonDoc, nil
}

func newServedDoc(marked, authored []byte, contentType string) (*servedDoc, error) {
	prefix, suffix, ok := bytes.Cut(marked, []byte(originMark))
	if !ok || bytes.Contains(suffix, []byte(originMark)) {
		return nil, fmt.Errorf("%s: the origin mark must occur once", contentType)
	}
	sum := sha256.Sum256(marked)
	return &servedDoc{
		prefix: prefix, suffix: suffix, contentType: contentType,
		asAuthored: newAsset(authored, contentType, revalidate),
		etag:       hex.EncodeToString(sum[:16]),
	}, nil
}

func (d *servedDoc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Vary", "X-Forwarded-Proto")
	origin := requestOrigin(r)
	if origin == "" {
		d.asAuthored.ServeHTTP(w, r)
		return
	}
	body := make([]byte, 0, len(d.prefix)+len(origin)+len(d.suffix))
	body = append(append(append(body, d.prefix...), origin...), d.suffix...)
	h := fnv.New64a()
	_, _ = h.Write([]byte(origin))
	a := &asset{
		body: body, contentType: d.contentType, cacheControl: revalidate,
		etag: `"` + d.etag + "-" + strconv.FormatUint(h.Sum64(), 16) + `"`,
	}
	a.ServeHTTP(w, r)
}

// requestOrigin is the scheme and host the request reached: its Host, over https when it
// came over TLS or X-Forwarded-Proto says so (a proxy terminating TLS), else http. It is ""
// when the Host is not a plain host[:port], which then never ends up in a document.
func requestOrigin(r *http.Request) string {
	host := r.Host
	if host == "" || len(host) > 255 {
		return ""
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return ""
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	if p := strings.ToLower(strings.TrimSpace(proto)); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + host
}
