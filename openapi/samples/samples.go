// Package samples derives, for every operation of an OpenAPI document, a curl sample and a Go
// SDK sample from the document itself (method, path, parameters, the request body's example),
// and adds them to the document as Redoc's x-codeSamples. The docs handler serves the contract
// with them, so the samples follow every change of the contract and cannot drift; a test
// compiles every Go sample against the SDK and runs some against a real server.
//
// Both samples read the same environment: SECUMON_URL (the server's origin, e.g.
// http://127.0.0.1:8080), SECUMON_TOKEN, and one variable per path parameter (ID for {id}) or
// required query parameter (CHECK_ID for check_id).
package samples

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/secuaas/secumon/openapi/yamljson"
)

// Sample is one operation's pair of samples.
type Sample struct {
	OperationID string
	Method      string // upper case
	Path        string // as in the document, e.g. /hosts/{id}
	Curl        string
	// Go is the body of a func(ctx context.Context) error; GoImports are the packages it uses.
	Go        string
	GoImports []string
	// Env names the environment variables the samples read besides SECUMON_URL and SECUMON_TOKEN.
	Env []string
}

// BasePath is where the operations of the main document live on a server.
const BasePath = "/api/v2"

var methods = []string{"get", "put", "post", "delete", "patch"}

// param is one resolved parameter of an operation.
type param struct {
	name, in    string
	required    bool
	typ, format string
}

// op is what the samples need of one operation.
type op struct {
	id, method, path string
	params           []param
	bodyJSON         string // the request body's example, as JSON
	hasBody          bool   // a JSON request body
}

// List derives the samples of every operation of the YAML document src, in document order.
func List(src []byte) ([]Sample, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, err
	}
	var out []Sample
	err := eachOperation(&root, func(o op, _ *yaml.Node) error {
		s, err := build(o)
		out = append(out, s)
		return err
	})
	return out, err
}

// AddToYAML returns the YAML document src with x-codeSamples (curl, then Go) on every operation.
// Comments and key order are kept.
func AddToYAML(src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, err
	}
	err := eachOperation(&root, func(o op, opNode *yaml.Node) error {
		s, err := build(o)
		if err != nil {
			return err
		}
		goSource := "// In a func(ctx context.Context) error, with import " +
			strings.Join(quoteAll(s.GoImports), ", ") + "\n\n" + s.Go
		type codeSample struct {
			Lang   string `yaml:"lang"`
			Label  string `yaml:"label"`
			Source string `yaml:"source"`
		}
		var seq yaml.Node
		if err := seq.Encode([]codeSample{{"Shell", "curl", s.Curl}, {"Go", "Go SDK", goSource}}); err != nil {
			return err
		}
		opNode.Content = append(opNode.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: "x-codeSamples"}, &seq)
		return nil
	})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&root); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strconv.Quote(s)
	}
	return out
}

// eachOperation calls fn for every operation under paths, with its mapping node.
func eachOperation(root *yaml.Node, fn func(op, *yaml.Node) error) error {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return fmt.Errorf("not a YAML document")
	}
	var doc map[string]any
	if err := root.Decode(&doc); err != nil {
		return err
	}
	components, _ := doc["components"].(map[string]any)
	paths := get(root.Content[0], "paths")
	if paths == nil {
		return fmt.Errorf("no paths")
	}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i].Value, paths.Content[i+1]
		var itemMap map[string]any
		if err := item.Decode(&itemMap); err != nil {
			return err
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			method := item.Content[j].Value
			if !slices.Contains(methods, method) {
				continue
			}
			opMap, _ := itemMap[method].(map[string]any)
			o := op{method: strings.ToUpper(method), path: path}
			o.id, _ = opMap["operationId"].(string)
			if o.id == "" {
				return fmt.Errorf("%s %s: no operationId", o.method, path)
			}
			var raw []any
			if ps, ok := itemMap["parameters"].([]any); ok {
				raw = append(raw, ps...)
			}
			if ps, ok := opMap["parameters"].([]any); ok {
				raw = append(raw, ps...)
			}
			for _, p := range raw {
				pm := resolve(components, p)
				schema := resolve(components, pm["schema"])
				prm := param{}
				prm.name, _ = pm["name"].(string)
				prm.in, _ = pm["in"].(string)
				prm.required, _ = pm["required"].(bool)
				prm.typ, _ = schema["type"].(string)
				prm.format, _ = schema["format"].(string)
				o.params = append(o.params, prm)
			}
			if rb := resolve(components, opMap["requestBody"]); rb != nil {
				content, _ := rb["content"].(map[string]any)
				if mt, ok := content["application/json"].(map[string]any); ok {
					o.hasBody = true
					var err error
					if o.bodyJSON, err = bodyExample(components, mt, item.Content[j+1]); err != nil {
						return fmt.Errorf("request example: %w", err)
					}
				}
			}
			if err := fn(o, item.Content[j+1]); err != nil {
				return fmt.Errorf("%s: %w", o.id, err)
			}
		}
	}
	return nil
}

