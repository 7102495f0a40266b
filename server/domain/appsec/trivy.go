package appsec

import (
	"fmt"
	"strconv"
	"strings"
)

// trivyReport is the part of Trivy's JSON report (SchemaVersion 2) that SecuMon reads.
type trivyReport struct {
	SchemaVersion *int   `json:"SchemaVersion"`
	ArtifactName  string `json:"ArtifactName"`
	ArtifactType  string `json:"ArtifactType"`
	Trivy         struct {
		Version string `json:"Version"`
	} `json:"Trivy"`
	Results []trivyResult `json:"Results"`
}

type trivyResult struct {
	Target            string               `json:"Target"`
	Class             string               `json:"Class"` // os-pkgs, lang-pkgs, config, secret, license
	Type              string               `json:"Type"`  // debian, npm, gomod, dockerfile, kubernetes…
	Vulnerabilities   []trivyVulnerability `json:"Vulnerabilities"`
	Misconfigurations []trivyMisconfig     `json:"Misconfigurations"`
	Secrets           []trivySecret        `json:"Secrets"`
}

type trivyVulnerability struct {
	VulnerabilityID  string `json:"VulnerabilityID"`
	PkgName          string `json:"PkgName"`
	PkgPath          string `json:"PkgPath"`
	InstalledVersion string `json:"InstalledVersion"`
	FixedVersion     string `json:"FixedVersion"`
	Title            string `json:"Title"`
	Description      string `json:"Description"`
	Severity         string `json:"Severity"`
	PrimaryURL       string `json:"PrimaryURL"`
}

type trivyMisconfig struct {
	Type          string `json:"Type"`
	ID            string `json:"ID"`
	AVDID         string `json:"AVDID"`
	Title         string `json:"Title"`
	Description   string `json:"Description"`
	Message       string `json:"Message"`
	Resolution    string `json:"Resolution"`
	Severity      string `json:"Severity"`
	PrimaryURL    string `json:"PrimaryURL"`
	Status        string `json:"Status"` // FAIL; PASS and EXCEPTION with --include-non-failures
	CauseMetadata struct {
		Resource  string `json:"Resource"`
		StartLine int    `json:"StartLine"`
	} `json:"CauseMetadata"`
}

type trivySecret struct {
	RuleID    string `json:"RuleID"`
	Category  string `json:"Category"`
	Severity  string `json:"Severity"`
	Title     string `json:"Title"`
	StartLine int    `json:"StartLine"`
	Match     string `json:"Match"` // Trivy masks the secret itself
}

// trivyTool is the tool name of every Trivy finding.
const trivyTool = "trivy"

func parseTrivy(body []byte) (*Report, error) {
	var tr trivyReport
	if err := decode(body, &tr); err != nil {
		return nil, err
	}
	switch {
	case tr.SchemaVersion == nil:
		return nil, invalid("SchemaVersion", "missing: not a Trivy JSON report")
	case *tr.SchemaVersion != 2:
		return nil, invalid("SchemaVersion", fmt.Sprintf("Trivy report schema %d is not supported (2 is)", *tr.SchemaVersion))
	}
	r := &Report{
		Tools: []string{trivyTool}, ToolVersion: clip(tr.Trivy.Version, maxField),
		Artifact: clip(tr.ArtifactName, maxField), Project: ProjectName(tr.ArtifactName),
	}
	for i, res := range tr.Results {
		for j, v := range res.Vulnerabilities {
			if v.VulnerabilityID == "" {
				return nil, invalid(fmt.Sprintf("Results[%d].Vulnerabilities[%d].VulnerabilityID", i, j), "missing")
			}
			r.Findings = append(r.Findings, trivyVulnFinding(res, v))
		}
		for j, m := range res.Misconfigurations {
			if m.Status != "" && m.Status != "FAIL" {
				continue // a passed or excepted check is not a finding
			}
			if m.ID == "" && m.AVDID == "" {
				return nil, invalid(fmt.Sprintf("Results[%d].Misconfigurations[%d].ID", i, j), "missing")
			}
			r.Findings = append(r.Findings, trivyMisconfigFinding(res, m))
		}
		for j, s := range res.Secrets {
			if s.RuleID == "" {
				return nil, invalid(fmt.Sprintf("Results[%d].Secrets[%d].RuleID", i, j), "missing")
			}
			r.Findings = append(r.Findings, trivySecretFinding(res, s))
		}
	}
	return r, nil
}

