package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// TestCheckCreateReadInProcess drives the check resource's Create and Read directly (no
// Terraform binary) against a real server: the secrets the API masks come back as
// configured, the other fields as the API holds them.
func TestCheckCreateReadInProcess(t *testing.T) {
	ctx := context.Background()
	env := servertest.Start(t)
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	host, err := c.Hosts.Create(ctx, client.HostCreate{Name: "web-01", Hostname: "127.0.0.1"})
	require.NoError(t, err)

	r := &checkResource{base: base{c: c}}
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx)
	plan := tfsdk.Plan{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nil)}
	set := func(name string, v any) {
		require.False(t, plan.SetAttribute(ctx, path.Root(name), v).HasError(), name)
	}
	set("host_id", host.Id.String())
	set("name", "web http")
	set("interval_sec", types.Int64Value(60))
	set("timeout_sec", types.Int64Value(10))
	set("failure_threshold", types.Int64Value(2))
	set("enabled", types.BoolValue(true))
	set("severity", types.StringUnknown())
	set("check_type", types.StringValue("http"))
	var http checkType
	for _, ct := range checkTypes {
		if ct.name == "http" {
			http = ct
		}
		set(ct.name, types.ObjectNull(ct.objectType()))
	}
	var diags = new(diagsT)
	cfg := fromAPI(map[string]any{
		"url":        "http://u:url-secret@127.0.0.1:8081/health?token=q",
		"headers":    map[string]any{"Authorization": "Bearer h"},
		"basic_auth": map[string]any{"username": "u", "password": "p"},
	}, types.ObjectNull(http.objectType()), http.fields, &diags.d)
	set("http", cfg)

	resp := &resource.CreateResponse{State: tfsdk.State{Schema: sr.Schema, Raw: tftypes.NewValue(typ, nil)}}
	r.Create(ctx, resource.CreateRequest{Plan: plan}, resp)
	require.False(t, resp.Diagnostics.HasError(), "%v", resp.Diagnostics)

	var got types.Object
	require.False(t, resp.State.GetAttribute(ctx, path.Root("http"), &got).HasError())
	assert.True(t, got.Equal(cfg), "state %v, configured %v", got, cfg)
	var id, ct types.String
	resp.State.GetAttribute(ctx, path.Root("id"), &id)
	resp.State.GetAttribute(ctx, path.Root("check_type"), &ct)
	assert.Equal(t, "http", ct.ValueString())

	// Read refreshes from the API and keeps the secrets.
	read := &resource.ReadResponse{State: resp.State}
	r.Read(ctx, resource.ReadRequest{State: resp.State}, read)
	require.False(t, read.Diagnostics.HasError(), "%v", read.Diagnostics)
	require.False(t, read.State.GetAttribute(ctx, path.Root("http"), &got).HasError())
	assert.True(t, got.Equal(cfg), "after read: %v", got)

	// Deleted out of band: Read removes it from the state.
	var uid client.Id
	require.NoError(t, uid.UnmarshalText([]byte(id.ValueString())))
	require.NoError(t, c.Checks.Delete(ctx, uid))
	gone := &resource.ReadResponse{State: resp.State}
	r.Read(ctx, resource.ReadRequest{State: resp.State}, gone)
	require.False(t, gone.Diagnostics.HasError(), "%v", gone.Diagnostics)
	assert.True(t, gone.State.Raw.IsNull())
	var _ attr.Value = got
}

type diagsT struct{ d diagDiagnostics }
type diagDiagnostics = diag.Diagnostics
