// Package api holds the code oapi-codegen generates from openapi/secumon.yaml: the models,
// the strict server interface that server/ implements, and the embedded specification.
package api

//go:generate go tool -modfile=../tools.mod oapi-codegen -config oapi-codegen.yaml ../../openapi/secumon.yaml
