package probes

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/theory/jsonpath"
)

// HTTPAssertion is one condition on an HTTP response (OpenAPI schema HttpAssertion, a oneOf
// discriminated by kind). It is decoded here into one flat struct: each kind reads only its
// own fields, and the API has already refused fields that do not belong to the kind.
type HTTPAssertion struct {
	Kind     string          `json:"kind"`
	Severity string          `json:"severity,omitempty"` // warning | critical (default)
	Codes    []int           `json:"codes,omitempty"`    // status_in
	Ms       float64         `json:"ms,omitempty"`       // latency_below_ms
	Name     string          `json:"name,omitempty"`     // header_equals, header_matches
	Value    json.RawMessage `json:"value,omitempty"`    // header_equals (a string), json_path (any JSON literal)
	Regex    string          `json:"regex,omitempty"`    // header_matches, body_matches
	Text     string          `json:"text,omitempty"`     // body_contains, body_not_contains
	Path     string          `json:"path,omitempty"`     // json_path: RFC 9535 query
	Op       string          `json:"op,omitempty"`       // json_path: ==, !=, <, <=, >, >=, exists, not_exists
	Measure  string          `json:"measure,omitempty"`  // json_path: value (default) | length
	Days     int             `json:"days,omitempty"`     // cert_days_above
}

// The assertion kinds (HttpAssertionKind in the contract).
const (
	AssertStatusIn        = "status_in"
	AssertLatencyBelowMs  = "latency_below_ms"
	AssertHeaderEquals    = "header_equals"
	AssertHeaderMatches   = "header_matches"
	AssertBodyContains    = "body_contains"
	AssertBodyNotContains = "body_not_contains"
	AssertBodyMatches     = "body_matches"
	AssertJSONPath        = "json_path"
	AssertCertDaysAbove   = "cert_days_above"
)

// ConfigError names a config field whose value the schema accepts but a prober cannot use
// (a regular expression that does not compile, a JSONPath query that does not parse). Field
// is relative to the config, e.g. "assertions.2.regex".
type ConfigError struct {
	Field   string
	Message string
}

func (e ConfigError) Error() string { return e.Field + ": " + e.Message }

// ValidateHTTPConfig returns what the contract's schema cannot check in an http config: every
// assertion's regex and JSONPath query compile, and each json_path has the value its op
// needs. The API calls it before storing a config; the prober compiles the same way.
func ValidateHTTPConfig(raw json.RawMessage) []ConfigError {
	cfg := DefaultHTTPConfig()
	if err := decodeConfig(raw, &cfg); err != nil {
		return []ConfigError{{Field: "", Message: err.Error()}}
	}
	_, errs := compileAssertions(cfg.Assertions)
	return errs
}

// httpResponse is what assertions look at: one finished request.
type httpResponse struct {
	status    int
	header    http.Header
	body      []byte
	latencyMs float64
	certDays  *float64 // nil when the response did not come over TLS

	parsed  bool // body decoded as JSON (once, for every json_path)
	json    any
	jsonErr error
}

func (r *httpResponse) bodyJSON() (any, error) {
	if !r.parsed {
		r.parsed = true
		r.jsonErr = json.Unmarshal(r.body, &r.json)
	}
	return r.json, r.jsonErr
}

// assertion is a compiled HTTPAssertion: what it says (for outputs) and how to test it.
// test returns "" when the response satisfies it, else what was found instead.
type assertion struct {
	describe string
	severity Status
	test     func(r *httpResponse) (got string)
}

// compileAssertions compiles every assertion, reporting every invalid one.
func compileAssertions(list []HTTPAssertion) ([]assertion, []ConfigError) {
	out := make([]assertion, 0, len(list))
	var errs []ConfigError
	for i, a := range list {
		c, err := compileAssertion(a)
		if err != nil {
			err.Field = fmt.Sprintf("assertions.%d.%s", i, err.Field)
			errs = append(errs, *err)
			continue
		}
		out = append(out, c)
	}
	return out, errs
}

