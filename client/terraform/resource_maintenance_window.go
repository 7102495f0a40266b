package provider

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/setdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

type maintenanceWindowResource struct {
	base
	importByID
}

func newMaintenanceWindowResource() resource.Resource { return &maintenanceWindowResource{} }

type maintenanceWindowModel struct {
	ID                types.String `tfsdk:"id"`
	Title             types.String `tfsdk:"title"`
	Description       types.String `tfsdk:"description"`
	StartTime         types.String `tfsdk:"start_time"`
	EndTime           types.String `tfsdk:"end_time"`
	SuppressAlerts    types.Bool   `tfsdk:"suppress_alerts"`
	NotifySubscribers types.Bool   `tfsdk:"notify_subscribers"`
	AffectedHosts     types.Set    `tfsdk:"affected_hosts"`
	Status            types.String `tfsdk:"status"`
	CreatedAt         types.String `tfsdk:"created_at"`
}

func (r *maintenanceWindowResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_maintenance_window"
}

func (r *maintenanceWindowResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A maintenance window: alerts of its hosts are suppressed while it is active. The API keeps " +
			"windows as history, so destroying one cancels it (a cancelled window reads as gone).",
		Attributes: map[string]schema.Attribute{
			"id": idAttribute(),
			"title": schema.StringAttribute{
				Required: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
				Description: "Title, shown on status pages.",
			},
			"description": schema.StringAttribute{
				Optional: true, Description: "Free text (at most 5000 characters).",
				Validators: []validator.String{stringvalidator.LengthBetween(1, 5000)},
			},
			"start_time": schema.StringAttribute{
				Required: true, Validators: []validator.String{rfc3339Validator{}},
				Description: "Start, RFC 3339 (e.g. 2030-01-01T02:00:00Z).",
			},
			"end_time": schema.StringAttribute{
				Required: true, Validators: []validator.String{rfc3339Validator{}},
				Description: "End, RFC 3339, after start_time.",
			},
			"suppress_alerts": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				Description: "Suppress the affected hosts' alerts while active. Default: true.",
			},
			"notify_subscribers": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				Description: "Notify status page subscribers. Default: true.",
			},
			"affected_hosts": schema.SetAttribute{
				ElementType: types.StringType, Optional: true, Computed: true,
				Default:     setdefault.StaticValue(types.SetValueMust(types.StringType, []attrValue{})),
				Validators:  []validator.Set{setvalidator.SizeAtMost(1000), setvalidator.ValueStringsAre(uuidValidator{})},
				Description: "Ids of the hosts under maintenance.",
			},
			"status":     schema.StringAttribute{Computed: true, Description: "scheduled, active, completed or cancelled."},
			"created_at": createdAtAttribute(),
		},
	}
}

// body reads the plan's fields as the API's types.
func (m maintenanceWindowModel) body(ctx context.Context, diags *diag.Diagnostics) (start, end time.Time, hosts []uuid.UUID) {
	var err error
	if start, err = time.Parse(time.RFC3339, m.StartTime.ValueString()); err != nil {
		diags.AddAttributeError(path.Root("start_time"), "Invalid time", err.Error())
	}
	if end, err = time.Parse(time.RFC3339, m.EndTime.ValueString()); err != nil {
		diags.AddAttributeError(path.Root("end_time"), "Invalid time", err.Error())
	}
	var ids []string
	diags.Append(m.AffectedHosts.ElementsAs(ctx, &ids, false)...)
	hosts = []uuid.UUID{}
	for _, s := range ids {
		id, err := uuid.Parse(s)
		if err != nil {
			diags.AddAttributeError(path.Root("affected_hosts"), "Invalid host id", err.Error())
		}
		hosts = append(hosts, id)
	}
	return start, end, hosts
}

func (r *maintenanceWindowResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan maintenanceWindowModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	start, end, hosts := plan.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	w, err := r.c.Maintenance.Create(ctx, client.MaintenanceWindowCreate{
		Title: plan.Title.ValueString(), Description: strPtr(plan.Description), StartTime: start, EndTime: end,
		SuppressAlerts: boolPtr(plan.SuppressAlerts), NotifySubscribers: boolPtr(plan.NotifySubscribers), AffectedHosts: &hosts,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "creating maintenance window", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, maintenanceState(w, plan, &resp.Diagnostics))...)
}

func (r *maintenanceWindowResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state maintenanceWindowModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	w, err := r.c.Maintenance.Get(ctx, id)
	if err != nil {
		notFoundRemoves(ctx, err, resp, "maintenance window")
		return
	}
	if w.Status == client.MaintenanceStatusCancelled { // cancelled out of band: as good as deleted
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, maintenanceState(w, state, &resp.Diagnostics))...)
}

func (r *maintenanceWindowResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state maintenanceWindowModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	start, end, hosts := plan.body(ctx, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	desc := plan.Description.ValueString()
	w, err := r.c.Maintenance.Update(ctx, id, client.MaintenanceWindowUpdate{
		Title: strPtr(plan.Title), Description: &desc, StartTime: &start, EndTime: &end,
		SuppressAlerts: boolPtr(plan.SuppressAlerts), NotifySubscribers: boolPtr(plan.NotifySubscribers), AffectedHosts: &hosts,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "updating maintenance window", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, maintenanceState(w, plan, &resp.Diagnostics))...)
}

func (r *maintenanceWindowResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state maintenanceWindowModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// The API keeps windows as history: cancelling is its delete. An ended or already
	// cancelled window answers 409, which is as good.
	if err := r.c.Maintenance.Cancel(ctx, id); err != nil && !client.IsNotFound(err) && !client.IsConflict(err) {
		apiError(&resp.Diagnostics, "cancelling maintenance window", err)
	}
}

// maintenanceState is the window as the API answered it. The times keep the configured
// spelling when they denote the same instant (2030-01-01T03:00:00+01:00 is 02:00Z).
func maintenanceState(w *client.MaintenanceWindow, prior maintenanceWindowModel, diags *diag.Diagnostics) maintenanceWindowModel {
	hosts := make([]attrValue, 0, len(w.AffectedHosts))
	for _, h := range w.AffectedHosts {
		hosts = append(hosts, types.StringValue(h.String()))
	}
	set, d := types.SetValue(types.StringType, hosts)
	diags.Append(d...)
	m := maintenanceWindowModel{
		ID: types.StringValue(w.Id.String()), Title: types.StringValue(w.Title), Description: stringOrNull(w.Description),
		StartTime: sameInstant(prior.StartTime, w.StartTime), EndTime: sameInstant(prior.EndTime, w.EndTime),
		SuppressAlerts: types.BoolValue(w.SuppressAlerts), NotifySubscribers: types.BoolValue(w.NotifySubscribers),
		AffectedHosts: set, Status: types.StringValue(string(w.Status)), CreatedAt: types.StringNull(),
	}
	if w.CreatedAt != nil {
		m.CreatedAt = timeString(*w.CreatedAt)
	}
	return m
}

func sameInstant(prior types.String, t time.Time) types.String {
	if p, err := time.Parse(time.RFC3339, prior.ValueString()); err == nil && p.Equal(t) {
		return prior
	}
	return timeString(t)
}

// rfc3339Validator requires an RFC 3339 time.
type rfc3339Validator struct{}

func (rfc3339Validator) Description(context.Context) string { return "must be an RFC 3339 time" }
func (rfc3339Validator) MarkdownDescription(context.Context) string {
	return "must be an RFC 3339 time"
}
func (rfc3339Validator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339, req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid time", err.Error())
	}
}
