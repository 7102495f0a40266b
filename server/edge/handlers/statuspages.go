package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/edge/problem"
)

// Status pages. The public side (/status/{slug}) is server/edge/public; this is the API's CRUD.

const (
	defaultHistoryDays = 90
	// publicSlugIndex is the unique index that keeps public slugs unique across workspaces.
	publicSlugIndex = "status_pages_public_slug"
)

func (a *API) ListStatusPages(ctx context.Context, req api.ListStatusPagesRequestObject) (api.ListStatusPagesResponseObject, error) {
	ws, p := caller(ctx).WorkspaceID, req.Params
	l, err := listPage(ctx, p.Cursor, p.Limit,
		func(ctx context.Context, afterSlug *string, afterID uuid.UUID, maxRows int32) ([]db.StatusPage, error) {
			return a.q.ListStatusPages(ctx, db.ListStatusPagesParams{WorkspaceID: ws, AfterSlug: afterSlug, AfterID: afterID, MaxRows: maxRows})
		},
		func(ctx context.Context) (int64, error) { return a.q.CountStatusPages(ctx, ws) },
		func(p db.StatusPage) keyset { return keyset{p.Slug, p.ID} })
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(l.rows))
	for i, p := range l.rows {
		ids[i] = p.ID
	}
	comps, err := a.q.ListStatusPageComponents(ctx, db.ListStatusPageComponentsParams{WorkspaceID: ws, PageIds: ids})
	if err != nil {
		return nil, err
	}
	byPage := map[uuid.UUID][]db.StatusPageComponent{}
	for _, c := range comps {
		byPage[c.PageID] = append(byPage[c.PageID], c)
	}
	out := api.StatusPageList{Count: l.total, StatusPages: make([]api.StatusPage, len(l.rows)), NextCursor: l.next}
	for i, p := range l.rows {
		out.StatusPages[i] = statusPageOut(p, byPage[p.ID])
	}
	return api.ListStatusPages200JSONResponse{Body: out}, nil
}

func (a *API) GetStatusPage(ctx context.Context, req api.GetStatusPageRequestObject) (api.GetStatusPageResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	p, err := a.q.GetStatusPage(ctx, db.GetStatusPageParams{WorkspaceID: ws, ID: req.Id})
	if err != nil {
		return nil, notFoundAs(err, "status page")
	}
	comps, err := a.q.ListStatusPageComponents(ctx, db.ListStatusPageComponentsParams{WorkspaceID: ws, PageIds: []uuid.UUID{p.ID}})
	if err != nil {
		return nil, err
	}
	return api.GetStatusPage200JSONResponse{Body: statusPageOut(p, comps)}, nil
}

