// Package public serves the anonymous status-page routes (/status/{slug} and its JSON, badge
// and RSS) described by openapi/status-public.yaml, outside /api/v2 and without a token.
//
// A public page's slug is unique among public pages (the API refuses a clash with 409), so
// /status/{slug} needs no workspace. A request with a bearer token looks the slug up in the
// token's workspace first, so members can read their private pages; anonymous requests only
// ever see public pages. What a page shows is read from PostgreSQL into a snapshot kept a few
// seconds per (page, audience) in a bounded in-process cache (cache.go); every response is a
// rendering of a snapshot with an ETag derived from its content.
package public

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/secuaas/secumon/gen/db"
	gen "github.com/secuaas/secumon/gen/public"
	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Options tune the handlers; zero values take the defaults.
type Options struct {
	// TTL is how long a snapshot is served before it is reloaded (5 s); browsers and proxies
	// are told the same through Cache-Control.
	TTL time.Duration
	// MaxPages bounds the snapshots held (256).
	MaxPages int
}

// Handlers implements the generated strict interface.
type Handlers struct {
	q     *db.Queries
	cache *cache
	// Cache-Control of anonymous and of member answers, max-age being the TTL.
	publicCC, privateCC string
	now                 func() time.Time
}

var _ gen.StrictServerInterface = (*Handlers)(nil)

// New returns the handlers over q.
func New(q *db.Queries, o Options) *Handlers {
	if o.TTL <= 0 {
		o.TTL = 5 * time.Second
	}
	if o.MaxPages <= 0 {
		o.MaxPages = 256
	}
	maxAge := max(1, int(o.TTL/time.Second))
	return &Handlers{q: q, cache: newCache(o.TTL, o.MaxPages), now: time.Now,
		publicCC: fmt.Sprintf("public, max-age=%d", maxAge), privateCC: fmt.Sprintf("private, max-age=%d", maxAge)}
}

// errPageNotFound: no page this caller may see has the slug.
var errPageNotFound = problem.Newf(http.StatusNotFound, "status page not found")

