package provider

import (
	"context"
	"regexp"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/secuaas/secumon/client"
)

var (
	handoffPattern = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	rotationTypes  = []string{"daily", "weekly", "biweekly", "monthly", "custom"}
)

type oncallScheduleResource struct {
	base
	importByID
}

func newOncallScheduleResource() resource.Resource { return &oncallScheduleResource{} }

type oncallScheduleModel struct {
	ID                  types.String     `tfsdk:"id"`
	Name                types.String     `tfsdk:"name"`
	Description         types.String     `tfsdk:"description"`
	Timezone            types.String     `tfsdk:"timezone"`
	RotationType        types.String     `tfsdk:"rotation_type"`
	RotationStart       types.String     `tfsdk:"rotation_start"`
	HandoffTime         types.String     `tfsdk:"handoff_time"`
	RotationLengthHours types.Int64      `tfsdk:"rotation_length_hours"`
	Members             []oncallMember   `tfsdk:"members"`
	Overrides           []oncallOverride `tfsdk:"overrides"`
	CreatedAt           types.String     `tfsdk:"created_at"`
}

type oncallMember struct {
	Name  types.String `tfsdk:"name"`
	Email types.String `tfsdk:"email"`
	Phone types.String `tfsdk:"phone"`
}

type oncallOverride struct {
	Name  types.String `tfsdk:"name"`
	Email types.String `tfsdk:"email"`
	Phone types.String `tfsdk:"phone"`
	Start types.String `tfsdk:"start"`
	End   types.String `tfsdk:"end"`
}

func (r *oncallScheduleResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_oncall_schedule"
}

func personAttrs() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"name":  schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
		"email": schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthBetween(3, 254)}},
		"phone": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 32)}},
	}
}

func (r *oncallScheduleResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	override := personAttrs()
	override["start"] = schema.StringAttribute{Required: true, Validators: []validator.String{rfc3339Validator{}}, Description: "RFC 3339."}
	override["end"] = schema.StringAttribute{Required: true, Validators: []validator.String{rfc3339Validator{}}, Description: "RFC 3339."}
	keep := []planmodifier.String{stringplanmodifier.UseStateForUnknown()}
	resp.Schema = schema.Schema{
		Description: "An on-call schedule: members who take turns, and overrides. Fields left out take the API's " +
			"defaults; the API cannot reset rotation settings, so removing one keeps its last value.",
		Attributes: map[string]schema.Attribute{
			"id":          idAttribute(),
			"name":        schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
			"description": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"timezone": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				Validators: []validator.String{stringvalidator.LengthBetween(1, 64)}, Description: "IANA time zone of handoff_time."},
			"rotation_type": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				Validators: []validator.String{stringvalidator.OneOf(rotationTypes...)}, Description: "daily, weekly, biweekly, monthly or custom."},
			"rotation_start": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				Validators: []validator.String{rfc3339Validator{}}, Description: "When the first turn starts (RFC 3339)."},
			"handoff_time": schema.StringAttribute{Optional: true, Computed: true, PlanModifiers: keep,
				Validators: []validator.String{stringvalidator.RegexMatches(handoffPattern, "must be HH:MM")}, Description: "HH:MM of the handoff."},
			"rotation_length_hours": schema.Int64Attribute{Optional: true, Computed: true,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				Validators:    []validator.Int64{int64validator.Between(1, 8760)}, Description: "custom rotations: hours per turn."},
			"members": schema.ListNestedAttribute{Optional: true, Description: "Who takes turns, in order.",
				Validators:   []validator.List{listvalidator.SizeAtMost(100)},
				NestedObject: schema.NestedAttributeObject{Attributes: personAttrs()}},
			"overrides": schema.ListNestedAttribute{Optional: true, Description: "Who is on call instead, and when.",
				Validators:   []validator.List{listvalidator.SizeAtMost(100)},
				NestedObject: schema.NestedAttributeObject{Attributes: override}},
			"created_at": createdAtAttribute(),
		},
	}
}

