package alerting_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/server/domain/alerting"
)

// json escapes what would break a JSON body: quotes, line breaks, angle brackets.
func TestBodyTemplateJSONEscapes(t *testing.T) {
	bt, err := alerting.ParseBodyTemplate(`{"title": {{json .Title}}, "tags": {{json .Tags}}, "text": {{json .Text}}}`, true)
	require.NoError(t, err)
	out, err := bt.Render(alerting.TemplateData{Title: `db "01" <down>`, Text: "a\nb", Tags: map[string]string{"env": "prod"}})
	require.NoError(t, err)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.Equal(t, map[string]any{"title": `db "01" <down>`, "tags": map[string]any{"env": "prod"}, "text": "a\nb"}, got)
}

// The sandbox: no functions but the built-ins and json, bounded input and output.
func TestBodyTemplateLimits(t *testing.T) {
	for _, src := range []string{`{{call .Title}}`, `{{template "x"}}`, `{{printf "%s" (exec "id")}}`, strings.Repeat("a", alerting.MaxBodyTemplate+1)} {
		_, err := alerting.ParseBodyTemplate(src, false)
		require.Error(t, err, src)
	}
	// A template whose output grows past 64 KiB fails instead of building a huge request.
	bt, err := alerting.ParseBodyTemplate(`{{range .Tags}}{{.}}{{end}}`, false)
	require.NoError(t, err)
	tags := map[string]string{}
	for i := range 100 {
		tags[strings.Repeat("k", i+1)] = strings.Repeat("v", 1000)
	}
	_, err = bt.Render(alerting.TemplateData{Tags: tags})
	require.ErrorContains(t, err, "64 KiB")
	require.True(t, alerting.IsJSON("application/vnd.api+json; charset=utf-8"))
	require.False(t, alerting.IsJSON("text/plain"))
}
