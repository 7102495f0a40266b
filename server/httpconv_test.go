package server_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// rawTransport sends requests as written: no automatic gzip, no redirect following.
var rawTransport = &http.Transport{DisableCompression: true}

// hx makes one request with headers ("Name: value") and returns the answer, its body read
// as sent on the wire.
func hx(t *testing.T, method, url, token, body string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: rawTransport}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, out
}

func TestCORS(t *testing.T) {
	const app = "https://app.example.com"
	env := servertest.Start(t, func(d *server.Deps) { d.CORSOrigins = []string{app} })
	api := env.URL + "/api/v2/hosts"

	t.Run("preflight from an allowed origin", func(t *testing.T) {
		resp, body := hx(t, http.MethodOptions, api, "", "",
			"Origin: "+app, "Access-Control-Request-Method: PUT", "Access-Control-Request-Headers: authorization, if-match")
		require.Equal(t, http.StatusNoContent, resp.StatusCode, string(body))
		h := resp.Header
		assert.Equal(t, app, h.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, h.Get("Access-Control-Allow-Methods"), "PUT")
		for _, name := range []string{"Authorization", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match", "traceparent"} {
			assert.Contains(t, h.Get("Access-Control-Allow-Headers"), name)
		}
		assert.NotEmpty(t, h.Get("Access-Control-Max-Age"))
		assert.Empty(t, h.Get("Access-Control-Allow-Credentials"), "bearer tokens, no cookies")
		assert.Contains(t, h.Values("Vary"), "Origin")
	})
	t.Run("preflight from another origin", func(t *testing.T) {
		resp, _ := hx(t, http.MethodOptions, api, "", "", "Origin: https://evil.example", "Access-Control-Request-Method: GET")
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "no permission given")
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Methods"))
	})
	t.Run("actual request exposes the API headers", func(t *testing.T) {
		resp, body := hx(t, http.MethodGet, api, env.OwnerToken, "", "Origin: "+app)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Equal(t, app, resp.Header.Get("Access-Control-Allow-Origin"))
		for _, name := range []string{"ETag", "Link", "Location", "Retry-After", "X-Request-Id", "RateLimit-Remaining"} {
			assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), name)
		}
		resp, _ = hx(t, http.MethodGet, api, env.OwnerToken, "", "Origin: https://evil.example")
		assert.Equal(t, http.StatusOK, resp.StatusCode, "CORS is the browser's business: the server still answers")
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("off unless configured; public status JSON open to all", func(t *testing.T) {
		off := servertest.Start(t)
		resp, _ := hx(t, http.MethodOptions, off.URL+"/api/v2/hosts", "", "", "Origin: "+app, "Access-Control-Request-Method: GET")
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "no CORS: OPTIONS is no operation")
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))

		c := off.Client(t, off.OwnerToken)
		createPage(t, c, client.StatusPageCreate{Slug: "open", Title: "Open", IsPublic: ptr(true)})
		resp, body := hx(t, http.MethodGet, off.URL+"/status/open/api", "", "", "Origin: https://blog.example")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		assert.Equal(t, "*", resp.Header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, resp.Header.Get("Access-Control-Expose-Headers"), "ETag")
		resp, _ = hx(t, http.MethodOptions, off.URL+"/status/open/api", "", "", "Origin: https://blog.example", "Access-Control-Request-Method: GET")
		assert.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Equal(t, "GET, HEAD", resp.Header.Get("Access-Control-Allow-Methods"))
		assert.NotContains(t, resp.Header.Get("Access-Control-Allow-Headers"), "Authorization", "private pages stay same-origin")
		resp, _ = hx(t, http.MethodGet, off.URL+"/status/open", "", "", "Origin: https://blog.example")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), "the HTML page stays same-origin")
	})
}

