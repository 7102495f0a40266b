package local_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/local"
)

// tagsOf runs the provider and returns key → value, checking the confidences on the way.
func tagsOf(t *testing.T, h ai.HostFacts) map[string]string {
	t.Helper()
	tags, usage, err := local.New().Tag(context.Background(), h)
	require.NoError(t, err)
	assert.Equal(t, ai.Usage{}, usage, "the local provider uses no tokens")
	m := map[string]string{}
	for _, tag := range tags {
		assert.GreaterOrEqual(t, tag.Confidence, ai.MinTagConfidence, "%+v", tag)
		assert.LessOrEqual(t, tag.Confidence, 1.0, "%+v", tag)
		m[tag.Key] = tag.Value
	}
	return m
}

func TestTagLinuxWebServer(t *testing.T) {
	h := ai.HostFacts{
		Name: "web-prod-01", Hostname: "10.0.0.12", HostType: "server",
		Checks: []ai.CheckFacts{
			{Name: "https web-prod-01", Type: "http", Port: 443, Target: "https://shop.example.com/health", Status: "OK"},
			{Name: "snmp web-prod-01", Type: "snmp", Port: 161, Status: "OK",
				SysDescr: "Linux web-prod-01 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01) x86_64"},
		},
	}
	assert.Equal(t, map[string]string{"role": "web-server", "os": "linux", "environment": "production"}, tagsOf(t, h))

	// The same facts give the same answer, confidences included.
	a, _, _ := local.New().Tag(context.Background(), h)
	b, _, _ := local.New().Tag(context.Background(), h)
	assert.Equal(t, a, b)
	assert.Greater(t, a[0].Confidence, 0.8, "name and HTTPS check agree: %+v", a[0])
}

func TestTagCiscoSwitchBySysDescr(t *testing.T) {
	// Nothing in the name says what it is: the SNMP description does.
	h := ai.HostFacts{
		Name: "bldg2-floor3", Hostname: "10.20.3.2", HostType: "network",
		Checks: []ai.CheckFacts{{Name: "snmp bldg2-floor3", Type: "snmp", Port: 161, Status: "OK",
			SysDescr: "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E4, RELEASE SOFTWARE (fc2)\r\nTechnical Support: http://www.cisco.com/techsupport\r\nCopyright (c) 1986-2021 by Cisco Systems, Inc."}},
	}
	assert.Equal(t, map[string]string{"role": "switch", "os": "cisco-ios", "vendor": "cisco"}, tagsOf(t, h))

	router := ai.HostFacts{Name: "edge-a", Hostname: "192.0.2.1", Checks: []ai.CheckFacts{{Type: "snmp",
		SysDescr: "Cisco IOS XE Software, Version 17.03.04a - Cupertino Release\nCisco IOS Software [Amsterdam], ISR Software (X86_64_LINUX_IOSD-UNIVERSALK9-M)"}}}
	got := tagsOf(t, router)
	assert.Equal(t, "router", got["role"])
	assert.Equal(t, "cisco-ios-xe", got["os"])
}

func TestTagDatabaseHost(t *testing.T) {
	h := ai.HostFacts{
		Name: "db-stg-02", Hostname: "db-stg-02.int.example.com", HostType: "vm",
		Checks: []ai.CheckFacts{
			{Name: "postgres", Type: "tcp", Port: 5432, Status: "OK"},
			{Name: "ssh", Type: "tcp", Port: 22, Status: "OK"},
		},
	}
	got := tagsOf(t, h)
	assert.Equal(t, "database", got["role"])
	assert.Equal(t, "staging", got["environment"])
	_, hasOS := got["os"]
	assert.False(t, hasOS, "an SSH port alone is not enough to say linux: %v", got)
}

func TestTagWindowsAndUserEnv(t *testing.T) {
	h := ai.HostFacts{
		Name: "fileserver", Hostname: "10.0.5.9", UserTags: map[string]string{"env": "PROD"},
		Checks: []ai.CheckFacts{
			{Name: "rdp", Type: "tcp", Port: 3389},
			{Name: "snmp", Type: "snmp", SysDescr: "Hardware: Intel64 Family 6 Model 85 Stepping 7 AT/AT COMPATIBLE - Software: Windows Version 6.3 (Build 17763 Multiprocessor Free)"},
		},
	}
	got := tagsOf(t, h)
	assert.Equal(t, "windows", got["os"])
	assert.Equal(t, "production", got["environment"])
}