// bodyExample is the JSON media type's example, else its first named example's value, else
// {}, as JSON in the authored key order; indented when it is long.
func bodyExample(components, mt map[string]any, opNode *yaml.Node) (string, error) {
	var b []byte
	var err error
	if n := exampleNode(opNode); n != nil {
		b, err = yamljson.Node(n)
	} else {
		b, err = json.Marshal(exampleValue(components, mt)) // behind a $ref: keys sorted
	}
	if err != nil || len(b) <= 100 {
		return string(b), err
	}
	var out bytes.Buffer
	err = json.Indent(&out, b, "", "  ")
	return out.String(), err
}

// exampleNode is the request body's example in the operation's own text, if it is there.
func exampleNode(opNode *yaml.Node) *yaml.Node {
	mt := get(get(get(opNode, "requestBody"), "content"), "application/json")
	if ex := get(mt, "example"); ex != nil {
		return ex
	}
	if exs := get(mt, "examples"); exs != nil && len(exs.Content) >= 2 {
		return get(exs.Content[1], "value")
	}
	return nil
}

// exampleValue is bodyExample's value through the decoded document.
func exampleValue(components map[string]any, mt map[string]any) any {
	if ex, ok := mt["example"]; ok {
		return ex
	}
	if exs, ok := mt["examples"].(map[string]any); ok && len(exs) > 0 {
		// map order is random: take the alphabetically first, which is stable.
		names := make([]string, 0, len(exs))
		for n := range exs {
			names = append(names, n)
		}
		slices.Sort(names)
		if ex := resolve(components, exs[names[0]]); ex != nil {
			return ex["value"]
		}
	}
	return map[string]any{}
}

// resolve follows a local $ref into components.
func resolve(components map[string]any, v any) map[string]any {
	m, _ := v.(map[string]any)
	for range 10 {
		ref, ok := m["$ref"].(string)
		if !ok {
			return m
		}
		parts := strings.Split(strings.TrimPrefix(ref, "#/components/"), "/")
		if len(parts) != 2 {
			return nil
		}
		sec, _ := components[parts[0]].(map[string]any)
		m, _ = sec[parts[1]].(map[string]any)
	}
	return m
}

func get(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// envName is the variable a parameter is read from: ID for id, CHECK_ID for check_id.
func envName(p string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(p))
}

