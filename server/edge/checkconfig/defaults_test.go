package checkconfig_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/edge/checkconfig"
)

func configs(t *testing.T) *checkconfig.Configs {
	t.Helper()
	doc, err := openapi.Load(context.Background(), openapi.MainYAML)
	require.NoError(t, err)
	c, err := checkconfig.New(doc)
	require.NoError(t, err)
	return c
}

// goDefaults are the probers' own defaults, as JSON objects: what a check runs with when its
// config leaves a field out.
func goDefaults(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for checkType, cfg := range map[string]any{
		"ping": probes.DefaultPingConfig(), "snmp": probes.DefaultSNMPConfig(), "http": probes.DefaultHTTPConfig(),
		"tcp": probes.TCPConfig{}, "dns": probes.DefaultDNSConfig(), "tls": probes.DefaultTLSConfig(),
		"grpc": probes.DefaultGRPCConfig(), "smtp": probes.DefaultSMTPConfig(), "postgres": probes.DefaultPostgresConfig(),
		"heartbeat": probes.DefaultHeartbeatConfig(),
	} {
		raw, err := json.Marshal(cfg)
		require.NoError(t, err)
		m := map[string]any{}
		require.NoError(t, json.Unmarshal(raw, &m))
		out[checkType] = m
	}
	return out
}

// TestSpecDefaultsAreTheProbersDefaults ties the contract to the probers: every default the
// contract documents (x-default, and "Default: `v`." in the description) is the prober's Go
// default, and every non-zero Go default is documented. The contract has no `default`
// keyword on config fields: a request schema with defaults reads as "required" to client
// generators such as openapi-typescript, and the server stores a config as it was sent.
func TestSpecDefaultsAreTheProbersDefaults(t *testing.T) {
	c := configs(t)
	defaults := goDefaults(t)
	require.ElementsMatch(t, probes.Types(), c.Types())
	for _, checkType := range c.Types() {
		t.Run(checkType, func(t *testing.T) {
			schema := c.Schema(checkType)
			require.NotNil(t, schema)
			goDef := defaults[checkType]
			for name, prop := range schema.Properties {
				p := prop.Value
				assert.Nil(t, p.Default, "%s: use x-default, not default (see item 7 of the typed-configs issue)", name)
				assert.NotEmpty(t, p.Description, "%s has no description", name)
				specDef, documented := p.Extensions["x-default"]
				goValue, inGo := goDef[name]
				if !documented {
					if inGo {
						assert.True(t, isZero(goValue), "%s: the prober defaults to %v but the contract documents no default", name, goValue)
					}
					continue
				}
				assert.True(t, inGo, "%s: the contract documents a default the prober does not have", name)
				assert.Equal(t, fmt.Sprint(goValue), fmt.Sprint(specDef), "%s: contract default vs prober default", name)
				assert.Contains(t, p.Description, fmt.Sprintf("Default: `%v`.", specDef), "%s: the description states the default", name)
				assert.NoError(t, p.VisitJSON(specDef), "%s: the default is a valid value", name)
			}
			for name, goValue := range goDef {
				if !isZero(goValue) {
					assert.Contains(t, schema.Properties, name, "the prober has a default for %s, which the contract does not know", name)
				}
			}
		})
	}
}

func isZero(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case bool:
		return !v
	case float64:
		return v == 0
	case string:
		return v == ""
	}
	return false
}

// TestEveryConfigFieldIsDocumented: every field of every config schema has a description and,
// unless it is a boolean or an object, an example; secrets are write-only.
func TestEveryConfigFieldIsDocumented(t *testing.T) {
	c := configs(t)
	secrets := map[string]bool{"snmp.community": true, "snmp.auth_passphrase": true, "snmp.priv_passphrase": true, "postgres.password": true}
	for _, checkType := range c.Types() {
		for name, prop := range c.Schema(checkType).Properties {
			p := prop.Value
			key := checkType + "." + name
			assert.NotEmpty(t, p.Description, key)
			if !p.Type.Is(openapi3.TypeBoolean) && !(p.Type.Is(openapi3.TypeArray) && p.Items.Ref != "") {
				assert.NotNil(t, p.Example, "%s has no example", key)
			}
			assert.Equal(t, secrets[key], p.WriteOnly, "%s writeOnly", key)
			if p.Type.Is(openapi3.TypeInteger) || p.Type.Is(openapi3.TypeNumber) {
				assert.NotNil(t, p.Min, "%s has no minimum", key)
			}
			if p.Type.Is(openapi3.TypeString) && p.Enum == nil {
				assert.NotNil(t, p.MaxLength, "%s has no maxLength", key)
			}
			if p.Enum != nil {
				names, ok := p.Extensions["x-enum-varnames"].([]any)
				assert.True(t, ok && len(names) == len(p.Enum), "%s: x-enum-varnames names every value", key)
			}
		}
	}
	assert.True(t, strings.HasPrefix(checkconfig.Mask, "*"))
}
