package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

var severities = []string{"critical", "major", "minor", "warning", "info"}

type checkResource struct {
	base
	importByID
}

func newCheckResource() resource.Resource { return &checkResource{} }

var _ resource.ResourceWithModifyPlan = (*checkResource)(nil)

// checkModel holds the attributes every check has; the check type's nested attribute
// (ping, http…) is read and written by path, from the checkTypes table. Since the schema has
// more attributes than the struct, it is read and written attribute by attribute (get, set),
// never with Get/Set of the whole object.
type checkModel struct {
	ID               types.String `tfsdk:"id"`
	HostID           types.String `tfsdk:"host_id"`
	Name             types.String `tfsdk:"name"`
	CheckType        types.String `tfsdk:"check_type"`
	IntervalSec      types.Int64  `tfsdk:"interval_sec"`
	TimeoutSec       types.Int64  `tfsdk:"timeout_sec"`
	FailureThreshold types.Int64  `tfsdk:"failure_threshold"`
	Severity         types.String `tfsdk:"severity"`
	Enabled          types.Bool   `tfsdk:"enabled"`
	Locations        types.List   `tfsdk:"locations"`
	ConfirmLocations types.Int64  `tfsdk:"confirm_locations"`
	PingURL          types.String `tfsdk:"ping_url"`
	CreatedAt        types.String `tfsdk:"created_at"`
}

// attrs are the model's attributes by name, as pointers for get.
func (m *checkModel) attrs() map[string]any {
	return map[string]any{
		"id": &m.ID, "host_id": &m.HostID, "name": &m.Name, "check_type": &m.CheckType, "interval_sec": &m.IntervalSec,
		"timeout_sec": &m.TimeoutSec, "failure_threshold": &m.FailureThreshold, "severity": &m.Severity,
		"enabled": &m.Enabled, "ping_url": &m.PingURL, "created_at": &m.CreatedAt,
		"locations": &m.Locations, "confirm_locations": &m.ConfirmLocations,
	}
}

type attrGetter interface {
	GetAttribute(context.Context, path.Path, any) diag.Diagnostics
}

// get reads the model from a plan or a state.
func (m *checkModel) get(ctx context.Context, g attrGetter, diags *diag.Diagnostics) {
	for name, p := range m.attrs() {
		diags.Append(g.GetAttribute(ctx, path.Root(name), p)...)
	}
}

// set writes the model into a state (the check type's attribute is written apart).
func (m *checkModel) set(ctx context.Context, s *tfsdk.State, diags *diag.Diagnostics) {
	vals := map[string]attr.Value{
		"id": m.ID, "host_id": m.HostID, "name": m.Name, "check_type": m.CheckType, "interval_sec": m.IntervalSec,
		"timeout_sec": m.TimeoutSec, "failure_threshold": m.FailureThreshold, "severity": m.Severity,
		"enabled": m.Enabled, "ping_url": m.PingURL, "created_at": m.CreatedAt,
		"locations": m.Locations, "confirm_locations": m.ConfirmLocations,
	}
	for name, v := range vals {
		diags.Append(s.SetAttribute(ctx, path.Root(name), v)...)
	}
}

func (r *checkResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_check"
}

