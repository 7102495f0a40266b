package local

import (
	"net"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/domain/ai"
)

// evidence accumulates independent hints per tag key and value. Hints combine as a noisy OR
// (1 − Π(1 − p)): two weak hints that agree give more confidence than either, and no pile of
// hints reaches certainty.
type evidence map[string]map[string]float64

func (e evidence) add(key, value string, p float64) {
	if e[key] == nil {
		e[key] = map[string]float64{}
	}
	e[key][value] = 1 - (1-e[key][value])*(1-p)
}

// best is the most supported value of each key; ties go to the alphabetically first value so
// that the answer does not depend on map order.
func (e evidence) best() []ai.Tag {
	var out []ai.Tag
	for key, values := range e {
		names := make([]string, 0, len(values))
		for v := range values {
			names = append(names, v)
		}
		sort.Strings(names)
		top := names[0]
		for _, v := range names[1:] {
			if values[v] > values[top] {
				top = v
			}
		}
		out = append(out, ai.Tag{Key: key, Value: top, Confidence: values[top]})
	}
	return ai.CleanTags(out)
}

// tagHost weighs the host's names, type, user tags, checks and SNMP descriptions.
func tagHost(h ai.HostFacts) []ai.Tag {
	e := evidence{}
	for _, tok := range nameTokens(h) {
		if role, ok := roleWords[tok]; ok {
			e.add(ai.TagRole, role.value, role.p)
		}
		if env, ok := envWords[tok]; ok {
			e.add(ai.TagEnvironment, env, 0.7)
		}
		if os, ok := osWords[tok]; ok {
			e.add(ai.TagOS, os, 0.55)
		}
	}
	for _, k := range []string{"env", "environment", "stage"} {
		if env, ok := envWords[strings.ToLower(h.UserTags[k])]; ok {
			e.add(ai.TagEnvironment, env, 0.9)
		}
	}
	switch h.HostType {
	case "website":
		e.add(ai.TagRole, "web-server", 0.7)
	case "network":
		e.add(ai.TagRole, "network-device", 0.5)
	case "container":
		e.add(ai.TagOS, "linux", 0.55)
	}
	for _, c := range h.Checks {
		checkHints(e, c)
		if c.SysDescr != "" {
			sysDescrHints(e, c.SysDescr)
		}
	}
	return e.best()
}

// checkHints reads a check's type and port: an HTTP check means a web server, port 5432 a
// database, a DNS check that asks the host itself a DNS server, and so on.
func checkHints(e evidence, c ai.CheckFacts) {
	switch c.Type {
	case probes.TypeHTTP:
		e.add(ai.TagRole, "web-server", 0.6)
	case probes.TypeTLS:
		if c.Port == 443 || c.Port == 8443 {
			e.add(ai.TagRole, "web-server", 0.4)
		}
	case probes.TypePostgres:
		e.add(ai.TagRole, "database", 0.8)
	case probes.TypeSMTP:
		e.add(ai.TagRole, "mail-server", 0.7)
	case probes.TypeDNS:
		// Without a resolver of its own, a DNS check queries the host: the host serves DNS.
		if c.Target == "" {
			e.add(ai.TagRole, "dns-server", 0.8)
		}
		return
	case probes.TypePing, probes.TypeSNMP:
		return
	}
	if hint, ok := portRoles[c.Port]; ok {
		e.add(ai.TagRole, hint.value, hint.p)
	}
	if hint, ok := portOS[c.Port]; ok {
		e.add(ai.TagOS, hint.value, hint.p)
	}
}

type hint struct {
	value string
	p     float64
}

// sysDescrRules match SNMP sysDescr strings, most specific first within each family. Each
// rule gives tags with their confidence; a rule's role applies only when the text also matches
// the rule's roleIf pattern (model numbers), else the rule's default role.
type sysDescrRule struct {
	match  *regexp.Regexp
	os     hint
	vendor string
	roles  []roleRule
}

type roleRule struct {
	match *regexp.Regexp // nil matches anything
	role  hint
}

