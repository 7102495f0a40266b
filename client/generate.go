// Package client is the Go SDK of the SecuMon v2 API. The typed models and the low-level
// ClientWithResponses are generated from openapi/secumon.yaml; this package imports no server code.
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi/secumon.yaml
