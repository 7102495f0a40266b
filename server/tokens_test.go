package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestRevokedTokenIsRefused(t *testing.T) {
	env := servertest.Start(t)
	ctx := context.Background()
	issued := env.Token(t, "default", access.Operator)
	c := env.Client(t, issued.Token)

	ok, err := c.ListHostsWithResponse(ctx, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ok.StatusCode())

	tokens, err := admin.ListTokens(ctx, env.Queries, "default")
	require.NoError(t, err)
	var found bool
	for _, tk := range tokens {
		if tk.ID == issued.ID {
			found = true
			assert.Equal(t, "operator", tk.Role)
			assert.NotNil(t, tk.LastUsedAt, "use is recorded")
		}
		assert.NotContains(t, tk.Name, "smn_")
	}
	require.True(t, found)

	require.NoError(t, admin.RevokeToken(ctx, env.Queries, "default", issued.ID))
	env.App.Auth.Forget() // what the cache TTL does on its own within 10 s
	refused, err := c.ListHostsWithResponse(ctx, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, refused.StatusCode())
	assert.Error(t, admin.RevokeToken(ctx, env.Queries, "default", issued.ID), "revoking twice")
}