func trivyVulnFinding(res trivyResult, v trivyVulnerability) Finding {
	// OS packages' target is the image reference with its tag ("shop/api:1.4.2 (debian
	// 12.5)"): it changes with every build, so the identity uses the OS family instead.
	// Language packages' targets are lock files or paths in the image, which stay put.
	where, sub := res.Target, DependencyVulnerabilities
	if res.Class == "os-pkgs" {
		where, sub = "os:"+res.Type, ContainerImageHygiene
	}
	location := res.Target
	if v.PkgPath != "" {
		location += " " + v.PkgPath
	}
	title := v.Title
	if title == "" {
		title = v.VulnerabilityID + " in " + v.PkgName
	}
	return Finding{
		Fingerprint: fingerprint(trivyTool, string(Vulnerability), where, v.PkgPath, v.PkgName, v.VulnerabilityID),
		Tool:        trivyTool, Category: Vulnerability, SubCategory: sub,
		RuleID: clip(v.VulnerabilityID, maxField), Title: clip(title, maxTitle), Description: clip(v.Description, maxDescription),
		Severity: trivySeverity(v.Severity), Package: clip(v.PkgName, maxField),
		InstalledVersion: clip(v.InstalledVersion, maxField), FixedVersion: clip(v.FixedVersion, maxField),
		Location: clip(location, maxField), URL: clip(v.PrimaryURL, maxField),
	}
}

func trivyMisconfigFinding(res trivyResult, m trivyMisconfig) Finding {
	id := m.ID
	if id == "" {
		id = m.AVDID
	}
	sub := InfrastructureMisconfiguration
	if strings.EqualFold(res.Type, "dockerfile") {
		sub = ContainerImageHygiene
	}
	location := res.Target
	if m.CauseMetadata.StartLine > 0 {
		location += ":" + strconv.Itoa(m.CauseMetadata.StartLine)
	}
	description := m.Message
	if description == "" {
		description = m.Description
	}
	if m.Resolution != "" {
		description += "\n\nResolution: " + m.Resolution
	}
	title := m.Title
	if title == "" {
		title = id
	}
	return Finding{
		Fingerprint: fingerprint(trivyTool, string(Misconfiguration), res.Target, m.CauseMetadata.Resource, id),
		Tool:        trivyTool, Category: Misconfiguration, SubCategory: sub,
		RuleID: clip(id, maxField), Title: clip(title, maxTitle), Description: clip(description, maxDescription),
		Severity: trivySeverity(m.Severity), Location: clip(location, maxField), URL: clip(m.PrimaryURL, maxField),
	}
}

func trivySecretFinding(res trivyResult, s trivySecret) Finding {
	location := res.Target
	if s.StartLine > 0 {
		location += ":" + strconv.Itoa(s.StartLine)
	}
	title := s.Title
	if title == "" {
		title = s.RuleID
	}
	// The masked match ("AWS_ACCESS_KEY_ID=****") tells two secrets of one rule in one file
	// apart without depending on their line numbers.
	return Finding{
		Fingerprint: fingerprint(trivyTool, string(Secret), res.Target, s.RuleID, s.Match),
		Tool:        trivyTool, Category: Secret, SubCategory: ExposedSecrets,
		RuleID: clip(s.RuleID, maxField), Title: clip(title, maxTitle), Description: clip(s.Match, maxDescription),
		Severity: trivySeverity(s.Severity), Location: clip(location, maxField),
	}
}
