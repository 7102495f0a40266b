package local

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/secuaas/secumon/probes"
	"github.com/secuaas/secumon/server/domain/ai"
)

// cause is the local provider's diagnosis: what it says, how sure it is, and the next steps
// that follow from it.
type cause struct {
	text       string
	confidence float64
	steps      []string
}

// analyze diagnoses the incident from its check, its host's other checks, the failures
// elsewhere and any storm, then lists related failures and next steps. Texts carry absolute
// times only, so that an unchanged situation gives the same findings (which the analysis
// loop then does not post again).
func analyze(ic ai.IncidentContext) []ai.Finding {
	c := diagnose(ic)
	out := []ai.Finding{{Kind: ai.FindingCause, Text: c.text, Confidence: c.confidence}}
	for _, r := range related(ic) {
		out = append(out, ai.Finding{Kind: ai.FindingRelated, Text: r, Confidence: 0.5})
	}
	for _, s := range c.steps {
		out = append(out, ai.Finding{Kind: ai.FindingNextStep, Text: s, Confidence: c.confidence})
	}
	return out
}

func diagnose(ic ai.IncidentContext) cause {
	if s := ic.Storm; s != nil && s.Active && (s.IncludesIncident || s.AffectedHosts >= 3) {
		return stormCause(s)
	}
	host := "the host"
	var checks []ai.CheckFacts
	if ic.Host != nil {
		host, checks = ic.Host.Name, ic.Host.Checks
	}
	own, hasOwn := findCheck(checks, ic.Check)
	var pingDown, pingUp bool
	failing := 0
	for _, c := range checks {
		bad := isFailing(c.Status)
		if bad {
			failing++
		}
		if c.Type == probes.TypePing {
			pingDown = pingDown || bad
			pingUp = pingUp || c.Status == probes.OK.String()
		}
	}
	switch {
	case pingDown && failing == len(checks) && len(checks) > 1:
		return hostDown(host, fmt.Sprintf("%s does not answer ping and all its %d checks fail: the host is down or cut off from the network", host, len(checks)), 0.8)
	case pingDown || (hasOwn && own.Type == probes.TypePing && isFailing(own.Status)):
		return hostDown(host, fmt.Sprintf("%s does not answer ping: it is down, or the network path to it is broken", host), 0.7)
	case hasOwn && isFailing(own.Status):
		return checkCause(host, own, pingUp)
	}
	for _, c := range checks { // no own check: the host's first failing one explains it best
		if isFailing(c.Status) {
			return checkCause(host, c, pingUp)
		}
	}
	if n := len(ic.FailingChecks); n > 0 {
		f := ic.FailingChecks[0]
		return cause{
			text:       fmt.Sprintf("no check of %s explains the incident; %d check(s) fail elsewhere, first %s on %s (%s)", host, n, f.Name, f.Host, reason(f.Error, f.Output)),
			confidence: 0.3,
			steps:      []string{"Confirm the symptom described in the incident title by hand, and add a check that would detect it."},
		}
	}
	return cause{
		text:       fmt.Sprintf("no failing check explains %q yet: the problem is outside what SecuMon monitors", ic.Title),
		confidence: 0.2,
		steps:      []string{"Confirm the symptom by hand, and add a check on the affected service so that the next occurrence is detected."},
	}
}

func stormCause(s *ai.Storm) cause {
	where := ""
	if s.RootCauseHost != "" {
		where = " around " + s.RootCauseHost
	}
	head := fmt.Sprintf("part of an alert storm (%d alerts on %d hosts since %s)", s.TotalAlerts, s.AffectedHosts, s.StartedAt.UTC().Format("15:04 UTC"))
	conf := max(s.Confidence, 0.5)
	switch s.RootCauseType {
	case "network":
		return cause{head + ": hosts stopped answering ping together, which points at the network" + where + " (uplink, core switch, firewall) rather than at each host", conf, []string{
			"Check the network path the affected hosts share (uplink, core switch, firewall, routing changes) before looking at individual hosts.",
			"Ping the affected hosts from another network or worker to tell a network cut from host failures.",
		}}
	case "dns":
		return cause{head + ": DNS checks fail together, which points at the DNS resolvers or zones" + where, conf, []string{
			"Query the resolvers by hand (dig @resolver name) and check the zone's recent changes and the resolvers' health.",
		}}
	case "service":
		return cause{head + ": services fail together while hosts answer, which points at a shared dependency" + where + " (database, storage, authentication, load balancer)", conf, []string{
			"Look for the dependency the failing services share and check it first (database, storage, load balancer, certificates).",
		}}
	case "worker":
		return cause{head + ": all the failures are seen from one probe worker, which points at that worker's own network rather than at the hosts", conf, []string{
			"Check the probe worker's host and network, and run the failing checks from another worker.",
		}}
	}
	return cause{head + ": the failures have no single common kind yet", conf, []string{
		"Group the failing checks by network segment and dependency to find what they share.",
	}}
}

func hostDown(host, text string, conf float64) cause {
	return cause{text, conf, []string{
		fmt.Sprintf("Check %s's console or hypervisor, its power and its switch port; read its last logs from before it stopped answering.", host),
		fmt.Sprintf("Ping %s from another network to tell a host failure from a network cut.", host),
	}}
}