func TestGzip(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	for i := range 12 {
		createHost(t, c, fmt.Sprintf("gzip-host-%02d", i))
	}
	api := env.URL + "/api/v2/hosts"

	resp, body := hx(t, http.MethodGet, api, env.OwnerToken, "", "Accept-Encoding: gzip")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
	assert.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
	zr, err := gzip.NewReader(strings.NewReader(string(body)))
	require.NoError(t, err)
	plain, err := io.ReadAll(zr)
	require.NoError(t, err)
	var list client.HostList
	require.NoError(t, json.Unmarshal(plain, &list), "a single gzip layer of JSON")
	assert.Len(t, list.Hosts, 12)
	assert.Greater(t, len(plain), len(body))

	resp, body = hx(t, http.MethodGet, api, env.OwnerToken, "")
	assert.Empty(t, resp.Header.Get("Content-Encoding"), "not accepted")
	assert.Contains(t, resp.Header.Values("Vary"), "Accept-Encoding")
	assert.Equal(t, plain, body)
	resp, _ = hx(t, http.MethodGet, api, env.OwnerToken, "", "Accept-Encoding: gzip;q=0, br")
	assert.Empty(t, resp.Header.Get("Content-Encoding"), "refused with q=0")

	resp, _ = hx(t, http.MethodGet, env.URL+"/api/v2/hosts/"+list.Hosts[0].Id.String(), env.OwnerToken, "", "Accept-Encoding: gzip")
	assert.Empty(t, resp.Header.Get("Content-Encoding"), "a body under 1 KiB goes out as it is")

	t.Run("never on the event stream", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.URL+"/api/v2/events", nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+env.OwnerToken)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := (&http.Client{Transport: rawTransport}).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
		assert.Empty(t, resp.Header.Get("Content-Encoding"))
		// The first event arrives while the stream stays open: it was flushed, not held.
		sc := bufio.NewScanner(resp.Body)
		seen := false
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "event: summary") {
				seen = true
				break
			}
		}
		assert.True(t, seen, "the summary event is streamed in clear text")
	})
}

func TestETagsAndPreconditions(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	host := createHost(t, c, "etag-01")
	url := env.URL + "/api/v2/hosts/" + host.Id.String()

	resp, body := hx(t, http.MethodGet, url, env.OwnerToken, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	etag := resp.Header.Get("ETag")
	require.Regexp(t, `^"[A-Za-z0-9_-]{22}"$`, etag, "strong")
	assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))

	t.Run("If-None-Match", func(t *testing.T) {
		resp, again := hx(t, http.MethodGet, url, env.OwnerToken, "", "If-None-Match: "+etag)
		assert.Equal(t, http.StatusNotModified, resp.StatusCode)
		assert.Empty(t, again)
		assert.Equal(t, etag, resp.Header.Get("ETag"))
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		resp, again = hx(t, http.MethodGet, url, env.OwnerToken, "", `If-None-Match: "other", W/`+etag)
		assert.Equal(t, http.StatusNotModified, resp.StatusCode, "weak comparison, any of a list")
		resp, again = hx(t, http.MethodGet, url, env.OwnerToken, "", `If-None-Match: "other"`)
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, body, again)
	})

	t.Run("If-Match", func(t *testing.T) {
		resp, body := hx(t, http.MethodPut, url, env.OwnerToken, `{"description":"one"}`, `If-Match: "stale"`)
		require.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, string(body))
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		var p struct{ Type, Detail string }
		require.NoError(t, json.Unmarshal(body, &p))
		assert.True(t, strings.HasSuffix(p.Type, "/precondition-failed"), p.Type)
		assert.Contains(t, p.Detail, "If-Match")
		got, err := c.GetHostWithResponse(context.Background(), host.Id, nil)
		require.NoError(t, err)
		assert.Nil(t, got.JSON200.Description, "the refused write did not happen")

		resp, body = hx(t, http.MethodPut, url, env.OwnerToken, `{"description":"two"}`, "If-Match: "+etag)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
		newTag := resp.Header.Get("ETag")
		assert.NotEqual(t, etag, newTag)
		resp, _ = hx(t, http.MethodGet, url, env.OwnerToken, "")
		assert.Equal(t, newTag, resp.Header.Get("ETag"), "the PUT's ETag is the resource's")

		resp, _ = hx(t, http.MethodPut, url, env.OwnerToken, `{"description":"three"}`, "If-Match: "+etag)
		assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, "the old tag is stale now")
		resp, _ = hx(t, http.MethodPut, url, env.OwnerToken, `{"description":"four"}`, "If-Match: *")
		assert.Equal(t, http.StatusOK, resp.StatusCode, "* matches an existing resource")
		resp, _ = hx(t, http.MethodPut, env.URL+"/api/v2/hosts/00000000-0000-4000-8000-000000000001", env.OwnerToken, `{"description":"x"}`, "If-Match: *")
		assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, "* needs an existing resource")
		resp, _ = hx(t, http.MethodDelete, url, env.OwnerToken, "", `If-Match: "stale"`)
		assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
	})

	t.Run("concurrent conditional writes: one wins", func(t *testing.T) {
		resp, _ := hx(t, http.MethodGet, url, env.OwnerToken, "")
		current := resp.Header.Get("ETag")
		const n = 6
		codes := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				resp, _ := hx(t, http.MethodPut, url, env.OwnerToken, fmt.Sprintf(`{"description":"racer %d"}`, i), "If-Match: "+current)
				codes[i] = resp.StatusCode
			})
		}
		wg.Wait()
		won := 0
		for _, code := range codes {
			if code == http.StatusOK {
				won++
			} else {
				assert.Equal(t, http.StatusPreconditionFailed, code)
			}
		}
		assert.Equal(t, 1, won, "%v", codes)
	})

	t.Run("SDK passes If-Match", func(t *testing.T) {
		sdk, err := client.New(env.URL, client.WithToken(env.OwnerToken))
		require.NoError(t, err)
		ctx := context.Background()
		got, err := sdk.Raw().GetHostWithResponse(ctx, host.Id, nil)
		require.NoError(t, err)
		tag := got.HTTPResponse.Header.Get("ETag")
		_, err = sdk.Hosts.Update(ctx, host.Id, client.HostUpdate{Description: ptr("sdk")}, client.WithIfMatch(`"stale"`))
		require.Error(t, err)
		assert.ErrorIs(t, err, client.ErrPreconditionFailed)
		up, err := sdk.Hosts.Update(ctx, host.Id, client.HostUpdate{Description: ptr("sdk")}, client.WithIfMatch(tag))
		require.NoError(t, err)
		assert.Equal(t, "sdk", *up.Description)

		// The generated client takes the contract's header parameters too.
		again, err := sdk.Raw().GetHostWithResponse(ctx, host.Id, &client.GetHostParams{IfNoneMatch: &tag})
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, again.StatusCode(), "the old tag no longer matches")
		fresh := again.HTTPResponse.Header.Get("ETag")
		same, err := sdk.Raw().GetHostWithResponse(ctx, host.Id, &client.GetHostParams{IfNoneMatch: &fresh})
		require.NoError(t, err)
		assert.Equal(t, http.StatusNotModified, same.StatusCode())
		stale, err := sdk.Raw().UpdateHostWithResponse(ctx, host.Id, &client.UpdateHostParams{IfMatch: &tag}, client.HostUpdate{Description: ptr("raw")})
		require.NoError(t, err)
		assert.Equal(t, http.StatusPreconditionFailed, stale.StatusCode())
		ok, err := sdk.Raw().UpdateHostWithResponse(ctx, host.Id, &client.UpdateHostParams{IfMatch: &fresh}, client.HostUpdate{Description: ptr("raw")})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, ok.StatusCode(), string(ok.Body))
		assert.Equal(t, "raw", *ok.JSON200.Description)
		assert.NotEmpty(t, ok.HTTPResponse.Header.Get("ETag"))
	})
}

