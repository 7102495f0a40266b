package provider

import (
	"context"
	"encoding/json"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

// ---- secumon_host: one host, by id or by name.

type hostDataSource struct{ dsBase }

func newHostDataSource() datasource.DataSource { return &hostDataSource{} }

func (d *hostDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_host"
}

func (d *hostDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Reads one host, by id or by name.",
		Attributes: map[string]schema.Attribute{
			"id": schema.StringAttribute{Optional: true, Computed: true, Description: "The host's id.",
				Validators: []validator.String{uuidValidator{}, stringvalidator.ExactlyOneOf(path.MatchRoot("id"), path.MatchRoot("name"))}},
			"name":        schema.StringAttribute{Optional: true, Computed: true, Description: "The host's name (unique in the workspace)."},
			"hostname":    schema.StringAttribute{Computed: true},
			"host_type":   schema.StringAttribute{Computed: true},
			"description": schema.StringAttribute{Computed: true},
			"tags":        schema.MapAttribute{ElementType: types.StringType, Computed: true},
			"is_active":   schema.BoolAttribute{Computed: true},
			"created_at":  schema.StringAttribute{Computed: true},
		},
	}
}

func (d *hostDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var q hostModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &q)...)
	if resp.Diagnostics.HasError() {
		return
	}
	var host *client.Host
	if !q.ID.IsNull() {
		id := parseID(q.ID, &resp.Diagnostics)
		if resp.Diagnostics.HasError() {
			return
		}
		h, err := d.c.Hosts.Get(ctx, id)
		if err != nil {
			apiError(&resp.Diagnostics, "reading host", err)
			return
		}
		host = h
	} else {
		for h, err := range d.c.Hosts.All(ctx, nil) {
			if err != nil {
				apiError(&resp.Diagnostics, "listing hosts", err)
				return
			}
			if h.Name == q.Name.ValueString() {
				host = &h
				break
			}
		}
		if host == nil {
			resp.Diagnostics.AddAttributeError(path.Root("name"), "No such host", "no host is named "+q.Name.ValueString())
			return
		}
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, hostState(host, &resp.Diagnostics))...)
}

// ---- secumon_check: one check by id; its type-specific config as JSON.

type checkDataSource struct{ dsBase }

func newCheckDataSource() datasource.DataSource { return &checkDataSource{} }

type checkDataModel struct {
	ID               types.String `tfsdk:"id"`
	HostID           types.String `tfsdk:"host_id"`
	Name             types.String `tfsdk:"name"`
	CheckType        types.String `tfsdk:"check_type"`
	IntervalSec      types.Int64  `tfsdk:"interval_sec"`
	TimeoutSec       types.Int64  `tfsdk:"timeout_sec"`
	FailureThreshold types.Int64  `tfsdk:"failure_threshold"`
	Severity         types.String `tfsdk:"severity"`
	Enabled          types.Bool   `tfsdk:"enabled"`
	ConfigJSON       types.String `tfsdk:"config_json"`
	LastStatus       types.Int64  `tfsdk:"last_status"`
}

func (d *checkDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_check"
}

func (d *checkDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Reads one check by id.",
		Attributes: map[string]schema.Attribute{
			"id":                schema.StringAttribute{Required: true, Validators: []validator.String{uuidValidator{}}},
			"host_id":           schema.StringAttribute{Computed: true},
			"name":              schema.StringAttribute{Computed: true},
			"check_type":        schema.StringAttribute{Computed: true},
			"interval_sec":      schema.Int64Attribute{Computed: true},
			"timeout_sec":       schema.Int64Attribute{Computed: true},
			"failure_threshold": schema.Int64Attribute{Computed: true},
			"severity":          schema.StringAttribute{Computed: true},
			"enabled":           schema.BoolAttribute{Computed: true},
			"config_json":       schema.StringAttribute{Computed: true, Description: "The config as the API shows it (secrets masked), as JSON: use jsondecode()."},
			"last_status":       schema.Int64Attribute{Computed: true, Description: "0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; null before the first run."},
		},
	}
}