var sysDescrRules = []sysDescrRule{
	{match: re(`cisco adaptive security appliance|cisco asa`), os: hint{"cisco-asa", 0.95}, vendor: "cisco",
		roles: []roleRule{{nil, hint{"firewall", 0.9}}}},
	{match: re(`cisco nx-os|nx-os`), os: hint{"cisco-nx-os", 0.95}, vendor: "cisco",
		roles: []roleRule{{nil, hint{"switch", 0.8}}}},
	{match: re(`cisco ios[ -]?xe|iosxe|iosd|ios-xe`), os: hint{"cisco-ios-xe", 0.95}, vendor: "cisco", roles: ciscoRoles},
	{match: re(`cisco ios|cisco internetwork operating system`), os: hint{"cisco-ios", 0.95}, vendor: "cisco", roles: ciscoRoles},
	{match: re(`juniper|junos`), os: hint{"junos", 0.95}, vendor: "juniper", roles: []roleRule{
		{re(`\bsrx`), hint{"firewall", 0.85}},
		{re(`\b(ex|qfx)\d`), hint{"switch", 0.85}},
		{re(`\b(mx|ptx|acx)\d`), hint{"router", 0.85}},
		{nil, hint{"router", 0.6}},
	}},
	{match: re(`routeros|mikrotik`), os: hint{"routeros", 0.95}, vendor: "mikrotik", roles: []roleRule{
		{re(`\bcrs\d`), hint{"switch", 0.8}},
		{nil, hint{"router", 0.75}},
	}},
	{match: re(`fortigate|fortios`), os: hint{"fortios", 0.95}, vendor: "fortinet", roles: []roleRule{{nil, hint{"firewall", 0.9}}}},
	{match: re(`palo alto|pan-os`), os: hint{"pan-os", 0.95}, vendor: "palo-alto", roles: []roleRule{{nil, hint{"firewall", 0.9}}}},
	{match: re(`pfsense|opnsense`), os: hint{"freebsd", 0.9}, roles: []roleRule{{nil, hint{"firewall", 0.85}}}},
	{match: re(`arista`), os: hint{"arista-eos", 0.9}, vendor: "arista", roles: []roleRule{{nil, hint{"switch", 0.85}}}},
	{match: re(`huawei versatile routing platform|\bvrp\b`), os: hint{"huawei-vrp", 0.9}, vendor: "huawei", roles: []roleRule{
		{re(`\bs\d{4}`), hint{"switch", 0.8}},
		{nil, hint{"router", 0.6}},
	}},
	{match: re(`procurve|aruba|\bhp j\d`), os: hint{"arubaos", 0.8}, vendor: "hpe-aruba", roles: []roleRule{
		{re(`\bap-?\d|instant`), hint{"access-point", 0.8}},
		{nil, hint{"switch", 0.8}},
	}},
	{match: re(`ubiquiti|unifi|edgeos|edgeswitch`), vendor: "ubiquiti", roles: []roleRule{
		{re(`\buap|access point`), hint{"access-point", 0.85}},
		{re(`edgeswitch|usw`), hint{"switch", 0.85}},
		{nil, hint{"router", 0.6}},
	}},
	{match: re(`vmware esxi`), os: hint{"esxi", 0.95}, vendor: "vmware", roles: []roleRule{{nil, hint{"hypervisor", 0.9}}}},
	{match: re(`synology|diskstation`), os: hint{"linux", 0.7}, vendor: "synology", roles: []roleRule{{nil, hint{"storage", 0.9}}}},
	{match: re(`qnap`), os: hint{"linux", 0.7}, vendor: "qnap", roles: []roleRule{{nil, hint{"storage", 0.9}}}},
	{match: re(`smart-ups|apc web/snmp|network management card`), vendor: "apc", roles: []roleRule{{nil, hint{"ups", 0.9}}}},
	{match: re(`jetdirect|laserjet|printer`), vendor: "hp", roles: []roleRule{{nil, hint{"printer", 0.9}}}},
	{match: re(`windows`), os: hint{"windows", 0.95}},
	{match: re(`^linux|\blinux\b`), os: hint{"linux", 0.95}},
	{match: re(`freebsd`), os: hint{"freebsd", 0.95}},
	{match: re(`openbsd`), os: hint{"openbsd", 0.95}},
	{match: re(`netbsd`), os: hint{"netbsd", 0.95}},
	{match: re(`darwin`), os: hint{"macos", 0.9}},
	{match: re(`sunos|solaris`), os: hint{"solaris", 0.95}},
	{match: re(`\baix\b`), os: hint{"aix", 0.95}},
}

