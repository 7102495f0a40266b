// Package contract enforces the OpenAPI document on every /api/v2 request, before any handler
// runs: it finds the operation (404 and 405 otherwise), authenticates the caller, checks the
// role the operation declares in x-required-role, and validates parameters and body. The
// document is the only source of these rules; nothing here keeps a second table of them.
package contract

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/secuaas/secumon/server/edge/auth"
	"github.com/secuaas/secumon/server/edge/problem"
	"github.com/secuaas/secumon/server/edge/reqid"
	"github.com/secuaas/secumon/server/edge/schemaerr"
)

// BasePath is where the main document's operations are served.
const BasePath = "/api/v2"

// MaxBodyBytes caps request bodies; larger ones get 413. An operation may declare another
// cap in x-max-body-bytes (scanner reports are larger than API objects).
const MaxBodyBytes = 1 << 20

// Authenticator resolves the caller of a request; see auth.Authenticator.
type Authenticator interface {
	Authenticate(r *http.Request) (auth.Principal, error)
}

// Gate is the enforcement middleware built from the document.
type Gate struct {
	router routers.Router
	roles  map[*openapi3.Operation]access.Role
	// bodyLimits holds the operations whose x-max-body-bytes differs from MaxBodyBytes.
	bodyLimits map[*openapi3.Operation]int64
	// rawBodies are the operations that take a document as it was written (a scanner
	// report: x-go-type json.RawMessage) and clean it themselves.
	rawBodies map[*openapi3.Operation]bool
	// streamBodies are the operations marked StreamBody.
	streamBodies map[*openapi3.Operation]bool
	// workerOps are the operations secured by WorkerScheme: the only ones a worker token
	// may call, and ones no user token may.
	workerOps map[*openapi3.Operation]bool
	authn     Authenticator
	// onError renders errors that are not the caller's fault (the database is down…).
	onError func(w http.ResponseWriter, r *http.Request, err error)
}

// New builds the gate from the loaded contract and reads every operation's required role; it
// fails when an operation lacks a valid x-required-role, so a forgotten role can never mean
// "open to all".
func New(doc *openapi3.T, authn Authenticator, onError func(http.ResponseWriter, *http.Request, error)) (*Gate, error) {
	roles, err := RequiredRoles(doc)
	if err != nil {
		return nil, err
	}
	limits, err := BodyLimits(doc)
	if err != nil {
		return nil, err
	}
	// Route on the path as this server sees it, whatever the public server URLs are; the
	// copy leaves the caller's document as it was.
	routed := *doc
	routed.Servers = openapi3.Servers{{URL: BasePath}}
	router, err := gorillamux.NewRouter(&routed)
	if err != nil {
		return nil, fmt.Errorf("build router: %w", err)
	}
	return &Gate{router: router, roles: roles, bodyLimits: limits, rawBodies: rawBodies(doc), streamBodies: StreamBodies(doc),
		workerOps: WorkerOperations(doc), authn: authn, onError: onError}, nil
}

// WorkerScheme is the security scheme of the worker protocol: an operation that declares it
// (and only such an operation) takes a worker token; its x-required-role does not apply.
const WorkerScheme = "workerToken"

// WorkerOperations finds the operations secured by WorkerScheme.
func WorkerOperations(doc *openapi3.T) map[*openapi3.Operation]bool {
	ops := map[*openapi3.Operation]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Security == nil {
				continue
			}
			for _, req := range *op.Security {
				if _, ok := req[WorkerScheme]; ok {
					ops[op] = true
				}
			}
		}
	}
	return ops
}

// StreamBody marks an operation whose body the gate does not read: its handler reads it as a
// stream (a scanner report of up to 20 MiB, which a generic decoding would hold several times
// over) and names what is wrong with it itself. The gate still checks the caller, the role,
// the Content-Type, the size cap (the body comes to the handler behind http.MaxBytesReader)
// and the parameters.
const StreamBody = "x-stream-body"

// StreamBodies finds the operations marked StreamBody.
func StreamBodies(doc *openapi3.T) map[*openapi3.Operation]bool {
	stream := map[*openapi3.Operation]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.Extensions[StreamBody] == true {
				stream[op] = true
			}
		}
	}
	return stream
}

// rawBodies finds the operations whose JSON body the handler receives as raw bytes.
func rawBodies(doc *openapi3.T) map[*openapi3.Operation]bool {
	raw := map[*openapi3.Operation]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if op.RequestBody == nil || op.RequestBody.Value == nil {
				continue
			}
			media := op.RequestBody.Value.Content.Get("application/json")
			if media == nil || media.Schema == nil || media.Schema.Value == nil {
				continue
			}
			if t, _ := media.Schema.Value.Extensions["x-go-type"].(string); t == "json.RawMessage" {
				raw[op] = true
			}
		}
	}
	return raw
}

