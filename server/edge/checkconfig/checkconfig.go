// Package checkconfig validates and masks a check's type-specific config. The rules are the
// contract's own schemas (PingConfig, SnmpConfig, HttpConfig, TcpConfig, DnsConfig,
// TlsConfig), found through CheckCreate's discriminator, so the API docs, the gate and this
// validation agree; what no schema can say (does this regular expression or JSONPath query
// compile?) is asked of the prober's own compiler.
package checkconfig

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/edge/schemaerr"
)

// Mask replaces write-only secrets in responses.
const Mask = probes.Mask

// Configs knows the config schema of every check type.
type Configs struct {
	schemas map[string]*openapi3.Schema
}

// New reads the per-type schemas from the loaded contract: CheckCreate is a oneOf whose
// discriminator maps each check_type to a variant, and the variant's `config` property is
// that type's config schema (PingConfig, SnmpConfig…). No second table names them.
func New(doc *openapi3.T) (*Configs, error) {
	create := doc.Components.Schemas["CheckCreate"]
	if create == nil || create.Value == nil || create.Value.Discriminator == nil || len(create.Value.Discriminator.Mapping) == 0 {
		return nil, fmt.Errorf("contract: CheckCreate is not a oneOf discriminated by check_type")
	}
	c := &Configs{schemas: map[string]*openapi3.Schema{}}
	for checkType, ref := range create.Value.Discriminator.Mapping {
		variant := componentOf(doc, ref.Ref)
		if variant == nil {
			return nil, fmt.Errorf("contract: check type %s maps to %s, which does not exist", checkType, ref.Ref)
		}
		config := configProperty(variant)
		if config == nil {
			return nil, fmt.Errorf("contract: %s has no typed config property", ref.Ref)
		}
		c.schemas[checkType] = config
	}
	return c, nil
}

// Types lists the check types the contract defines, sorted.
func (c *Configs) Types() []string {
	out := make([]string, 0, len(c.schemas))
	for t := range c.schemas {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// Schema returns the config schema of a check type, nil for an unknown type.
func (c *Configs) Schema(checkType string) *openapi3.Schema { return c.schemas[checkType] }

func componentOf(doc *openapi3.T, ref string) *openapi3.Schema {
	name, ok := strings.CutPrefix(ref, "#/components/schemas/")
	if !ok {
		return nil
	}
	if s := doc.Components.Schemas[name]; s != nil {
		return s.Value
	}
	return nil
}

// configProperty finds the variant's own `config` schema: the one given by reference among
// its allOf parts (the shared base only says "object").
func configProperty(s *openapi3.Schema) *openapi3.Schema {
	if p := s.Properties["config"]; p != nil && p.Ref != "" && p.Value != nil {
		return p.Value
	}
	for _, part := range s.AllOf {
		if part.Value == nil {
			continue
		}
		if found := configProperty(part.Value); found != nil {
			return found
		}
	}
	return nil
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
	var fields []problem.FieldError
	if err := schema.VisitJSON(config, openapi3.MultiErrors()); err != nil {
		fields = schemaerr.Fields(err, "config")
	} else if compile := compiled[checkType]; compile != nil {
		// Only a config of the right shape is worth compiling.
		raw, err := json.Marshal(config)
		if err != nil {
			return []problem.FieldError{{Field: "config", Message: "cannot be encoded as JSON"}}
		}
		for _, e := range compile(raw) {
			fields = append(fields, problem.FieldError{Field: strings.TrimSuffix("config."+e.Field, "."), Message: e.Message})
		}
	}
	sort.SliceStable(fields, func(i, j int) bool { return fields[i].Field < fields[j].Field })
	return fields
}

// compiled are the checks a schema cannot express, per check type: the prober compiles what
// the config holds (regular expressions, JSONPath queries) as it will on every run, so a
// config that would only ever run UNKNOWN is refused when it is sent.
var compiled = map[string]func(json.RawMessage) []probes.ConfigError{
	probes.TypeHTTP: probes.ValidateHTTPConfig,
}

// SecretURL marks a string property holding a URL whose credentials are secrets (HTTP check
// URLs): responses show it through MaskURL.
const SecretURL = "x-secret-url"

// Masked returns a copy of config with secrets replaced by Mask: write-only properties (also
// inside nested objects, such as the HTTP check's basic_auth password), the values of maps
// marked x-secret-values (HTTP headers), and the credentials of URLs marked x-secret-url (see
// MaskURL).
func (c *Configs) Masked(checkType string, config map[string]any) map[string]any {
	return maskObject(c.schemas[checkType], config)
}

func maskObject(schema *openapi3.Schema, obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
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
		case prop.Value.Extensions[SecretURL] == true:
			if u, ok := v.(string); ok {
				out[k] = MaskURL(u)
			}
		case prop.Value.Extensions["x-secret-values"] == true:
			if m, ok := v.(map[string]any); ok {
				masked := make(map[string]any, len(m))
				for hk := range m {
					masked[hk] = Mask
				}
				out[k] = masked
			}
		case len(prop.Value.Properties) > 0:
			if m, ok := v.(map[string]any); ok {
				out[k] = maskObject(prop.Value, m)
			}
		}
	}
	return out
}

// KeepSecrets lets a client send back a config it read (with masked secrets): every value
// still equal to Mask, or to the masked form of the old URL (MaskURL), takes the old
// config's value, so secrets survive a read-modify-write.
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
			if ov, ok := old[k].(string); ok && strings.Contains(nv, Mask) && ov != nv && MaskURL(ov) == nv {
				out[k] = ov // a URL sent back with its credentials masked
				continue
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