func (r *checkResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	attrs := map[string]schema.Attribute{
		"id": idAttribute(),
		"host_id": schema.StringAttribute{
			Required: true, Description: "The host the check probes. Changing it replaces the check.",
			Validators:    []validator.String{uuidValidator{}},
			PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
		},
		"name": schema.StringAttribute{
			Required: true, Description: "Unique name in the workspace.",
			Validators: []validator.String{stringvalidator.LengthBetween(1, 255)},
		},
		"check_type": schema.StringAttribute{
			Computed: true, Description: "The check type: the name of the nested attribute that is set.",
		},
		"interval_sec": schema.Int64Attribute{
			Optional: true, Computed: true, Default: int64default.StaticInt64(60),
			Description: "Seconds between runs (10–86400). Default: 60.",
			Validators:  []validator.Int64{int64validator.Between(10, 86400)},
		},
		"timeout_sec": schema.Int64Attribute{
			Optional: true, Computed: true, Default: int64default.StaticInt64(10),
			Description: "Seconds a run may take (1–300). Default: 10.",
			Validators:  []validator.Int64{int64validator.Between(1, 300)},
		},
		"failure_threshold": schema.Int64Attribute{
			Optional: true, Computed: true, Default: int64default.StaticInt64(2),
			Description: "Consecutive failing runs that open an incident (1–100). Default: 2.",
			Validators:  []validator.Int64{int64validator.Between(1, 100)},
		},
		"severity": schema.StringAttribute{
			Optional: true, Computed: true,
			Description: "Incident severity: critical, major, minor, warning or info. Left out, the API's default; " +
				"the API cannot reset it, so removing it from the configuration keeps the last value.",
			Validators:    []validator.String{stringvalidator.OneOf(severities...)},
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"enabled": schema.BoolAttribute{
			Optional: true, Computed: true, Default: booldefault.StaticBool(true),
			Description: "Disabled checks are not run. Default: true.",
		},
		"locations": schema.ListAttribute{
			ElementType: types.StringType, Optional: true, Computed: true,
			Default: listdefault.StaticValue(types.ListValueMust(types.StringType, nil)),
			Description: "Where the check runs: each location (a worker's --worker-location) runs it on its own schedule. " +
				"Empty (the default): any worker runs it. Heartbeat checks take none.",
			Validators: []validator.List{
				listvalidator.SizeAtMost(16), listvalidator.UniqueValues(),
				listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 64)),
			},
		},
		"confirm_locations": schema.Int64Attribute{
			Optional: true, Computed: true, Default: int64default.StaticInt64(1),
			Description: "N of M: how many of `locations` must each see `failure_threshold` consecutive failures " +
				"before an incident opens (1–16, at most the number of locations). Default: 1.",
			Validators: []validator.Int64{int64validator.Between(1, 16)},
		},
		"ping_url": schema.StringAttribute{
			Computed: true, Sensitive: true,
			Description: "Heartbeat checks: the secret URL the job calls. The API shows it only when the check is created, " +
				"so it is null after an import.",
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
		},
		"created_at": createdAtAttribute(),
	}
	var all []path.Expression
	for _, t := range checkTypes {
		all = append(all, path.MatchRoot(t.name))
	}
	for _, t := range checkTypes {
		attrs[t.name] = schema.SingleNestedAttribute{
			Optional: true, Attributes: schemaAttributes(t.fields),
			Description: t.desc + " Exactly one check type's attribute is set; changing which one replaces the check.",
			Validators:  []validator.Object{objectvalidator.ExactlyOneOf(all...)},
			PlanModifiers: []planmodifier.Object{objectplanmodifier.RequiresReplaceIf(
				func(_ context.Context, req planmodifier.ObjectRequest, resp *objectplanmodifier.RequiresReplaceIfFuncResponse) {
					// The API cannot change a check's type: setting or unsetting a type's
					// attribute replaces the check; changing its fields updates it.
					resp.RequiresReplace = req.StateValue.IsNull() != req.PlanValue.IsNull()
				}, "Changing the check type replaces the check.", "Changing the check type replaces the check."),
			},
		}
	}
	resp.Schema = schema.Schema{
		Description: "A check: one probe of a host, run every interval_sec by a worker. Set exactly one of the " +
			"check type attributes (ping, http, tcp, dns, tls, snmp, grpc, smtp, postgres, heartbeat).",
		Attributes: attrs,
	}
}

// ModifyPlan makes check_type known in the plan: the name of the type's attribute that is set.
func (r *checkResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() { // destroy
		return
	}
	for _, t := range checkTypes {
		var obj types.Object
		resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root(t.name), &obj)...)
		if !obj.IsNull() {
			resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, path.Root("check_type"), t.name)...)
			return
		}
	}
}

// configured returns the check type whose attribute is set in s, and its value.
func configured(ctx context.Context, s tfsdk.Plan, diags *diag.Diagnostics) (checkType, types.Object) {
	for _, t := range checkTypes {
		var obj types.Object
		diags.Append(s.GetAttribute(ctx, path.Root(t.name), &obj)...)
		if !obj.IsNull() {
			return t, obj
		}
	}
	diags.AddError("No check type", "set exactly one of ping, http, tcp, dns, tls, snmp, grpc, smtp, postgres, heartbeat")
	return checkType{}, types.Object{}
}

func (r *checkResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan checkModel
	plan.get(ctx, req.Plan, &resp.Diagnostics)
	t, obj := configured(ctx, req.Plan, &resp.Diagnostics)
	hostID, err := uuid.Parse(plan.HostID.ValueString())
	if err != nil {
		resp.Diagnostics.AddAttributeError(path.Root("host_id"), "Invalid host_id", err.Error())
	}
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := toAPI(obj, t.fields)
	body := client.CheckCreateBase{
		HostId: hostID, Name: plan.Name.ValueString(), CheckType: client.CheckType(t.name), Config: &cfg,
		IntervalSec: intPtr(plan.IntervalSec), TimeoutSec: intPtr(plan.TimeoutSec),
		FailureThreshold: intPtr(plan.FailureThreshold), Enabled: boolPtr(plan.Enabled),
		Severity:  (*client.Severity)(strPtr(plan.Severity)),
		Locations: locationsArg(ctx, plan.Locations, &resp.Diagnostics), ConfirmLocations: intPtr(plan.ConfirmLocations),
	}
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := r.c.Checks.Create(ctx, body.CheckCreate())
	if err != nil {
		apiError(&resp.Diagnostics, "creating check", err)
		return
	}
	r.setState(ctx, c, plan.PingURL, obj, &resp.State, &resp.Diagnostics)
}