// ciscoRoles tell a Cisco switch from a router by model family.
var ciscoRoles = []roleRule{
	{re(`catalyst|switch|\bws-c|cat[39]k|\bc(29[56]|35[56]|36[0-9]|37[56]|38[56]|45[0-9]|65[0-9])\d|\bc9[2-6]00|\b(ie|me)-\d`), hint{"switch", 0.9}},
	{re(`\bisr|\basr|router|\bc8\d\d\b|\bc(1[89]|2[89]|3[89]|11|4[34])\d\d`), hint{"router", 0.85}},
	{re(`wireless|aironet|\bap\d`), hint{"access-point", 0.85}},
	{nil, hint{"network-device", 0.6}},
}

// sysDescrHints applies the first matching rule.
func sysDescrHints(e evidence, descr string) {
	d := strings.ToLower(descr)
	for _, r := range sysDescrRules {
		if !r.match.MatchString(d) {
			continue
		}
		if r.os.value != "" {
			e.add(ai.TagOS, r.os.value, r.os.p)
		}
		if r.vendor != "" {
			e.add(ai.TagVendor, r.vendor, 0.9)
		}
		for _, rr := range r.roles {
			if rr.match == nil || rr.match.MatchString(d) {
				e.add(ai.TagRole, rr.role.value, rr.role.p)
				break
			}
		}
		return
	}
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(s) }

// nameTokens splits the host's name and DNS name into lowercase words, separating letters
// from digits: "web-prod-01" → web, prod; "ns1.stg.example.com" → ns, stg, example, com.
func nameTokens(h ai.HostFacts) []string {
	text := h.Name
	if net.ParseIP(h.Hostname) == nil {
		text += " " + h.Hostname
	}
	var out []string
	seen := map[string]bool{}
	word := []rune{}
	flush := func() {
		if len(word) > 0 && unicode.IsLetter(word[0]) && !seen[string(word)] {
			seen[string(word)] = true
			out = append(out, string(word))
		}
		word = word[:0]
	}
	var prevDigit bool
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r):
			if prevDigit {
				flush()
			}
			word = append(word, r)
			prevDigit = false
		case unicode.IsDigit(r):
			if !prevDigit {
				flush()
			}
			word = append(word, r)
			prevDigit = true
		default:
			flush()
			prevDigit = false
		}
	}
	flush()
	return out
}

// roleWords are words of host names that name a role, with how much they say.
var roleWords = words(map[hint][]string{
	{"web-server", 0.6}:      {"web", "www", "nginx", "apache", "httpd", "frontend", "front", "iis"},
	{"database", 0.6}:        {"db", "sql", "mysql", "mariadb", "pg", "pgsql", "postgres", "postgresql", "mongo", "mongodb", "oracle", "ora", "mssql", "database", "cassandra"},
	{"cache", 0.6}:           {"redis", "memcache", "memcached", "cache", "varnish"},
	{"mail-server", 0.6}:     {"mail", "smtp", "mx", "imap", "exchange", "postfix", "mta"},
	{"dns-server", 0.6}:      {"dns", "ns", "bind", "resolver", "unbound"},
	{"load-balancer", 0.6}:   {"lb", "haproxy", "balancer", "loadbalancer", "f5", "lvs"},
	{"proxy", 0.55}:          {"proxy", "squid", "rproxy"},
	{"firewall", 0.65}:       {"fw", "firewall", "asa", "fortigate", "pfsense", "opnsense"},
	{"switch", 0.6}:          {"sw", "switch", "tor"},
	{"router", 0.6}:          {"rtr", "router", "gw", "gateway", "edge", "bgp"},
	{"access-point", 0.6}:    {"ap", "wap", "wifi", "wlan"},
	{"app-server", 0.5}:      {"app", "api", "backend", "svc", "tomcat", "jboss"},
	{"container-host", 0.55}: {"k8s", "kube", "kubernetes", "docker", "swarm", "nomad"},
	{"vpn-gateway", 0.6}:     {"vpn", "openvpn", "wireguard", "ipsec"},
	{"directory", 0.55}:      {"ldap", "ad", "dc", "kdc", "freeipa", "idm"},
	{"ci", 0.55}:             {"ci", "jenkins", "gitlab", "git", "build", "runner"},
	{"backup", 0.6}:          {"backup", "bkp", "veeam", "bacula"},
	{"monitoring", 0.6}:      {"mon", "monitor", "monitoring", "grafana", "prometheus", "prom", "zabbix", "nagios"},
	{"storage", 0.6}:         {"nas", "san", "nfs", "storage", "ceph", "minio"},
	{"hypervisor", 0.6}:      {"esx", "esxi", "hv", "hyperv", "proxmox", "pve", "kvm", "vmhost", "xen"},
	{"printer", 0.6}:         {"printer", "prn", "print"},
	{"ups", 0.6}:             {"ups", "pdu"},
	{"search", 0.55}:         {"es", "elastic", "elasticsearch", "solr", "opensearch"},
	{"message-queue", 0.55}:  {"mq", "rabbit", "rabbitmq", "kafka", "nats", "amqp"},
	{"logging", 0.55}:        {"log", "logs", "syslog", "elk", "graylog", "splunk", "loki"},
	{"bastion", 0.6}:         {"bastion", "jump", "jumphost"},
})

