// Package checkconfig validates and masks a check's type-specific config. The rules are the
// contract's own schemas (PingConfig, SnmpConfig, HttpConfig, TcpConfig, DnsConfig,
// TlsConfig): each check type of probes.Types() picks its schema by name, so the API docs,
// the validation and the probers agree.
package checkconfig

import (
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/edge/schemaerr"
)

// Mask replaces write-only secrets in responses.
const Mask = "********"

// schemaName names a check type's config schema in the contract: ping's is PingConfig.
func schemaName(checkType string) string {
	return strings.ToUpper(checkType[:1]) + checkType[1:] + "Config"
}

// Configs knows the config schema of every check type.
type Configs struct {
	schemas map[string]*openapi3.Schema
}

// New reads the schema of every check type from the loaded contract.
func New(doc *openapi3.T) (*Configs, error) {
	c := &Configs{schemas: map[string]*openapi3.Schema{}}
	for _, checkType := range probes.Types() {
		name := schemaName(checkType)
		ref := doc.Components.Schemas[name]
		if ref == nil || ref.Value == nil {
			return nil, fmt.Errorf("contract has no %s schema for check type %s", name, checkType)
		}
		c.schemas[checkType] = ref.Value
	}
	return c, nil
}

// Validate checks config against its type's schema and names each bad field as
// "config.<path>". A nil config is validated as an empty object (so required fields show).
func (c *Configs) Validate(checkType string, config map[string]any) []problem.FieldError {
	schema, ok := c.schemas[checkType]
	if !ok {
		return []problem.FieldError{{Field: "check_type", Message: "unknown check type " + checkType}}
	}
	if config == nil {
		config = map[string]any{}
	}
	err := schema.VisitJSON(config, openapi3.MultiErrors())
	if err == nil {
		return nil
	}
	fields := schemaerr.Fields(err, "config")
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return fields
}

// Masked returns a copy of config with secrets replaced by Mask: write-only properties, and
// the values of maps marked x-secret-values (HTTP headers).
func (c *Configs) Masked(checkType string, config map[string]any) map[string]any {
	out := make(map[string]any, len(config))
	schema := c.schemas[checkType]
	for k, v := range config {
		out[k] = v
		if schema == nil {
			continue
		}
		prop := schema.Properties[k]
		if prop == nil || prop.Value == nil {
			continue
		}
		switch {
		case prop.Value.WriteOnly:
			out[k] = Mask
		case prop.Value.Extensions["x-secret-values"] == true:
			if m, ok := v.(map[string]any); ok {
				masked := make(map[string]any, len(m))
				for hk := range m {
					masked[hk] = Mask
				}
				out[k] = masked
			}
		}
	}
	return out
}

// KeepSecrets lets a client send back a config it read (with masked secrets): every value
// still equal to Mask takes the old config's value, so secrets survive a read-modify-write.
func KeepSecrets(old, updated map[string]any) map[string]any {
	out := make(map[string]any, len(updated))
	for k, v := range updated {
		switch nv := v.(type) {
		case string:
			if nv == Mask {
				if ov, ok := old[k]; ok {
					out[k] = ov
					continue
				}
			}
		case map[string]any:
			if om, ok := old[k].(map[string]any); ok {
				out[k] = KeepSecrets(om, nv)
				continue
			}
		}
		out[k] = v
	}
	return out
}