func (a *API) CreateStatusPage(ctx context.Context, req api.CreateStatusPageRequestObject) (api.CreateStatusPageResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	b := req.Body
	var out api.StatusPage
	err := a.inTx(ctx, func(q *db.Queries) error {
		comps, err := componentRows(ctx, q, ws, derefOr(b.Components, nil))
		if err != nil {
			return err
		}
		isPublic := derefOr(b.IsPublic, true)
		if err := claimSlug(ctx, q, ws, b.Slug, isPublic); err != nil {
			return err
		}
		p, err := q.CreateStatusPage(ctx, db.CreateStatusPageParams{
			WorkspaceID: ws, ID: uuid.New(), Slug: b.Slug, Title: b.Title, Description: deref(b.Description),
			IsPublic: isPublic, ShowHistoryDays: int32(derefOr(b.ShowHistoryDays, defaultHistoryDays)),
		})
		if err != nil {
			return slugError(err, b.Slug)
		}
		saved, err := replaceComponents(ctx, q, p, comps)
		out = statusPageOut(p, saved)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.CreateStatusPage201JSONResponse(out), nil
}

// UpdateStatusPage is a partial update; a components list replaces the page's components.
func (a *API) UpdateStatusPage(ctx context.Context, req api.UpdateStatusPageRequestObject) (api.UpdateStatusPageResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	b := req.Body
	var out api.StatusPage
	err := a.inTx(ctx, func(q *db.Queries) error {
		old, err := q.LockStatusPage(ctx, db.LockStatusPageParams{WorkspaceID: ws, ID: req.Id})
		if err != nil {
			return notFoundAs(err, "status page")
		}
		var comps []db.StatusPageComponent
		if b.Components != nil {
			if comps, err = componentRows(ctx, q, ws, *b.Components); err != nil {
				return err
			}
		}
		if b.Slug != nil || b.IsPublic != nil {
			if err := claimSlug(ctx, q, ws, derefOr(b.Slug, old.Slug), derefOr(b.IsPublic, old.IsPublic)); err != nil {
				return err
			}
		}
		var days *int32
		if b.ShowHistoryDays != nil {
			d := int32(*b.ShowHistoryDays)
			days = &d
		}
		p, err := q.UpdateStatusPage(ctx, db.UpdateStatusPageParams{
			WorkspaceID: ws, ID: req.Id, Slug: b.Slug, Title: b.Title, Description: b.Description,
			IsPublic: b.IsPublic, ShowHistoryDays: days,
		})
		if err != nil {
			return slugError(err, derefOr(b.Slug, old.Slug))
		}
		if b.Components == nil {
			saved, err := q.ListStatusPageComponents(ctx, db.ListStatusPageComponentsParams{WorkspaceID: ws, PageIds: []uuid.UUID{p.ID}})
			out = statusPageOut(p, saved)
			return err
		}
		if err := q.DeleteStatusPageComponents(ctx, db.DeleteStatusPageComponentsParams{WorkspaceID: ws, PageID: p.ID}); err != nil {
			return err
		}
		saved, err := replaceComponents(ctx, q, p, comps)
		out = statusPageOut(p, saved)
		return err
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateStatusPage200JSONResponse{Body: out}, nil
}

func (a *API) DeleteStatusPage(ctx context.Context, req api.DeleteStatusPageRequestObject) (api.DeleteStatusPageResponseObject, error) {
	n, err := a.q.DeleteStatusPage(ctx, db.DeleteStatusPageParams{WorkspaceID: caller(ctx).WorkspaceID, ID: req.Id})
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, problem.NotFound("status page")
	}
	return api.DeleteStatusPage204Response{}, nil
}

// claimSlug checks, in the caller's transaction, that a page of workspace ws may have slug
// (public or not). /status/{slug} names no workspace, and members read their private pages
// there too, so across workspaces only private pages may share a slug: a public page's slug is
// unavailable to every other page, and a public page cannot take a slug any page of another
// workspace has. The slug's advisory lock, held until the transaction ends, makes the check
// and the write that follows one step for every workspace (the unique indexes cover the rest:
// two pages of one workspace, two public pages).
func claimSlug(ctx context.Context, q *db.Queries, ws uuid.UUID, slug string, isPublic bool) error {
	if err := q.LockSlug(ctx, slug); err != nil {
		return err
	}
	taken, err := q.SlugTakenElsewhere(ctx, db.SlugTakenElsewhereParams{Slug: slug, WorkspaceID: ws, IsPublic: isPublic})
	if err != nil {
		return err
	}
	if !taken {
		return nil
	}
	if isPublic {
		return slugConflict("the slug %q is used by a status page of another workspace: a public page needs a slug no other workspace uses", slug)
	}
	return slugConflict("the slug %q is taken by a public status page (public slugs are shared by all workspaces)", slug)
}

// slugError turns a duplicate slug into a 409 that says which uniqueness rule it broke.
func slugError(err error, slug string) error {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		return err
	}
	if pgErr.ConstraintName == publicSlugIndex {
		return slugConflict("another public status page already uses the slug %q (public slugs are shared by all workspaces)", slug)
	}
	return slugConflict("a status page with the slug %q already exists", slug)
}

// slugConflict is a 409 naming the slug field.
func slugConflict(format, slug string) *problem.Problem {
	p := problem.Conflict(format, slug)
	p.Errors = []problem.FieldError{{Field: "slug", Message: p.Detail}}
	return p
}

// componentRows validates the components of a request (exactly one of host_id and check_id,
// both of this workspace; ids not repeated) and returns them as rows, without page id. Errors
// name the field the way the contract validation does: components.3.host_id.
func componentRows(ctx context.Context, q *db.Queries, ws uuid.UUID, in []api.StatusPageComponent) ([]db.StatusPageComponent, error) {
	var bad []problem.FieldError
	field := func(i int, name string) string { return fmt.Sprintf("components.%d.%s", i, name) }
	var hostIDs, checkIDs []uuid.UUID
	seen := map[uuid.UUID]bool{}
	rows := make([]db.StatusPageComponent, len(in))
	for i, c := range in {
		if (c.HostId == nil) == (c.CheckId == nil) {
			bad = append(bad, problem.FieldError{Field: field(i, "host_id"), Message: "give exactly one of host_id and check_id"})
		}
		if strings.TrimSpace(c.Name) == "" {
			bad = append(bad, problem.FieldError{Field: field(i, "name"), Message: "must not be blank"})
		}
		id := uuid.New()
		if c.Id != nil {
			if seen[*c.Id] {
				bad = append(bad, problem.FieldError{Field: field(i, "id"), Message: "appears twice in the list"})
			}
			seen[*c.Id] = true
			id = *c.Id
		}
		if c.HostId != nil {
			hostIDs = append(hostIDs, *c.HostId)
		}
		if c.CheckId != nil {
			checkIDs = append(checkIDs, *c.CheckId)
		}
		rows[i] = db.StatusPageComponent{
			WorkspaceID: ws, ID: id, SortOrder: int32(derefOr(c.Order, i)), Position: int32(i),
			Name: strings.TrimSpace(c.Name), GroupName: strings.TrimSpace(deref(c.Group)), HostID: c.HostId, CheckID: c.CheckId,
		}
	}
	if len(bad) > 0 {
		return nil, problem.Invalid(bad...)
	}
	knownHosts, err := known(hostIDs, func(ids []uuid.UUID) ([]uuid.UUID, error) {
		return q.KnownHostIDs(ctx, db.KnownHostIDsParams{WorkspaceID: ws, Ids: ids})
	})
	if err != nil {
		return nil, err
	}
	knownChecks, err := known(checkIDs, func(ids []uuid.UUID) ([]uuid.UUID, error) {
		return q.KnownCheckIDs(ctx, db.KnownCheckIDsParams{WorkspaceID: ws, Ids: ids})
	})
	if err != nil {
		return nil, err
	}
	for i, c := range in {
		if c.HostId != nil && !knownHosts[*c.HostId] {
			bad = append(bad, problem.FieldError{Field: field(i, "host_id"), Message: "no such host in this workspace"})
		}
		if c.CheckId != nil && !knownChecks[*c.CheckId] {
			bad = append(bad, problem.FieldError{Field: field(i, "check_id"), Message: "no such check in this workspace"})
		}
	}
	if len(bad) > 0 {
		return nil, problem.Invalid(bad...)
	}
	return rows, nil
}

// known returns which of ids the lookup finds.
func known(ids []uuid.UUID, lookup func([]uuid.UUID) ([]uuid.UUID, error)) (map[uuid.UUID]bool, error) {
	out := map[uuid.UUID]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	found, err := lookup(ids)
	for _, id := range found {
		out[id] = true
	}
	return out, err
}

// replaceComponents stores rows as the components of page p (which has none) and returns
// them in display order.
func replaceComponents(ctx context.Context, q *db.Queries, p db.StatusPage, rows []db.StatusPageComponent) ([]db.StatusPageComponent, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	params := make([]db.InsertStatusPageComponentsParams, len(rows))
	for i, r := range rows {
		params[i] = db.InsertStatusPageComponentsParams{
			WorkspaceID: p.WorkspaceID, PageID: p.ID, ID: r.ID, SortOrder: r.SortOrder, Position: r.Position,
			Name: r.Name, GroupName: r.GroupName, HostID: r.HostID, CheckID: r.CheckID,
		}
	}
	if _, err := q.InsertStatusPageComponents(ctx, params); err != nil {
		// The host or check went away since componentRows looked.
		if foreignKeyViolation(err) {
			return nil, problem.Invalid(problem.FieldError{Field: "components", Message: "a host or check was deleted meanwhile"})
		}
		return nil, err
	}
	return q.ListStatusPageComponents(ctx, db.ListStatusPageComponentsParams{WorkspaceID: p.WorkspaceID, PageIds: []uuid.UUID{p.ID}})
}

func statusPageOut(p db.StatusPage, comps []db.StatusPageComponent) api.StatusPage {
	created, updated := p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	out := api.StatusPage{
		Id: p.ID, Slug: p.Slug, Title: p.Title, Description: optional(p.Description), IsPublic: p.IsPublic,
		ShowHistoryDays: int(p.ShowHistoryDays), Components: make([]api.StatusPageComponent, len(comps)),
		CreatedAt: &created, UpdatedAt: &updated,
	}
	for i, c := range comps {
		id, order := c.ID, int(c.SortOrder)
		out.Components[i] = api.StatusPageComponent{
			Id: &id, Name: c.Name, Group: optional(c.GroupName), Order: &order, HostId: c.HostID, CheckId: c.CheckID,
		}
	}
	return out
}
