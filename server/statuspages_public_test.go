package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oapi-codegen/nullable"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/domain/access"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// TestPublicPagesShowOnlyPublicWords: public pages (JSON, HTML, RSS) call an incident by its
// components' page names and impact, or by its public_title, and show only the updates marked
// public; the internal title, the host and check names and the private notes never show.
func TestPublicPagesShowOnlyPublicWords(t *testing.T) {
	env := servertest.Start(t, func(o *server.Deps) { o.StatusPages.TTL = 50 * time.Millisecond })
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "shop-db")
	ck, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: host.Id, Name: "pg",
		Config: client.TcpConfig{Port: 5432}, Enabled: ptr(false)}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ck.StatusCode(), string(ck.Body))
	createPage(t, c, client.StatusPageCreate{Slug: "shop", Title: "Shop status",
		Components: &[]client.StatusPageComponent{{Name: "Database", CheckId: &ck.JSON201.Id}}})

	const (
		internalTitle = "shop-db: pg is CRITICAL"
		privateNote   = "password=hunter2-AKIAIOSFODNN7EXAMPLE on shop-db"
		publicNote    = "We are restoring the database; orders are delayed."
	)
	inc, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: internalTitle,
		Description: ptr("pg on shop-db 10.1.2.3 refuses connections"), CheckId: &ck.JSON201.Id, HostId: &host.Id,
		Severity: ptr(client.SeverityCritical)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode(), string(inc.Body))
	id := inc.JSON201.Id
	assert.Nil(t, inc.JSON201.PublicTitle)
	for _, u := range []client.IncidentUpdateCreate{
		{Note: privateNote},
		{Note: publicNote, Public: ptr(true), Status: ptr(client.IncidentStatusAcknowledged)},
		{Note: "still " + privateNote, Public: ptr(false)},
	} {
		r, err := c.AddIncidentUpdateWithResponse(ctx, id, nil, u)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
		assert.Equal(t, u.Public != nil && *u.Public, *r.JSON201.Event.Public, "the private API shows public")
	}
	got, err := c.GetIncidentWithResponse(ctx, id, nil)
	require.NoError(t, err)
	var publics []bool
	for _, e := range *got.JSON200.Timeline {
		publics = append(publics, *e.Public)
	}
	assert.Equal(t, []bool{false, false, true, false}, publics, "opened, private, public, private")

	base := env.URL + "/status/shop"
	pages := func() map[string]string {
		out := map[string]string{}
		for _, path := range []string{"/api", "", "/rss"} {
			resp, body := getPublic(t, base+path, "", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
			out[path] = string(body)
		}
		return out
	}
	for path, body := range pages() {
		assert.Contains(t, body, "Database: major outage", path)
		assert.Contains(t, strings.ReplaceAll(body, "&#39;", "'"), "orders are delayed", path)
		for _, secret := range []string{internalTitle, "shop-db", "pg is", "hunter2", "AKIAIOSFODNN7EXAMPLE", "10.1.2.3", "opened by hand"} {
			assert.NotContains(t, body, secret, path)
		}
	}
	var st publicStatus
	require.NoError(t, json.Unmarshal([]byte(pages()["/api"]), &st))
	require.Len(t, st.Incidents, 1)
	var notes []string
	for _, u := range st.Incidents[0].Updates {
		notes = append(notes, u.Note)
	}
	assert.Equal(t, []string{publicNote, "Investigating."}, notes, "the public update and the opening, newest first")

	// A public title replaces the derived one, and changes the ETags; null clears it.
	resp, _ := getPublic(t, base+"/rss", "", "")
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	r, err := c.AddIncidentUpdateWithResponse(ctx, id, nil, client.IncidentUpdateCreate{Note: "renamed",
		PublicTitle: nullable.NewNullableWithValue("Delayed orders")})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	got, err = c.GetIncidentWithResponse(ctx, id, nil)
	require.NoError(t, err)
	require.NotNil(t, got.JSON200.PublicTitle)
	assert.Equal(t, "Delayed orders", *got.JSON200.PublicTitle)
	require.Eventually(t, func() bool {
		resp, body := getPublic(t, base+"/rss", "", etag)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "Delayed orders")
	}, 10*time.Second, 50*time.Millisecond, "a new public title, a new feed ETag")
	for path, body := range pages() {
		assert.Contains(t, body, "Delayed orders", path)
		assert.NotContains(t, body, "Database: major outage", path)
		assert.NotContains(t, body, "renamed", path, "the update itself was private")
	}

	r, err = c.AddIncidentUpdateWithResponse(ctx, id, nil, client.IncidentUpdateCreate{Note: "back", PublicTitle: nullable.NewNullNullable[string]()})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	got, err = c.GetIncidentWithResponse(ctx, id, nil)
	require.NoError(t, err)
	assert.Nil(t, got.JSON200.PublicTitle, "null clears it")
	require.Eventually(t, func() bool {
		return strings.Contains(pages()["/api"], "Database: major outage")
	}, 10*time.Second, 50*time.Millisecond)

	// Bounds: 1..200 characters, on create and update, named.
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/v2/incidents", `{"title":"x","public_title":""}`},
		{"POST", "/api/v2/incidents", `{"title":"x","public_title":"` + strings.Repeat("a", 201) + `"}`},
		{"POST", "/api/v2/incidents/" + id.String() + "/updates", `{"note":"x","public_title":""}`},
		{"POST", "/api/v2/incidents/" + id.String() + "/updates", `{"note":"x","public":"yes"}`},
	} {
		resp, p := call(t, env, tc.method, tc.path, env.OwnerToken, tc.body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.body)
		assert.NotEmpty(t, fieldsOf(p), tc.body)
		assert.Contains(t, []string{"public_title", "public"}, fieldsOf(p)[0], tc.body)
	}
	created, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "internal", PublicTitle: ptr("Checkout is slow"),
		CheckId: &ck.JSON201.Id})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	assert.Equal(t, "Checkout is slow", *created.JSON201.PublicTitle)
	require.Eventually(t, func() bool {
		return strings.Contains(pages()["/api"], "Checkout is slow")
	}, 10*time.Second, 50*time.Millisecond)
}

