package provider

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	dsschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/ from the schemas")

// TestDocs keeps docs/ (the tfplugindocs layout: resources/<name>.md, data-sources/<name>.md)
// equal to what the schemas say, so the docs cannot drift from the provider. After changing
// a schema: go test ./client/terraform/ -run TestDocs -update-docs.
func TestDocs(t *testing.T) {
	ctx := context.Background()
	p := &secumonProvider{}
	want := map[string]string{}
	for _, newRes := range p.Resources(ctx) {
		r := newRes()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "secumon"}, &md)
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		var b strings.Builder
		short := strings.TrimPrefix(md.TypeName, "secumon_")
		fmt.Fprintf(&b, "---\npage_title: \"%s Resource - secumon\"\nsubcategory: \"\"\ndescription: |-\n  %s\n---\n\n# %s (Resource)\n\n%s\n\n",
			md.TypeName, sr.Schema.Description, md.TypeName, sr.Schema.Description)
		b.WriteString("## Schema\n\n")
		resourceAttrs(&b, sr.Schema.Attributes, "")
		fmt.Fprintf(&b, "\n## Import\n\nImport by id:\n\n```shell\ntofu import %s.example 3f1c2a9e-0000-4000-8000-000000000000\n```\n", md.TypeName)
		want[filepath.Join("docs", "resources", short+".md")] = b.String()
	}
	for _, newDS := range p.DataSources(ctx) {
		d := newDS()
		var md datasource.MetadataResponse
		d.Metadata(ctx, datasource.MetadataRequest{ProviderTypeName: "secumon"}, &md)
		var sr datasource.SchemaResponse
		d.Schema(ctx, datasource.SchemaRequest{}, &sr)
		var b strings.Builder
		short := strings.TrimPrefix(md.TypeName, "secumon_")
		fmt.Fprintf(&b, "---\npage_title: \"%s Data Source - secumon\"\nsubcategory: \"\"\ndescription: |-\n  %s\n---\n\n# %s (Data Source)\n\n%s\n\n## Schema\n\n",
			md.TypeName, sr.Schema.Description, md.TypeName, sr.Schema.Description)
		dataSourceAttrs(&b, sr.Schema.Attributes, "")
		want[filepath.Join("docs", "data-sources", short+".md")] = b.String()
	}
	for path, text := range want {
		if *updateDocs {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "run: go test ./client/terraform/ -run TestDocs -update-docs")
		assert.Equal(t, text, string(got), "%s is stale: go test ./client/terraform/ -run TestDocs -update-docs", path)
	}
}

// resourceAttrs writes one line per attribute, nested attributes indented under theirs.
func resourceAttrs(b *strings.Builder, attrs map[string]schema.Attribute, indent string) {
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		fmt.Fprintf(b, "%s- `%s` (%s) %s\n", indent, name, flags(a.IsRequired(), a.IsOptional(), a.IsComputed(), a.IsSensitive()), a.GetDescription())
		switch n := a.(type) {
		case schema.SingleNestedAttribute:
			resourceAttrs(b, n.Attributes, indent+"  ")
		case schema.ListNestedAttribute: // the fields of each object of the list
			resourceAttrs(b, n.NestedObject.Attributes, indent+"  ")
		}
	}
}

func dataSourceAttrs(b *strings.Builder, attrs map[string]dsschema.Attribute, indent string) {
	for _, name := range sortedKeys(attrs) {
		a := attrs[name]
		fmt.Fprintf(b, "%s- `%s` (%s) %s\n", indent, name, flags(a.IsRequired(), a.IsOptional(), a.IsComputed(), a.IsSensitive()), a.GetDescription())
		if n, ok := a.(dsschema.ListNestedAttribute); ok {
			dataSourceAttrs(b, n.NestedObject.Attributes, indent+"  ")
		}
	}
}

func flags(req, opt, comp, sens bool) string {
	var f []string
	switch {
	case req:
		f = append(f, "Required")
	case opt:
		f = append(f, "Optional")
	default:
		f = append(f, "Read-only")
	}
	if sens {
		f = append(f, "Sensitive")
	}
	return strings.Join(f, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