func compileAssertion(a HTTPAssertion) (assertion, *ConfigError) {
	c := assertion{severity: Critical}
	switch a.Severity {
	case "", "critical":
	case "warning":
		c.severity = Warning
	default:
		return c, &ConfigError{Field: "severity", Message: "must be warning or critical"}
	}

	switch a.Kind {
	case AssertStatusIn:
		c.describe = "status_in " + describeStatuses(a.Codes)
		c.test = func(r *httpResponse) string {
			if slices.Contains(a.Codes, r.status) {
				return ""
			}
			return strconv.Itoa(r.status)
		}
	case AssertLatencyBelowMs:
		c.describe = "latency_below_ms " + fmtMs(a.Ms)
		c.test = func(r *httpResponse) string {
			if r.latencyMs < a.Ms {
				return ""
			}
			return fmtMs(r.latencyMs) + " ms"
		}
	case AssertHeaderEquals:
		var want string
		if err := json.Unmarshal(a.Value, &want); err != nil {
			return c, &ConfigError{Field: "value", Message: "must be a string"}
		}
		c.describe = fmt.Sprintf("header_equals %s: %q", a.Name, want)
		c.test = func(r *httpResponse) string {
			values := r.header.Values(a.Name)
			if slices.Contains(values, want) {
				return ""
			}
			return describeHeader(values)
		}
	case AssertHeaderMatches:
		re, err := compileRegex(a.Regex)
		if err != nil {
			return c, err
		}
		c.describe = fmt.Sprintf("header_matches %s ~ /%s/", a.Name, a.Regex)
		c.test = func(r *httpResponse) string {
			values := r.header.Values(a.Name)
			if slices.ContainsFunc(values, re.MatchString) {
				return ""
			}
			return describeHeader(values)
		}
	case AssertBodyContains, AssertBodyNotContains:
		if a.Text == "" {
			return c, &ConfigError{Field: "text", Message: "must not be empty"}
		}
		wantIn := a.Kind == AssertBodyContains
		c.describe = fmt.Sprintf("%s %q", a.Kind, a.Text)
		c.test = func(r *httpResponse) string {
			if bytes.Contains(r.body, []byte(a.Text)) == wantIn {
				return ""
			}
			if wantIn {
				return fmt.Sprintf("a %d-byte body without it", len(r.body))
			}
			return "a body containing it"
		}
	case AssertBodyMatches:
		re, err := compileRegex(a.Regex)
		if err != nil {
			return c, err
		}
		c.describe = fmt.Sprintf("body_matches /%s/", a.Regex)
		c.test = func(r *httpResponse) string {
			if re.Match(r.body) {
				return ""
			}
			return fmt.Sprintf("a %d-byte body without a match", len(r.body))
		}
	case AssertJSONPath:
		return compileJSONPath(c, a)
	case AssertCertDaysAbove:
		c.describe = fmt.Sprintf("cert_days_above %d", a.Days)
		c.test = func(r *httpResponse) string {
			switch {
			case r.certDays == nil:
				return "no certificate (not https)"
			case *r.certDays > float64(a.Days):
				return ""
			}
			return fmt.Sprintf("%.1f days", *r.certDays)
		}
	default:
		return c, &ConfigError{Field: "kind", Message: fmt.Sprintf("unknown assertion kind %q", a.Kind)}
	}
	return c, nil
}

// maxRegex bounds a regular expression's source (the contract says so too). Go's regexp is
// RE2: matching is linear in the input, so a bounded pattern on a bounded body is safe.
const maxRegex = 1024

func compileRegex(src string) (*regexp.Regexp, *ConfigError) {
	if src == "" || len(src) > maxRegex {
		return nil, &ConfigError{Field: "regex", Message: fmt.Sprintf("must be 1 to %d characters", maxRegex)}
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, &ConfigError{Field: "regex", Message: "is not a valid RE2 regular expression: " + strings.TrimPrefix(err.Error(), "error parsing regexp: ")}
	}
	return re, nil
}

func describeHeader(values []string) string {
	switch len(values) {
	case 0:
		return "no such header"
	case 1:
		return strconv.Quote(values[0])
	}
	return fmt.Sprintf("%q", values)
}

