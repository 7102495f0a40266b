package appsec

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// sarifHeader is the top of a SARIF 2.1.0 log that SecuMon reads; its runs are read one by
// one (sarifRuns).
type sarifHeader struct {
	Version *string
}

// sarifTool is a run's tool.
type sarifTool struct {
	Driver     sarifComponent   `json:"driver"`
	Extensions []sarifComponent `json:"extensions"`
}

// sarifRunOut is what one run gave: its tool, the repository it names and its findings.
type sarifRunOut struct {
	tool       string
	version    string
	repository []string
	findings   []Finding
}

type sarifComponent struct {
	Name            string      `json:"name"`
	Version         string      `json:"version"`
	SemanticVersion string      `json:"semanticVersion"`
	Rules           []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	FullDescription      sarifMessage `json:"fullDescription"`
	HelpURI              string       `json:"helpUri"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties    map[string]json.RawMessage `json:"properties"`
	Relationships []struct {
		Target struct {
			ID            string `json:"id"`
			ToolComponent struct {
				Name string `json:"name"`
			} `json:"toolComponent"`
		} `json:"target"`
	} `json:"relationships"`
}

type sarifSuppression struct {
	Status string `json:"status"` // accepted, underReview, rejected; absent means accepted
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string `json:"ruleId"`
	RuleIndex *int   `json:"ruleIndex"`
	Rule      struct {
		ID            string `json:"id"`
		Index         *int   `json:"index"`
		ToolComponent struct {
			Index *int `json:"index"`
		} `json:"toolComponent"`
	} `json:"rule"`
	Kind      string       `json:"kind"`
	Level     string       `json:"level"`
	Message   sarifMessage `json:"message"`
	Locations []struct {
		PhysicalLocation struct {
			ArtifactLocation struct {
				URI string `json:"uri"`
			} `json:"artifactLocation"`
			Region struct {
				StartLine int `json:"startLine"`
			} `json:"region"`
		} `json:"physicalLocation"`
	} `json:"locations"`
	Fingerprints        map[string]string          `json:"fingerprints"`
	PartialFingerprints map[string]string          `json:"partialFingerprints"`
	Suppressions        []sarifSuppression         `json:"suppressions"`
	Properties          map[string]json.RawMessage `json:"properties"`
}

// report is the SARIF log of the header and its runs (hasRuns: the key was there).
func (h *sarifHeader) report(runs []sarifRunOut, hasRuns bool) (*Report, error) {
	switch {
	case h.Version == nil:
		return nil, invalid("version", "missing: not a SARIF log")
	case *h.Version != "2.1.0":
		return nil, invalid("version", fmt.Sprintf("SARIF %s is not supported (2.1.0 is)", *h.Version))
	case len(runs) == 0:
		return nil, invalid("runs", "a SARIF log needs at least one run")
	}
	r := &Report{}
	seenTool := map[string]bool{}
	for _, run := range runs {
		if !seenTool[run.tool] {
			seenTool[run.tool] = true
			r.Tools = append(r.Tools, run.tool)
		}
		if r.ToolVersion == "" {
			r.ToolVersion = run.version
		}
		if r.Project == "" {
			for _, uri := range run.repository {
				if r.Artifact == "" {
					r.Artifact = clip(uri, maxField)
				}
				if r.Project = ProjectName(uri); r.Project != "" {
					break
				}
			}
		}
		r.Findings = append(r.Findings, run.findings...)
	}
	if r.Project == "" {
		r.Project = clip(r.Tools[0], MaxProjectName)
	}
	return r, nil
}

// sarifRuns reads the runs array one run at a time and each run's results one at a time. A
// result needs its run's tool (name and rules): SARIF writers put "tool" before "results",
// and then each result is converted as it is read; in another order the results wait, as
// small structs, for the end of the run.
func (s *stream) sarifRuns() ([]sarifRunOut, error) {
	var out []sarifRunOut
	err := s.array("runs", func(i int) error {
		var (
			run     sarifRunOut
			tool    *sarifTool
			rules   *ruleIndex
			pending []sarifResult
			first   = -1 // index of the first pending result
		)
		toolName := func() error {
			if tool == nil || strings.TrimSpace(tool.Driver.Name) == "" {
				return invalid(fmt.Sprintf("runs[%d].tool.driver.name", i), "missing")
			}
			return nil
		}
		convert := func(j int, res sarifResult) error {
			if skipResult(res) {
				return nil
			}
			f, err := sarifFinding(run.tool, rules, res)
			if err != nil {
				return invalid(fmt.Sprintf("runs[%d].results[%d].ruleId", i, j), err.Error())
			}
			run.findings = append(run.findings, f)
			return nil
		}
		err := s.object("runs", func(key string) error {
			switch key {
			case "tool":
				tool = &sarifTool{}
				if err := s.decode(tool, "runs.tool"); err != nil {
					return err
				}
				if err := toolName(); err != nil {
					return err
				}
				run.tool = clip(strings.TrimSpace(tool.Driver.Name), maxField)
				run.version = clip(firstNonEmpty(tool.Driver.SemanticVersion, tool.Driver.Version), maxField)
				rules = newRuleIndex(tool)
				return nil
			case "versionControlProvenance":
				var vcp []struct {
					RepositoryURI string `json:"repositoryUri"`
				}
				if err := s.decode(&vcp, "runs.versionControlProvenance"); err != nil {
					return err
				}
				for _, v := range vcp {
					run.repository = append(run.repository, v.RepositoryURI)
				}
				return nil
			case "results":
				return s.array("runs.results", func(j int) error {
					var res sarifResult
					if err := s.decode(&res, "runs.results"); err != nil {
						return err
					}
					if rules != nil {
						return convert(j, res)
					}
					if first < 0 {
						first = j
					}
					pending = append(pending, res)
					return nil
				})
			}
			return s.skip()
		})
		if err != nil {
			return err
		}
		if err := toolName(); err != nil {
			return err
		}
		for k, res := range pending {
			if err := convert(first+k, res); err != nil {
				return err
			}
		}
		out = append(out, run)
		return nil
	})
	return out, err
}

// skipResult drops results that are not open problems: passed or not-applicable checks, and
// results whose suppression (// nosec, nosemgrep…) is accepted; one under review or rejected
// still counts.
func skipResult(res sarifResult) bool {
	if res.Kind == "pass" || res.Kind == "notApplicable" {
		return true
	}
	for _, s := range res.Suppressions {
		if s.Status == "" || s.Status == "accepted" {
			return true
		}
	}
	return false
}

// ruleIndex finds a result's rule by index (driver or extension) or by id.
type ruleIndex struct {
	components [][]sarifRule // 0 is the driver, then the extensions
	byID       map[string]*sarifRule
}

func newRuleIndex(tool *sarifTool) *ruleIndex {
	idx := &ruleIndex{components: [][]sarifRule{tool.Driver.Rules}, byID: map[string]*sarifRule{}}
	for _, ext := range tool.Extensions {
		idx.components = append(idx.components, ext.Rules)
	}
	for c := range idx.components {
		for i := range idx.components[c] {
			rule := &idx.components[c][i]
			if _, dup := idx.byID[rule.ID]; !dup && rule.ID != "" {
				idx.byID[rule.ID] = rule
			}
		}
	}
	return idx
}

func (idx *ruleIndex) lookup(res sarifResult) *sarifRule {
	component := 0
	if c := res.Rule.ToolComponent.Index; c != nil {
		if *c < 0 || *c >= len(idx.components)-1 { // hostile indexes: no such extension
			return idx.byID[firstNonEmpty(res.RuleID, res.Rule.ID)]
		}
		component = *c + 1
	}
	at := res.RuleIndex
	if res.Rule.Index != nil {
		at = res.Rule.Index
	}
	if at != nil && *at >= 0 && *at < len(idx.components[component]) {
		return &idx.components[component][*at]
	}
	return idx.byID[firstNonEmpty(res.RuleID, res.Rule.ID)]
}

func sarifFinding(tool string, rules *ruleIndex, res sarifResult) (Finding, error) {
	rule := rules.lookup(res)
	if rule == nil {
		rule = &sarifRule{}
	}
	ruleID := firstNonEmpty(res.RuleID, res.Rule.ID, rule.ID)
	if ruleID == "" {
		return Finding{}, fmt.Errorf("missing, and no rule of the run matches the result")
	}

	uri, line := "", 0
	if len(res.Locations) > 0 {
		pl := res.Locations[0].PhysicalLocation
		uri, line = strings.TrimPrefix(pl.ArtifactLocation.URI, "file://"), pl.Region.StartLine
	}
	location := uri
	if line > 0 {
		location += ":" + strconv.Itoa(line)
	}

	severity := levelSeverity(firstNonEmpty(res.Level, rule.DefaultConfiguration.Level))
	if score, ok := securitySeverity(res.Properties); ok {
		severity = scoreSeverity(score)
	} else if score, ok := securitySeverity(rule.Properties); ok {
		severity = scoreSeverity(score)
	}

	return Finding{
		Fingerprint: fingerprint(tool, string(Code), ruleID, uri, resultIdentity(res, line)),
		Tool:        tool, Category: Code, SubCategory: cwe(rule),
		RuleID:      clip(ruleID, maxField),
		Title:       clip(firstNonEmpty(rule.ShortDescription.Text, rule.Name, firstLine(res.Message.Text), ruleID), maxTitle),
		Description: clip(firstNonEmpty(res.Message.Text, rule.FullDescription.Text), maxDescription),
		Severity:    severity, Location: clip(location, maxField), URL: clip(rule.HelpURI, maxField),
	}, nil
}

// resultIdentity is what tells a result apart from others of its rule in its file: the tool's
// own fingerprint when it gives one (it survives code moving), else the line.
func resultIdentity(res sarifResult, line int) string {
	for _, fps := range []map[string]string{res.Fingerprints, res.PartialFingerprints} {
		if len(fps) == 0 {
			continue
		}
		keys := make([]string, 0, len(fps))
		for k := range fps {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys[0] + "=" + fps[keys[0]]
	}
	return "line:" + strconv.Itoa(line)
}

// cweTag matches the CWE spellings of rule tags: "CWE-89", "CWE-89: Improper…" (Semgrep),
// "external/cwe/cwe-089" (CodeQL).
var cweTag = regexp.MustCompile(`(?i)\bcwe[-/ :]*0*([0-9]+)\b`)

// cwe is the rule's first CWE ("CWE-89"), from its tags or its relationships to the CWE
// taxonomy (gosec), else the generic code weakness.
func cwe(rule *sarifRule) string {
	var tags []string
	if raw, ok := rule.Properties["tags"]; ok {
		_ = json.Unmarshal(raw, &tags) // tags of another shape are ignored
	}
	for _, tag := range tags {
		if m := cweTag.FindStringSubmatch(tag); m != nil {
			return "CWE-" + m[1]
		}
	}
	for _, rel := range rule.Relationships {
		if strings.EqualFold(rel.Target.ToolComponent.Name, "CWE") && rel.Target.ID != "" {
			return "CWE-" + strings.TrimLeft(rel.Target.ID, "0")
		}
	}
	return CodeWeakness
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
