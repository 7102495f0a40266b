package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
)

func TestExampleFileParses(t *testing.T) {
	f, err := Load("example.yaml")
	require.NoError(t, err)
	assert.Len(t, f.Hosts, 2)
	require.Len(t, f.Checks, 4, "nested and top-level checks end up in one list")
	assert.Equal(t, "demo-web", f.Checks[2].Host, "a nested check names its host")
	for _, h := range f.Hosts {
		assert.Equal(t, "127.0.0.1", h.Hostname, "the example only targets loopback")
	}
}

func TestParseRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":       {"hosts:\n  - name: a\n    hostname: 127.0.0.1\n    hostnme: x\n", "field hostnme not found"},
		"duplicate host":    {"hosts:\n  - {name: a, hostname: 127.0.0.1}\n  - {name: a, hostname: 127.0.0.1}\n", `host "a" appears twice`},
		"check of no host":  {"checks:\n  - {name: c, host: nowhere, check_type: ping}\n", `check "c": host "nowhere" is not in the file`},
		"nested elsewhere":  {"hosts:\n  - name: a\n    hostname: 127.0.0.1\n    checks: [{name: c, host: b, check_type: ping}]\n", `nested in host "a" but names host "b"`},
		"component of both": {"status_pages:\n  - slug: s\n    components: [{name: x}]\n", "needs exactly one of host and check"},
		"window hosts":      {"maintenance_windows:\n  - {title: w, start_time: 2030-01-01T00:00:00Z, end_time: 2030-01-01T01:00:00Z, affected_hosts: [h]}\n", `host "h" is not in the file`},
		"window times":      {"maintenance_windows:\n  - {title: w}\n", "needs start_time and end_time"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestSecretsCompareMasked: the API answers secrets as "********"; the file's secrets are
// masked the same way before comparing, so they never show as a difference or in the plan.
func TestSecretsCompareMasked(t *testing.T) {
	spec := CheckSpec{Name: "c", Host: "h", CheckType: "http", Config: map[string]any{
		"url": "http://127.0.0.1/", "headers": map[string]any{"Authorization": "Bearer x"}, "future_secret": "s3cret",
	}}
	have := client.Check{CheckType: "http", IntervalSec: 60, TimeoutSec: 10, FailureThreshold: 2, Enabled: true, Config: client.CheckConfig{
		"url": "http://127.0.0.1/", "headers": map[string]any{"Authorization": masked}, "future_secret": masked,
	}}
	w := &Workspace{hostNames: map[client.Id]string{}}
	want := checkWant(spec, &have)
	assert.Equal(t, masked, want.Config["future_secret"], "a value the API masks is masked in the file's view too")
	got := checkHave(have, w)
	got.Host = "h"
	assert.Empty(t, diff(got, want))

	// A secret the file drops is a difference; the old value shows only masked.
	delete(spec.Config, "future_secret")
	d := diff(got, checkWant(spec, &have))
	require.Len(t, d, 1)
	assert.Equal(t, "config", d[0].Field)
	assert.NotContains(t, d[0].Old+d[0].New, "Bearer x")
}
