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

// TestNestedSecrets: a write-only field inside an object (the http check's
// basic_auth.password) is masked, its siblings are not, and sending the mask back keeps the
// stored value; assertions, which hold no secret, read back as sent.
func TestNestedSecrets(t *testing.T) {
	doc, err := openapi.Load(t.Context(), openapi.MainYAML)
	require.NoError(t, err)
	configs, err := checkconfig.New(doc)
	require.NoError(t, err)
	stored := map[string]any{
		"url":        "https://127.0.0.1/",
		"basic_auth": map[string]any{"username": "monitor", "password": "pw-s3cret"},
		"assertions": []any{map[string]any{"kind": "header_equals", "name": "X", "value": "v"}},
	}
	masked := configs.Masked("http", stored)
	require.Equal(t, map[string]any{"username": "monitor", "password": checkconfig.Mask}, masked["basic_auth"])
	require.Equal(t, stored["assertions"], masked["assertions"])
	require.Equal(t, "pw-s3cret", stored["basic_auth"].(map[string]any)["password"], "the stored config is not changed")
	require.Equal(t, stored, checkconfig.KeepSecrets(stored, masked))
	require.Empty(t, configs.Validate("http", stored))
}