// BodyLimits reads x-max-body-bytes of the operations of doc that declare one.
func BodyLimits(doc *openapi3.T) (map[*openapi3.Operation]int64, error) {
	limits := map[*openapi3.Operation]int64{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			raw, ok := op.Extensions["x-max-body-bytes"]
			if !ok {
				continue
			}
			// YAML numbers arrive as float64 (or json.Number); a limit is a positive integer.
			n, ok := raw.(float64)
			if !ok || n < 1 || n != float64(int64(n)) {
				return nil, fmt.Errorf("%s %s: x-max-body-bytes must be a positive integer, got %v", method, path, raw)
			}
			limits[op] = int64(n)
		}
	}
	return limits, nil
}

// bodyLimit is the body cap of op.
func (g *Gate) bodyLimit(op *openapi3.Operation) int64 {
	if n, ok := g.bodyLimits[op]; ok {
		return n
	}
	return MaxBodyBytes
}

// RequiredRoles reads x-required-role of every operation of doc.
func RequiredRoles(doc *openapi3.T) (map[*openapi3.Operation]access.Role, error) {
	roles := map[*openapi3.Operation]access.Role{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			raw, _ := op.Extensions["x-required-role"].(string)
			role, err := access.ParseRole(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: x-required-role: %w", method, path, err)
			}
			roles[op] = role
		}
	}
	return roles, nil
}

// Middleware wraps the generated handler.
func (g *Gate) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route, params, err := g.router.FindRoute(r)
		switch {
		case errors.Is(err, routers.ErrMethodNotAllowed):
			w.Header().Set("Allow", g.allowed(r))
			problem.Write(w, r, problem.Newf(http.StatusMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
			return
		case err != nil:
			problem.Write(w, r, problem.Newf(http.StatusNotFound, "no operation at %s", r.URL.Path))
			return
		}

		facts := reqid.FactsOf(r.Context())
		facts.Route = BasePath + route.Path
		principal, err := g.authn.Authenticate(r)
		if err != nil {
			g.fail(w, r, err)
			return
		}
		facts.WorkspaceID = principal.WorkspaceID
		need := g.roles[route.Operation]
		switch workerOp := g.workerOps[route.Operation]; {
		case workerOp && !principal.Worker():
			problem.Write(w, r, problem.New(http.StatusForbidden, "this operation needs a worker token (wrk_…)"))
			return
		case !workerOp && principal.Worker():
			problem.Write(w, r, problem.New(http.StatusForbidden, "a worker token is accepted by the worker operations (/worker/…) only"))
			return
		case !workerOp && !principal.Role.AtLeast(need):
			problem.Write(w, r, problem.Newf(http.StatusForbidden, "this operation needs the %s role; your role is %s", need, principal.Role))
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), principal))

		limit := g.bodyLimit(route.Operation)
		if r.ContentLength > limit {
			problem.Write(w, r, tooLarge(limit))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		if fe := repeatedQuery(r, route); fe != nil {
			problem.Write(w, r, problem.Invalid(*fe))
			return
		}
		if g.streamBodies[route.Operation] {
			g.streamed(w, r, route, params, next)
			return
		}
		var body jsonBody
		if r.Body != nil && r.Body != http.NoBody && isJSON(r) {
			raw, err := io.ReadAll(r.Body)
			var tooBig *http.MaxBytesError
			switch {
			case errors.As(err, &tooBig):
				problem.Write(w, r, tooLarge(limit))
				return
			case err != nil:
				g.fail(w, r, err)
				return
			}
			if len(raw) > 0 {
				var fe *problem.FieldError
				if body, fe = strictJSON(raw, g.rawBodies[route.Operation]); fe != nil {
					problem.Write(w, r, problem.Invalid(*fe))
					return
				}
				raw = body.data
			}
			setBody(r, raw)
		}
		validate := func(skipDefaults bool) error {
			return openapi3filter.ValidateRequest(r.Context(), &openapi3filter.RequestValidationInput{
				Request:    r,
				PathParams: params,
				Route:      route,
				Options: &openapi3filter.Options{
					MultiError:          true,
					SkipSettingDefaults: skipDefaults,
					AuthenticationFunc:  openapi3filter.NoopAuthenticationFunc, // done above
				},
			})
		}
		if body.hasNull {
			// kin-openapi fills a default in place of an explicit null; validated without
			// defaults first, a null is refused unless the field is nullable.
			if err := validate(true); err != nil && !handlerValidates(err) {
				problem.Write(w, r, ValidationProblem(err))
				return
			}
			setBody(r, body.data)
		}
		if err := validate(false); err != nil && !handlerValidates(err) {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				problem.Write(w, r, tooLarge(limit))
				return
			}
			problem.Write(w, r, ValidationProblem(err))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// streamed checks a StreamBody operation's Content-Type and parameters and passes the body on
// unread.
func (g *Gate) streamed(w http.ResponseWriter, r *http.Request, route *routers.Route, params map[string]string, next http.Handler) {
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 && !isJSON(r) {
		problem.Write(w, r, problem.Invalid(problem.FieldError{Field: "body", Message: "must be application/json"}))
		return
	}
	// The parameters one by one: ValidateRequest would read the whole body, even with
	// ExcludeRequestBody (its security check buffers it for authentication functions).
	input := &openapi3filter.RequestValidationInput{Request: r, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true}}
	var errs openapi3.MultiError
	for _, ref := range route.PathItem.Parameters {
		if route.Operation.Parameters.GetByInAndName(ref.Value.In, ref.Value.Name) != nil {
			continue // the operation overrides it
		}
		if err := openapi3filter.ValidateParameter(r.Context(), input, ref.Value); err != nil {
			errs = append(errs, err)
		}
	}
	for _, ref := range route.Operation.Parameters {
		if err := openapi3filter.ValidateParameter(r.Context(), input, ref.Value); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		problem.Write(w, r, ValidationProblem(errs))
		return
	}
	next.ServeHTTP(w, r)
}