// TestStatusPageSlugsAcrossWorkspaces: /status/{slug} names no workspace, so across workspaces
// only private pages may share a slug, in both directions, and even when two workspaces race.
func TestStatusPageSlugsAcrossWorkspaces(t *testing.T) {
	env := servertest.Start(t)
	env.NewWorkspace(t, "b")
	tokA, tokB := env.OwnerToken, env.Token(t, "b", access.Owner).Token
	a, b := env.Client(t, tokA), env.Client(t, tokB)
	ctx := context.Background()
	create := func(tok, slug string, public bool) (*http.Response, problemDoc) {
		body, err := json.Marshal(map[string]any{"slug": slug, "title": slug, "is_public": public})
		require.NoError(t, err)
		return call(t, env, "POST", "/api/v2/status-pages", tok, string(body))
	}
	conflict := func(resp *http.Response, p problemDoc, msg string) {
		t.Helper()
		assert.Equal(t, http.StatusConflict, resp.StatusCode, msg)
		assert.Equal(t, []string{"slug"}, fieldsOf(p), msg)
	}

	// Private pages may share a slug; making one of them public may not.
	resp, _ := create(tokA, "shared", false)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	sharedB := createPage(t, b, client.StatusPageCreate{Slug: "shared", Title: "B", IsPublic: ptr(false)})
	up, err := b.UpdateStatusPageWithResponse(ctx, sharedB.Id, nil, client.StatusPageUpdate{IsPublic: ptr(true)})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, up.StatusCode(), "A's private page holds the slug")

	// A public page cannot take the slug of another workspace's private page…
	resp, _ = create(tokA, "alpha", false)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp, p := create(tokB, "alpha", true)
	conflict(resp, p, "public over another workspace's private")
	// …and no page can take a public page's slug, by creation or by renaming.
	resp, _ = create(tokB, "beta", true)
	require.Equal(t, http.StatusCreated, resp.StatusCode)
	resp, p = create(tokA, "beta", false)
	conflict(resp, p, "private over another workspace's public")
	gamma := createPage(t, a, client.StatusPageCreate{Slug: "gamma", Title: "A", IsPublic: ptr(false)})
	resp, p = call(t, env, "PUT", "/api/v2/status-pages/"+gamma.Id.String(), tokA, `{"slug":"beta"}`)
	conflict(resp, p, "renamed onto another workspace's public slug")
	// Within one workspace the slug is unique whatever the visibility, as before.
	resp, p = create(tokB, "beta", false)
	conflict(resp, p, "same workspace")

	// Racing: a private page in A and a public one in B ask for the same slug at once; exactly
	// one of them gets it, every time.
	for i := range 6 {
		slug := "race-" + string(rune('a'+i))
		codes := make([]int, 2)
		var wg sync.WaitGroup
		for k, tok := range []string{tokA, tokB} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, _ := create(tok, slug, k == 1)
				codes[k] = resp.StatusCode
			}()
		}
		wg.Wait()
		assert.ElementsMatch(t, []int{http.StatusCreated, http.StatusConflict}, codes, slug)
	}
}
