// Package schemaerr names the fields behind kin-openapi schema errors, so that both request
// validation and check-config validation report "config.port" rather than a bare message.
package schemaerr

import (
	"errors"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/secuaas/secumon/server/edge/problem"
)

// Fields flattens err (a SchemaError or a MultiError of them) into field errors whose paths
// start with prefix ("" for a request body, "config" for a check's config). Errors that are
// not schema errors are reported on prefix itself (or "body").
func Fields(err error, prefix string) []problem.FieldError {
	var out []problem.FieldError
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			out = append(out, Fields(e, prefix)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		if inner := composed(se); inner != nil {
			at := strings.Join(append(nonEmpty(prefix), se.JSONPointer()...), ".")
			return Fields(inner, at)
		}
		return []problem.FieldError{{Field: path(se, prefix), Message: message(se)}}
	}
	if prefix == "" {
		// Not a schema error of the body: a decoding one, said in JSON's words.
		return []problem.FieldError{Decoding(err)}
	}
	return []problem.FieldError{{Field: prefix, Message: err.Error()}}
}

// path joins the error's JSON pointer with dots. For a missing or unsupported property the
// pointer may stop at the parent object; the property named in the reason is then appended.
func path(se *openapi3.SchemaError, prefix string) string {
	parts := se.JSONPointer()
	if name, ok := quotedProperty(se.Reason); ok && (len(parts) == 0 || parts[len(parts)-1] != name) {
		parts = append(parts, name)
	}
	if prefix != "" {
		parts = append([]string{prefix}, parts...)
	}
	if len(parts) == 0 {
		return "body"
	}
	return strings.Join(parts, ".")
}

// quotedProperty extracts x from reasons such as `property "x" is missing`.
func quotedProperty(reason string) (string, bool) {
	_, rest, ok := strings.Cut(reason, `property "`)
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, `"`)
	return name, ok
}

// PatternMessage is the schema extension that says, in words, what a pattern requires:
// "must be an absolute http or https URL" helps a caller, the regular expression does not.
const PatternMessage = "x-pattern-message"

// message drops the regular expression kin-openapi appends to format errors ("must be a
// uuid" is enough), and replaces a pattern mismatch by the schema's x-pattern-message.
func message(se *openapi3.SchemaError) string {
	if se.SchemaField == "pattern" && se.Schema != nil {
		if m, ok := se.Schema.Extensions[PatternMessage].(string); ok && m != "" {
			return m
		}
	}
	if before, _, ok := strings.Cut(se.Reason, " (string doesn't match pattern"); ok {
		return before
	}
	return se.Reason
}

// composed returns the errors behind an allOf failure (each applies), or behind a oneOf
// failure when exactly one variant was tried (a discriminator chose it): a body whose
// check_type is http then reports "config.url", not "doesn't match any schema from oneOf".
// A oneOf without discriminator that no variant matched keeps its own message.
func composed(se *openapi3.SchemaError) openapi3.MultiError {
	if se.Origin == nil || (se.SchemaField != "allOf" && se.SchemaField != "oneOf") {
		return nil
	}
	var multi openapi3.MultiError
	if !errors.As(se.Origin, &multi) || len(multi) == 0 {
		return nil
	}
	if se.SchemaField == "oneOf" && len(multi) != 1 {
		return nil
	}
	return multi
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}
