package provider

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
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

// TestListFieldValidation asks the provider to validate secumon_check configurations as
// Terraform does before a plan: each assertion is held to the fields its kind takes and to
// the contract's bounds and enums, each SNMP OID to its pattern, and every diagnostic names
// the attribute at fault.
func TestListFieldValidation(t *testing.T) {
	ctx := context.Background()
	var sr resource.SchemaResponse
	(&checkResource{}).Schema(ctx, resource.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx)
	srv := providerserver.NewProtocol6(New("test")())()

	byType := map[string]checkType{}
	for _, ct := range checkTypes {
		byType[ct.name] = ct
	}
	// object builds a config object of fields from the attributes given, the others null.
	object := func(fields []field, set map[string]attr.Value) types.Object {
		vals := map[string]attr.Value{}
		for _, f := range fields {
			vals[f.name] = nullOf(f)
			if v, ok := set[f.name]; ok {
				vals[f.name] = v
			}
		}
		return types.ObjectValueMust(attrTypes(fields), vals)
	}
	list := func(fields []field, objs ...types.Object) types.List {
		elems := make([]attr.Value, len(objs))
		for i, o := range objs {
			elems[i] = o
		}
		return types.ListValueMust(types.ObjectType{AttrTypes: attrTypes(fields)}, elems)
	}
	// validate returns the diagnostics of a check whose checkType attribute holds set, as
	// "path: detail".
	validate := func(checkType string, set map[string]attr.Value) []string {
		plan := tfsdk.Plan{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nil)}
		for _, ct := range checkTypes {
			require.False(t, plan.SetAttribute(ctx, path.Root(ct.name), types.ObjectNull(ct.objectType())).HasError())
		}
		require.False(t, plan.SetAttribute(ctx, path.Root("host_id"), "3f1c2a9e-0000-4000-8000-000000000000").HasError())
		require.False(t, plan.SetAttribute(ctx, path.Root("name"), "validated").HasError())
		require.False(t, plan.SetAttribute(ctx, path.Root(checkType), object(byType[checkType].fields, set)).HasError())
		dv, err := tfprotov6.NewDynamicValue(typ, plan.Raw)
		require.NoError(t, err)
		resp, err := srv.ValidateResourceConfig(ctx, &tfprotov6.ValidateResourceConfigRequest{TypeName: "secumon_check", Config: &dv})
		require.NoError(t, err)
		var out []string
		for _, d := range resp.Diagnostics {
			p := ""
			if d.Attribute != nil {
				p = d.Attribute.String()
			}
			out = append(out, p+": "+d.Detail)
		}
		return out
	}
	at := func(i int, name string) string {
		return fmt.Sprintf(`AttributeName("assertions").ElementKeyInt(%d).AttributeName(%q)`, i, name)
	}
	has := func(t *testing.T, diags []string, where, what string) {
		t.Helper()
		for _, d := range diags {
			if strings.Contains(d, where+": ") && strings.Contains(d, what) {
				return
			}
		}
		t.Errorf("no diagnostic at %s saying %q in:\n%s", where, what, strings.Join(diags, "\n"))
	}

	af := httpAssertionFields
	s := types.StringValue
	diags := validate("http", map[string]attr.Value{
		"url": s("http://127.0.0.1:8081/"),
		"assertions": list(af,
			object(af, map[string]attr.Value{"kind": s("status_in"), "text": s("x")}),
			object(af, map[string]attr.Value{"kind": s("json_path"), "path": s("status"), "op": s("~"), "value": s("not json")}),
			object(af, map[string]attr.Value{"kind": s("no_such_kind")}),
			object(af, map[string]attr.Value{"kind": s("status_in"), "codes": types.ListValueMust(types.Int64Type, []attr.Value{types.Int64Value(99)})}),
			object(af, map[string]attr.Value{"kind": s("json_path"), "path": s("$.a"), "op": s("=="), "value": s("null")}),
			object(af, map[string]attr.Value{"kind": s("header_equals"), "name": s("bad name"), "value": s(`"x"`)}),
			object(af, map[string]attr.Value{"kind": s("latency_below_ms"), "ms": types.Float64Value(300001), "severity": s("major")}),
			object(af, map[string]attr.Value{"kind": s("json_path"), "path": s("$.items"), "op": s(">"), "value": s("0"), "measure": s("length"), "severity": s("warning")}),
		),
	})
	has(t, diags, at(0, "codes"), `codes is required when kind is "status_in"`)
	has(t, diags, at(0, "text"), `text does not apply when kind is "status_in"`)
	has(t, diags, at(1, "path"), "must be a JSONPath query starting with $")
	has(t, diags, at(1, "op"), "value must be one of")
	has(t, diags, at(1, "value"), "must be JSON text")
	has(t, diags, at(2, "kind"), "value must be one of")
	has(t, diags, at(3, "codes")+".ElementKeyInt(0)", "must be between 100 and 599")
	has(t, diags, at(4, "value"), "null is not a value the API accepts")
	has(t, diags, at(5, "name"), "must be an HTTP header name")
	has(t, diags, at(6, "ms"), "must be between 0")
	has(t, diags, at(6, "severity"), "value must be one of")
	for _, d := range diags {
		assert.NotContains(t, d, "ElementKeyInt(7)", "a valid json_path assertion")
	}
	assert.Len(t, diags, 11, "%s", strings.Join(diags, "\n"))

	of := snmpOidFields
	diags = validate("snmp", map[string]attr.Value{"oids": list(of,
		object(of, map[string]attr.Value{"oid": s("not.an.oid"), "name": s(strings.Repeat("n", 129))}),
		object(of, map[string]attr.Value{"name": s("no oid")}),
		object(of, map[string]attr.Value{"oid": s(".1.3.6.1.2.1.1.3.0"), "counter": types.BoolValue(true), "warn_below": types.Float64Value(-1)}),
	)})
	oid := func(i int, name string) string {
		return fmt.Sprintf(`AttributeName("oids").ElementKeyInt(%d).AttributeName(%q)`, i, name)
	}
	has(t, diags, oid(0, "oid"), "must be a numeric OID")
	has(t, diags, oid(0, "name"), "at most 128")
	has(t, diags, oid(1, "oid"), "")
	assert.Len(t, diags, 3, "%s", strings.Join(diags, "\n"))
}
