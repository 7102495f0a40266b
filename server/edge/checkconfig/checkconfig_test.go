package checkconfig_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/edge/checkconfig"
)

// TestEveryCheckTypeHasASchema: the contract has a config schema for each check type the
// probers know, and Validate knows no other type.
func TestEveryCheckTypeHasASchema(t *testing.T) {
	doc, err := openapi.Load(t.Context(), openapi.MainYAML)
	require.NoError(t, err)
	configs, err := checkconfig.New(doc)
	require.NoError(t, err)
	for _, checkType := range probes.Types() {
		for _, f := range configs.Validate(checkType, map[string]any{}) {
			require.NotEqual(t, "check_type", f.Field, "%s: %s", checkType, f.Message)
		}
	}
	require.Equal(t, "check_type", configs.Validate("gopher", nil)[0].Field)
}
