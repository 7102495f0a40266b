// Package examples holds runnable programs that use the Go SDK (github.com/secuaas/secumon/client)
// and the API: quickstart (a host, a ping check, a run, its result and the uptime) and curl/
// (the reference's curl calls as a script). Each is run by this package's tests against a real
// server on loopback.
package examples
