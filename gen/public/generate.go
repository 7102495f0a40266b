// Package public holds the code oapi-codegen generates from openapi/status-public.yaml for the
// anonymous status-page routes (/status/{slug}, its JSON, badge and RSS).
package public

//go:generate go tool -modfile=../tools.mod oapi-codegen -config oapi-codegen.yaml ../../openapi/status-public.yaml
