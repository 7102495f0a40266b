package contract

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"

	"github.com/secuaas/secumon/server/edge/problem"
)

// The rules below are what JSON and query strings allow but the contract cannot say, and
// what Go's decoders would otherwise answer in Go's words. They are enforced once, here,
// before the schema validation:
//
//   - a JSON body is exactly one value: trailing data ("{…} xyz", two objects) is refused;
//   - an object has each key once: a duplicate key is refused naming it;
//   - no key or string holds a NUL character (PostgreSQL stores none);
//   - a number is finite in float64 (1e999 is refused naming its field); an integral
//     number written as 60.0 or 1e2 is read as the integer 60 / 100;
//   - an explicit null is checked against the schema as written (refused unless the field
//     is nullable): it is not the same as leaving the field out, which takes the default;
//   - a query string parses, and a parameter that is not an array is given at most once.

// jsonBody is a request body checked by strictJSON.
type jsonBody struct {
	data    []byte // canonical: integral numbers rewritten as integers
	hasNull bool
}

// isJSON reports whether the request declares a JSON body.
func isJSON(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// strictJSON checks raw against the rules above; raw marks a body the handler takes as
// written (no number rewritten, NUL characters left to it).
func strictJSON(raw []byte, rawBody bool) (jsonBody, *problem.FieldError) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	s := scanner{dec: dec, keepNUL: rawBody}
	v, err := s.value("")
	if err != nil {
		return jsonBody{}, err
	}
	if _, tokErr := dec.Token(); tokErr != io.EOF {
		return jsonBody{}, &problem.FieldError{Field: "body", Message: "must be a single JSON value; data follows it"}
	}
	out := jsonBody{data: raw, hasNull: s.hasNull}
	if s.rewritten && !rawBody {
		data, mErr := json.Marshal(v)
		if mErr != nil {
			return jsonBody{}, &problem.FieldError{Field: "body", Message: "is not valid JSON"}
		}
		out.data = data
	}
	return out, nil
}

type scanner struct {
	dec       *json.Decoder
	hasNull   bool
	rewritten bool
	keepNUL   bool
}

func join(at, k string) string {
	if at == "" {
		return k
	}
	return at + "." + k
}

func orBody(at string) string {
	if at == "" {
		return "body"
	}
	return at
}

func (s *scanner) syntax(at string, err error) *problem.FieldError {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return &problem.FieldError{Field: orBody(at), Message: fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset)}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &problem.FieldError{Field: "body", Message: "is not valid JSON: it ends too early"}
	}
	return &problem.FieldError{Field: orBody(at), Message: "is not valid JSON"}
}

func (s *scanner) value(at string) (any, *problem.FieldError) {
	tok, err := s.dec.Token()
	if err != nil {
		return nil, s.syntax(at, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := map[string]any{}
			for s.dec.More() {
				kt, err := s.dec.Token()
				if err != nil {
					return nil, s.syntax(at, err)
				}
				k, _ := kt.(string)
				if fe := s.nul(join(at, k), k); fe != nil {
					return nil, fe
				}
				if _, dup := obj[k]; dup {
					return nil, &problem.FieldError{Field: join(at, k), Message: "is given more than once"}
				}
				v, fe := s.value(join(at, k))
				if fe != nil {
					return nil, fe
				}
				obj[k] = v
			}
			if _, err := s.dec.Token(); err != nil {
				return nil, s.syntax(at, err)
			}
			return obj, nil
		case '[':
			arr := []any{}
			for i := 0; s.dec.More(); i++ {
				v, fe := s.value(join(at, strconv.Itoa(i)))
				if fe != nil {
					return nil, fe
				}
				arr = append(arr, v)
			}
			if _, err := s.dec.Token(); err != nil {
				return nil, s.syntax(at, err)
			}
			return arr, nil
		}
	case json.Number:
		f, err := strconv.ParseFloat(t.String(), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, &problem.FieldError{Field: orBody(at), Message: "is a number out of range"}
		}
		if strings.ContainsAny(t.String(), ".eE") && f == math.Trunc(f) && math.Abs(f) <= 1<<53 {
			s.rewritten = true
			return json.Number(strconv.FormatInt(int64(f), 10)), nil
		}
		return t, nil
	case string:
		if fe := s.nul(at, t); fe != nil {
			return nil, fe
		}
	case nil:
		s.hasNull = true
	}
	return tok, nil
}

// nul refuses a NUL character in a key or a string: PostgreSQL stores none in text or jsonb,
// so such a value could never be saved. Raw bodies (scanner reports) clean their own.
func (s *scanner) nul(at, v string) *problem.FieldError {
	if s.keepNUL || !strings.ContainsRune(v, 0) {
		return nil
	}
	return &problem.FieldError{Field: orBody(at), Message: "must not contain NUL characters (\\u0000)"}
}

// repeatedQuery names the first query parameter of the operation that is not an array and is
// given more than once.
// A query string that does not parse (a bad %-escape) is refused rather than dropped.
func repeatedQuery(r *http.Request, route *routers.Route) *problem.FieldError {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &problem.FieldError{Field: "query", Message: "is not a valid query string (a % must start a %XX escape)"}
	}
	params := append(openapi3.Parameters{}, route.PathItem.Parameters...)
	params = append(params, route.Operation.Parameters...)
	for _, ref := range params {
		p := ref.Value
		if p == nil || p.In != openapi3.ParameterInQuery || len(q[p.Name]) < 2 {
			continue
		}
		if p.Schema != nil && p.Schema.Value != nil && p.Schema.Value.Type.Is(openapi3.TypeArray) {
			continue
		}
		return &problem.FieldError{Field: p.Name, Message: "must be given at most once"}
	}
	return nil
}

// allowed lists the methods the document has at r's path, for the Allow header of a 405.
func (g *Gate) allowed(r *http.Request) string {
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, _, err := g.router.FindRoute(probe); err == nil {
			out = append(out, m)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}
