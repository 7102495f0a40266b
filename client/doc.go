// Package client is the Go SDK of the SecuMon v2 API.
//
// The models (Host, Check, Incident…) and a low-level client are generated from the OpenAPI
// contract (openapi/secumon.yaml) into client.gen.go. Around them, this package offers a small
// face in the style of google/go-github:
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithToken(os.Getenv("SECUMON_TOKEN")))
//	host, err := c.Hosts.Create(ctx, client.HostCreate{Name: "web-01", Hostname: "127.0.0.1"})
//	for h, err := range c.Hosts.All(ctx, nil) { … }
//
// In short:
//
//   - one service per module (c.Hosts, c.Checks, c.Results, c.Incidents, c.AlertPolicies,
//     c.EscalationPolicies, c.Oncall, c.StatusPages, c.Maintenance, c.Dashboard, c.Workers, c.Workspaces, c.Events,
//     c.AppSecurity), whose methods take a context first and return the generated types;
//     client.Ptr(v) fills their optional fields;
//   - c.PublicStatus reads status pages as their visitors do (/status/{slug}/api, anonymous
//     without WithToken), through the client generated from openapi/status-public.yaml into
//     the subpackage publicstatus;
//   - CaptureResponse(&resp), passed to any call, keeps the final answer's metadata: status
//     and headers, X-Request-ID, Idempotent-Replayed, the attempts made, rate limits;
//   - errors from the API are *APIError values carrying the problem document (IsNotFound,
//     IsConflict… or errors.Is(err, client.ErrNotFound));
//   - requests that are safe to repeat are retried with exponential backoff and full jitter on
//     429, 502, 503, 504 and connection errors, honouring Retry-After: GET, HEAD, PUT, DELETE,
//     and every POST the services send, since each carries an Idempotency-Key (a random one
//     per call, kept across its retries, or the caller's own through WithIdempotencyKey);
//     WithOnRetry and WithRetryLogger see each retry;
//   - lists are Go iterators that follow next_cursor (All methods);
//   - c.Events.Stream reads the server-sent events of GET /events and reconnects.
//
// Every operation of the contract is also reachable through c.Raw(), the generated
// ClientWithResponses sharing the same authentication and retries. New accepts the generated
// options WithHTTPClient, WithRequestEditorFn and WithBaseURL besides its own.
//
// The package depends on no server code: importing it brings only the standard library,
// github.com/google/uuid and github.com/oapi-codegen/runtime.
package client