// envWords map words of host names and env tags to an environment.
var envWords = func() map[string]string {
	m := map[string]string{}
	for env, ws := range map[string][]string{
		"production":  {"prod", "prd", "production", "live"},
		"staging":     {"stg", "stage", "staging", "preprod", "uat"},
		"development": {"dev", "devel", "development"},
		"test":        {"test", "tst", "qa", "testing"},
		"lab":         {"lab", "sandbox", "sbx", "poc", "demo"},
	} {
		for _, w := range ws {
			m[w] = env
		}
	}
	return m
}()

// osWords are words of host names that name an operating system.
var osWords = map[string]string{
	"win": "windows", "windows": "windows", "w2k": "windows",
	"linux": "linux", "ubuntu": "linux", "debian": "linux", "centos": "linux", "rhel": "linux",
	"rocky": "linux", "alma": "linux", "suse": "linux", "fedora": "linux",
	"freebsd": "freebsd", "openbsd": "openbsd",
}

// portRoles are well-known service ports of TCP, HTTP and TLS checks.
var portRoles = func() map[int]hint {
	m := map[int]hint{}
	for h, ports := range map[hint][]int{
		{"web-server", 0.7}:     {80, 443, 8080, 8443, 8000, 8888},
		{"database", 0.75}:      {5432, 3306, 1433, 1521, 27017, 9042, 5984, 26257},
		{"cache", 0.7}:          {6379, 11211},
		{"mail-server", 0.7}:    {25, 465, 587, 143, 993, 110, 995},
		{"dns-server", 0.75}:    {53, 853},
		{"directory", 0.7}:      {389, 636, 88, 3268},
		{"search", 0.65}:        {9200, 9300},
		{"message-queue", 0.65}: {5672, 9092, 4222, 1883},
		{"storage", 0.6}:        {2049},
		{"hypervisor", 0.7}:     {8006},
		{"container-host", 0.7}: {6443, 10250, 2376},
		{"vpn-gateway", 0.6}:    {1194, 51820},
		{"monitoring", 0.5}:     {9090, 3000},
		{"load-balancer", 0.45}: {1936},
		{"app-server", 0.4}:     {8081, 9000},
		{"proxy", 0.6}:          {3128},
		{"logging", 0.6}:        {514, 5044, 12201},
	} {
		for _, p := range ports {
			m[p] = h
		}
	}
	return m
}()

// portOS are ports that say something about the operating system.
var portOS = map[int]hint{
	3389: {"windows", 0.6},
	5985: {"windows", 0.7},
	5986: {"windows", 0.7},
	445:  {"windows", 0.5},
	135:  {"windows", 0.6},
	22:   {"linux", 0.3}, // network devices speak SSH too: a hint, not a conclusion
}

func words(m map[hint][]string) map[string]hint {
	out := map[string]hint{}
	for h, ws := range m {
		for _, w := range ws {
			out[w] = h
		}
	}
	return out
}
