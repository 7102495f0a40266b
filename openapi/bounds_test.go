package openapi_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
)

// unboundedForNow are the request schemas not yet held to TestRequestInputsAreBounded; the
// check schemas are being bounded on their own. Remove a name once its schema passes.
var unboundedForNow = map[string]bool{"CheckCreate": true, "CheckUpdate": true}

// TestRequestInputsAreBounded holds every value a request carries (parameters and bodies,
// through every $ref) to what the OWASP API-security ruleset asks of inputs (API4, resource
// consumption): strings have a maxLength (or an enum), arrays a maxItems, integers a format
// and both limits. Spectral reports the same; this keeps the rule in `go test`.
func TestRequestInputsAreBounded(t *testing.T) {
	doc := loadMain(t)
	var bad []string
	seen := map[*openapi3.Schema]bool{}
	var walk func(where string, ref *openapi3.SchemaRef)
	walk = func(where string, ref *openapi3.SchemaRef) {
		if ref == nil || ref.Value == nil {
			return
		}
		if name, ok := strings.CutPrefix(ref.Ref, "#/components/schemas/"); ok {
			if unboundedForNow[name] {
				return
			}
			where = name
		}
		s := ref.Value
		if seen[s] {
			return
		}
		seen[s] = true
		switch {
		case s.Type.Is("string") && s.MaxLength == nil && len(s.Enum) == 0:
			bad = append(bad, where+": string without maxLength")
		case s.Type.Is("array") && s.MaxItems == nil:
			bad = append(bad, where+": array without maxItems")
		case s.Type.Is("integer") && (s.Format == "" || s.Min == nil || s.Max == nil):
			bad = append(bad, where+": integer without format, minimum and maximum")
		}
		for _, sub := range [][]*openapi3.SchemaRef{s.AllOf, s.AnyOf, s.OneOf} {
			for _, r := range sub {
				walk(where, r)
			}
		}
		walk(where+"[]", s.Items)
		for name, p := range s.Properties {
			walk(where+"."+name, p)
		}
		if ap := s.AdditionalProperties.Schema; ap != nil {
			walk(where+".*", ap)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			at := fmt.Sprintf("%s %s", method, path)
			for _, p := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				walk(at+" "+p.Value.Name, p.Value.Schema)
			}
			if op.RequestBody != nil {
				for _, mt := range op.RequestBody.Value.Content {
					walk(at+" body", mt.Schema)
				}
			}
		}
	}
	sort.Strings(bad)
	assert.Empty(t, bad, "request inputs without bounds")
}
