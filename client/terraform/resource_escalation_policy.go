package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/secuaas/secumon/client"
)

type escalationPolicyResource struct {
	base
	importByID
}

func newEscalationPolicyResource() resource.Resource { return &escalationPolicyResource{} }

type escalationPolicyModel struct {
	ID          types.String      `tfsdk:"id"`
	Name        types.String      `tfsdk:"name"`
	Description types.String      `tfsdk:"description"`
	Repeat      types.Int64       `tfsdk:"repeat"`
	ReminderSec types.Int64       `tfsdk:"reminder_sec"`
	Levels      []escalationLevel `tfsdk:"levels"`
	CreatedAt   types.String      `tfsdk:"created_at"`
}

type escalationLevel struct {
	WaitSec types.Int64        `tfsdk:"wait_sec"`
	Targets []escalationTarget `tfsdk:"targets"`
}

type escalationTarget struct {
	Type        types.String   `tfsdk:"type"`
	ScheduleID  types.String   `tfsdk:"schedule_id"`
	MemberEmail types.String   `tfsdk:"member_email"`
	Via         []types.String `tfsdk:"via"`
	TimeSlots   []timeSlot     `tfsdk:"time_slots"`
	Timezone    types.String   `tfsdk:"timezone"`
	Channels    *alertChannels `tfsdk:"channels"`
}

type timeSlot struct {
	Days  []types.String `tfsdk:"days"`
	Start types.String   `tfsdk:"start"`
	End   types.String   `tfsdk:"end"`
}

func (r *escalationPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_escalation_policy"
}

func (r *escalationPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	hhmm := stringvalidator.RegexMatches(handoffPattern, "must be HH:MM")
	resp.Schema = schema.Schema{
		Description: "An escalation policy: levels of targets notified one after the other while nobody " +
			"acknowledges an incident. Channel secrets are sensitive and kept as configured, since the API masks them.",
		Attributes: map[string]schema.Attribute{
			"id":          idAttribute(),
			"name":        schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
			"description": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 2000)}},
			"repeat": schema.Int64Attribute{Optional: true, Computed: true, Default: int64default.StaticInt64(0),
				Validators:  []validator.Int64{int64validator.Between(0, 10)},
				Description: "How many more times the whole chain runs after the first pass."},
			"reminder_sec": schema.Int64Attribute{Optional: true, Validators: []validator.Int64{int64validator.Between(60, 86400)},
				Description: "Once the chain has run, the last level is notified again every so many seconds while the incident stays unacknowledged; absent, no reminders."},
			"levels": schema.ListNestedAttribute{Required: true, Validators: []validator.List{listvalidator.SizeBetween(1, 10)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"wait_sec": schema.Int64Attribute{Required: true, Validators: []validator.Int64{int64validator.Between(60, 86400)},
						Description: "Seconds after this level fires before the next one does, if nobody acknowledged."},
					"targets": schema.ListNestedAttribute{Required: true, Validators: []validator.List{listvalidator.SizeBetween(1, 20)},
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"type": schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.OneOf("oncall", "member", "channels")},
								Description: "`oncall`: whoever is on call in `schedule_id`; `member`: the member of `schedule_id` whose e-mail is `member_email`; `channels`: the `channels`, as an alert policy sends."},
							"channels":     channelsAttribute("Where a `channels` target sends, as in secumon_alert_policy."),
							"schedule_id":  schema.StringAttribute{Optional: true, Validators: []validator.String{uuidValidator{}}},
							"member_email": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthBetween(3, 254)}},
							"via": schema.ListAttribute{ElementType: types.StringType, Optional: true,
								Description: "`email`, `sms`, `voice` (API default: email).",
								Validators: []validator.List{listvalidator.SizeBetween(1, 3), listvalidator.UniqueValues(),
									listvalidator.ValueStringsAre(stringvalidator.OneOf("email", "sms", "voice"))}},
							"time_slots": schema.ListNestedAttribute{Optional: true, Validators: []validator.List{listvalidator.SizeAtMost(14)},
								Description: "When set, the target is skipped outside these slots.",
								NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
									"days": schema.ListAttribute{ElementType: types.StringType, Required: true,
										Validators: []validator.List{listvalidator.SizeBetween(1, 7), listvalidator.UniqueValues(),
											listvalidator.ValueStringsAre(stringvalidator.OneOf("mon", "tue", "wed", "thu", "fri", "sat", "sun"))}},
									"start": schema.StringAttribute{Required: true, Validators: []validator.String{hhmm}},
									"end":   schema.StringAttribute{Required: true, Validators: []validator.String{hhmm}},
								}}},
							"timezone": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 64)},
								Description: "IANA time zone of `time_slots` (API default UTC)."},
						}}},
				}}},
			"created_at": createdAtAttribute(),
		},
	}
}