func TestTagNothingToSay(t *testing.T) {
	assert.Empty(t, tagsOf(t, ai.HostFacts{Name: "x17", Hostname: "192.0.2.17", HostType: "other"}))
}

func findings(t *testing.T, ic ai.IncidentContext) map[string][]string {
	t.Helper()
	fs, _, err := local.New().Analyze(context.Background(), ic)
	require.NoError(t, err)
	out := map[string][]string{}
	for _, f := range fs {
		out[f.Kind] = append(out[f.Kind], f.Text)
	}
	require.Len(t, out[ai.FindingCause], 1)
	require.NotEmpty(t, out[ai.FindingNextStep])
	return out
}

var t0 = time.Date(2026, 6, 23, 12, 0, 0, 0, time.UTC)

func TestAnalyzeHostDown(t *testing.T) {
	f := findings(t, ai.IncidentContext{
		Title: "web-prod-01 ne répond plus au ping", Severity: "critical", Status: "investigating", Check: "ping web-prod-01",
		Host: &ai.HostFacts{Name: "web-prod-01", Checks: []ai.CheckFacts{
			{Name: "ping web-prod-01", Type: "ping", Status: "CRITICAL", Error: "100% packet loss"},
			{Name: "https web-prod-01", Type: "http", Port: 443, Status: "CRITICAL", Error: "dial tcp 10.0.0.12:443: i/o timeout"},
		}},
	})
	assert.Contains(t, f[ai.FindingCause][0], "does not answer ping and all its 2 checks fail")
	assert.Contains(t, strings.Join(f[ai.FindingNextStep], " "), "console")
}

func TestAnalyzeServiceRefused(t *testing.T) {
	ic := ai.IncidentContext{
		Title: "postgres down", Severity: "critical", Status: "investigating", Check: "postgres",
		Host: &ai.HostFacts{Name: "db-prod-01", Checks: []ai.CheckFacts{
			{Name: "ping db-prod-01", Type: "ping", Status: "OK"},
			{Name: "postgres", Type: "tcp", Port: 5432, Status: "CRITICAL", Error: "dial tcp 10.0.0.5:5432: connect: connection refused"},
		}},
		FailingChecks: []ai.FailingCheck{
			{Host: "db-prod-01", Name: "postgres", Type: "tcp", Status: "CRITICAL", Since: t0},
			{Host: "web-prod-01", Name: "https web-prod-01", Type: "http", Status: "CRITICAL", Since: t0, Error: "unexpected status 502 Bad Gateway"},
		},
	}
	f := findings(t, ic)
	assert.Contains(t, f[ai.FindingCause][0], "connection refused")
	assert.Contains(t, f[ai.FindingCause][0], "db-prod-01 port 5432 while db-prod-01 answers ping")
	require.Len(t, f[ai.FindingRelated], 1, "the incident's own check is not related to itself")
	assert.Contains(t, f[ai.FindingRelated][0], "https web-prod-01 (http) on web-prod-01 is CRITICAL: unexpected status 502 Bad Gateway")
	assert.Contains(t, strings.Join(f[ai.FindingNextStep], " "), "systemctl status")

	// Unchanged facts, unchanged findings: the loop does not post them twice. The checks ran
	// again meanwhile (their latest results are newer) and still fail the same way.
	first, _, _ := local.New().Analyze(context.Background(), ic)
	for i := range ic.FailingChecks {
		ic.FailingChecks[i].Since = t0.Add(3 * time.Minute)
	}
	again, _, _ := local.New().Analyze(context.Background(), ic)
	assert.Equal(t, first, again)
}

func TestAnalyzeStorm(t *testing.T) {
	f := findings(t, ai.IncidentContext{
		Title: "app-1 down", Severity: "critical", Status: "investigating",
		Host:  &ai.HostFacts{Name: "app-1", Checks: []ai.CheckFacts{{Name: "ping app-1", Type: "ping", Status: "CRITICAL"}}},
		Storm: &ai.Storm{Active: true, IncludesIncident: true, StartedAt: t0, TotalAlerts: 14, AffectedHosts: 9, RootCauseType: "network", RootCauseHost: "core-sw-1", Confidence: 0.86},
	})
	assert.Contains(t, f[ai.FindingCause][0], "alert storm (14 alerts on 9 hosts since 12:00 UTC)")
	assert.Contains(t, f[ai.FindingCause][0], "network around core-sw-1")
}