func (r *checkResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state checkModel
	state.get(ctx, req.State, &resp.Diagnostics)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := r.c.Checks.Get(ctx, id)
	if err != nil {
		notFoundRemoves(ctx, err, resp, "check")
		return
	}
	var prior types.Object
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root(string(c.CheckType)), &prior)...)
	r.setState(ctx, c, state.PingURL, prior, &resp.State, &resp.Diagnostics)
}

func (r *checkResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state checkModel
	plan.get(ctx, req.Plan, &resp.Diagnostics)
	state.get(ctx, req.State, &resp.Diagnostics)
	id := parseID(state.ID, &resp.Diagnostics)
	t, obj := configured(ctx, req.Plan, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := r.c.Checks.Update(ctx, id, client.CheckUpdate{
		Name: strPtr(plan.Name), IntervalSec: intPtr(plan.IntervalSec), TimeoutSec: intPtr(plan.TimeoutSec),
		FailureThreshold: intPtr(plan.FailureThreshold), Enabled: boolPtr(plan.Enabled),
		Severity:  (*client.Severity)(strPtr(plan.Severity)),
		Locations: locationsArg(ctx, plan.Locations, &resp.Diagnostics), ConfirmLocations: intPtr(plan.ConfirmLocations),
		// The whole config: fields removed from the configuration go back to their defaults.
		Config: client.CheckConfigFromMap(toAPI(obj, t.fields)),
	})
	if err != nil {
		apiError(&resp.Diagnostics, "updating check", err)
		return
	}
	r.setState(ctx, c, state.PingURL, obj, &resp.State, &resp.Diagnostics)
}

func (r *checkResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state checkModel
	state.get(ctx, req.State, &resp.Diagnostics)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.Checks.Delete(ctx, id); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "deleting check", err)
	}
}

// locationsArg is the locations to send: always the whole list, so that one removed from the
// configuration (or all of them: any worker) goes from the check too.
func locationsArg(ctx context.Context, l types.List, diags *diag.Diagnostics) *[]client.LocationName {
	locs := []string{}
	if !l.IsNull() && !l.IsUnknown() {
		diags.Append(l.ElementsAs(ctx, &locs, false)...)
	}
	return &locs
}

// setState writes the check as the API answered it. prior is the type's object the plan or
// state held (masked secrets keep its values); pingURL the one known so far (the API gives
// it only in the answer of a create).
func (r *checkResource) setState(ctx context.Context, c *client.Check, pingURL types.String, prior types.Object, s *tfsdk.State, diags *diag.Diagnostics) {
	m := checkModel{
		ID: types.StringValue(c.Id.String()), HostID: types.StringValue(c.HostId.String()), Name: types.StringValue(c.Name),
		CheckType: types.StringValue(string(c.CheckType)), IntervalSec: types.Int64Value(int64(c.IntervalSec)),
		TimeoutSec: types.Int64Value(int64(c.TimeoutSec)), FailureThreshold: types.Int64Value(int64(c.FailureThreshold)),
		Enabled: types.BoolValue(c.Enabled), PingURL: pingURL, CreatedAt: timeString(c.CreatedAt),
		Severity: types.StringNull(), ConfirmLocations: types.Int64Value(1),
	}
	var locs []string
	if c.Locations != nil {
		locs = *c.Locations
	}
	m.Locations, _ = types.ListValueFrom(ctx, types.StringType, append([]string{}, locs...))
	if c.ConfirmLocations != nil {
		m.ConfirmLocations = types.Int64Value(int64(*c.ConfirmLocations))
	}
	if c.Severity != nil {
		m.Severity = types.StringValue(string(*c.Severity))
	}
	if c.PingUrl != nil {
		m.PingURL = types.StringValue(*c.PingUrl)
	}
	if m.PingURL.IsUnknown() {
		m.PingURL = types.StringNull()
	}
	m.set(ctx, s, diags)
	cfg, err := c.Config.Map()
	if err != nil {
		diags.AddError("Reading the check's config", err.Error())
		return
	}
	known := false
	for _, t := range checkTypes { // the check type's attribute from the API, the others null
		v := types.ObjectNull(t.objectType())
		if t.name == string(c.CheckType) {
			v, known = fromAPI(cfg, prior, t.fields, diags), true
		}
		diags.Append(s.SetAttribute(ctx, path.Root(t.name), v)...)
	}
	if known {
		return
	}
	diags.AddWarning("Unknown check type", "the provider does not know check type "+string(c.CheckType)+": upgrade it")
}

// uuidValidator requires a UUID (the API's ids).
type uuidValidator struct{}

func (uuidValidator) Description(context.Context) string         { return "must be a UUID" }
func (uuidValidator) MarkdownDescription(context.Context) string { return "must be a UUID" }
func (uuidValidator) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if _, err := uuid.Parse(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid id", req.ConfigValue.ValueString()+" is not a UUID")
	}
}
