package appsec

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func parseFixture(t *testing.T, name string, format Format) *Report {
	t.Helper()
	r, err := Parse(fixture(t, name), format)
	require.NoError(t, err)
	return r
}

// byRule indexes findings by rule id (unique in the fixtures).
func byRule(fs []Finding) map[string]Finding {
	m := map[string]Finding{}
	for _, f := range fs {
		m[f.RuleID] = f
	}
	return m
}

func severityCount(fs []Finding) map[Severity]int {
	m := map[Severity]int{}
	for _, f := range fs {
		m[f.Severity]++
	}
	return m
}

func TestParseTrivyImageReport(t *testing.T) {
	r := parseFixture(t, "trivy-image.json", "")
	assert.Equal(t, Trivy, r.Format, "detected from SchemaVersion")
	assert.Equal(t, []string{"trivy"}, r.Tools)
	assert.Equal(t, "0.56.2", r.ToolVersion)
	assert.Equal(t, "registry.example.com/shop/api:1.4.2", r.Artifact)
	assert.Equal(t, "registry.example.com/shop/api", r.Project, "the image tag is not part of the project")

	// 7 CVEs, 2 failed Dockerfile checks (the passed DS001 is not a finding), 1 secret.
	require.Len(t, r.Findings, 10)
	assert.Equal(t, map[Severity]int{Critical: 2, High: 3, Medium: 2, Low: 2, Info: 1}, severityCount(r.Findings))
	f := byRule(r.Findings)
	assert.NotContains(t, f, "DS001")

	expat := f["CVE-2024-45490"]
	assert.Equal(t, Vulnerability, expat.Category)
	assert.Equal(t, Critical, expat.Severity)
	assert.Equal(t, ContainerImageHygiene, expat.SubCategory, "OS packages of an image")
	assert.Equal(t, "libexpat1", expat.Package)
	assert.Equal(t, "2.5.0-1", expat.InstalledVersion)
	assert.Equal(t, "2.5.0-1+deb12u1", expat.FixedVersion)
	assert.Equal(t, "libexpat: Negative Length Parsing Vulnerability in libexpat", expat.Title)
	assert.Equal(t, "https://avd.aquasec.com/nvd/cve-2024-45490", expat.URL)
	assert.Equal(t, "registry.example.com/shop/api:1.4.2 (debian 12.5)", expat.Location)

	assert.Equal(t, Info, f["TEMP-0841856-B18BAF"].Severity, "UNKNOWN is info")
	assert.Equal(t, DependencyVulnerabilities, f["CVE-2022-24999"].SubCategory, "language packages")
	assert.Equal(t, High, f["CVE-2022-24999"].Severity)

	root := f["DS002"]
	assert.Equal(t, Misconfiguration, root.Category)
	assert.Equal(t, High, root.Severity)
	assert.Equal(t, ContainerImageHygiene, root.SubCategory, "Dockerfile checks")
	assert.Equal(t, "Image user should not be 'root'", root.Title)
	assert.Contains(t, root.Description, "Resolution: Add 'USER <non root user name>'")
	assert.Equal(t, "Dockerfile", root.Location)

	secret := f["aws-access-key-id"]
	assert.Equal(t, Secret, secret.Category)
	assert.Equal(t, Critical, secret.Severity)
	assert.Equal(t, ExposedSecrets, secret.SubCategory)
	assert.Equal(t, "/app/config/settings.py:12", secret.Location)

	prints := map[string]bool{}
	for _, f := range r.Findings {
		assert.Len(t, f.Fingerprint, 64)
		assert.False(t, prints[f.Fingerprint], "fingerprints are distinct: %s", f.RuleID)
		prints[f.Fingerprint] = true
		assert.Equal(t, "trivy", f.Tool)
	}
}