// validSlug is the contract's slug pattern, ^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$.
func validSlug(s string) bool {
	if len(s) == 0 || len(s) > 64 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// view is a page's snapshot as one caller sees it.
type view struct {
	*snapshot
	cacheControl string
}

// page returns the snapshot of slug for the request's caller.
func (h *Handlers) page(ctx context.Context, slug string) (view, error) {
	if !validSlug(slug) {
		return view{}, errPageNotFound // no page can have it: not worth a cache slot
	}
	p, member := auth.FromContext(ctx)
	key, cc := "public/"+slug, h.publicCC
	if member {
		key, cc = "ws/"+p.WorkspaceID.String()+"/"+slug, h.privateCC
	}
	snap, err := h.cache.get(ctx, key, func(ctx context.Context) (*snapshot, error) {
		page, err := h.lookup(ctx, p, member, slug)
		if err != nil {
			return nil, err
		}
		s, err := loadSnapshot(ctx, h.q, page, h.now())
		if err == nil {
			err = s.render()
		}
		if err != nil {
			return nil, err
		}
		return s, nil
	})
	if err != nil {
		return view{}, err
	}
	return view{snap, cc}, nil
}

// lookup finds the page: a member's own workspace first, then the public pages.
func (h *Handlers) lookup(ctx context.Context, p auth.Principal, member bool, slug string) (db.StatusPage, error) {
	if member {
		page, err := h.q.StatusPageBySlug(ctx, db.StatusPageBySlugParams{WorkspaceID: p.WorkspaceID, Slug: slug})
		if !errors.Is(err, pgx.ErrNoRows) {
			return page, err
		}
	}
	page, err := h.q.PublicStatusPageBySlug(ctx, slug)
	if errors.Is(err, pgx.ErrNoRows) {
		return page, errPageNotFound
	}
	return page, err
}

// render prepares the representations every request of the snapshot serves as they are.
func (s *snapshot) render() error {
	body, err := renderHTML(s.status)
	if err != nil {
		return err
	}
	s.html = newRepresentation(body, s.etag("html"), "text/html; charset=utf-8")
	body, err = jsonBody(s.status)
	if err != nil {
		return err
	}
	s.json = newRepresentation(body, s.etag("json"), "application/json")
	return nil
}

// etag is weak: the representations of one content differ in generated_at only.
func (s *snapshot) etag(kind string) string { return `W/"` + s.version + "-" + kind + `"` }

func (h *Handlers) GetPublicStatusPage(ctx context.Context, req gen.GetPublicStatusPageRequestObject) (gen.GetPublicStatusPageResponseObject, error) {
	v, err := h.page(ctx, req.Slug)
	if err != nil {
		return nil, err
	}
	return v.html.answer(ctx, req.Params.IfNoneMatch, v.cacheControl), nil
}

func (h *Handlers) GetPublicStatusJSON(ctx context.Context, req gen.GetPublicStatusJSONRequestObject) (gen.GetPublicStatusJSONResponseObject, error) {
	v, err := h.page(ctx, req.Slug)
	if err != nil {
		return nil, err
	}
	return v.json.answer(ctx, req.Params.IfNoneMatch, v.cacheControl), nil
}

// GetPublicStatusBadge serves the badge of "overall" or of a component named by id or slug.
func (h *Handlers) GetPublicStatusBadge(ctx context.Context, req gen.GetPublicStatusBadgeRequestObject) (gen.GetPublicStatusBadgeResponseObject, error) {
	v, err := h.page(ctx, req.Slug)
	if err != nil {
		return nil, err
	}
	rep, ok := v.badge(req.Component)
	if !ok {
		return nil, problem.Newf(http.StatusNotFound, "status page %s has no component %q", req.Slug, req.Component)
	}
	return rep.answer(ctx, req.Params.IfNoneMatch, v.cacheControl), nil
}

func (h *Handlers) GetPublicStatusRSS(ctx context.Context, req gen.GetPublicStatusRSSRequestObject) (gen.GetPublicStatusRSSResponseObject, error) {
	v, err := h.page(ctx, req.Slug)
	if err != nil {
		return nil, err
	}
	// RSS links are absolute, so the body depends on the host the feed was fetched from: it
	// is rendered per request (from the cached snapshot, no query) rather than cached.
	body, err := renderRSS(v.snapshot, requestFrom(ctx).base())
	if err != nil {
		return nil, err
	}
	rep := representation{body: body, etag: v.etag("rss"), contentType: "application/rss+xml; charset=utf-8"}
	return rep.answer(ctx, req.Params.IfNoneMatch, v.cacheControl), nil
}

// badge finds the component (or overall) and renders its badge, once per snapshot.
func (v view) badge(key string) (representation, bool) {
	label, state, uptime, id := v.status.Title, v.status.Overall, (*float64)(nil), "overall"
	if key != "overall" {
		c, ok := v.component(key)
		if !ok {
			return representation{}, false
		}
		label, state, uptime, id = c.Name, c.State, c.UptimePct, c.Id.String()
	}
	v.badgeMu.Lock()
	defer v.badgeMu.Unlock()
	if rep, ok := v.badges[id]; ok {
		return rep, true
	}
	if v.badges == nil {
		v.badges = map[string]representation{}
	}
	rep := newRepresentation(renderBadge(label, badgeMessage(state, uptime), state), v.etag("badge-"+id), "image/svg+xml")
	v.badges[id] = rep
	return rep, true
}

// component finds a component by id or by slug.
func (v view) component(key string) (gen.PublicComponent, bool) {
	id, err := uuid.Parse(key)
	for _, c := range v.status.Components {
		if (err == nil && c.Id == id) || c.Slug == strings.ToLower(key) {
			return c, true
		}
	}
	return gen.PublicComponent{}, false
}