func TestLinkNext(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	for _, name := range []string{"link-a", "link-b", "link-c"} {
		createHost(t, c, name)
	}
	resp, body := hx(t, http.MethodGet, env.URL+"/api/v2/hosts?limit=2&active=true", env.OwnerToken, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var first client.HostList
	require.NoError(t, json.Unmarshal(body, &first))
	require.NotNil(t, first.NextCursor)
	link := resp.Header.Get("Link")
	require.Regexp(t, `^<(/api/v2/hosts\?[^>]+)>; rel="next"$`, link)
	target := link[1:strings.Index(link, ">")]
	u, err := url.Parse(target)
	require.NoError(t, err)
	assert.Equal(t, *first.NextCursor, u.Query().Get("cursor"))
	assert.Equal(t, "2", u.Query().Get("limit"), "the same query")
	assert.Equal(t, "true", u.Query().Get("active"))

	resp, body = hx(t, http.MethodGet, env.URL+target, env.OwnerToken, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var second client.HostList
	require.NoError(t, json.Unmarshal(body, &second))
	require.Len(t, second.Hosts, 1)
	assert.Equal(t, "link-c", second.Hosts[0].Name)
	assert.Empty(t, resp.Header.Get("Link"), "the last page has no next")
}

// selfSigned makes a certificate for 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "secumon test"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestTLSAndHTTP2(t *testing.T) {
	env := servertest.Start(t)
	cert, roots := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv, ln := server.NewHTTPServer(context.Background(), env.App, ln, server.HTTPLimits{
		TLS: &tls.Config{Certificates: []tls.Certificate{cert}},
	})
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	base := "https://" + ln.Addr().String()

	var protoMajor int
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
	c, err := client.NewClientWithResponses(base+"/api/v2", client.WithHTTPClient(hc),
		client.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+env.OwnerToken)
			return nil
		}))
	require.NoError(t, err)
	list, err := c.ListHostsWithResponse(context.Background(), nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode(), string(list.Body))
	protoMajor = list.HTTPResponse.ProtoMajor
	assert.Equal(t, 2, protoMajor, "HTTP/2 over TLS")
	assert.Equal(t, "HTTP/2.0", list.HTTPResponse.Proto)

	// TLS 1.1 and below are refused; plain HTTP gets no answer it could use.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS11}}}
	_, err = old.Get(base + "/healthz")
	require.Error(t, err, "TLS 1.1 refused")
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err == nil {
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "plain HTTP on the TLS port")
	}
}