// A rebuild of the image (new tag, upgraded libssl3 still affected by one CVE) keeps the
// identity of everything but the CVE the upgrade fixed.
func TestTrivyFingerprintsSurviveANewImageTag(t *testing.T) {
	first := parseFixture(t, "trivy-image.json", Trivy)
	second := parseFixture(t, "trivy-image-rescan.json", Trivy)
	assert.Equal(t, first.Project, second.Project)

	again := map[string]bool{}
	for _, f := range second.Findings {
		again[f.Fingerprint] = true
	}
	var gone []string
	for _, f := range first.Findings {
		if !again[f.Fingerprint] {
			gone = append(gone, f.RuleID)
		}
	}
	assert.Equal(t, []string{"CVE-2023-5363"}, gone)
	assert.Len(t, second.Findings, len(first.Findings)-1)
	assert.Equal(t, "3.0.11-1~deb12u3", byRule(second.Findings)["CVE-2024-2511"].InstalledVersion)
}

func TestParseGosecSARIF(t *testing.T) {
	r := parseFixture(t, "gosec.sarif", "")
	assert.Equal(t, SARIF, r.Format, "detected from runs")
	assert.Equal(t, []string{"gosec"}, r.Tools)
	assert.Equal(t, "2.21.4", r.ToolVersion)
	assert.Equal(t, "gosec", r.Project, "no repository in the log: the tool names the project")

	f := byRule(r.Findings)
	require.Len(t, r.Findings, 4, "the #nosec-suppressed G402 is not a finding")
	assert.NotContains(t, f, "G402")

	// No security-severity: the level decides.
	assert.Equal(t, High, f["G101"].Severity, "error")
	assert.Equal(t, Medium, f["G201"].Severity, "warning")
	assert.Equal(t, Low, f["G104"].Severity, "note")

	sql := f["G201"]
	assert.Equal(t, Code, sql.Category)
	assert.Equal(t, "CWE-89", sql.SubCategory, "from the rule's relationship to the CWE taxonomy")
	assert.Equal(t, "internal/orders/store.go:42", sql.Location)
	assert.Equal(t, "SQL string formatting", sql.Title)
	assert.Equal(t, "CWE-798", f["G101"].SubCategory)
	assert.Equal(t, "gosec", sql.Tool)
}

func TestParseCodeQLSARIF(t *testing.T) {
	r := parseFixture(t, "codeql.sarif", SARIF)
	assert.Equal(t, []string{"CodeQL"}, r.Tools)
	assert.Equal(t, "2.16.3", r.ToolVersion)
	assert.Equal(t, "github.com/acme/shop", r.Project, "from versionControlProvenance, without scheme and .git")
	assert.Equal(t, "https://github.com/acme/shop.git", r.Artifact)

	require.Len(t, r.Findings, 4)
	f := byRule(r.Findings)
	// security-severity wins over the level: 9.8 critical, 8.8 high, 6.1 medium.
	assert.Equal(t, Critical, f["js/hardcoded-credentials"].Severity, "rules found in tool.extensions")
	assert.Equal(t, High, f["js/sql-injection"].Severity)
	assert.Equal(t, Medium, f["js/reflected-xss"].Severity)
	assert.Equal(t, Low, f["js/unused-local-variable"].Severity, "no score, rule default level note")

	assert.Equal(t, "CWE-89", f["js/sql-injection"].SubCategory, "external/cwe/cwe-089")
	assert.Equal(t, "CWE-79", f["js/reflected-xss"].SubCategory)
	assert.Equal(t, CodeWeakness, f["js/unused-local-variable"].SubCategory)
	assert.Equal(t, "Database query built from user-controlled sources", f["js/sql-injection"].Title)
	assert.Equal(t, "https://codeql.github.com/codeql-query-help/javascript/js-sql-injection/", f["js/sql-injection"].URL)
	assert.Equal(t, "web/routes/search.js:24", f["js/sql-injection"].Location)
}

// With the tool's own fingerprint, a finding keeps its identity when the code above it moves.
func TestSARIFFingerprintIgnoresLineWhenToolFingerprints(t *testing.T) {
	first := byRule(parseFixture(t, "codeql.sarif", SARIF).Findings)
	moved := strings.Replace(string(fixture(t, "codeql.sarif")), `"startLine": 24`, `"startLine": 29`, 1)
	r, err := Parse([]byte(moved), SARIF)
	require.NoError(t, err)
	second := byRule(r.Findings)
	assert.Equal(t, "web/routes/search.js:29", second["js/sql-injection"].Location)
	assert.Equal(t, first["js/sql-injection"].Fingerprint, second["js/sql-injection"].Fingerprint)

	// Without one (gosec), the line is the identity.
	g := byRule(parseFixture(t, "gosec.sarif", SARIF).Findings)
	movedG := strings.Replace(string(fixture(t, "gosec.sarif")), `"startLine": 42`, `"startLine": 44`, 1)
	rg, err := Parse([]byte(movedG), SARIF)
	require.NoError(t, err)
	assert.NotEqual(t, g["G201"].Fingerprint, byRule(rg.Findings)["G201"].Fingerprint)
}