// goName is oapi-codegen's name for an operation id or a parameter: check_id → CheckId.
func goName(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' || r == '-' || r == '.' {
			up = true
			continue
		}
		if up {
			b.WriteString(strings.ToUpper(string(r)))
			up = false
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// build writes the two samples of an operation.
func build(o op) (Sample, error) {
	s := Sample{OperationID: o.id, Method: o.method, Path: o.path}
	imports := map[string]bool{"os": true, "fmt": true, "github.com/secuaas/secumon/client": true}

	// curl: the path with shell variables, required query parameters, the example body.
	urlPath := o.path
	var query []string
	var goArgs []string
	var goPre []string
	hasParams := false
	var paramFields []string
	for _, p := range o.params {
		switch p.in {
		case "path":
			env := envName(p.name)
			s.Env = append(s.Env, env)
			urlPath = strings.ReplaceAll(urlPath, "{"+p.name+"}", "$"+env)
			v := lowerFirst(goName(p.name))
			expr, err := goValue(p, env, imports)
			if err != nil {
				return s, err
			}
			goPre = append(goPre, v+" := "+expr)
			goArgs = append(goArgs, v)
		case "query", "header", "cookie":
			hasParams = true
			if !p.required {
				continue
			}
			if p.in != "query" {
				return s, fmt.Errorf("required %s parameter %s: not supported by the sample generator", p.in, p.name)
			}
			env := envName(p.name)
			s.Env = append(s.Env, env)
			query = append(query, p.name+"=$"+env)
			expr, err := goValue(p, env, imports)
			if err != nil {
				return s, err
			}
			paramFields = append(paramFields, goName(p.name)+": "+expr)
		}
	}
	url := "$SECUMON_URL" + BasePath + urlPath
	if len(query) > 0 {
		url += "?" + strings.Join(query, "&")
	}
	var curl strings.Builder
	curl.WriteString("curl -s")
	if o.method != "GET" {
		curl.WriteString(" -X " + o.method)
	}
	curl.WriteString(` "` + url + `" \` + "\n  -H \"Authorization: Bearer $SECUMON_TOKEN\"")
	bodyJSON := o.bodyJSON
	if o.hasBody {
		curl.WriteString(` \` + "\n  -H \"Content-Type: application/json\" \\\n  -d '" + strings.ReplaceAll(bodyJSON, "'", `'\''`) + "'")
	}
	s.Curl = curl.String()

	// Go: the generated client's <OperationId>WithResponse, through the SDK's Raw().
	name := goName(o.id)
	var g strings.Builder
	g.WriteString("c, err := client.New(os.Getenv(\"SECUMON_URL\"), client.WithToken(os.Getenv(\"SECUMON_TOKEN\")))\n")
	g.WriteString("if err != nil {\n\treturn err\n}\n")
	for _, l := range goPre {
		g.WriteString(l + "\n")
	}
	if hasParams {
		if len(paramFields) > 0 {
			g.WriteString("params := &client." + name + "Params{" + strings.Join(paramFields, ", ") + "}\n")
			goArgs = append(goArgs, "params")
		} else {
			goArgs = append(goArgs, "nil")
		}
	}
	if o.hasBody {
		imports["encoding/json"] = true
		g.WriteString("var body client." + name + "JSONRequestBody\n")
		g.WriteString("if err := json.Unmarshal([]byte(" + goString(bodyJSON) + "), &body); err != nil {\n\treturn err\n}\n")
		goArgs = append(goArgs, "body")
	}
	g.WriteString("resp, err := c.Raw()." + name + "WithResponse(" + strings.Join(append([]string{"ctx"}, goArgs...), ", ") + ")\n")
	g.WriteString("if err != nil {\n\treturn err\n}\n")
	g.WriteString("fmt.Println(resp.StatusCode(), string(resp.Body))\n")
	if o.id == "streamEvents" {
		// The generated method would read the endless stream to its end: the SDK's
		// hand-written reader yields each event instead.
		g.Reset()
		g.WriteString("c, err := client.New(os.Getenv(\"SECUMON_URL\"), client.WithToken(os.Getenv(\"SECUMON_TOKEN\")))\n")
		g.WriteString("if err != nil {\n\treturn err\n}\n")
		g.WriteString("for ev, err := range c.Events.Stream(ctx) {\n\tif err != nil {\n\t\treturn err\n\t}\n\tfmt.Println(ev.ID, ev.Data)\n}\n")
		s.Curl = strings.Replace(s.Curl, "curl -s", "curl -sN", 1)
	}
	g.WriteString("return nil\n")
	s.Go = g.String()
	for imp := range imports {
		s.GoImports = append(s.GoImports, imp)
	}
	slices.Sort(s.GoImports)
	return s, nil
}

// goValue is the Go expression reading parameter p from the environment variable env.
func goValue(p param, env string, imports map[string]bool) (string, error) {
	read := `os.Getenv("` + env + `")`
	switch {
	case p.typ == "string" && p.format == "uuid":
		imports["github.com/google/uuid"] = true
		return "uuid.MustParse(" + read + ")", nil
	case p.typ == "string" && p.format == "":
		return read, nil
	}
	return "", fmt.Errorf("parameter %s: type %s/%s not supported by the sample generator", p.name, p.typ, p.format)
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// goString quotes s as a Go raw string when it can, else as an interpreted one.
func goString(s string) string {
	if !strings.Contains(s, "`") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}
