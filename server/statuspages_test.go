package server_test

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/probes/runner/store"
	"github.com/secuaas/secumon/server"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func createPage(t *testing.T, c *client.ClientWithResponses, body client.StatusPageCreate) client.StatusPage {
	t.Helper()
	r, err := c.CreateStatusPageWithResponse(context.Background(), nil, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), string(r.Body))
	return *r.JSON201
}

func TestStatusPagesLifecycle(t *testing.T) {
	env := servertest.Start(t)
	env.NewWorkspace(t, "other")
	c := env.Client(t, env.OwnerToken)
	other := env.Client(t, env.Token(t, "other", access.Owner).Token)
	ctx := context.Background()
	web, db := createHost(t, c, "web-prod-01"), createHost(t, c, "db-prod-01")
	ck, err := c.CreateCheckWithResponse(ctx, nil, client.NewCheckCreate(client.TcpCheckCreate{HostId: web.Id, Name: "https",
		Config: client.TcpConfig{Port: 443}, Enabled: ptr(false)}))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ck.StatusCode(), string(ck.Body))
	foreignHost := createHost(t, other, "elsewhere")

	// The reference's example: defaults is_public true and 90 days.
	page := createPage(t, c, client.StatusPageCreate{Slug: "web-prod", Title: "Statut des services web", IsPublic: ptr(true)})
	assert.True(t, page.IsPublic)
	assert.Equal(t, 90, page.ShowHistoryDays)
	assert.Empty(t, page.Components)

	dup, err := c.CreateStatusPageWithResponse(ctx, nil, client.StatusPageCreate{Slug: "web-prod", Title: "again"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, dup.StatusCode(), "duplicate slug")

	// Bad input: 400 naming the field, nothing created.
	for _, tc := range []struct {
		body  string
		field string
	}{
		{`{"slug":"Web Prod","title":"x"}`, "slug"},
		{`{"slug":"-web","title":"x"}`, "slug"},
		{`{"slug":"ok","title":"x","show_history_days":0}`, "show_history_days"},
		{`{"slug":"ok","title":"x","components":[{"name":"both","host_id":"` + web.Id.String() + `","check_id":"` + ck.JSON201.Id.String() + `"}]}`, "components.0.host_id"},
		{`{"slug":"ok","title":"x","components":[{"name":"neither"}]}`, "components.0.host_id"},
		{`{"slug":"ok","title":"x","components":[{"name":"a","host_id":"` + web.Id.String() + `"},{"name":"theirs","host_id":"` + foreignHost.Id.String() + `"}]}`, "components.1.host_id"},
		{`{"slug":"ok","title":"x","components":[{"name":"gone","check_id":"` + uuid.NewString() + `"}]}`, "components.0.check_id"},
		{`{"slug":"ok","title":"x","components":[{"name":""}]}`, "components.0.name"},
	} {
		resp, p := call(t, env, "POST", "/api/v2/status-pages", env.OwnerToken, tc.body)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.body)
		assert.Contains(t, fieldsOf(p), tc.field, tc.body)
	}

	// Components: a host and a check, with groups; order defaults to the list position.
	page2 := createPage(t, c, client.StatusPageCreate{Slug: "infra", Title: "Infra", IsPublic: ptr(false), ShowHistoryDays: ptr(30),
		Components: &[]client.StatusPageComponent{
			{Name: "Base de données", Group: ptr("Production"), HostId: &db.Id},
			{Name: "Site web", Group: ptr("Production"), CheckId: &ck.JSON201.Id, Order: ptr(-0)},
		}})
	require.Len(t, page2.Components, 2)
	assert.Equal(t, "Base de données", page2.Components[0].Name, "order 0 and position 0 first")
	assert.Equal(t, 0, *page2.Components[1].Order)
	for _, comp := range page2.Components {
		require.NotNil(t, comp.Id)
	}

	list, err := c.ListStatusPagesWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, list.StatusCode())
	assert.Equal(t, 2, list.JSON200.Count)
	assert.Equal(t, "infra", list.JSON200.StatusPages[0].Slug, "by slug")
	assert.Len(t, list.JSON200.StatusPages[0].Components, 2)

	// Partial update keeps what is absent, components included.
	up, err := c.UpdateStatusPageWithResponse(ctx, page2.Id, nil, client.StatusPageUpdate{Title: ptr("Infra — prod"), ShowHistoryDays: ptr(60)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	assert.Equal(t, "Infra — prod", up.JSON200.Title)
	assert.Equal(t, 60, up.JSON200.ShowHistoryDays)
	assert.Equal(t, "infra", up.JSON200.Slug)
	assert.False(t, up.JSON200.IsPublic)
	assert.Equal(t, page2.Components, up.JSON200.Components)

	// A new list replaces the components; one sent back with its id keeps it.
	kept := page2.Components[1]
	kept.Order = ptr(5)
	up, err = c.UpdateStatusPageWithResponse(ctx, page2.Id, nil, client.StatusPageUpdate{Components: &[]client.StatusPageComponent{
		kept, {Name: "Web host", HostId: &web.Id, Order: ptr(1)},
	}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), string(up.Body))
	require.Len(t, up.JSON200.Components, 2)
	assert.Equal(t, "Web host", up.JSON200.Components[0].Name, "order 1 before order 5")
	assert.Equal(t, *kept.Id, *up.JSON200.Components[1].Id)

	// Renaming onto an existing slug is 409; a bad component changes nothing.
	conflict, err := c.UpdateStatusPageWithResponse(ctx, page2.Id, nil, client.StatusPageUpdate{Slug: ptr("web-prod")})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, conflict.StatusCode())
	resp, p := call(t, env, "PUT", "/api/v2/status-pages/"+page2.Id.String(), env.OwnerToken,
		`{"title":"changed","components":[{"name":"x","host_id":"`+foreignHost.Id.String()+`"}]}`)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	assert.Contains(t, fieldsOf(p), "components.0.host_id")
	got, err := c.GetStatusPageWithResponse(ctx, page2.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, "Infra — prod", got.JSON200.Title)
	assert.Len(t, got.JSON200.Components, 2)

	// Public slugs are one namespace: another workspace may neither publish "web-prod" nor
	// keep a private page with that slug (its members would read it at /status/web-prod).
	theirs, err := other.CreateStatusPageWithResponse(ctx, nil, client.StatusPageCreate{Slug: "web-prod", Title: "Theirs"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, theirs.StatusCode())
	assert.Contains(t, string(theirs.Body), "public")
	resp, p = call(t, env, "POST", "/api/v2/status-pages", env.Token(t, "other", access.Owner).Token,
		`{"slug":"web-prod","title":"Theirs","is_public":false}`)
	assert.Equal(t, http.StatusConflict, resp.StatusCode, "a private page cannot take a public page's slug")
	assert.Equal(t, []string{"slug"}, fieldsOf(p))
	theirs, err = other.CreateStatusPageWithResponse(ctx, nil, client.StatusPageCreate{Slug: "theirs", Title: "Theirs", IsPublic: ptr(false)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, theirs.StatusCode(), string(theirs.Body))
	moved, err := other.UpdateStatusPageWithResponse(ctx, theirs.JSON201.Id, nil, client.StatusPageUpdate{Slug: ptr("web-prod")})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, moved.StatusCode(), "nor be renamed onto it")
	// Another workspace's page is 404 to read, change or delete.
	foreign, err := other.GetStatusPageWithResponse(ctx, page.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, foreign.StatusCode())

	// Deleting the host removes its component.
	del, err := c.DeleteHostWithResponse(ctx, web.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode())
	got, err = c.GetStatusPageWithResponse(ctx, page2.Id, nil)
	require.NoError(t, err)
	assert.Empty(t, got.JSON200.Components, "the check and the host went with the host")

	gone, err := c.DeleteStatusPageWithResponse(ctx, page.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, gone.StatusCode())
	again, err := c.GetStatusPageWithResponse(ctx, page.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, again.StatusCode())
	resp, _ = getPublic(t, env.URL+"/status/web-prod/api", "", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "its public URL is gone")
}

// getPublic fetches a public route with an optional token and If-None-Match.
func getPublic(t *testing.T, url, token, ifNoneMatch string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ifNoneMatch != "" {
		req.Header.Set("If-None-Match", ifNoneMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// publicFixture is a page over two hosts (one of them down, with an open incident) and a
// check, with three days of results and a maintenance window ahead.
type publicFixture struct {
	resultsFixture
	page     client.StatusPage
	incident client.Incident
	window   client.MaintenanceWindow
	webCheck client.Check
}

func newPublicFixture(t *testing.T, ttl time.Duration) publicFixture {
	t.Helper()
	ctx := context.Background()
	env := servertest.Start(t, func(o *server.Deps) { o.StatusPages.TTL = ttl })
	env.NewWorkspace(t, "other")
	f := publicFixture{resultsFixture: resultsFixture{env: env, c: env.Client(t, env.OwnerToken),
		other: env.Client(t, env.Token(t, "other", access.Owner).Token), worker: uuid.New()}}
	// Daily partitions from the day before yesterday on (EnsurePartitions covers the day before
	// the one it is given to a week after).
	require.NoError(t, database.EnsurePartitions(ctx, env.Pool, time.Now().AddDate(0, 0, -1)))
	web, db := createHost(t, f.c, "web-prod-01"), createHost(t, f.c, "db-prod-01")
	f.webCheck = f.check(t, web.Id, "web ping", client.CheckTypePing, client.NewCheckConfig(client.PingConfig{}))
	dbCheck := f.check(t, db.Id, "db tcp", client.CheckTypeTcp, client.NewCheckConfig(client.TcpConfig{Port: 5432}))
	// No worker runs here: the results come from the test.
	today := time.Now().UTC().Truncate(24 * time.Hour)
	var recs []store.Record
	for d := 2; d >= 0; d-- {
		day := today.AddDate(0, 0, -d).Add(time.Hour)
		for i := range 4 {
			status := int16(0)
			if d == 1 && i == 0 {
				status = 2 // one failure in four the day before yesterday: 75 %
			}
			recs = append(recs, f.record(f.webCheck, day.Add(time.Duration(i)*time.Minute), status, 1))
		}
	}
	recs = append(recs, f.record(dbCheck, time.Now().Add(-time.Minute), 2, 0))
	f.write(t, recs...)

	inc, err := f.c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "Base de données injoignable", HostId: &db.Id,
		Severity: ptr(client.SeverityCritical)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode(), string(inc.Body))
	f.incident = *inc.JSON201
	up, err := f.c.AddIncidentUpdateWithResponse(ctx, f.incident.Id, nil, client.IncidentUpdateCreate{Note: "Bascule sur le réplica en cours.", Public: ptr(true)})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, up.StatusCode(), string(up.Body))

	start := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	mw, err := f.c.CreateMaintenanceWindowWithResponse(ctx, nil, client.MaintenanceWindowCreate{Title: "Mise à jour web-prod-01",
		StartTime: start, EndTime: start.Add(time.Hour), AffectedHosts: &[]uuid.UUID{web.Id}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, mw.StatusCode(), string(mw.Body))
	f.window = *mw.JSON201

	f.page = createPage(t, f.c, client.StatusPageCreate{Slug: "web-prod", Title: "Statut des services web", ShowHistoryDays: ptr(7),
		Components: &[]client.StatusPageComponent{
			{Name: "Site web", Group: ptr("Production"), HostId: &web.Id},
			{Name: "Base de données", Group: ptr("Production"), HostId: &db.Id},
			{Name: "Ping web", Group: ptr("Réseau"), CheckId: &f.webCheck.Id},
		}})
	return f
}

// publicStatus mirrors the public JSON (the SDK covers /api/v2 only).
type publicStatus struct {
	Slug            string `json:"slug"`
	Title           string `json:"title"`
	Overall         string `json:"overall"`
	ShowHistoryDays int    `json:"show_history_days"`
	GeneratedAt     time.Time
	Components      []struct {
		ID        uuid.UUID `json:"id"`
		Slug      string    `json:"slug"`
		Name      string    `json:"name"`
		Group     string    `json:"group"`
		State     string    `json:"state"`
		UptimePct *float64  `json:"uptime_pct"`
		Daily     []struct {
			Date      string   `json:"date"`
			UptimePct *float64 `json:"uptime_pct"`
		} `json:"daily"`
	} `json:"components"`
	Incidents []struct {
		ID       uuid.UUID `json:"id"`
		Title    string    `json:"title"`
		Severity string    `json:"severity"`
		Status   string    `json:"status"`
		Updates  []struct {
			Note string `json:"note"`
		} `json:"updates"`
	} `json:"incidents"`
	Maintenance []struct {
		ID     uuid.UUID `json:"id"`
		Title  string    `json:"title"`
		Status string    `json:"status"`
	} `json:"maintenance"`
}

func TestPublicStatusPage(t *testing.T) {
	// A short TTL so that publishing a page shows quickly; nothing else changes meanwhile, so
	// the ETags stay stable across reloads.
	f := newPublicFixture(t, time.Second)
	base := f.env.URL + "/status/web-prod"

	resp, body := getPublic(t, base+"/api", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "public, max-age=1", resp.Header.Get("Cache-Control"), "the TTL")
	var st publicStatus
	require.NoError(t, json.Unmarshal(body, &st))
	assert.Equal(t, "Statut des services web", st.Title)
	assert.Equal(t, "outage", st.Overall, "the database host is down")
	require.Len(t, st.Components, 3)
	web, db, ping := st.Components[0], st.Components[1], st.Components[2]
	assert.Equal(t, []string{"Site web", "site-web", "operational", "Production"}, []string{web.Name, web.Slug, web.State, web.Group})
	assert.Equal(t, []string{"Base de données", "base-de-donnees", "outage"}, []string{db.Name, db.Slug, db.State})
	assert.Equal(t, "operational", ping.State)
	// Seven days, today last: no data, …, 100 %, 75 %, 100 %; 11 of 12 overall.
	require.Len(t, web.Daily, 7)
	assert.Equal(t, time.Now().UTC().Format("2006-01-02"), web.Daily[6].Date)
	assert.Nil(t, web.Daily[0].UptimePct)
	for i, want := range []float64{100, 75, 100} {
		require.NotNil(t, web.Daily[4+i].UptimePct, "day %d", 4+i)
		assert.Equal(t, want, *web.Daily[4+i].UptimePct)
	}
	require.NotNil(t, web.UptimePct)
	assert.Equal(t, 91.66, *web.UptimePct)
	assert.Equal(t, 0.0, *db.UptimePct)

	require.Len(t, st.Incidents, 1)
	assert.Equal(t, f.incident.Id, st.Incidents[0].ID)
	assert.Equal(t, "critical", st.Incidents[0].Severity)
	require.NotEmpty(t, st.Incidents[0].Updates)
	assert.Equal(t, "Bascule sur le réplica en cours.", st.Incidents[0].Updates[0].Note, "newest update first")
	require.Len(t, st.Maintenance, 1)
	assert.Equal(t, f.window.Id, st.Maintenance[0].ID)
	assert.Equal(t, "scheduled", st.Maintenance[0].Status)

	t.Run("etag", func(t *testing.T) {
		for _, path := range []string{"", "/api", "/rss", "/badge/overall"} {
			resp, body := getPublic(t, base+path, "", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, path)
			etag := resp.Header.Get("ETag")
			require.NotEmpty(t, etag, path)
			assert.NotEmpty(t, resp.Header.Get("Cache-Control"), path)
			assert.NotEmpty(t, body)
			resp, body = getPublic(t, base+path, "", etag)
			assert.Equal(t, http.StatusNotModified, resp.StatusCode, path)
			assert.Empty(t, body, path)
			assert.Equal(t, etag, resp.Header.Get("ETag"), path)
			resp, _ = getPublic(t, base+path, "", `"something-else", `+etag)
			assert.Equal(t, http.StatusNotModified, resp.StatusCode, "one of a list: %s", path)
			resp, _ = getPublic(t, base+path, "", `W/"stale"`)
			assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		}
	})

	t.Run("gzip", func(t *testing.T) {
		// Compressed once per snapshot for clients that ask; the same content either way.
		req, err := http.NewRequest(http.MethodGet, base+"/api", nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", "br, gzip;q=0.8")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, "gzip", resp.Header.Get("Content-Encoding"))
		assert.Contains(t, resp.Header.Get("Vary"), "Accept-Encoding")
		zr, err := gzip.NewReader(resp.Body)
		require.NoError(t, err)
		plain, err := io.ReadAll(zr)
		require.NoError(t, err)
		var unzipped publicStatus
		require.NoError(t, json.Unmarshal(plain, &unzipped))
		assert.Equal(t, st.Components, unzipped.Components)
		req.Header.Set("Accept-Encoding", "gzip;q=0")
		resp2, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp2.Body.Close()
		assert.Empty(t, resp2.Header.Get("Content-Encoding"), "q=0 refuses gzip")
	})

	t.Run("badge", func(t *testing.T) {
		for _, tc := range []struct{ key, text, colour string }{
			{"overall", "outage", "#e05d44"},
			{"site-web", "operational · 91.66%", "#4c1"},
			{db.ID.String(), "outage · 0%", "#e05d44"},
			{"BASE-DE-DONNEES", "outage", "#e05d44"},
		} {
			resp, body := getPublic(t, base+"/badge/"+tc.key, "", "")
			require.Equal(t, http.StatusOK, resp.StatusCode, tc.key)
			assert.Equal(t, "image/svg+xml", resp.Header.Get("Content-Type"))
			var svg struct {
				XMLName xml.Name `xml:"svg"`
				Title   string   `xml:"title"`
				Rects   []struct {
					Fill string `xml:"fill,attr"`
				} `xml:"g>rect"`
			}
			require.NoError(t, xml.Unmarshal(body, &svg), "the badge is XML: %s", body)
			assert.Equal(t, "http://www.w3.org/2000/svg", svg.XMLName.Space)
			assert.Contains(t, svg.Title, tc.text, tc.key)
			require.GreaterOrEqual(t, len(svg.Rects), 2)
			assert.Equal(t, tc.colour, svg.Rects[1].Fill, tc.key)
		}
		resp, _ := getPublic(t, base+"/badge/nope", "", "")
		assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	})

	t.Run("rss", func(t *testing.T) {
		resp, body := getPublic(t, base+"/rss", "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "application/rss+xml; charset=utf-8", resp.Header.Get("Content-Type"))
		var feed struct {
			XMLName xml.Name `xml:"rss"`
			Version string   `xml:"version,attr"`
			Channel struct {
				Self struct {
					Href string `xml:"href,attr"`
				} `xml:"http://www.w3.org/2005/Atom link"` // before Link: the first field that matches wins
				Title       string `xml:"title"`
				Link        string `xml:"link"`
				Description string `xml:"description"`
				Items       []struct {
					Title       string `xml:"title"`
					Link        string `xml:"link"`
					Description string `xml:"description"`
					GUID        string `xml:"guid"`
					PubDate     string `xml:"pubDate"`
				} `xml:"item"`
			} `xml:"channel"`
		}
		require.NoError(t, xml.Unmarshal(body, &feed), "%s", body)
		assert.Equal(t, "2.0", feed.Version)
		assert.Equal(t, "Statut des services web", feed.Channel.Title)
		assert.Equal(t, base, feed.Channel.Link, "absolute links")
		assert.Equal(t, base+"/rss", feed.Channel.Self.Href)
		assert.NotEmpty(t, feed.Channel.Description)
		require.Len(t, feed.Channel.Items, 2, "the incident and the maintenance window")
		titles := ""
		guids := map[string]bool{}
		for _, it := range feed.Channel.Items {
			titles += it.Title + "\n"
			_, err := time.Parse(time.RFC1123Z, it.PubDate)
			assert.NoError(t, err, "pubDate is RFC 822")
			assert.True(t, strings.HasPrefix(it.Link, base+"#"), it.Link)
			assert.NotEmpty(t, it.Description)
			guids[it.GUID] = true
		}
		assert.Len(t, guids, 2)
		assert.Contains(t, titles, "[investigating] Base de données: major outage")
		assert.Contains(t, titles, "[scheduled] Maintenance: Mise à jour web-prod-01")
	})

	t.Run("html", func(t *testing.T) {
		resp, body := getPublic(t, base, "", "")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		page := string(body)
		for _, want := range []string{"Site web", "Base de données", "Ping web", "Base de données: major outage", "Bascule sur le réplica en cours.", "Mise à jour web-prod-01", `name="viewport"`} {
			assert.Contains(t, page, want)
		}
		assert.NotContains(t, page, "//", "no external assets or absolute links")
	})

	t.Run("private pages", func(t *testing.T) {
		private := createPage(t, f.c, client.StatusPageCreate{Slug: "internal", Title: "Interne", IsPublic: ptr(false),
			Components: &[]client.StatusPageComponent{{Name: "Ping web", CheckId: &f.webCheck.Id}}})
		viewer := f.env.Token(t, "default", access.Viewer).Token
		stranger := f.env.Token(t, "other", access.Owner).Token
		for _, path := range []string{"", "/api", "/rss", "/badge/overall", "/badge/ping-web"} {
			resp, body := getPublic(t, f.env.URL+"/status/internal"+path, "", "")
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "anonymous %s", path)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			assert.NotContains(t, string(body), "Interne")
			resp, _ = getPublic(t, f.env.URL+"/status/internal"+path, stranger, "")
			assert.Equal(t, http.StatusNotFound, resp.StatusCode, "another workspace's token %s", path)
			resp, _ = getPublic(t, f.env.URL+"/status/internal"+path, viewer, "")
			assert.Equal(t, http.StatusOK, resp.StatusCode, "a member %s", path)
			assert.True(t, strings.HasPrefix(resp.Header.Get("Cache-Control"), "private"), path)
		}
		resp, _ := getPublic(t, f.env.URL+"/status/internal", "smn_forged-token-0123456789abcdef", "")
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a bad token is refused, as in the API")
		// A token still reaches other workspaces' public pages.
		resp, _ = getPublic(t, base+"/api", stranger, "")
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		// Publishing makes it visible to everyone.
		up, err := f.c.UpdateStatusPageWithResponse(context.Background(), private.Id, nil, client.StatusPageUpdate{IsPublic: ptr(true)})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, up.StatusCode())
		require.Eventually(t, func() bool {
			resp, _ := getPublic(t, f.env.URL+"/status/internal/api", "", "")
			return resp.StatusCode == http.StatusOK
		}, 5*time.Second, 50*time.Millisecond, "within the cache TTL")
	})

	resp, _ = getPublic(t, f.env.URL+"/status/No_Such_Page", "", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = getPublic(t, base+"/nothing/here", "", "")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	post, err := http.Post(base, "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	post.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
	assert.Equal(t, "application/problem+json", post.Header.Get("Content-Type"))
}

// TestPublicStatusPageCache: within the TTL a page costs no query (it stays as it was even when
// the database changes), after it the change shows, with a new ETag.
func TestPublicStatusPageCache(t *testing.T) {
	env := servertest.Start(t, func(o *server.Deps) { o.StatusPages.TTL = 3 * time.Second })
	c := env.Client(t, env.OwnerToken)
	host := createHost(t, c, "web")
	createPage(t, c, client.StatusPageCreate{Slug: "cached", Title: "Cached",
		Components: &[]client.StatusPageComponent{{Name: "Web", HostId: &host.Id}}})
	url := env.URL + "/status/cached/api"
	resp, body := getPublic(t, url, "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	etag := resp.Header.Get("ETag")

	inc, err := c.CreateIncidentWithResponse(context.Background(), nil, client.IncidentCreate{Title: "Web is slow", HostId: &host.Id})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, inc.StatusCode())
	_, again := getPublic(t, url, "", "")
	assert.Equal(t, string(body), string(again), "served from the cache")

	require.Eventually(t, func() bool {
		resp, body := getPublic(t, url, "", etag)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "Web: partial outage") && resp.Header.Get("ETag") != etag
	}, 15*time.Second, 200*time.Millisecond)
}

// TestPublicStatusPageHistory: the limits on what a page reads never hide what is open (an
// incident open for a month behind newer resolved ones, a window ahead behind completed
// ones), notes SecuMon wrote itself (probe output naming internal addresses) stay private, and
// a change only the feed shows (a resolved incident renamed) changes the feed's ETag.
func TestPublicStatusPageHistory(t *testing.T) {
	env := servertest.Start(t, func(o *server.Deps) { o.StatusPages.TTL = time.Second })
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	host := createHost(t, c, "db-prod-01")
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := env.Pool.Exec(ctx, sql, args...)
		require.NoError(t, err)
	}

	open, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "Still broken", HostId: &host.Id})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, open.StatusCode(), string(open.Body))
	exec(`UPDATE incidents SET created_at = now() - interval '30 days' WHERE workspace_id = $1 AND id = $2`, env.Workspace, open.JSON201.Id)
	exec(`INSERT INTO incidents (workspace_id, id, title, severity, status, host_id, created_at, resolved_at)
		SELECT $1, gen_random_uuid(), 'flap ' || n, 'minor', 'resolved', $2, now() - n * interval '1 minute', now()
		FROM generate_series(1, 120) n`, env.Workspace, host.Id)
	exec(`INSERT INTO incident_events (workspace_id, id, incident_id, action, actor, note, status)
		VALUES ($1, gen_random_uuid(), $2, 'update', 'system', 'dial tcp 10.9.8.7:5432: connection refused', 'investigating')`,
		env.Workspace, open.JSON201.Id)

	start := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	ahead, err := c.CreateMaintenanceWindowWithResponse(ctx, nil, client.MaintenanceWindowCreate{Title: "Upgrade",
		StartTime: start, EndTime: start.Add(time.Hour), AffectedHosts: &[]uuid.UUID{host.Id}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ahead.StatusCode(), string(ahead.Body))
	exec(`INSERT INTO maintenance_windows (workspace_id, id, title, start_time, end_time, affected_hosts, status)
		SELECT $1, gen_random_uuid(), 'done ' || n, now() - n * interval '10 minutes' - interval '5 minutes',
		       now() - n * interval '10 minutes', ARRAY[$2::uuid], 'completed'
		FROM generate_series(1, 120) n`, env.Workspace, host.Id)

	createPage(t, c, client.StatusPageCreate{Slug: "db", Title: "DB",
		Components: &[]client.StatusPageComponent{{Name: "Database", HostId: &host.Id}}})
	base := env.URL + "/status/db"
	resp, body := getPublic(t, base+"/api", "", "")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var st publicStatus
	require.NoError(t, json.Unmarshal(body, &st))
	require.Len(t, st.Incidents, 1, "the open incident")
	assert.Equal(t, open.JSON201.Id, st.Incidents[0].ID)
	require.NotEmpty(t, st.Incidents[0].Updates)
	assert.Equal(t, "Investigating.", st.Incidents[0].Updates[0].Note, "SecuMon's own update is not public: the opening shows")
	require.Len(t, st.Maintenance, 1, "the window ahead")
	assert.Equal(t, ahead.JSON201.Id, st.Maintenance[0].ID)
	for _, path := range []string{"/api", "", "/rss"} {
		_, body := getPublic(t, base+path, "", "")
		assert.NotContains(t, string(body), "10.9.8.7", path)
	}

	resp, _ = getPublic(t, base+"/rss", "", "")
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	exec(`UPDATE incidents SET public_title = 'flap renamed', updated_at = now() WHERE workspace_id = $1 AND title = 'flap 1'`, env.Workspace)
	require.Eventually(t, func() bool {
		resp, body := getPublic(t, base+"/rss", "", etag)
		return resp.StatusCode == http.StatusOK && strings.Contains(string(body), "flap renamed")
	}, 10*time.Second, 100*time.Millisecond, "a new feed, a new ETag")
}