func TestSeverityMapping(t *testing.T) {
	for in, want := range map[string]Severity{"CRITICAL": Critical, "HIGH": High, "MEDIUM": Medium, "LOW": Low, "UNKNOWN": Info, "": Info} {
		assert.Equal(t, want, trivySeverity(in), "trivy %q", in)
	}
	for score, want := range map[float64]Severity{10: Critical, 9.0: Critical, 8.9: High, 7.0: High, 6.9: Medium, 4.0: Medium, 3.9: Low, 0: Low} {
		assert.Equal(t, want, scoreSeverity(score), "score %v", score)
	}
	for level, want := range map[string]Severity{"error": High, "warning": Medium, "note": Low, "none": Info, "": Medium} {
		assert.Equal(t, want, levelSeverity(level), "level %q", level)
	}
	n, ok := securitySeverity(map[string]json.RawMessage{"security-severity": json.RawMessage(`7.5`)})
	assert.True(t, ok)
	assert.InDelta(t, 7.5, n, 0.001, "a number works as well as a string")
	_, ok = securitySeverity(map[string]json.RawMessage{"security-severity": json.RawMessage(`"high"`)})
	assert.False(t, ok)
	assert.Equal(t, []int{0, 1, 2, 3, 4}, []int{Critical.Rank(), High.Rank(), Medium.Rank(), Low.Rank(), Info.Rank()})
}

func TestProjectName(t *testing.T) {
	for in, want := range map[string]string{
		"registry.example.com/shop/api:1.4.2":                   "registry.example.com/shop/api",
		"localhost:5000/shop/api:1.4.2@sha256:0d4c7a1b2c3d4e5f": "localhost:5000/shop/api",
		"localhost:5000/shop/api":                               "localhost:5000/shop/api",
		"alpine:3.19":                                           "alpine",
		"https://github.com/acme/shop.git":                      "github.com/acme/shop",
		"https://token@github.com/acme/shop/":                   "github.com/acme/shop",
		"/src/shop":                                             "/src/shop",
		".":                                                     "",
		"":                                                      "",
	} {
		assert.Equal(t, want, ProjectName(in), "%q", in)
	}
}

// fieldOf returns the field an invalid-report error names.
func fieldOf(t *testing.T, err error) string {
	t.Helper()
	var invalid *InvalidError
	require.True(t, errors.As(err, &invalid), "an *InvalidError, got %v", err)
	return invalid.Field
}

func TestParseRefusesWhatItCannotRead(t *testing.T) {
	trivy := string(fixture(t, "trivy-image.json"))
	for name, c := range map[string]struct {
		body   string
		format Format
		field  string
	}{
		"malformed JSON":          {`{"SchemaVersion": 2,`, "", "body"},
		"not an object":           {`[1, 2]`, "", "body"},
		"unknown document":        {`{"scanner": "zap", "alerts": []}`, "", "body"},
		"unknown format":          {trivy, "cyclonedx", "format"},
		"Trivy schema 1":          {`{"SchemaVersion": 1, "Results": []}`, "", "SchemaVersion"},
		"SARIF said, Trivy given": {trivy, SARIF, "version"},
		"Trivy said, SARIF given": {string(fixture(t, "gosec.sarif")), Trivy, "SchemaVersion"},
		"SARIF 2.0":               {`{"version": "2.0.0", "runs": [{"tool": {"driver": {"name": "x"}}}]}`, "", "version"},
		"SARIF without runs":      {`{"version": "2.1.0", "runs": []}`, "", "runs"},
		"run without tool name":   {`{"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}`, "", "runs[0].tool.driver.name"},
		"result without rule":     {`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"message": {"text": "?"}}]}]}`, "", "runs[0].results[0].ruleId"},
		"CVE without id":          {`{"SchemaVersion": 2, "Results": [{"Target": "go.sum", "Vulnerabilities": [{"PkgName": "x"}]}]}`, "", "Results[0].Vulnerabilities[0].VulnerabilityID"},
		"wrong type":              {`{"SchemaVersion": 2, "Results": [{"Target": 3}]}`, "", "Results.Target"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(c.body), c.format)
			require.Error(t, err)
			assert.Equal(t, c.field, fieldOf(t, err))
		})
	}
}

