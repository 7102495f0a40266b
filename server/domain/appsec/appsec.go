// Package appsec turns scanner reports into application-security findings: it parses Trivy
// JSON reports (trivy.go) and SARIF 2.1.0 logs (sarif.go) into one Finding type with a stable
// fingerprint and a SecuMon severity (severity.go), and stores a report's findings in a
// project, fixing what the report no longer has and reopening what comes back (ingest.go).
package appsec

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"unicode/utf8"
)

// Format is a scanner report format.
type Format string

// The formats Parse reads.
const (
	Trivy Format = "trivy"
	SARIF Format = "sarif"
)

// Category is what kind of issue a finding is.
type Category string

// The finding categories.
const (
	Vulnerability    Category = "vulnerability"
	Misconfiguration Category = "misconfiguration"
	Secret           Category = "secret"
	Code             Category = "code"
)

// Posture areas used as sub-categories. The first four are the dashboard's fixed list (the
// API reference's sub_categories); the others name what scanners find beyond them.
const (
	DependencyVulnerabilities      = "dependency_vulnerabilities"
	ContainerImageHygiene          = "container_image_hygiene"
	RuntimeCompromise              = "runtime_compromise"
	NetworkSecurityPosture         = "network_security_posture"
	ExposedSecrets                 = "exposed_secrets"
	InfrastructureMisconfiguration = "infrastructure_misconfiguration"
	CodeWeakness                   = "code_weakness"
)

// PostureAreas are the sub-categories the dashboard always lists, in the reference's order.
var PostureAreas = []string{DependencyVulnerabilities, ContainerImageHygiene, RuntimeCompromise, NetworkSecurityPosture}

// MaxFindings caps the findings of one report; a larger one is refused rather than stored
// half-way.
const MaxFindings = 100_000

// Length limits: longer texts are cut, never refused (scanners write long descriptions).
const (
	maxTitle       = 500
	maxDescription = 4000
	maxField       = 1000
	// MaxProjectName is the longest project name (the contract's limit on `project`).
	MaxProjectName = 200
)

// Finding is one issue a scanner reported, in SecuMon's terms.
type Finding struct {
	// Fingerprint identifies the finding across reports of one project: a hash of the tool,
	// the category, the rule or vulnerability id and where it is (package, file, resource),
	// without what changes from build to build (image tags, versions, line numbers when the
	// tool gives a better identity).
	Fingerprint      string
	Tool             string
	Category         Category
	SubCategory      string
	RuleID           string
	Title            string
	Description      string
	Severity         Severity
	Package          string
	InstalledVersion string
	FixedVersion     string
	Location         string
	URL              string
}

// Report is a parsed scanner report.
type Report struct {
	Format Format
	// Tools are the scanners whose findings the report covers: the open findings of these
	// tools that the report lacks are fixed.
	Tools       []string
	ToolVersion string
	// Artifact is what was scanned (image reference, path, repository), as the report says.
	Artifact string
	// Project is the project name the report implies ("" when it implies none).
	Project string
	// Findings are distinct by fingerprint.
	Findings []Finding
}

// Tool is the report's tools as one label.
func (r *Report) Tool() string { return strings.Join(r.Tools, ",") }

// Parse reads a scanner report held in memory; see ParseReader. A malformed or unknown
// document is a 400 problem naming the offending field ("body", "format", "SchemaVersion",
// "runs[0].results"…).
func Parse(body []byte, format Format) (*Report, error) {
	return ParseReader(bytes.NewReader(body), format, nil)
}

// InvalidError says which part of a report could not be read. The API answers it as a 400
// naming Field (a JSON path into the report, or "body").
type InvalidError struct {
	Field   string
	Message string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Message }

func invalid(field, message string) error {
	return &InvalidError{Field: field, Message: message}
}

// fingerprint hashes the parts that identify a finding.
func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// dedupe keeps one finding per fingerprint (the most severe): scanners may list one issue
// twice, and the store upserts by fingerprint.
func dedupe(in []Finding) []Finding {
	seen := make(map[string]int, len(in))
	out := in[:0]
	for _, f := range in {
		if i, ok := seen[f.Fingerprint]; ok {
			if f.Severity.Rank() < out[i].Severity.Rank() {
				out[i] = f
			}
			continue
		}
		seen[f.Fingerprint] = len(out)
		out = append(out, f)
	}
	return out
}

// clip cuts s to at most n runes, on a rune boundary, and drops NUL characters, which JSON
// strings may hold ("\u0000") and PostgreSQL text refuses. Every text of a report goes
// through it on its way to the database.
func clip(s string, n int) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\x00", ""))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ProjectName derives a project name from what a report scanned, so that successive reports
// of one thing land in one project: an image reference loses its tag and digest
// (registry:5000/shop/api:1.4.2@sha256:… → registry:5000/shop/api), a repository URL its
// scheme and .git suffix. Paths that name nothing ("", ".", "/") give "".
func ProjectName(artifact string) string {
	s := strings.TrimSpace(artifact)
	switch s {
	case "", ".", "./", "/":
		return ""
	}
	if strings.Contains(s, "://") {
		s = s[strings.Index(s, "://")+3:]
		if at := strings.LastIndex(s, "@"); at >= 0 && at < strings.Index(s+"/", "/") {
			s = s[at+1:] // credentials in the URL
		}
		s = strings.TrimSuffix(strings.TrimSuffix(s, "/"), ".git")
	} else if !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, ".") {
		s = imageRepository(s)
	}
	return clip(s, MaxProjectName)
}

// imageRepository strips the tag and digest of an image reference; a registry's port (a
// colon before the last slash) stays.
func imageRepository(ref string) string {
	if at := strings.Index(ref, "@"); at >= 0 {
		ref = ref[:at]
	}
	slash := strings.LastIndex(ref, "/")
	if colon := strings.LastIndex(ref, ":"); colon > slash {
		ref = ref[:colon]
	}
	return ref
}