func (m escalationPolicyModel) apiLevels(diags *diag.Diagnostics) []client.EscalationLevel {
	levels := make([]client.EscalationLevel, 0, len(m.Levels))
	for _, l := range m.Levels {
		targets := make([]client.EscalationTarget, 0, len(l.Targets))
		for _, t := range l.Targets {
			at := client.EscalationTarget{Type: client.EscalationTargetType(t.Type.ValueString()), Timezone: strPtr(t.Timezone)}
			if !t.ScheduleID.IsNull() {
				id := parseID(t.ScheduleID, diags)
				at.ScheduleId = &id
			}
			if !t.MemberEmail.IsNull() {
				e := openapi_types.Email(t.MemberEmail.ValueString())
				at.MemberEmail = &e
			}
			if t.Via != nil {
				via := make([]client.EscalationVia, 0, len(t.Via))
				for _, v := range strs(t.Via) {
					via = append(via, client.EscalationVia(v))
				}
				at.Via = &via
			}
			if t.Channels != nil {
				at.Channels = t.Channels.api(diags)
			}
			if t.TimeSlots != nil {
				slots := make([]client.TimeSlot, 0, len(t.TimeSlots))
				for _, s := range t.TimeSlots {
					days := make([]client.TimeSlotDays, 0, len(s.Days))
					for _, d := range strs(s.Days) {
						days = append(days, client.TimeSlotDays(d))
					}
					slots = append(slots, client.TimeSlot{Days: days, Start: s.Start.ValueString(), End: s.End.ValueString()})
				}
				at.TimeSlots = &slots
			}
			targets = append(targets, at)
		}
		levels = append(levels, client.EscalationLevel{WaitSec: int(l.WaitSec.ValueInt64()), Targets: targets})
	}
	return levels
}

func (r *escalationPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan escalationPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	levels := plan.apiLevels(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.c.EscalationPolicies.Create(ctx, client.EscalationPolicyCreate{
		Name: plan.Name.ValueString(), Description: strPtr(plan.Description), Repeat: intPtr(plan.Repeat),
		ReminderSec: intPtr(plan.ReminderSec), Levels: levels,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "creating escalation policy", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, escalationPolicyState(p, plan))...)
}

func (r *escalationPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state escalationPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.c.EscalationPolicies.Get(ctx, id)
	if err != nil {
		notFoundRemoves(ctx, err, resp, "escalation policy")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, escalationPolicyState(p, state))...)
}

func (r *escalationPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state escalationPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	levels := plan.apiLevels(&resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	// Left out of the configuration, description and reminder are cleared ("" and 0 do that).
	desc, reminder := plan.Description.ValueString(), int(plan.ReminderSec.ValueInt64())
	p, err := r.c.EscalationPolicies.Update(ctx, id, client.EscalationPolicyUpdate{
		Name: plan.Name.ValueString(), Description: &desc, Repeat: intPtr(plan.Repeat),
		ReminderSec: &reminder, Levels: &levels,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "updating escalation policy", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, escalationPolicyState(p, plan))...)
}

func (r *escalationPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state escalationPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.EscalationPolicies.Delete(ctx, id); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "deleting escalation policy", err)
	}
}

// escalationPolicyState is the policy as the API answered it. Where the API fills in a
// default the configuration left out (via [email], timezone UTC), the state stays null.
func escalationPolicyState(p *client.EscalationPolicy, prior escalationPolicyModel) escalationPolicyModel {
	m := escalationPolicyModel{
		ID: types.StringValue(p.Id.String()), Name: types.StringValue(p.Name), Description: stringOrNull(p.Description),
		Repeat: types.Int64Value(int64(p.Repeat)), ReminderSec: types.Int64Null(), CreatedAt: types.StringNull(),
	}
	if p.ReminderSec != nil && *p.ReminderSec > 0 {
		m.ReminderSec = types.Int64Value(int64(*p.ReminderSec))
	}
	if p.CreatedAt != nil {
		m.CreatedAt = timeString(*p.CreatedAt)
	}
	for i, l := range p.Levels {
		var pl escalationLevel
		if i < len(prior.Levels) {
			pl = prior.Levels[i]
		}
		level := escalationLevel{WaitSec: types.Int64Value(int64(l.WaitSec)), Targets: []escalationTarget{}}
		for j, t := range l.Targets {
			var pt escalationTarget
			if j < len(pl.Targets) {
				pt = pl.Targets[j]
			}
			out := escalationTarget{Type: types.StringValue(string(t.Type)), ScheduleID: types.StringNull(),
				MemberEmail: types.StringNull(), Timezone: stringOrNull(t.Timezone)}
			if t.ScheduleId != nil {
				out.ScheduleID = types.StringValue(t.ScheduleId.String())
			}
			if t.MemberEmail != nil {
				out.MemberEmail = types.StringValue(string(*t.MemberEmail))
			}
			if t.Via != nil && !(pt.Via == nil && len(*t.Via) == 1 && (*t.Via)[0] == client.EscalationViaEmail) {
				for _, v := range *t.Via {
					out.Via = append(out.Via, types.StringValue(string(v)))
				}
			}
			if t.TimeSlots != nil && (len(*t.TimeSlots) > 0 || pt.TimeSlots != nil) {
				out.TimeSlots = []timeSlot{}
				for _, s := range *t.TimeSlots {
					slot := timeSlot{Start: types.StringValue(s.Start), End: types.StringValue(s.End)}
					for _, d := range s.Days {
						slot.Days = append(slot.Days, types.StringValue(string(d)))
					}
					out.TimeSlots = append(out.TimeSlots, slot)
				}
			}
			if pt.Timezone.IsNull() && t.Timezone != nil && *t.Timezone == "UTC" {
				out.Timezone = types.StringNull()
			}
			if t.Channels != nil {
				out.Channels = channelsState(*t.Channels, pt.Channels)
			}
			level.Targets = append(level.Targets, out)
		}
		m.Levels = append(m.Levels, level)
	}
	return m
}
