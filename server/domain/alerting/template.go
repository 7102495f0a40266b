package alerting

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"

	"github.com/google/uuid"
)

// MaxBodyTemplate bounds a webhook's body template (the contract says the same) and
// maxRenderedBody its output, so a loop over tags cannot make a huge request.
const (
	MaxBodyTemplate = 8 << 10
	maxRenderedBody = 64 << 10
)

// TemplateData is what a webhook's body template sees: the documented fields of the
// contract's WebhookChannel.body_template, all strings but Tags, empty when absent.
type TemplateData struct {
	Event       string // incident.opened, incident.reopened, incident.acknowledged, incident.resolved
	Time        string // RFC 3339
	Note        string
	IncidentID  string
	Title       string
	Severity    string
	Status      string
	Description string
	Tags        map[string]string // the incident's tags, such as source: auto
	HostID      string
	CheckID     string
	CreatedAt   string // RFC 3339
	PolicyID    string
	PolicyName  string
	WorkspaceID string
	Subject     string // the one-line summary e-mails and chat messages use
	Text        string // the plain-text message
}

// templateFuncs is the whole sandbox: text/template's built-ins and json, which writes a
// value as JSON (a string quoted and escaped) so a template can build valid JSON.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// BodyTemplate is a parsed webhook body template.
type BodyTemplate struct{ t *template.Template }

// ParseBodyTemplate parses src and renders it once with sample data, so that an unknown
// field, a call of a function that does not exist or (when asJSON) output that is not JSON
// is refused when the policy is saved; the error says what is wrong.
func ParseBodyTemplate(src string, asJSON bool) (*BodyTemplate, error) {
	if len(src) > MaxBodyTemplate {
		return nil, fmt.Errorf("longer than %d bytes", MaxBodyTemplate)
	}
	t, err := template.New("body").Funcs(templateFuncs).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	bt := &BodyTemplate{t: t}
	out, err := bt.Render(sampleData())
	if err != nil {
		return nil, err
	}
	if asJSON && !json.Valid([]byte(out)) {
		return nil, fmt.Errorf("renders %s, which is not valid JSON (use {{json .Field}} to quote values)", truncate(out, 200))
	}
	return bt, nil
}

// Render executes the template on d.
func (bt *BodyTemplate) Render(d TemplateData) (string, error) {
	var b bytes.Buffer
	if err := bt.t.Execute(&limitedWriter{w: &b, n: maxRenderedBody}, d); err != nil {
		return "", err
	}
	return b.String(), nil
}

// IsJSON reports whether a content type is JSON, whose rendered bodies must be valid JSON.
func IsJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json")
}

func sampleData() TemplateData {
	id, now := uuid.NewString(), time.Now().UTC().Format(time.RFC3339)
	return TemplateData{
		Event: "incident.opened", Time: now, Note: "sample note", IncidentID: id, Title: "web-01: https is CRITICAL",
		Severity: "critical", Status: "investigating", Description: "sample description", Tags: map[string]string{"env": "prod"},
		HostID: id, CheckID: id, CreatedAt: now, PolicyID: id, PolicyName: "sample policy", WorkspaceID: id,
		Subject: "[SecuMon] CRITICAL opened: web-01", Text: "Incident opened.\nSecond line \"quoted\"",
	}
}

var errTooLong = errors.New("rendered body longer than 64 KiB")

// limitedWriter fails once more than n bytes are written.
type limitedWriter struct {
	w *bytes.Buffer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.w.Len()+len(p) > l.n {
		return 0, errTooLong
	}
	return l.w.Write(p)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