func (d *checkDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var q checkDataModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &q)...)
	id := parseID(q.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := d.c.Checks.Get(ctx, id)
	if err != nil {
		apiError(&resp.Diagnostics, "reading check", err)
		return
	}
	raw, err := json.Marshal(c.Config)
	if err != nil {
		resp.Diagnostics.AddError("Encoding the config", err.Error())
		return
	}
	m := checkDataModel{
		ID: types.StringValue(c.Id.String()), HostID: types.StringValue(c.HostId.String()), Name: types.StringValue(c.Name),
		CheckType: types.StringValue(string(c.CheckType)), IntervalSec: types.Int64Value(int64(c.IntervalSec)),
		TimeoutSec: types.Int64Value(int64(c.TimeoutSec)), FailureThreshold: types.Int64Value(int64(c.FailureThreshold)),
		Enabled: types.BoolValue(c.Enabled), ConfigJSON: types.StringValue(string(raw)),
		Severity: types.StringNull(), LastStatus: types.Int64Null(),
	}
	if c.Severity != nil {
		m.Severity = types.StringValue(string(*c.Severity))
	}
	if c.LastStatus != nil {
		m.LastStatus = types.Int64Value(int64(*c.LastStatus))
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, m)...)
}

// ---- secumon_workers: the probe workers.

type workersDataSource struct{ dsBase }

func newWorkersDataSource() datasource.DataSource { return &workersDataSource{} }

type workerModel struct {
	ID            types.String `tfsdk:"id"`
	Name          types.String `tfsdk:"name"`
	Location      types.String `tfsdk:"location"`
	Status        types.String `tfsdk:"status"`
	LastHeartbeat types.String `tfsdk:"last_heartbeat"`
}

func (d *workersDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_workers"
}

func (d *workersDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Lists the probe workers.",
		Attributes: map[string]schema.Attribute{
			"workers": schema.ListNestedAttribute{Computed: true, NestedObject: schema.NestedAttributeObject{
				Attributes: map[string]schema.Attribute{
					"id":             schema.StringAttribute{Computed: true},
					"name":           schema.StringAttribute{Computed: true},
					"location":       schema.StringAttribute{Computed: true},
					"status":         schema.StringAttribute{Computed: true, Description: "active or stale."},
					"last_heartbeat": schema.StringAttribute{Computed: true},
				},
			}},
		},
	}
}

func (d *workersDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	ws, err := d.c.Workers.List(ctx)
	if err != nil {
		apiError(&resp.Diagnostics, "listing workers", err)
		return
	}
	out := make([]workerModel, 0, len(ws))
	for _, w := range ws {
		out = append(out, workerModel{
			ID: types.StringValue(w.Id.String()), Name: types.StringValue(w.Name), Location: types.StringValue(w.Location),
			Status: types.StringValue(string(w.Status)), LastHeartbeat: timeString(w.LastHeartbeat),
		})
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("workers"), out)...)
}

// ---- secumon_workspace: the workspace the provider's token acts on.

type workspaceDataSource struct{ dsBase }

func newWorkspaceDataSource() datasource.DataSource { return &workspaceDataSource{} }

type workspaceModel struct {
	ID   types.String `tfsdk:"id"`
	Slug types.String `tfsdk:"slug"`
	Name types.String `tfsdk:"name"`
	Role types.String `tfsdk:"role"`
}

func (d *workspaceDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_workspace"
}

func (d *workspaceDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "The workspace the provider's token acts on, and the token's role in it.",
		Attributes: map[string]schema.Attribute{
			"id":   schema.StringAttribute{Computed: true},
			"slug": schema.StringAttribute{Computed: true},
			"name": schema.StringAttribute{Computed: true},
			"role": schema.StringAttribute{Computed: true, Description: "viewer, operator, admin or owner."},
		},
	}
}

func (d *workspaceDataSource) Read(ctx context.Context, _ datasource.ReadRequest, resp *datasource.ReadResponse) {
	l, err := d.c.Workspaces.List(ctx)
	if err != nil {
		apiError(&resp.Diagnostics, "listing workspaces", err)
		return
	}
	active, _ := uuid.Parse(l.ActiveWorkspaceId)
	for _, w := range l.Workspaces {
		if w.WorkspaceId == active {
			resp.Diagnostics.Append(resp.State.Set(ctx, workspaceModel{
				ID: types.StringValue(w.WorkspaceId.String()), Slug: types.StringValue(w.Slug),
				Name: types.StringValue(w.Name), Role: types.StringValue(string(w.Role)),
			})...)
			return
		}
	}
	resp.Diagnostics.AddError("No active workspace", "the token acts on no workspace")
}
