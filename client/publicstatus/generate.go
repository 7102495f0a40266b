// Package publicstatus is the typed client of the anonymous status-page routes
// (/status/{slug}, its JSON, badge and RSS), generated from openapi/status-public.yaml. The
// SDK's c.PublicStatus wraps it with the client's retries and typed errors; it can also be
// used alone: publicstatus.NewClientWithResponses("http://127.0.0.1:8080").
package publicstatus

//go:generate go tool -modfile=../../gen/tools.mod oapi-codegen -config oapi-codegen.yaml ../../openapi/status-public.yaml