// body is the plan as the API's create/update fields.
func (m oncallScheduleModel) body(diags *diag.Diagnostics) client.OncallScheduleCreate {
	b := client.OncallScheduleCreate{
		Name: m.Name.ValueString(), Description: strPtr(m.Description), Timezone: strPtr(m.Timezone),
		RotationType: (*client.RotationType)(strPtr(m.RotationType)), HandoffTime: strPtr(m.HandoffTime),
		RotationLengthHours: intPtr(m.RotationLengthHours),
	}
	if s := strPtr(m.RotationStart); s != nil {
		t, err := time.Parse(time.RFC3339, *s)
		if err != nil {
			diags.AddAttributeError(path.Root("rotation_start"), "Invalid time", err.Error())
		}
		b.RotationStart = &t
	}
	members := make([]client.OncallMember, 0, len(m.Members))
	for _, p := range m.Members {
		members = append(members, client.OncallMember{Name: p.Name.ValueString(), Email: openapi_types.Email(p.Email.ValueString()), Phone: strPtr(p.Phone)})
	}
	overrides := make([]client.OncallOverride, 0, len(m.Overrides))
	for i, o := range m.Overrides {
		start, err1 := time.Parse(time.RFC3339, o.Start.ValueString())
		end, err2 := time.Parse(time.RFC3339, o.End.ValueString())
		if err1 != nil || err2 != nil {
			diags.AddAttributeError(path.Root("overrides").AtListIndex(i), "Invalid time", "start and end must be RFC 3339")
		}
		overrides = append(overrides, client.OncallOverride{Name: o.Name.ValueString(), Email: openapi_types.Email(o.Email.ValueString()),
			Phone: strPtr(o.Phone), Start: start, End: end})
	}
	b.Members, b.Overrides = &members, &overrides
	return b
}

func (r *oncallScheduleResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan oncallScheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	body := plan.body(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	s, err := r.c.Oncall.Create(ctx, body)
	if err != nil {
		apiError(&resp.Diagnostics, "creating on-call schedule", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, oncallState(s, plan))...)
}

func (r *oncallScheduleResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state oncallScheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	d, err := r.c.Oncall.Get(ctx, id)
	if err != nil {
		notFoundRemoves(ctx, err, resp, "on-call schedule")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, oncallState(&d.Schedule, state))...)
}

func (r *oncallScheduleResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state oncallScheduleModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	b := plan.body(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.c.Oncall.Update(ctx, id, client.OncallScheduleUpdate{
		Name: b.Name, Description: b.Description, Timezone: b.Timezone, RotationType: b.RotationType,
		RotationStart: b.RotationStart, HandoffTime: b.HandoffTime, RotationLengthHours: b.RotationLengthHours,
		Members: b.Members, Overrides: b.Overrides,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "updating on-call schedule", err)
		return
	}
	d, err := r.c.Oncall.Get(ctx, id) // the update answers 204
	if err != nil {
		apiError(&resp.Diagnostics, "reading on-call schedule", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, oncallState(&d.Schedule, plan))...)
}

func (r *oncallScheduleResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state oncallScheduleModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.Oncall.Delete(ctx, id); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "deleting on-call schedule", err)
	}
}

// oncallState is the schedule as the API answered it; times keep the configured spelling
// when they denote the same instant.
func oncallState(s *client.OncallSchedule, prior oncallScheduleModel) oncallScheduleModel {
	m := oncallScheduleModel{
		ID: types.StringValue(s.Id.String()), Name: types.StringValue(s.Name), Description: stringOrNull(s.Description),
		Timezone: types.StringValue(s.Timezone), RotationType: types.StringValue(string(s.RotationType)),
		RotationStart: sameInstant(prior.RotationStart, s.RotationStart), HandoffTime: types.StringValue(s.HandoffTime),
		RotationLengthHours: types.Int64Null(), CreatedAt: timeString(s.CreatedAt),
	}
	if s.RotationLengthHours != nil {
		m.RotationLengthHours = types.Int64Value(int64(*s.RotationLengthHours))
	}
	if len(s.Members) > 0 || prior.Members != nil {
		m.Members = []oncallMember{}
		for _, p := range s.Members {
			m.Members = append(m.Members, oncallMember{Name: types.StringValue(p.Name), Email: types.StringValue(string(p.Email)), Phone: stringOrNull(p.Phone)})
		}
	}
	if len(s.Overrides) > 0 || prior.Overrides != nil {
		m.Overrides = []oncallOverride{}
		for i, o := range s.Overrides {
			var ps, pe types.String
			if i < len(prior.Overrides) {
				ps, pe = prior.Overrides[i].Start, prior.Overrides[i].End
			}
			m.Overrides = append(m.Overrides, oncallOverride{Name: types.StringValue(o.Name), Email: types.StringValue(string(o.Email)),
				Phone: stringOrNull(o.Phone), Start: sameInstant(ps, o.Start), End: sameInstant(pe, o.End)})
		}
	}
	return m
}