// compileJSONPath compiles a json_path assertion: an RFC 9535 query (theory/jsonpath) that
// selects nodes, then one small comparison of the selection with a JSON literal.
func compileJSONPath(c assertion, a HTTPAssertion) (assertion, *ConfigError) {
	path, err := jsonpath.Parse(a.Path)
	if err != nil {
		return c, &ConfigError{Field: "path", Message: "is not a valid RFC 9535 JSONPath query: " + err.Error()}
	}
	length := false
	switch a.Measure {
	case "", "value":
	case "length":
		length = true
	default:
		return c, &ConfigError{Field: "measure", Message: "must be value or length"}
	}
	subject := a.Path
	if length {
		subject = "len(" + a.Path + ")"
	}

	switch a.Op {
	case "exists", "not_exists":
		if len(a.Value) > 0 {
			return c, &ConfigError{Field: "value", Message: "must be absent with op " + a.Op}
		}
		want := a.Op == "exists"
		c.describe = fmt.Sprintf("json_path %s %s", a.Path, a.Op)
		c.test = func(r *httpResponse) string {
			doc, err := r.bodyJSON()
			if err != nil {
				return "a body that is not JSON"
			}
			n := len(path.Select(doc))
			if (n > 0) == want {
				return ""
			}
			if want {
				return "nothing"
			}
			return fmt.Sprintf("%d value(s)", n)
		}
		return c, nil
	case "==", "!=", "<", "<=", ">", ">=":
	default:
		return c, &ConfigError{Field: "op", Message: "must be one of ==, !=, <, <=, >, >=, exists, not_exists"}
	}

	if len(a.Value) == 0 {
		return c, &ConfigError{Field: "value", Message: "is required with op " + a.Op}
	}
	var want any
	if err := json.Unmarshal(a.Value, &want); err != nil {
		return c, &ConfigError{Field: "value", Message: "must be a JSON value"}
	}
	_, isNum := want.(float64)
	_, isStr := want.(string)
	switch ordered := a.Op != "==" && a.Op != "!="; {
	case length && !isNum:
		return c, &ConfigError{Field: "value", Message: "must be a number with measure length"}
	case ordered && !isNum && !isStr:
		return c, &ConfigError{Field: "value", Message: "must be a number or a string with op " + a.Op}
	}
	c.describe = fmt.Sprintf("json_path %s %s %s", subject, a.Op, compactJSON(want))
	c.test = func(r *httpResponse) string {
		doc, err := r.bodyJSON()
		if err != nil {
			return "a body that is not JSON"
		}
		nodes := path.Select(doc)
		if len(nodes) != 1 {
			return fmt.Sprintf("%d values (the query must select exactly one)", len(nodes))
		}
		got := nodes[0]
		if length {
			n, ok := lengthOf(got)
			if !ok {
				return compactJSON(got) + ", which has no length"
			}
			got = float64(n)
		}
		if compare(got, a.Op, want) {
			return ""
		}
		return compactJSON(got)
	}
	return c, nil
}

// lengthOf is the length of a JSON array, object or string (in characters).
func lengthOf(v any) (int, bool) {
	switch v := v.(type) {
	case []any:
		return len(v), true
	case map[string]any:
		return len(v), true
	case string:
		return utf8.RuneCountInString(v), true
	}
	return 0, false
}

// compare applies op to two decoded JSON values: == and != are JSON equality; the ordered
// ops need two numbers or two strings and are false otherwise.
func compare(got any, op string, want any) bool {
	switch op {
	case "==":
		return reflect.DeepEqual(got, want)
	case "!=":
		return !reflect.DeepEqual(got, want)
	}
	var order int
	switch g := got.(type) {
	case float64:
		w, ok := want.(float64)
		if !ok {
			return false
		}
		order = cmp.Compare(g, w)
	case string:
		w, ok := want.(string)
		if !ok {
			return false
		}
		order = strings.Compare(g, w)
	default:
		return false
	}
	switch op {
	case "<":
		return order < 0
	case "<=":
		return order <= 0
	case ">":
		return order > 0
	case ">=":
		return order >= 0
	}
	return false
}

// compactJSON renders a decoded JSON value for outputs, cut at 100 bytes.
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(string(b), 100)
}

// evaluateAssertions runs every assertion on the response and returns a finding for each
// failing one, named by its index in the config (as config.assertions.N is).
func evaluateAssertions(list []assertion, r *httpResponse) []finding {
	var out []finding
	for i, a := range list {
		if got := a.test(r); got != "" {
			out = append(out, finding{a.severity, fmt.Sprintf("assertion %d (%s) failed: got %s", i, clip(a.describe, 160), clip(got, 120))})
		}
	}
	return out
}

// clip cuts s to at most n bytes (on a character boundary), marking the cut: with up to 32
// assertions whose patterns may be 1 KiB long, a run's output stays readable and bounded.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
