package appsec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// ParseReader reads a scanner report from body as a stream, with Parse's rules: format ""
// detects it (Trivy reports have SchemaVersion, SARIF logs have runs), and a malformed or
// unknown document is an InvalidError naming the field.
func ParseReader(body io.Reader, format Format) (*Report, error) {
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
		switch {
		case key == "SchemaVersion" && format != SARIF:
			if err := s.decode(&trivy.SchemaVersion, key); err != nil {
				return nil, err
			}
			// Checked at once: a report of another schema is not read further.
			if err := trivy.check(); err != nil {
				return nil, err
			}
		case key == "ArtifactName" && format != SARIF:
			err = s.decode(&trivy.ArtifactName, key)
		case key == "Trivy" && format != SARIF:
			err = s.decode(&trivy.Trivy, key)
		case key == "Results" && format != SARIF:
			trivyOut, err = s.trivyResults()
		case key == "version" && format != Trivy:
			err = s.decode(&sarif.Version, key)
		case key == "runs" && format != Trivy:
			sarifRuns, err = s.sarifRuns()
		default:
			err = s.skip()
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
// counts as an empty array.
func (s *stream) array(field string, each func(i int) error) error {
	tok, err := s.dec.Token()
	if err != nil {
		return s.syntax(err)
	}
	if tok == nil {
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
		return invalid(field, fmt.Sprintf("expected %s, got JSON %s", typeErr.Type, typeErr.Value))
	default:
		return s.syntax(err)
	}
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
