// Package provider is SecuMon's Terraform provider (terraform-plugin-framework), served by
// cmd/terraform-provider-secumon. It talks to the API only through the Go SDK (package
// client), which in turn imports no Terraform code.
//
// Each resource is one file: its schema, its model and the four operations, with Read
// refreshing every attribute (drift shows in the next plan) and removing the resource from
// the state when the API answers 404 (deleted out of band). Adding a resource is adding a
// file and its constructor to Resources.
package provider

import (
	"context"
	"os"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/secuaas/secumon/client"
)

// Address is the provider's source address, as configurations require it.
const Address = "registry.terraform.io/secuaas/secumon"

// New returns the provider factory of providerserver.NewProtocol6WithError and of the
// acceptance tests; version is the provider's build version ("dev", "test"…).
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &secumonProvider{version: version} }
}

type secumonProvider struct{ version string }

type providerModel struct {
	URL   types.String `tfsdk:"url"`
	Token types.String `tfsdk:"token"`
}

func (p *secumonProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "secumon"
	resp.Version = p.version
}

func (p *secumonProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manages SecuMon monitoring (hosts, checks, maintenance windows…) through its API.",
		Attributes: map[string]schema.Attribute{
			"url": schema.StringAttribute{
				Optional:    true,
				Description: "The SecuMon server's URL, e.g. http://127.0.0.1:8080 (or its /api/v2). Default: $SECUMON_URL.",
			},
			"token": schema.StringAttribute{
				Optional: true, Sensitive: true,
				Description: "An API token (smn_…) with the admin role. Default: $SECUMON_TOKEN.",
			},
		},
	}
}

func (p *secumonProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	url, token := os.Getenv("SECUMON_URL"), os.Getenv("SECUMON_TOKEN")
	if cfg.URL.IsUnknown() || cfg.Token.IsUnknown() {
		// Known only after another resource applies: wait, the plan will call again.
		return
	}
	if !cfg.URL.IsNull() {
		url = cfg.URL.ValueString()
	}
	if !cfg.Token.IsNull() {
		token = cfg.Token.ValueString()
	}
	if url == "" {
		resp.Diagnostics.AddAttributeError(path.Root("url"), "Missing SecuMon URL", "Set the provider's url or SECUMON_URL.")
	}
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Missing SecuMon token", "Set the provider's token or SECUMON_TOKEN.")
	}
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := client.New(url, client.WithToken(token), client.WithUserAgent("terraform-provider-secumon/"+p.version+" "+client.DefaultUserAgent))
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("url"), "Invalid SecuMon URL", err.Error())
		return
	}
	resp.ResourceData = c
	resp.DataSourceData = c
}

func (p *secumonProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		newHostResource,
		newCheckResource,
		newMaintenanceWindowResource,
		newStatusPageResource,
		newOncallScheduleResource,
		newAlertPolicyResource,
		newEscalationPolicyResource,
	}
}

func (p *secumonProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		newHostDataSource,
		newCheckDataSource,
		newWorkersDataSource,
		newWorkspaceDataSource,
	}
}
