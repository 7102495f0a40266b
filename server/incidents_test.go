package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestIncidentLifecycle(t *testing.T) {
	env := servertest.Start(t)
	env.NewWorkspace(t, "other")
	c := env.Client(t, env.OwnerToken)
	other := env.Client(t, env.Token(t, "other", access.Owner).Token)
	ctx := context.Background()
	host := createHost(t, c, "web-prod-01")

	// Create: severity defaults to major, tags.source is manual, the timeline starts "opened".
	created, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "Dégradation web-prod-01", HostId: &host.Id,
		Tags: &client.Tags{"team": "web"}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	inc := *created.JSON201
	assert.Equal(t, client.SeverityMajor, inc.Severity)
	assert.Equal(t, client.IncidentStatusInvestigating, inc.Status)
	assert.Equal(t, client.Tags{"team": "web", "source": "manual"}, inc.Tags)

	// Bad links are 400 naming the field, and create nothing.
	bad, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "x", HostId: ptr(uuid.New())})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"host_id"`)
	bad, err = c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: ""})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"title"`)

	// Acknowledge; again is harmless; the shortcut and the PUT agree.
	ack, err := c.QuickAckIncidentWithResponse(ctx, inc.Id, nil, client.IncidentAck{})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ack.StatusCode(), string(ack.Body))
	assert.Equal(t, client.IncidentStatusAcknowledged, ack.JSON200.Status)
	require.NotNil(t, ack.JSON200.AcknowledgedAt)
	again, err := c.AcknowledgeIncidentWithResponse(ctx, inc.Id, client.IncidentAck{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, again.StatusCode())

	// An update with a note only, then resolve; resolving or acknowledging again is 409.
	up, err := c.AddIncidentUpdateWithResponse(ctx, inc.Id, nil, client.IncidentUpdateCreate{Note: "Mitigation appliquée."})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, up.StatusCode(), string(up.Body))
	assert.True(t, up.JSON201.Ok)
	res, err := c.ResolveIncidentWithResponse(ctx, inc.Id)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	assert.Equal(t, client.IncidentStatusResolved, res.JSON200.Status)
	require.NotNil(t, res.JSON200.ResolvedAt)
	conflict, err := c.QuickResolveIncidentWithResponse(ctx, inc.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, conflict.StatusCode())
	ackResolved, err := c.QuickAckIncidentWithResponse(ctx, inc.Id, nil, client.IncidentAck{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, ackResolved.StatusCode())

	// Open list excludes it; all includes it; reopen through an update with a status.
	open, err := c.ListIncidentsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, 0, open.JSON200.Count)
	all := client.ListIncidentsParamsStatusAll
	listed, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{Status: &all})
	require.NoError(t, err)
	assert.Equal(t, 1, listed.JSON200.Count)
	investigating := client.IncidentStatusInvestigating
	reopened, err := c.AddIncidentUpdateWithResponse(ctx, inc.Id, nil, client.IncidentUpdateCreate{Note: "Encore en panne.", Status: &investigating})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, reopened.StatusCode(), string(reopened.Body))
	assert.Equal(t, client.IncidentEventAction("reopened"), reopened.JSON201.Event.Action)

	// The timeline has every change, oldest first, with actors.
	got, err := c.GetIncidentWithResponse(ctx, inc.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	var actions []string
	for _, e := range *got.JSON200.Timeline {
		actions = append(actions, string(e.Action))
		assert.NotEmpty(t, deref(e.Actor))
	}
	assert.Equal(t, []string{"opened", "acknowledged", "update", "resolved", "reopened"}, actions)
	assert.Equal(t, client.IncidentStatusInvestigating, got.JSON200.Status)
	assert.Nil(t, got.JSON200.ResolvedAt)

	// Filters: severity, tags, host; and pagination.
	for _, s := range []client.Severity{client.SeverityCritical, client.SeverityMinor, client.SeverityCritical} {
		r, err := c.CreateIncidentWithResponse(ctx, nil, client.IncidentCreate{Title: "more", Severity: &s})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode())
	}
	crit := client.SeverityCritical
	bySeverity, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{Severity: &crit})
	require.NoError(t, err)
	assert.Equal(t, 2, bySeverity.JSON200.Count)
	byTag, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{Tags: &[]string{"team:web"}})
	require.NoError(t, err)
	assert.Equal(t, 1, byTag.JSON200.Count)
	byHost, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{HostId: &host.Id})
	require.NoError(t, err)
	assert.Equal(t, 1, byHost.JSON200.Count)
	seen := map[uuid.UUID]bool{}
	var cursor *string
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5)
		p, err := c.ListIncidentsWithResponse(ctx, &client.ListIncidentsParams{Limit: ptr(3), Cursor: cursor})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, p.StatusCode(), string(p.Body))
		assert.Equal(t, 4, p.JSON200.Count)
		for _, i := range p.JSON200.Incidents {
			assert.False(t, seen[i.Id], "each incident once")
			seen[i.Id] = true
		}
		if p.JSON200.NextCursor == nil {
			break
		}
		cursor = p.JSON200.NextCursor
	}
	assert.Len(t, seen, 4)

	// Another workspace sees none of it and can change nothing.
	o, err := other.GetIncidentWithResponse(ctx, inc.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, o.StatusCode())
	oa, err := other.QuickAckIncidentWithResponse(ctx, inc.Id, nil, client.IncidentAck{})
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, oa.StatusCode())
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
