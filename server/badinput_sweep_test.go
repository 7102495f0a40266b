package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/openapi"
	"github.com/secuaas/secumon/server/domain/remoteworkers"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// badRequest is one malformed request the sweep sends.
type badRequest struct {
	what        string // "createHost: body.name wrong type"
	method, url string
	body        string
}

const sweepID = "8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f"

// TestBadInputSweep derives malformed requests from every operation of the contract (its
// parameters and body schema, not a hand-kept list), sends them with an owner token through
// the real stack and checks that each is refused as a client error in problem+json naming
// the field, and that nothing changed.
func TestBadInputSweep(t *testing.T) {
	env := servertest.Start(t)
	doc, err := openapi.Load(context.Background(), openapi.MainYAML)
	require.NoError(t, err)
	reqs := sweep(doc)
	require.Greater(t, len(reqs), 100)

	// The worker protocol takes a worker token: with it, its malformed requests meet the
	// validation (with a user token they would stop at the gate's 403).
	workerToken, err := remoteworkers.CreateToken(context.Background(), env.Queries, &env.Workspace, "sweep", "")
	require.NoError(t, err)
	before := rowCounts(t, env)
	start := time.Now()
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, br := range reqs {
		var body io.Reader
		if br.body != "" {
			body = strings.NewReader(br.body)
		}
		req, err := http.NewRequest(br.method, env.URL+br.url, body)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+env.OwnerToken)
		if strings.HasPrefix(br.url, "/api/v2/worker/") {
			req.Header.Set("Authorization", "Bearer "+workerToken.Token)
		}
		if br.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := hc.Do(req)
		require.NoError(t, err, br.what)
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		what := fmt.Sprintf("%s: %s %s %s → %d %s", br.what, br.method, br.url, br.body, resp.StatusCode, raw)
		if !assert.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, what) {
			continue
		}
		if !assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), what) {
			continue
		}
		var p problemDoc
		if !assert.NoError(t, json.Unmarshal(raw, &p), what) {
			continue
		}
		if resp.StatusCode == http.StatusBadRequest {
			assert.NotEmpty(t, p.Errors, what)
			for _, e := range p.Errors {
				assert.NotEmpty(t, e.Field, what)
			}
		}
		assertNoInternals(t, p)
	}
	elapsed := time.Since(start)
	t.Logf("bad-input sweep: %d requests over %d operations in %s", len(reqs), countOps(doc), elapsed.Round(time.Millisecond))
	assert.Equal(t, before, rowCounts(t, env), "malformed requests change nothing")
}

func countOps(doc *openapi3.T) int {
	n := 0
	for _, item := range doc.Paths.Map() {
		n += len(item.Operations())
	}
	return n
}

// rowCounts counts the rows of every table of the public schema.
func rowCounts(t *testing.T, env *servertest.Env) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	rows, err := env.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		tables = append(tables, name)
	}
	require.NoError(t, rows.Err())
	out := map[string]int64{}
	for _, name := range tables {
		var n int64
		require.NoError(t, env.Pool.QueryRow(ctx, `SELECT count(*) FROM "`+name+`"`).Scan(&n))
		out[name] = n
	}
	return out
}

// sweep lists the malformed requests of every operation, in a stable order.
func sweep(doc *openapi3.T) []badRequest {
	var out []badRequest
	paths := doc.Paths.InMatchingOrder()
	slices.Sort(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		methods := make([]string, 0)
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		slices.Sort(methods)
		for _, method := range methods {
			op := item.GetOperation(method)
			if method == http.MethodGet && path == "/events" {
				continue // a stream: its refusals are the same gate's, tested in events' own tests
			}
			out = append(out, operationSweep(method, path, op, append(item.Parameters, op.Parameters...))...)
		}
	}
	return out
}

