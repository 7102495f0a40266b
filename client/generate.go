package client

// client.gen.go (the models and the low-level RawClient / ClientWithResponses) is generated
// from the contract; the rest of the package is the hand-written face around it.
//go:generate go tool -modfile=../gen/tools.mod oapi-codegen -config oapi-codegen.yaml ../openapi/secumon.yaml
