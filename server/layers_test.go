package server_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The folder tree is the architecture (see ARCHITECTURE.md): these rules keep it true. Each
// rule names a set of packages and the imports they may not have (test files excluded).
func TestLayers(t *testing.T) {
	const mod = "github.com/secuaas/secumon/"
	imports := listImports(t)
	require.NotEmpty(t, imports)

	rules := []struct {
		layer     string   // packages under this module path…
		forbidden []string // …import none of these: a module path and what is under it, "=path" for that package alone, "ext:prefix" for outside modules
		why       string
	}{
		{"server/domain", []string{"server/edge", "server/testkit", "=server", "gen/api", "gen/public", "client"},
			"the domain knows nothing of HTTP requests, answers or the contract's generated types"},
		{"server/platform", []string{"server/edge", "server/domain", "server/testkit", "=server", "probes", "gen/api", "gen/public", "client"},
			"the platform serves every layer and depends on none"},
		{"probes/runner", []string{"server/edge", "server/testkit", "=server", "gen/api", "gen/public", "client"},
			"the probe runner is driven by the database, not by the API (except the remote worker's backend)"},
		{"probes/runner/remote", []string{"server", "gen"},
			"a remote worker reaches its server through the Go SDK only: no database, no server code"},
		// The postgres check logs in to a monitored server with pgconn (the wire protocol alone);
		// a pool, pgx's query layer or River would mean SecuMon's own database.
		{"=probes", []string{"gen", "server", "probes/runner", "ext:github.com/jackc/pgx/v5/pgxpool", "ext:github.com/jackc/pgx/v5/pgtype", "ext:github.com/riverqueue/"},
			"the prober library is pure: no database of ours"},
		{"client", []string{"server", "probes", "gen"}, "the SDK stays a small import for users"},
		{"=client", []string{"client/terraform", "ext:github.com/hashicorp/"},
			"the SDK imports no Terraform code: the provider (client/terraform) imports the SDK, not the other way round"},
		{"server/edge", []string{"ext:github.com/prometheus/client_golang"}, metricsOnce},
		{"server/domain", []string{"ext:github.com/prometheus/client_golang"}, metricsOnce},
		{"probes", []string{"ext:github.com/prometheus/client_golang"}, metricsOnce},
		{"=server", []string{"ext:github.com/prometheus/client_golang"}, metricsOnce},
	}
	// spared: a package of a layer (and what is under it) that the layer's rule spares, for
	// its own rule to judge.
	spared := map[string]string{"probes/runner": "probes/runner/remote"}
	for pkg, deps := range imports {
		rel, ok := strings.CutPrefix(pkg, mod)
		if !ok {
			continue
		}
		for _, rule := range rules {
			if !matches(rel, rule.layer) || (spared[rule.layer] != "" && matches(rel, spared[rule.layer])) {
				continue
			}
			for _, dep := range deps {
				for _, f := range rule.forbidden {
					depRel, inModule := strings.CutPrefix(dep, mod)
					ext, isExt := strings.CutPrefix(f, "ext:")
					if (isExt && strings.HasPrefix(dep, ext)) || (!isExt && inModule && matches(depRel, f)) {
						t.Errorf("%s imports %s: %s", rel, dep, rule.why)
					}
				}
			}
		}
	}
}

// metricsOnce is why only server/platform/metrics imports the Prometheus client: each metric
// is defined there once, and the other parts record through its nil-safe methods.
const metricsOnce = "metrics are defined once, in server/platform/metrics"

// matches reports whether the module path p is the package "=pattern" names, or is the
// folder pattern or inside it.
func matches(p, pattern string) bool {
	if exact, ok := strings.CutPrefix(pattern, "="); ok {
		return p == exact
	}
	return p == pattern || strings.HasPrefix(p, pattern+"/")
}

// listImports maps every package of the module to its non-test imports.
func listImports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", "github.com/secuaas/secumon/...").CombinedOutput()
	require.NoError(t, err, "%s", out)
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[0]] = f[1:]
	}
	return m
}