var (
	reRefused = regexp.MustCompile(`(?i)connection refused|econnrefused|actively refused`)
	reTimeout = regexp.MustCompile(`(?i)timeout|timed out|deadline exceeded|no route to host|host is unreachable`)
	reTLS     = regexp.MustCompile(`(?i)certificate|x509|tls|expir`)
	re5xx     = regexp.MustCompile(`(?i)\b(status|http)[^0-9]{0,12}5\d\d\b|\b5\d\d (internal|bad gateway|service unavailable|gateway timeout)`)
	reDNS     = regexp.MustCompile(`(?i)no such host|nxdomain|servfail|lookup .* failed|name resolution`)
)

// checkCause reads a failing check's error.
func checkCause(host string, c ai.CheckFacts, pingUp bool) cause {
	msg := reason(c.Error, c.Output)
	port := ""
	if c.Port > 0 {
		port = fmt.Sprintf(" port %d", c.Port)
	}
	up := ""
	if pingUp {
		up = fmt.Sprintf(" while %s answers ping", host)
	}
	switch {
	case c.Type == probes.TypeTLS || (c.Type == probes.TypeHTTP && reTLS.MatchString(msg)):
		return cause{fmt.Sprintf("TLS problem on %s%s (check %s): %s", host, port, c.Name, msg), 0.8, []string{
			fmt.Sprintf("Inspect the certificate served on %s%s (expiry, chain, name) and renew or redeploy it.", host, port),
		}}
	case c.Type == probes.TypeDNS || reDNS.MatchString(msg):
		return cause{fmt.Sprintf("name resolution fails for check %s: %s", c.Name, msg), 0.65, []string{
			"Query the resolver by hand (dig) and check the record and the zone's recent changes.",
		}}
	case reRefused.MatchString(msg):
		return cause{fmt.Sprintf("nothing listens on %s%s%s (connection refused): the service (check %s) is probably stopped or crashed", host, port, up, c.Name), 0.75, []string{
			fmt.Sprintf("On %s, check the service's process and logs (systemctl status, journalctl) and restart it if it crashed.", host),
			"Look for a deploy or configuration change just before the incident opened.",
		}}
	case re5xx.MatchString(msg):
		return cause{fmt.Sprintf("the application on %s answers with server errors (check %s: %s): the application or one of its backends fails", host, c.Name, msg), 0.65, []string{
			fmt.Sprintf("Read the application logs on %s around the incident's start and check its backends (database, cache, queues).", host),
		}}
	case reTimeout.MatchString(msg):
		return cause{fmt.Sprintf("%s%s does not answer in time%s (check %s: %s): the service is overloaded or a firewall drops the traffic", host, port, up, c.Name, msg), 0.6, []string{
			fmt.Sprintf("Check %s's load (CPU, memory, connections) and the firewall rules for%s.", host, port),
		}}
	case c.Type == probes.TypeSNMP:
		return cause{fmt.Sprintf("the SNMP agent of %s does not answer (check %s: %s): agent stopped, wrong credentials or an ACL", host, c.Name, msg), 0.55, []string{
			fmt.Sprintf("Check the SNMP agent on %s (running, community or v3 credentials, ACL allowing the probe worker).", host),
		}}
	}
	return cause{fmt.Sprintf("check %s (%s) on %s fails%s: %s", c.Name, c.Type, host, up, msg), 0.5, []string{
		fmt.Sprintf("Reproduce check %s by hand from the probe worker and compare with a working period; look for recent changes on %s.", c.Name, host),
	}}
}

// related lists the other failures: the host's other checks, then other hosts' (at most 5),
// and a storm the diagnosis did not already name.
func related(ic ai.IncidentContext) []string {
	var out []string
	hostName := ""
	if ic.Host != nil {
		hostName = ic.Host.Name
	}
	for _, f := range ic.FailingChecks {
		if len(out) == 5 {
			break
		}
		if f.Host == hostName && f.Name == ic.Check {
			continue
		}
		// No time: f.Since is the time of the check's latest result, which moves at every
		// run, and a text that moves is posted again at every step of the loop.
		out = append(out, fmt.Sprintf("check %s (%s) on %s is %s: %s", f.Name, f.Type, f.Host, f.Status, reason(f.Error, f.Output)))
	}
	if n := len(ic.FailingChecks); n > len(out)+1 {
		out = append(out, fmt.Sprintf("%d checks fail in the workspace in all", n))
	}
	if s := ic.Storm; s != nil && !(s.Active && (s.IncludesIncident || s.AffectedHosts >= 3)) {
		state := "an earlier"
		if s.Active {
			state = "an active"
		}
		out = append(out, fmt.Sprintf("%s alert storm: %d alerts on %d hosts since %s (probable cause %s)", state, s.TotalAlerts, s.AffectedHosts, s.StartedAt.UTC().Format("2006-01-02 15:04 UTC"), s.RootCauseType))
	}
	return out
}

func findCheck(checks []ai.CheckFacts, name string) (ai.CheckFacts, bool) {
	for _, c := range checks {
		if name != "" && c.Name == name {
			return c, true
		}
	}
	return ai.CheckFacts{}, false
}

// isFailing reports whether a check's status names a status other than OK (never-run checks
// have none).
func isFailing(status string) bool {
	s, err := probes.ParseStatus(status)
	return err == nil && s != probes.OK
}

// reason is a check's error, else its output, on one short line.
func reason(errMsg, output string) string {
	s := strings.TrimSpace(errMsg)
	if s == "" {
		s = strings.TrimSpace(output)
	}
	if s == "" {
		return "no detail"
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}