// setBody puts a body already read back into r.
func setBody(r *http.Request, data []byte) {
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
}

func (g *Gate) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *problem.Problem
	if errors.As(err, &p) {
		problem.Write(w, r, p)
		return
	}
	g.onError(w, r, err)
}

func tooLarge(limit int64) *problem.Problem {
	return problem.Newf(http.StatusRequestEntityTooLarge, "the body is limited to %d bytes", limit)
}

// ValidationProblem turns kin-openapi's errors into a 400 naming each offending field:
// parameters by name, body fields by dotted path ("config.port", "members.0.email").
// ValidatedByHandler marks a schema whose variant depends on the stored resource (the config
// of a check update follows the check's type, which the request does not carry): when the
// value matches none of its variants, the gate lets the request through and the handler
// validates it against the stored resource's variant, naming the field (config.port).
const ValidatedByHandler = "x-validated-by-handler"

// handlerValidates reports whether every error of a failed validation is a value that a
// schema marked ValidatedByHandler refused, so that the handler is the one to answer.
func handlerValidates(err error) bool {
	leaves := leafErrors(err, nil)
	for _, e := range leaves {
		se, ok := e.(*openapi3.SchemaError)
		if !ok || se.Schema == nil || se.Schema.Extensions[ValidatedByHandler] != true {
			return false
		}
	}
	return len(leaves) > 0
}

func leafErrors(err error, out []error) []error {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, inner := range e {
			out = leafErrors(inner, out)
		}
		return out
	case *openapi3filter.RequestError:
		if e.Err != nil && e.Parameter == nil {
			return leafErrors(e.Err, out)
		}
	}
	return append(out, err)
}

func ValidationProblem(err error) *problem.Problem {
	var fields []problem.FieldError
	collect(err, &fields)
	if len(fields) == 0 {
		fields = append(fields, schemaerr.Decoding(err))
	}
	return problem.Invalid(fields...)
}

func collect(err error, out *[]problem.FieldError) {
	// A RequestError wraps a MultiError of its own, so look at the outer type first: it is
	// the one that knows which parameter failed.
	if reqErr, ok := err.(*openapi3filter.RequestError); ok {
		collectRequestError(reqErr, out)
		return
	}
	var multi openapi3.MultiError
	if errors.As(err, &multi) {
		for _, e := range multi {
			collect(e, out)
		}
		return
	}
	var reqErr *openapi3filter.RequestError
	if errors.As(err, &reqErr) {
		collectRequestError(reqErr, out)
		return
	}
	*out = append(*out, schemaerr.Fields(err, "")...)
}

func collectRequestError(reqErr *openapi3filter.RequestError, out *[]problem.FieldError) {
	if reqErr.Parameter != nil {
		msg := reqErr.Reason
		if reqErr.Err != nil {
			fields := schemaerr.Fields(reqErr.Err, "")
			msg = fields[0].Message
		}
		*out = append(*out, problem.FieldError{Field: reqErr.Parameter.Name, Message: msg})
		return
	}
	if reqErr.Err == nil {
		*out = append(*out, problem.FieldError{Field: "body", Message: reqErr.Reason})
		return
	}
	*out = append(*out, schemaerr.Fields(reqErr.Err, "")...)
}