func TestEmptyReportsAreValid(t *testing.T) {
	// A clean scan has no findings; it still says which tool ran, so that its findings fix.
	r, err := Parse([]byte(`{"SchemaVersion": 2, "ArtifactName": "alpine:3.19", "ArtifactType": "container_image"}`), "")
	require.NoError(t, err)
	assert.Empty(t, r.Findings)
	assert.Equal(t, []string{"trivy"}, r.Tools)
	r, err = Parse([]byte(`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "gosec"}}, "results": []}]}`), "")
	require.NoError(t, err)
	assert.Empty(t, r.Findings)
	assert.Equal(t, []string{"gosec"}, r.Tools)
}

func TestDuplicateFindingsKeepTheMostSevere(t *testing.T) {
	body := `{"SchemaVersion": 2, "Results": [{"Target": "go.sum", "Class": "lang-pkgs", "Vulnerabilities": [
		{"VulnerabilityID": "CVE-1", "PkgName": "x", "Severity": "LOW"},
		{"VulnerabilityID": "CVE-1", "PkgName": "x", "Severity": "HIGH"}]}]}`
	r, err := Parse([]byte(body), "")
	require.NoError(t, err)
	require.Len(t, r.Findings, 1)
	assert.Equal(t, High, r.Findings[0].Severity)
}

// Hostile rule references are not followed out of the rule arrays: a negative or huge
// toolComponent index once panicked (a 500), and falls back to the rule id instead.
func TestSARIFHostileRuleIndexes(t *testing.T) {
	for _, ref := range []string{
		`"rule": {"index": 0, "toolComponent": {"index": -5}}`,
		`"rule": {"index": 0, "toolComponent": {"index": 9223372036854775807}}`,
		`"rule": {"index": -1}`,
		`"ruleIndex": 99`,
	} {
		body := `{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x", "rules": [{"id": "r1"}]}, "extensions": [{"name": "e", "rules": [{"id": "r2"}]}]},
			"results": [{"ruleId": "r1", ` + ref + `, "message": {"text": "m"}}]}]}`
		r, err := Parse([]byte(body), "")
		require.NoError(t, err, ref)
		require.Len(t, r.Findings, 1)
		assert.Equal(t, "r1", r.Findings[0].RuleID, ref)

		_, err = Parse([]byte(strings.Replace(body, `"ruleId": "r1", `, "", 1)), "")
		assert.Equal(t, "runs[0].results[0].ruleId", fieldOf(t, err), ref)
	}
}

// JSON strings may hold NUL ("\u0000"), which PostgreSQL text refuses: no stored text keeps
// one, so such a report is stored instead of failing with a 500.
func TestReportTextsHaveNoNUL(t *testing.T) {
	r, err := Parse([]byte(`{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "go\u0000sec", "version": "2\u0000"}},
		"versionControlProvenance": [{"repositoryUri": "https://git.example.com/a\u0000b.git"}],
		"results": [{"ruleId": "G\u0000101", "message": {"text": "t\u0000"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "m\u0000.go"}}}]}]}]}`), "")
	require.NoError(t, err)
	require.Len(t, r.Findings, 1)
	f := r.Findings[0]
	for _, s := range []string{r.Tool(), r.ToolVersion, r.Artifact, r.Project, f.Tool, f.RuleID, f.Title, f.Description, f.Location} {
		assert.NotContains(t, s, "\x00")
	}
	assert.Equal(t, "G101", f.RuleID)
	assert.Equal(t, "git.example.com/ab", r.Project)
}
