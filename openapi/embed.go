// Package openapi embeds SecuMon's API contract: the main document (secumon.yaml, every
// /api/v2 operation), the anonymous status-page routes (status-public.yaml), the heartbeat ping routes (ping.yaml) and the Redoc bundle
// that renders them at /docs without any network access.
package openapi

import _ "embed"

// MainYAML is openapi/secumon.yaml, the source of truth for /api/v2.
//
//go:embed secumon.yaml
var MainYAML []byte

// PublicYAML is openapi/status-public.yaml, the routes served outside /api/v2.
//
//go:embed status-public.yaml
var PublicYAML []byte

// PingYAML is openapi/ping.yaml, the heartbeat ping routes served outside /api/v2.
//
//go:embed ping.yaml
var PingYAML []byte

// RedocJS is Redoc's standalone bundle, copied from node_modules by `make generate`.
//
//go:embed docs/redoc.standalone.js
var RedocJS []byte
