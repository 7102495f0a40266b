// Package examples holds runnable programs that use the Go SDK (github.com/secuaas/secumon/client)
// and the API: quickstart (a host, a ping check, a run, its result and the uptime), apply
// (Terraform-style automation from a YAML file), incident-bot (follows the live events and
// acknowledges critical incidents) and curl/ (the reference's curl calls as a script). Each is
// built and run by this package's tests against a real server on loopback, and so is the
// README's walkthrough (its ```sh blocks marked <!-- readme-test -->), which uploads the sample
// Trivy report appsec/trivy-sample.json.
package examples
