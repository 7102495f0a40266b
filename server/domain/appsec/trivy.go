package appsec

import (
	"fmt"
	"strconv"
	"strings"
)

// trivyHeader is the top of Trivy's JSON report (SchemaVersion 2) that SecuMon reads; its
// Results are read one by one (trivyResults).
type trivyHeader struct {
	SchemaVersion *int
	ArtifactName  string
	Trivy         struct {
		Version string `json:"Version"`
	}
}

type trivyResult struct {
	Target string
	Class  string // os-pkgs, lang-pkgs, config, secret, license
	Type   string // debian, npm, gomod, dockerfile, kubernetes…
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

func (h *trivyHeader) check() error {
	switch {
	case h.SchemaVersion == nil:
		return invalid("SchemaVersion", "missing: not a Trivy JSON report")
	case *h.SchemaVersion != 2:
		return invalid("SchemaVersion", fmt.Sprintf("Trivy report schema %d is not supported (2 is)", *h.SchemaVersion))
	}
	return nil
}

// report is the Trivy report of the header and the findings of its results.
func (h *trivyHeader) report(findings []Finding) (*Report, error) {
	if err := h.check(); err != nil {
		return nil, err
	}
	return &Report{
		Tools: []string{trivyTool}, ToolVersion: clip(h.Trivy.Version, maxField),
		Artifact: clip(h.ArtifactName, maxField), Project: ProjectName(h.ArtifactName),
		Findings: findings,
	}, nil
}

// trivyResults reads the Results array one result at a time and each result's findings one
// at a time. A finding needs its result's Target, Class and Type: Trivy writes them before
// the findings, and then each is converted as it is read; in another order the result's
// findings wait, as small structs, for the end of the result.
func (s *stream) trivyResults() ([]Finding, error) {
	var out []Finding
	err := s.array("Results", func(i int) error {
		var res trivyResult
		known := map[string]bool{}
		var vulns, misconfigs, secrets []Finding
		var pendingV []trivyVulnerability
		var pendingM []trivyMisconfig
		var pendingS []trivySecret
		ready := func() bool { return known["Target"] && known["Class"] && known["Type"] }
		err := s.object("Results", func(key string) error {
			switch key {
			case "Target", "Class", "Type":
				known[key] = true
				var v string
				if err := s.decode(&v, "Results."+key); err != nil {
					return err
				}
				switch key {
				case "Target":
					res.Target = v
				case "Class":
					res.Class = v
				default:
					res.Type = v
				}
				return nil
			case "Vulnerabilities":
				return s.array("Results.Vulnerabilities", func(j int) error {
					var v trivyVulnerability
					if err := s.decode(&v, "Results.Vulnerabilities"); err != nil {
						return err
					}
					if v.VulnerabilityID == "" {
						return invalid(fmt.Sprintf("Results[%d].Vulnerabilities[%d].VulnerabilityID", i, j), "missing")
					}
					if ready() {
						vulns = append(vulns, trivyVulnFinding(res, v))
					} else {
						pendingV = append(pendingV, v)
					}
					return nil
				})
			case "Misconfigurations":
				return s.array("Results.Misconfigurations", func(j int) error {
					var m trivyMisconfig
					if err := s.decode(&m, "Results.Misconfigurations"); err != nil {
						return err
					}
					if m.Status != "" && m.Status != "FAIL" {
						return nil // a passed or excepted check is not a finding
					}
					if m.ID == "" && m.AVDID == "" {
						return invalid(fmt.Sprintf("Results[%d].Misconfigurations[%d].ID", i, j), "missing")
					}
					if ready() {
						misconfigs = append(misconfigs, trivyMisconfigFinding(res, m))
					} else {
						pendingM = append(pendingM, m)
					}
					return nil
				})
			case "Secrets":
				return s.array("Results.Secrets", func(j int) error {
					var sc trivySecret
					if err := s.decode(&sc, "Results.Secrets"); err != nil {
						return err
					}
					if sc.RuleID == "" {
						return invalid(fmt.Sprintf("Results[%d].Secrets[%d].RuleID", i, j), "missing")
					}
					if ready() {
						secrets = append(secrets, trivySecretFinding(res, sc))
					} else {
						pendingS = append(pendingS, sc)
					}
					return nil
				})
			}
			return s.skip()
		})
		if err != nil {
			return err
		}
		for _, v := range pendingV {
			vulns = append(vulns, trivyVulnFinding(res, v))
		}
		for _, m := range pendingM {
			misconfigs = append(misconfigs, trivyMisconfigFinding(res, m))
		}
		for _, sc := range pendingS {
			secrets = append(secrets, trivySecretFinding(res, sc))
		}
		out = append(append(append(out, vulns...), misconfigs...), secrets...)
		return nil
	})
	return out, err
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