func operationSweep(method, path string, op *openapi3.Operation, params openapi3.Parameters) []badRequest {
	name := op.OperationID
	pathValues := map[string]string{}
	var query []*openapi3.Parameter
	for _, ref := range params {
		p := ref.Value
		switch p.In {
		case openapi3.ParameterInPath:
			pathValues[p.Name] = validSample(p.Schema)
		case openapi3.ParameterInQuery:
			query = append(query, p)
		}
	}
	build := func(pv map[string]string, q url.Values) string {
		u := path
		for k, v := range pv {
			u = strings.ReplaceAll(u, "{"+k+"}", url.PathEscape(v))
		}
		u = "/api/v2" + u
		if len(q) > 0 {
			u += "?" + q.Encode()
		}
		return u
	}
	base := build(pathValues, nil)
	baseBody := exampleBody(op)
	var out []badRequest
	add := func(what, u, body string) {
		out = append(out, badRequest{what: name + ": " + what, method: method, url: u, body: body})
	}

	// Malformed path ids.
	for k := range pathValues {
		pv := map[string]string{}
		for k2, v := range pathValues {
			pv[k2] = v
		}
		pv[k] = "not-an-id"
		add("path "+k+" malformed", build(pv, nil), baseBody)
	}
	// Query parameters: each bad value of its schema, and the parameter repeated.
	for _, p := range query {
		for _, bad := range badScalars(p.Schema) {
			if bad.query == "" {
				continue
			}
			add("query "+p.Name+" "+bad.what, build(pathValues, url.Values{p.Name: {bad.query}}), baseBody)
		}
		if s := p.Schema; s != nil && s.Value != nil && !s.Value.Type.Is(openapi3.TypeArray) {
			v := validSample(s)
			add("query "+p.Name+" repeated", build(pathValues, url.Values{p.Name: {v, v}}), baseBody)
		}
		if p.Name == "cursor" {
			forged := base64.RawURLEncoding.EncodeToString([]byte(`{"n":"a\u0000","i":"` + sweepID + `"}`))
			add("query cursor forged", build(pathValues, url.Values{"cursor": {forged}}), baseBody)
			add("query cursor malformed", build(pathValues, url.Values{"cursor": {"not*a*cursor"}}), baseBody)
		}
	}
	// The body: whole-body defects, then each top-level property's bad values.
	if baseBody == "" {
		return out
	}
	add("body trailing data", base, baseBody+" xyz")
	add("body two values", base, baseBody+baseBody)
	add("body not an object", base, `[]`)
	add("body truncated", base, baseBody[:len(baseBody)/2])
	schema := bodySchema(op)
	var obj map[string]json.RawMessage
	if json.Unmarshal([]byte(baseBody), &obj) != nil || schema == nil {
		return out
	}
	with := func(k string, v string) string {
		m := map[string]json.RawMessage{}
		for k2, v2 := range obj {
			m[k2] = v2
		}
		m[k] = json.RawMessage(v)
		raw, _ := json.Marshal(m)
		return string(raw)
	}
	if ap := schema.AdditionalProperties.Has; ap != nil && !*ap {
		add("body unknown field", base, with("zz_unknown_field", `1`))
	}
	for k, v := range obj {
		add("body duplicate key "+k, base, strings.Replace(baseBody, "{", `{"`+k+`":`+string(v)+",", 1))
		break
	}
	props := make([]string, 0, len(schema.Properties))
	for k := range schema.Properties {
		props = append(props, k)
	}
	slices.Sort(props)
	for _, k := range props {
		ps := schema.Properties[k]
		if ps.Value == nil || ps.Value.ReadOnly {
			continue
		}
		for _, bad := range badScalars(ps) {
			add("body "+k+" "+bad.what, base, with(k, bad.json))
		}
		if !ps.Value.Nullable && ps.Value.Type != nil && !ps.Value.Type.Includes(openapi3.TypeNull) {
			add("body "+k+" null", base, with(k, `null`))
		}
		if ps.Value.Type.Is(openapi3.TypeInteger) {
			add("body "+k+" 1e999", base, with(k, `1e999`))
		}
	}
	return out
}

// bodySchema is the object schema of the operation's JSON body (nil when there is none).
func bodySchema(op *openapi3.Operation) *openapi3.Schema {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return nil
	}
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil || media.Schema == nil || media.Schema.Value == nil {
		return nil
	}
	return media.Schema.Value
}

// exampleBody is the body the contract shows for the operation (a valid starting point that
// each mutation spoils in one place), or "{}".
func exampleBody(op *openapi3.Operation) string {
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		return ""
	}
	media := op.RequestBody.Value.Content.Get("application/json")
	if media == nil {
		return ""
	}
	ex := media.Example
	if ex == nil {
		for _, name := range slices.Sorted(func(yield func(string) bool) {
			for k := range media.Examples {
				if !yield(k) {
					return
				}
			}
		}) {
			if e := media.Examples[name]; e != nil && e.Value != nil {
				ex = e.Value.Value
				break
			}
		}
	}
	if ex == nil {
		return "{}"
	}
	raw, err := json.Marshal(ex)
	if err != nil {
		return "{}"
	}
	return string(raw)
}

type badValue struct{ what, query, json string }

// badScalars are values the schema refuses: of the wrong type, outside its bounds, too long,
// outside its enum, a fraction for an integer.
func badScalars(ref *openapi3.SchemaRef) []badValue {
	if ref == nil || ref.Value == nil || ref.Value.Type == nil {
		return nil
	}
	s := ref.Value
	var out []badValue
	switch {
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		out = append(out, badValue{"wrong type", "abc", `"abc"`})
		if s.Min != nil {
			v := fmt.Sprint(int64(*s.Min) - 1)
			out = append(out, badValue{"below minimum", v, v})
		}
		if s.Max != nil {
			v := fmt.Sprint(int64(*s.Max) + 1)
			out = append(out, badValue{"above maximum", v, v})
		}
		if s.Type.Is(openapi3.TypeInteger) {
			out = append(out, badValue{"fraction", "1.5", `1.5`})
		}
	case s.Type.Is(openapi3.TypeBoolean):
		out = append(out, badValue{"wrong type", "maybe", `"yes"`})
	case s.Type.Is(openapi3.TypeString):
		out = append(out, badValue{"wrong type", "", `12`})
		if s.MaxLength != nil && *s.MaxLength < 1<<16 {
			long := strings.Repeat("x", int(*s.MaxLength)+1)
			out = append(out, badValue{"too long", long, `"` + long + `"`})
		}
		if len(s.Enum) > 0 {
			out = append(out, badValue{"not in enum", "zz-not-a-value", `"zz-not-a-value"`})
		} else if s.Format == "uuid" || s.Format == "date-time" {
			out = append(out, badValue{"bad " + s.Format, "not-a-" + s.Format, `"not-a-` + s.Format + `"`})
		}
	case s.Type.Is(openapi3.TypeArray):
		out = append(out, badValue{"wrong type", "", `{}`})
	case s.Type.Is(openapi3.TypeObject):
		out = append(out, badValue{"wrong type", "", `[]`})
	}
	return out
}

// validSample is a well-formed value for a path or query parameter.
func validSample(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Value == nil {
		return "x"
	}
	s := ref.Value
	switch {
	case s.Format == "uuid":
		return sweepID
	case len(s.Enum) > 0:
		return fmt.Sprint(s.Enum[0])
	case s.Type.Is(openapi3.TypeInteger), s.Type.Is(openapi3.TypeNumber):
		if s.Min != nil {
			return fmt.Sprint(int64(*s.Min))
		}
		return "1"
	case s.Type.Is(openapi3.TypeBoolean):
		return "true"
	}
	return "x"
}
