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

// TestNewCheckTypes: the grpc, smtp and postgres configs and the dns rcode are validated
// field by field, and the postgres password is masked in answers and kept when sent back masked.
func TestNewCheckTypes(t *testing.T) {
	doc, err := openapi.Load(t.Context(), openapi.MainYAML)
	require.NoError(t, err)
	configs, err := checkconfig.New(doc)
	require.NoError(t, err)

	fields := func(checkType string, cfg map[string]any) []string {
		var out []string
		for _, f := range configs.Validate(checkType, cfg) {
			out = append(out, f.Field)
		}
		return out
	}
	for _, tc := range []struct {
		checkType string
		cfg       map[string]any
		want      []string // bad fields; none: valid
	}{
		{"grpc", map[string]any{"port": 50051, "service": "shop.Orders", "tls": true, "verify_tls": false}, nil},
		{"grpc", map[string]any{"service": "shop.Orders"}, []string{"config.port"}},
		{"grpc", map[string]any{"port": 70000}, []string{"config.port"}},
		{"grpc", map[string]any{"port": 1, "status": "SERVING"}, []string{"config.status"}},
		{"smtp", map[string]any{}, nil},
		{"smtp", map[string]any{"port": 587, "starttls": "required", "warn_days": 21, "expect_banner": "ESMTP"}, nil},
		{"smtp", map[string]any{"starttls": "always"}, []string{"config.starttls"}},
		{"smtp", map[string]any{"ehlo_name": ""}, []string{"config.ehlo_name"}},
		{"smtp", map[string]any{"crit_days": -1}, []string{"config.crit_days"}},
		{"postgres", map[string]any{}, nil},
		{"postgres", map[string]any{"database": "shop", "user": "monitor", "password": "pw", "sslmode": "verify-full", "query": "SELECT 1", "expect_rows_min": 1}, nil},
		{"postgres", map[string]any{"sslmode": "allow"}, []string{"config.sslmode"}},
		{"postgres", map[string]any{"expect_rows_min": -1}, []string{"config.expect_rows_min"}},
		{"postgres", map[string]any{"dsn": "postgres://x"}, []string{"config.dsn"}},
		{"dns", map[string]any{"query_name": "gone.example.org", "expected_rcode": "NXDOMAIN"}, nil},
		{"dns", map[string]any{"query_name": "example.org", "expected_rcode": "FORMERR"}, []string{"config.expected_rcode"}},
	} {
		got := fields(tc.checkType, tc.cfg)
		require.Equal(t, tc.want, got, "%s %v", tc.checkType, tc.cfg)
	}

	stored := map[string]any{"user": "monitor", "password": "hunter2", "query": "SELECT 1"}
	masked := configs.Masked("postgres", stored)
	require.Equal(t, checkconfig.Mask, masked["password"])
	require.Equal(t, "monitor", masked["user"])
	require.Equal(t, "hunter2", stored["password"], "Masked copies")

	sentBack := map[string]any{"user": "monitor", "password": checkconfig.Mask, "query": "SELECT 2"}
	kept := checkconfig.KeepSecrets(stored, sentBack)
	require.Equal(t, "hunter2", kept["password"])
	require.Equal(t, "SELECT 2", kept["query"])
	changed := checkconfig.KeepSecrets(stored, map[string]any{"password": "new-secret"})
	require.Equal(t, "new-secret", changed["password"])

	require.Equal(t, map[string]any{"port": 50051, "service": "s"}, configs.Masked("grpc", map[string]any{"port": 50051, "service": "s"}))
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
