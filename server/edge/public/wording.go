package public

import (
	"strings"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/db"
)

// What the public is told of an incident. An incident's title, description and timeline notes
// are written for operators (they name hosts, checks, addresses, sometimes secrets): public
// pages show only what was written for the public (public_title, updates marked public) and,
// for everything else, words of their own derived from what the page already shows.

// impact is how a severity reads on a public page.
var impact = map[string]string{
	"critical": "major outage",
	"major":    "partial outage",
	"minor":    "degraded performance",
	"warning":  "degraded performance",
	"info":     "notice",
}

// publicTitle is the incident's public title, else "<affected components>: <impact>", the
// components being those of the page the incident is on (by check, or by host), in page order.
func publicTitle(inc db.Incident, comps []db.StatusPageComponentStatesRow) string {
	if inc.PublicTitle != nil && *inc.PublicTitle != "" {
		return *inc.PublicTitle
	}
	var names []string
	seen := map[string]bool{}
	for _, c := range comps {
		if !affects(inc, c) || seen[c.Name] {
			continue
		}
		seen[c.Name] = true
		names = append(names, c.Name)
	}
	what := impact[inc.Severity]
	if what == "" {
		what = "service disruption"
	}
	if len(names) == 0 {
		return strings.ToUpper(what[:1]) + what[1:]
	}
	return strings.Join(names, ", ") + ": " + what
}

// affects reports whether the incident is about the component, the way StatusPageIncidents
// relates them: the component's check, or the component's host.
func affects(inc db.Incident, c db.StatusPageComponentStatesRow) bool {
	return eq(inc.CheckID, c.CheckID) || eq(inc.HostID, c.HostID)
}

func eq(a, b *uuid.UUID) bool { return a != nil && b != nil && *a == *b }

// updateText is what a public timeline entry says: its note when an operator published it,
// else the generic words of the status change it records.
func updateText(r db.StatusPageIncidentUpdatesRow) string {
	if r.Public && r.Note != "" {
		return r.Note
	}
	if r.Action == "reopened" {
		return "Reopened."
	}
	switch r.Status {
	case "acknowledged":
		return "Identified: the team is working on it."
	case "resolved":
		return "Resolved."
	}
	return "Investigating."
}
