package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func ptr[T any](v T) *T { return &v }

func TestHostsLifecycle(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()

	empty, err := c.ListHostsWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, empty.StatusCode())
	assert.JSONEq(t, `{"count":0,"hosts":[]}`, string(empty.Body))

	created, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{
		Name: "web-prod-01", Hostname: "10.0.0.12", HostType: ptr(client.HostTypeServer), Tags: &client.Tags{"env": "prod"},
	})

	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, created.StatusCode(), string(created.Body))
	h := created.JSON201
	assert.Equal(t, "web-prod-01", h.Name)
	assert.Equal(t, "10.0.0.12", h.Hostname)
	assert.True(t, h.IsActive)
	assert.Equal(t, client.Tags{"env": "prod"}, h.Tags)
	assert.NotEqual(t, uuid.Nil, h.Id)

	got, err := c.GetHostWithResponse(ctx, h.Id, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	assert.Equal(t, h.Id, got.JSON200.Id)
	assert.Equal(t, client.Tags{"env": "prod"}, got.JSON200.Tags)

	dup, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "web-prod-01", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, http.StatusConflict, dup.StatusCode())
	assert.Equal(t, "application/problem+json", dup.HTTPResponse.Header.Get("Content-Type"))

	// PUT is partial: only is_active changes.
	updated, err := c.UpdateHostWithResponse(ctx, h.Id, nil, client.HostUpdate{IsActive: ptr(false)})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, updated.StatusCode(), string(updated.Body))
	assert.False(t, updated.JSON200.IsActive)
	assert.Equal(t, "10.0.0.12", updated.JSON200.Hostname)
	assert.Equal(t, client.Tags{"env": "prod"}, updated.JSON200.Tags)
	assert.True(t, !updated.JSON200.UpdatedAt.Before(h.UpdatedAt))

	_, err = c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: "db-01", Hostname: "127.0.0.2"})
	require.NoError(t, err)
	active, err := c.ListHostsWithResponse(ctx, &client.ListHostsParams{Active: ptr(true)})
	require.NoError(t, err)
	require.Equal(t, 1, active.JSON200.Count)
	assert.Equal(t, "db-01", active.JSON200.Hosts[0].Name)
	inactive, err := c.ListHostsWithResponse(ctx, &client.ListHostsParams{Active: ptr(false)})
	require.NoError(t, err)
	require.Equal(t, 1, inactive.JSON200.Count)
	assert.Equal(t, "web-prod-01", inactive.JSON200.Hosts[0].Name)

	del, err := c.DeleteHostWithResponse(ctx, h.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, del.StatusCode())
	gone, err := c.GetHostWithResponse(ctx, h.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, gone.StatusCode())
	again, err := c.DeleteHostWithResponse(ctx, h.Id, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNotFound, again.StatusCode())
}

func TestHostsPagination(t *testing.T) {
	env := servertest.Start(t)
	c := env.Client(t, env.OwnerToken)
	ctx := context.Background()
	names := []string{"a-host", "b-host", "c-host", "d-host", "e-host"}
	for _, n := range []string{"c-host", "a-host", "e-host", "b-host", "d-host"} {
		r, err := c.CreateHostWithResponse(ctx, nil, client.HostCreate{Name: n, Hostname: "127.0.0.1"})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode())
	}
	var seen []string
	var cursor *string
	pages := 0
	for {
		r, err := c.ListHostsWithResponse(ctx, &client.ListHostsParams{Limit: ptr(2), Cursor: cursor})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), string(r.Body))
		assert.Equal(t, 5, r.JSON200.Count, "count is the total, on every page")
		for _, h := range r.JSON200.Hosts {
			seen = append(seen, h.Name)
		}
		pages++
		if r.JSON200.NextCursor == nil {
			break
		}
		cursor = r.JSON200.NextCursor
		require.Less(t, pages, 10)
	}
	assert.Equal(t, names, seen)
	assert.Equal(t, 3, pages)

	bad, err := c.ListHostsWithResponse(ctx, &client.ListHostsParams{Cursor: ptr("garbage!")})
	require.NoError(t, err)
	assert.Equal(t, http.StatusBadRequest, bad.StatusCode())
	assert.Contains(t, string(bad.Body), `"field":"cursor"`)
}
