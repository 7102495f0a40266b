package appsec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Scanner reports run to tens of megabytes. They are read as a stream (ParseReader): the
// top-level object key by key, and the arrays that hold the findings (Trivy's Results and
// their Vulnerabilities, Misconfigurations and Secrets; SARIF's runs and their results) one
// element at a time, each decoded into the small structs of trivy.go and sarif.go and turned
// into a Finding at once. What is held is the findings, never the document or a generic map
// of it; values SecuMon does not read are skipped token by token.

// stream walks one report with a json.Decoder.
type stream struct {
	dec *json.Decoder
}

// MemberCheck checks a top-level member of a report other than the finding arrays (Results,
// runs), decoded as encoding/json decodes into any; its error is returned as it is. The API
// checks them against the contract's ScannerReport schema.
type MemberCheck func(key string, value any) error

// ParseReader reads a scanner report from body as a stream, with Parse's rules: format ""
// detects it (Trivy reports have SchemaVersion, SARIF logs have runs), and a malformed or
// unknown document is an InvalidError naming the field. check, when not nil, sees every
// top-level member but the finding arrays.
func ParseReader(body io.Reader, format Format, check MemberCheck) (*Report, error) {
	switch format {
	case "", Trivy, SARIF:
	default:
		return nil, invalid("format", fmt.Sprintf("unknown report format %q (trivy or sarif)", format))
	}
	s := &stream{dec: json.NewDecoder(body)}
	if err := s.expectDelim('{', "body", "not a JSON object"); err != nil {
		return nil, err
	}
	var (
		trivy     trivyHeader
		sarif     sarifHeader
		seen      = map[string]bool{}
		trivyOut  []Finding
		sarifRuns []sarifRunOut
		err       error
	)
	for s.dec.More() {
		key, err := s.key("body")
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, invalid(key, "given twice")
		}
		seen[key] = true
		// The finding arrays are read one element at a time; any other member whole.
		if key == "Results" || key == "runs" {
			switch {
			case key == "Results" && format != SARIF:
				trivyOut, err = s.trivyResults()
			case key == "runs" && format != Trivy:
				sarifRuns, err = s.sarifRuns()
			default:
				err = s.skip()
			}
			if err != nil {
				return nil, err
			}
			continue
		}
		var raw json.RawMessage
		if err := s.dec.Decode(&raw); err != nil {
			return nil, s.syntax(err)
		}
		if check != nil {
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				return nil, invalid(key, "is not valid JSON")
			}
			if err := check(key, v); err != nil {
				return nil, err
			}
		}
		switch {
		case key == "SchemaVersion" && format != SARIF:
			if err := member(raw, &trivy.SchemaVersion, key); err != nil {
				return nil, err
			}
			// Checked at once: a report of another schema is not read further.
			err = trivy.check()
		case key == "ArtifactName" && format != SARIF:
			err = member(raw, &trivy.ArtifactName, key)
		case key == "Trivy" && format != SARIF:
			err = member(raw, &trivy.Trivy, key)
		case key == "version" && format != Trivy:
			err = member(raw, &sarif.Version, key)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := s.dec.Token(); err != nil { // the closing brace
		return nil, s.syntax(err)
	}
	if _, err := s.dec.Token(); err != io.EOF {
		return nil, invalid("body", "must be a single JSON value; data follows it")
	}

	if format == "" {
		switch {
		case seen["SchemaVersion"]:
			format = Trivy
		case seen["runs"]:
			format = SARIF
		default:
			return nil, invalid("body", "neither a Trivy JSON report (no SchemaVersion) nor a SARIF log (no runs); the format query parameter can name it")
		}
	}
	var r *Report
	switch format {
	case Trivy:
		r, err = trivy.report(trivyOut)
	case SARIF:
		r, err = sarif.report(sarifRuns, seen["runs"])
	}
	if err != nil {
		return nil, err
	}
	r.Format = format
	r.Findings = dedupe(r.Findings)
	if len(r.Findings) > MaxFindings {
		return nil, invalid("body", fmt.Sprintf("the report has %d findings; at most %d are accepted", len(r.Findings), MaxFindings))
	}
	return r, nil
}

// key reads an object key (the decoder is inside an object, before a key).
func (s *stream) key(at string) (string, error) {
	tok, err := s.dec.Token()
	if err != nil {
		return "", s.syntax(err)
	}
	k, ok := tok.(string)
	if !ok {
		return "", invalid(at, "not a JSON object")
	}
	return k, nil
}

// expectDelim reads the next token, which must be d ('{' or '['); otherwise the error names
// field with message.
func (s *stream) expectDelim(d json.Delim, field, message string) error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.syntax(err)
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return invalid(field, message)
	}
	return nil
}

// array calls each for every element of the array that comes next, with its index; null
// counts as an empty array, except for the top-level arrays (field "Results" or "runs").
func (s *stream) array(field string, each func(i int) error) error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.syntax(err)
	}
	if tok == nil && strings.Contains(field, ".") {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return invalid(field, "expected an array")
	}
	for i := 0; s.dec.More(); i++ {
		if err := each(i); err != nil {
			return err
		}
	}
	_, err = s.dec.Token()
	return s.syntax(err)
}

// object calls each for every key of the object that comes next; null counts as empty.
func (s *stream) object(field string, each func(key string) error) error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.syntax(err)
	}
	if tok == nil {
		return nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return invalid(field, "expected an object")
	}
	for s.dec.More() {
		k, err := s.key(field)
		if err != nil {
			return err
		}
		if err := each(k); err != nil {
			return err
		}
	}
	_, err = s.dec.Token()
	return s.syntax(err)
}

// decode reads the next value into v; a type mismatch names the field, path being where the
// value is (Go's dotted style: "Results.Target").
func (s *stream) decode(v any, path string) error {
	err := s.dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := path
		if typeErr.Field != "" && !strings.HasSuffix(path, "."+typeErr.Field) && path != typeErr.Field {
			field = path + "." + typeErr.Field
		}
		return invalid(field, fmt.Sprintf("expected %s, got JSON %s", jsonKind(typeErr.Type), typeErr.Value))
	default:
		return s.syntax(err)
	}
}

// member decodes a top-level member read whole into v, naming key on a type mismatch.
func member(raw json.RawMessage, v any, key string) error {
	err := json.Unmarshal(raw, v)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr):
		field := key
		if typeErr.Field != "" {
			field = key + "." + typeErr.Field
		}
		return invalid(field, fmt.Sprintf("expected %s, got JSON %s", jsonKind(typeErr.Type), typeErr.Value))
	}
	return invalid(key, "is not valid JSON")
}

// jsonKind names a Go type in JSON's words, for messages.
func jsonKind(t reflect.Type) string {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a value"
}

// skip reads past the next value, token by token, holding none of it.
func (s *stream) skip() error {
	depth := 0
	for {
		tok, err := s.dec.Token()
		if err != nil {
			return s.syntax(err)
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// syntax turns JSON syntax errors into an InvalidError on the body. Other errors (reading
// the body failed, or went over its limit) pass as they are, for the caller to answer.
func (s *stream) syntax(err error) error {
	var syn *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &syn):
		return invalid("body", "not a JSON object: "+err.Error())
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("body", "not a JSON object: unexpected end of JSON input")
	}
	return err
}
