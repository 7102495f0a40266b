package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func httpFields(t *testing.T) []field {
	for _, ct := range checkTypes {
		if ct.name == "http" {
			return ct.fields
		}
	}
	t.Fatal("no http check type")
	return nil
}

// The API masks write-only secrets; the state keeps the configured values (no perpetual
// diff), and a toAPI of that state sends the real secrets.
func TestSecretsKeepTheConfiguredValue(t *testing.T) {
	fields := httpFields(t)
	var diags diag.Diagnostics
	configured := fromAPI(map[string]any{
		"url":             "http://u:pw@127.0.0.1/health?token=abc",
		"expected_status": []any{200.0},
		"headers":         map[string]any{"Authorization": "Bearer x"},
		"basic_auth":      map[string]any{"username": "u", "password": "p"},
	}, types.ObjectNull(attrTypes(fields)), fields, &diags)
	require.False(t, diags.HasError(), "%v", diags)

	masked := map[string]any{
		"url":             "http://u:********@127.0.0.1/health?token=********",
		"expected_status": []any{200.0},
		"headers":         map[string]any{"Authorization": "********", "X-New": "********"},
		"basic_auth":      map[string]any{"username": "u", "password": "********"},
		"method":          "HEAD", // changed out of band
	}
	got := fromAPI(masked, configured, fields, &diags)
	require.False(t, diags.HasError(), "%v", diags)
	a := got.Attributes()
	assert.Equal(t, "http://u:pw@127.0.0.1/health?token=abc", a["url"].(types.String).ValueString())
	assert.Equal(t, "HEAD", a["method"].(types.String).ValueString())
	h := a["headers"].(types.Map).Elements()
	assert.Equal(t, types.StringValue("Bearer x"), h["Authorization"])
	assert.Equal(t, types.StringValue("********"), h["X-New"], "a header added out of band shows as drift")
	assert.Equal(t, "p", a["basic_auth"].(types.Object).Attributes()["password"].(types.String).ValueString())
	assert.True(t, a["body"].IsNull())

	sent := toAPI(got, fields)
	assert.Equal(t, "http://u:pw@127.0.0.1/health?token=abc", sent["url"])
	assert.Equal(t, map[string]any{"username": "u", "password": "p"}, sent["basic_auth"])
	assert.Equal(t, []any{int64(200)}, sent["expected_status"])
	assert.NotContains(t, sent, "body")

	// An import knows no secret: null, never the mask.
	imported := fromAPI(masked, types.ObjectNull(attrTypes(fields)), fields, &diags)
	assert.True(t, imported.Attributes()["url"].IsNull())
	assert.True(t, imported.Attributes()["basic_auth"].(types.Object).Attributes()["password"].IsNull())
	var _ attr.Value = imported
}
