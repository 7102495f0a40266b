package probes

import (
	"strings"
	"testing"
	"time"

	"github.com/secuaas/secumon/probes/snmpdtest"
)

const (
	snmpV3User   = snmpdtest.V3User
	snmpV3Auth   = snmpdtest.V3Auth
	snmpV3Priv   = snmpdtest.V3Priv
	oidSysSvc    = "1.3.6.1.2.1.1.7.0"  // sysServices, set to 72 in the test config
	oidSnmpInPkt = "1.3.6.1.2.1.11.1.0" // snmpInPkts, a Counter32 that grows with every request
)

func TestSNMP(t *testing.T) {
	port := snmpdtest.Start(t)
	type cfg = map[string]any

	t.Run("v2c system group and interfaces, then rates", func(t *testing.T) {
		memo := NewMemo()
		c := cfg{"port": port, "community": "public", "oids": []cfg{{"oid": oidSnmpInPkt, "name": "snmpInPkts", "counter": true}}}
		r := runMemo(t, ProbeSNMP, "snmp", "127.0.0.1", c, 3*time.Second, memo)
		want(t, r, OK)
		if r.Facts["sysName"] != "probes-test" || !strings.Contains(r.Facts["sysDescr"], "Linux") {
			t.Fatalf("facts %v", r.Facts)
		}
		if r.Metrics["sys_uptime_s"] <= 0 || r.Metrics["if_count"] < 1 || r.Metrics["if_up"] < 1 {
			t.Fatalf("metrics %v", r.Metrics)
		}
		var lo bool
		for _, s := range r.Samples {
			if s.Name == "ifOperStatus" && s.Instance == "lo" && s.Value == 1 && s.OID == "1.3.6.1.2.1.2.2.1.8.1" {
				lo = true
			}
			if strings.HasSuffix(s.Name, "Octets") || s.Name == "snmpInPkts" {
				t.Fatalf("rate sample on the first run: %+v", s)
			}
		}
		if !lo {
			t.Fatalf("no ifOperStatus up sample for lo: %+v", r.Samples)
		}
		if !strings.Contains(r.Output, "snmpInPkts: rate from the next run") {
			t.Fatalf("output %q", r.Output)
		}

		// snmpd caches interface counters for a few seconds, so lo's octets may not move before
		// the next run. Rewind the remembered values by 1000 bytes and 1 s instead of sleeping:
		// the next run must then report about 1000 bytes/s plus whatever lo really carried.
		memo.mu.Lock()
		rewound := 0
		for k, m := range memo.counters {
			if strings.HasSuffix(k, "Octets.1") && m.value >= 1000 {
				m.value -= 1000
				m.at = m.at.Add(-time.Second)
				memo.counters[k] = m
				rewound++
			}
		}
		memo.mu.Unlock()
		if rewound != 2 {
			t.Fatalf("memo holds %d octet counters for lo (ifIndex 1), want 2: %v", rewound, memo.counters)
		}
		time.Sleep(20 * time.Millisecond)
		r = runMemo(t, ProbeSNMP, "snmp", "127.0.0.1", c, 3*time.Second, memo)
		want(t, r, OK)
		rates := map[string]float64{}
		for _, s := range r.Samples {
			if s.Instance == "lo" || s.Name == "snmpInPkts" {
				rates[s.Name] = s.Value
			}
		}
		in, okIn := rates["ifHCInOctets"]
		out, okOut := rates["ifHCOutOctets"]
		if !okIn || !okOut || in < 900 || out < 900 || in > 1e9 || out > 1e9 {
			t.Fatalf("lo rates in=%v(%v) out=%v(%v), want ≥ ~1000 B/s; samples %+v", in, okIn, out, okOut, r.Samples)
		}
		if p := rates["snmpInPkts"]; p <= 0 {
			t.Fatalf("snmpInPkts rate %v, want > 0 (the first run's requests arrived in between)", p)
		}
		if r.Metrics["snmpInPkts"] != rates["snmpInPkts"] {
			t.Fatalf("metric snmpInPkts %v != sample %v", r.Metrics["snmpInPkts"], rates["snmpInPkts"])
		}
	})

	t.Run("thresholds", func(t *testing.T) {
		for _, tc := range []struct {
			oid     cfg
			status  Status
			inError string
		}{
			{cfg{"oid": "." + oidSysSvc, "name": "sysServices", "crit_above": 50}, Critical, "sysServices = 72 above critical threshold 50"},
			{cfg{"oid": oidSysSvc, "name": "sysServices", "warn_above": 70, "crit_above": 100}, Warning, "above warning threshold 70"},
			{cfg{"oid": oidSysSvc, "name": "sysServices", "crit_below": 100}, Critical, "below critical threshold 100"},
			{cfg{"oid": oidSysSvc, "name": "sysServices", "warn_below": 10, "crit_above": 100}, OK, ""},
			{cfg{"oid": "1.3.6.1.4.1.99999.1.0", "name": "missing"}, Unknown, "missing: noSuch"},
		} {
			r := run(t, ProbeSNMP, "snmp", "127.0.0.1", cfg{"port": port, "default_oids": false, "oids": []cfg{tc.oid}}, 3*time.Second)
			want(t, r, tc.status)
			if !strings.Contains(r.ErrorMsg, tc.inError) {
				t.Fatalf("error %q does not contain %q", r.ErrorMsg, tc.inError)
			}
			if len(r.Facts) != 0 || r.Metrics["if_count"] != 0 {
				t.Fatalf("default_oids false still collected %v %v", r.Facts, r.Metrics)
			}
		}
	})

	t.Run("wrong community is a quick Unknown", func(t *testing.T) {
		start := time.Now()
		r := run(t, ProbeSNMP, "snmp", "127.0.0.1", cfg{"port": port, "community": "not-public"}, time.Second)
		el := time.Since(start)
		want(t, r, Unknown)
		if !strings.Contains(r.ErrorMsg, "no SNMP answer (wrong community or credentials?)") {
			t.Fatalf("error %q", r.ErrorMsg)
		}
		if el > 1200*time.Millisecond {
			t.Fatalf("took %v with a 1s timeout", el)
		}
	})

	t.Run("v3 authPriv", func(t *testing.T) {
		c := cfg{"port": port, "version": "v3", "username": snmpV3User, "security_level": "authPriv",
			"auth_protocol": "SHA", "auth_passphrase": snmpV3Auth, "priv_protocol": "AES", "priv_passphrase": snmpV3Priv}
		r := run(t, ProbeSNMP, "snmp", "127.0.0.1", c, 3*time.Second)
		want(t, r, OK)
		if r.Facts["sysName"] != "probes-test" || r.Metrics["if_count"] < 1 {
			t.Fatalf("v3 result %+v", r)
		}

		c["auth_passphrase"] = "wrongpass123"
		r = run(t, ProbeSNMP, "snmp", "127.0.0.1", c, time.Second)
		want(t, r, Unknown)
		if !strings.Contains(r.ErrorMsg, "SNMPv3 authentication failed") {
			t.Fatalf("wrong v3 passphrase: %q", r.ErrorMsg)
		}

		c["auth_passphrase"] = "short"
		r = run(t, ProbeSNMP, "snmp", "127.0.0.1", c, time.Second)
		want(t, r, Unknown)
		if !strings.Contains(r.ErrorMsg, "auth_passphrase") {
			t.Fatalf("short passphrase: %q", r.ErrorMsg)
		}
	})

	t.Run("disallowed target", func(t *testing.T) {
		start := time.Now()
		r := run(t, ProbeSNMP, "snmp", "192.0.2.1", cfg{}, 2*time.Second)
		want(t, r, Unknown)
		if !strings.Contains(r.ErrorMsg, "192.0.2.1") || !strings.Contains(r.ErrorMsg, "SECUMON_PROBE_ALLOW") || time.Since(start) > 200*time.Millisecond {
			t.Fatalf("%q after %v", r.ErrorMsg, time.Since(start))
		}
	})
}
