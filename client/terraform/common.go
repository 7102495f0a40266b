package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/secuaas/secumon/client"
)

// base is what every resource and data source holds: the SDK client the provider configured.
type base struct{ c *client.Client }

func (b *base) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	b.configure(req.ProviderData, &resp.Diagnostics)
}

func (b *base) configure(data any, diags *diag.Diagnostics) {
	if data == nil { // the provider is not configured yet (validation, early plan)
		return
	}
	c, ok := data.(*client.Client)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("got %T, want *client.Client", data))
		return
	}
	b.c = c
}

// dsBase is base for data sources (their Configure has other request types).
type dsBase struct{ base }

func (b *dsBase) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	b.configure(req.ProviderData, &resp.Diagnostics)
}

// importByID is the ImportState of every resource: `terraform import <address> <uuid>`.
type importByID struct{}

func (importByID) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if _, err := uuid.Parse(req.ID); err != nil {
		resp.Diagnostics.AddError("Invalid import id", fmt.Sprintf("%q is not a UUID: import SecuMon resources by their id", req.ID))
		return
	}
	resource.ImportStatePassthroughID(ctx, path.Root("id"), req, resp)
}

// parseID reads the id attribute of a state; a bad one is an error in diags.
func parseID(s types.String, diags *diag.Diagnostics) uuid.UUID {
	id, err := uuid.Parse(s.ValueString())
	if err != nil {
		diags.AddAttributeError(path.Root("id"), "Invalid id", fmt.Sprintf("%q is not a UUID", s.ValueString()))
	}
	return id
}

// apiError adds err as a diagnostic naming the operation; a validation error names the
// fields the API refused.
func apiError(diags *diag.Diagnostics, what string, err error) {
	detail := err.Error()
	if ae, ok := err.(*client.APIError); ok {
		for _, f := range ae.Errors {
			detail += fmt.Sprintf("\n  %s: %s", f.Field, f.Message)
		}
	}
	diags.AddError("SecuMon: "+what, detail)
}

// notFoundRemoves handles a Read's error: a 404 means the resource was deleted out of band,
// so it leaves the state (the next plan creates it again); any other error is reported.
func notFoundRemoves(ctx context.Context, err error, resp *resource.ReadResponse, what string) {
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	apiError(&resp.Diagnostics, "reading "+what, err)
}

// stringOrNull is the state value of an optional string the API leaves out or empties.
func stringOrNull(s *string) types.String {
	if s == nil || *s == "" {
		return types.StringNull()
	}
	return types.StringValue(*s)
}

// ptr returns a pointer to the value of an optional attribute, nil when null or unknown.
func strPtr(s types.String) *string {
	if s.IsNull() || s.IsUnknown() {
		return nil
	}
	v := s.ValueString()
	return &v
}

func boolPtr(b types.Bool) *bool {
	if b.IsNull() || b.IsUnknown() {
		return nil
	}
	v := b.ValueBool()
	return &v
}

func intPtr(i types.Int64) *int {
	if i.IsNull() || i.IsUnknown() {
		return nil
	}
	v := int(i.ValueInt64())
	return &v
}

// attrValue shortens attr.Value in composite literals.
type attrValue = attr.Value

// mapOfStrings reads a map(string) attribute; null or unknown is an empty map.
func mapOfStrings(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out
	}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

// timeString is a time attribute: RFC 3339 in UTC, as the API writes it.
func timeString(t time.Time) types.String {
	if t.IsZero() {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}
