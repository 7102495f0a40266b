package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/setvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/oapi-codegen/nullable"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

type alertPolicyResource struct {
	base
	importByID
}

func newAlertPolicyResource() resource.Resource { return &alertPolicyResource{} }

type alertPolicyModel struct {
	ID          types.String     `tfsdk:"id"`
	Name        types.String     `tfsdk:"name"`
	Description types.String     `tfsdk:"description"`
	Enabled     types.Bool       `tfsdk:"enabled"`
	CooldownSec types.Int64      `tfsdk:"cooldown_sec"`
	Conditions  *alertConditions `tfsdk:"conditions"`
	Channels    *alertChannels   `tfsdk:"channels"`
	Escalation  types.String     `tfsdk:"escalation_policy_id"`
	CreatedAt   types.String     `tfsdk:"created_at"`
}

type alertConditions struct {
	Severity   []types.String `tfsdk:"severity"`
	CheckTypes []types.String `tfsdk:"check_types"`
	HostIDs    []types.String `tfsdk:"host_ids"`
	HostTags   types.Map      `tfsdk:"host_tags"`
}

type alertChannels struct {
	Email   []types.String `tfsdk:"email"`
	Webhook []webhookModel `tfsdk:"webhook"`
	Slack   []types.String `tfsdk:"slack"`
	Oncall  []types.String `tfsdk:"oncall"`
}

type webhookModel struct {
	URL    types.String `tfsdk:"url"`
	Secret types.String `tfsdk:"secret"`
}

func (r *alertPolicyResource) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_alert_policy"
}

func (r *alertPolicyResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	var checkTypeNames []string
	for _, t := range checkTypes {
		checkTypeNames = append(checkTypeNames, t.name)
	}
	url := stringvalidator.RegexMatches(urlRe, "must be an absolute http or https URL")
	resp.Schema = schema.Schema{
		Description: "An alert policy: which incidents (conditions) notify whom (typed channels). Secrets (webhook " +
			"signing secrets, Slack webhook URLs) are sensitive and kept as configured, since the API masks them.",
		Attributes: map[string]schema.Attribute{
			"id":          idAttribute(),
			"name":        schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthBetween(1, 255)}},
			"description": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
			"enabled":     schema.BoolAttribute{Optional: true, Computed: true, Default: booldefault.StaticBool(true)},
			"cooldown_sec": schema.Int64Attribute{Optional: true, Computed: true,
				PlanModifiers: []planmodifier.Int64{int64planmodifier.UseStateForUnknown()},
				Validators:    []validator.Int64{int64validator.Between(0, 604800)},
				Description:   "Seconds between two notifications of the same incident; left out, the API's default."},
			"conditions": schema.SingleNestedAttribute{Optional: true, Description: "Incidents the policy matches (all when absent).",
				Attributes: map[string]schema.Attribute{
					"severity": schema.SetAttribute{ElementType: types.StringType, Optional: true,
						Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.OneOf(severities...))}},
					"check_types": schema.SetAttribute{ElementType: types.StringType, Optional: true,
						Validators: []validator.Set{setvalidator.ValueStringsAre(stringvalidator.OneOf(checkTypeNames...))}},
					"host_ids": schema.SetAttribute{ElementType: types.StringType, Optional: true,
						Validators: []validator.Set{setvalidator.SizeAtMost(1000), setvalidator.ValueStringsAre(uuidValidator{})}},
					"host_tags": schema.MapAttribute{ElementType: types.StringType, Optional: true},
				}},
			"channels": schema.SingleNestedAttribute{Optional: true, Description: "Where notifications go.",
				Attributes: map[string]schema.Attribute{
					"email": schema.ListAttribute{ElementType: types.StringType, Optional: true,
						Validators: []validator.List{listvalidator.SizeAtMost(100), listvalidator.ValueStringsAre(stringvalidator.LengthBetween(3, 254))}},
					"webhook": schema.ListNestedAttribute{Optional: true, Validators: []validator.List{listvalidator.SizeAtMost(20)},
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"url": schema.StringAttribute{Required: true, Validators: []validator.String{url, stringvalidator.LengthAtMost(2048)}},
							"secret": schema.StringAttribute{Optional: true, Sensitive: true, Description: "HMAC signing secret (16–256 characters, write-only).",
								Validators: []validator.String{stringvalidator.LengthBetween(16, 256)}},
						}}},
					"slack": schema.ListAttribute{ElementType: types.StringType, Optional: true, Sensitive: true,
						Description: "Slack incoming-webhook URLs (secrets).",
						Validators:  []validator.List{listvalidator.SizeAtMost(20), listvalidator.ValueStringsAre(url)}},
					"oncall": schema.ListAttribute{ElementType: types.StringType, Optional: true, Description: "On-call schedule ids.",
						Validators: []validator.List{listvalidator.SizeAtMost(20), listvalidator.ValueStringsAre(uuidValidator{})}},
				}},
			"escalation_policy_id": schema.StringAttribute{Optional: true, Validators: []validator.String{uuidValidator{}},
				Description: "An escalation policy (secumon_escalation_policy) that matching incidents escalate through."},
			"created_at": createdAtAttribute(),
		},
	}
}

func strs(in []types.String) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		out = append(out, s.ValueString())
	}
	return out
}

func uuids(in []types.String, diags *diag.Diagnostics) []uuid.UUID {
	out := make([]uuid.UUID, 0, len(in))
	for _, s := range in {
		id, err := uuid.Parse(s.ValueString())
		if err != nil {
			diags.AddError("Invalid id", err.Error())
		}
		out = append(out, id)
	}
	return out
}

// api turns the plan's conditions and channels into the API's (empty ones when absent,
// so that removing them from the configuration clears them).
func (m alertPolicyModel) api(ctx context.Context, diags *diag.Diagnostics) (*client.AlertConditions, *client.AlertChannels) {
	cond, ch := &client.AlertConditions{}, &client.AlertChannels{}
	if c := m.Conditions; c != nil {
		sev := make([]client.Severity, 0, len(c.Severity))
		for _, s := range strs(c.Severity) {
			sev = append(sev, client.Severity(s))
		}
		cts := make([]client.CheckType, 0, len(c.CheckTypes))
		for _, s := range strs(c.CheckTypes) {
			cts = append(cts, client.CheckType(s))
		}
		hosts := uuids(c.HostIDs, diags)
		tags := client.Tags(mapOfStrings(ctx, c.HostTags, diags))
		cond = &client.AlertConditions{Severity: &sev, CheckTypes: &cts, HostIds: &hosts, HostTags: &tags}
	}
	if c := m.Channels; c != nil {
		email := make([]client.EmailChannel, 0, len(c.Email))
		for _, s := range strs(c.Email) {
			email = append(email, openapi_types.Email(s))
		}
		hooks := make([]client.WebhookChannel, 0, len(c.Webhook))
		for _, w := range c.Webhook {
			hooks = append(hooks, client.WebhookChannel{Url: w.URL.ValueString(), Secret: strPtr(w.Secret)})
		}
		slack := strs(c.Slack)
		oncall := uuids(c.Oncall, diags)
		ch = &client.AlertChannels{Email: &email, Webhook: &hooks, Slack: &slack, Oncall: &oncall}
	}
	return cond, ch
}

func (r *alertPolicyResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var plan alertPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	cond, ch := plan.api(ctx, &resp.Diagnostics)
	var escalation *uuid.UUID
	if !plan.Escalation.IsNull() {
		id := parseID(plan.Escalation, &resp.Diagnostics)
		escalation = &id
	}
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.c.AlertPolicies.Create(ctx, client.AlertPolicyCreate{
		Name: plan.Name.ValueString(), Description: strPtr(plan.Description), Enabled: boolPtr(plan.Enabled),
		CooldownSec: intPtr(plan.CooldownSec), Conditions: cond, Channels: ch, EscalationPolicyId: escalation,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "creating alert policy", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, alertPolicyState(ctx, p, plan, &resp.Diagnostics))...)
}

func (r *alertPolicyResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var state alertPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	p, err := r.c.AlertPolicies.Get(ctx, id)
	if err != nil {
		notFoundRemoves(ctx, err, resp, "alert policy")
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, alertPolicyState(ctx, p, state, &resp.Diagnostics))...)
}

func (r *alertPolicyResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state alertPolicyModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	cond, ch := plan.api(ctx, &resp.Diagnostics)
	// Left out of the configuration, the escalation policy is unset (null), not kept.
	escalation := nullable.NewNullNullable[uuid.UUID]()
	if !plan.Escalation.IsNull() {
		escalation = nullable.NewNullableWithValue(parseID(plan.Escalation, &resp.Diagnostics))
	}
	if resp.Diagnostics.HasError() {
		return
	}
	desc := plan.Description.ValueString()
	p, err := r.c.AlertPolicies.Update(ctx, id, client.AlertPolicyUpdate{
		Name: plan.Name.ValueString(), Description: &desc, Enabled: boolPtr(plan.Enabled),
		CooldownSec: intPtr(plan.CooldownSec), Conditions: cond, Channels: ch, EscalationPolicyId: escalation,
	})
	if err != nil {
		apiError(&resp.Diagnostics, "updating alert policy", err)
		return
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, alertPolicyState(ctx, p, plan, &resp.Diagnostics))...)
}

func (r *alertPolicyResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var state alertPolicyModel
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	id := parseID(state.ID, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	if err := r.c.AlertPolicies.Delete(ctx, id); err != nil && !client.IsNotFound(err) {
		apiError(&resp.Diagnostics, "deleting alert policy", err)
	}
}

// keptSecret is a write-only value as the state keeps it: the API's answer unless it is
// masked, then the prior (configured) value at the same position, else null.
func keptSecret(api string, prior []types.String, i int) types.String {
	if !strings.Contains(api, secretMask) {
		return types.StringValue(api)
	}
	if i < len(prior) {
		return prior[i]
	}
	return types.StringNull()
}

// alertPolicyState is the policy as the API answered it. Empty conditions or channels stay
// null when the configuration left them out (the API answers empty objects).
func alertPolicyState(ctx context.Context, p *client.AlertPolicy, prior alertPolicyModel, diags *diag.Diagnostics) alertPolicyModel {
	m := alertPolicyModel{
		ID: types.StringValue(p.Id.String()), Name: types.StringValue(p.Name), Description: stringOrNull(p.Description),
		Enabled: types.BoolValue(p.Enabled), CooldownSec: types.Int64Value(int64(p.CooldownSec)), CreatedAt: types.StringNull(),
		Escalation: types.StringNull(),
	}
	if p.EscalationPolicyId != nil {
		m.Escalation = types.StringValue(p.EscalationPolicyId.String())
	}
	if p.CreatedAt != nil {
		m.CreatedAt = timeString(*p.CreatedAt)
	}
	list := func(n int, at func(int) string, priorNil bool) []types.String {
		if n == 0 && priorNil {
			return nil
		}
		out := make([]types.String, 0, n)
		for i := 0; i < n; i++ {
			out = append(out, types.StringValue(at(i)))
		}
		return out
	}
	c := p.Conditions
	var pc alertConditions
	if prior.Conditions != nil {
		pc = *prior.Conditions
	}
	cond := alertConditions{HostTags: types.MapNull(types.StringType)}
	if c.Severity != nil {
		cond.Severity = list(len(*c.Severity), func(i int) string { return string((*c.Severity)[i]) }, pc.Severity == nil)
	}
	if c.CheckTypes != nil {
		cond.CheckTypes = list(len(*c.CheckTypes), func(i int) string { return string((*c.CheckTypes)[i]) }, pc.CheckTypes == nil)
	}
	if c.HostIds != nil {
		cond.HostIDs = list(len(*c.HostIds), func(i int) string { return (*c.HostIds)[i].String() }, pc.HostIDs == nil)
	}
	if c.HostTags != nil && (len(*c.HostTags) > 0 || !pc.HostTags.IsNull()) {
		tags, d := types.MapValueFrom(ctx, types.StringType, map[string]string(*c.HostTags))
		diags.Append(d...)
		cond.HostTags = tags
	}
	if cond.Severity != nil || cond.CheckTypes != nil || cond.HostIDs != nil || !cond.HostTags.IsNull() || prior.Conditions != nil {
		m.Conditions = &cond
	}

	ch := p.Channels
	var pch alertChannels
	if prior.Channels != nil {
		pch = *prior.Channels
	}
	out := alertChannels{}
	if ch.Email != nil {
		out.Email = list(len(*ch.Email), func(i int) string { return string((*ch.Email)[i]) }, pch.Email == nil)
	}
	if ch.Oncall != nil {
		out.Oncall = list(len(*ch.Oncall), func(i int) string { return (*ch.Oncall)[i].String() }, pch.Oncall == nil)
	}
	if ch.Slack != nil && (len(*ch.Slack) > 0 || pch.Slack != nil) {
		out.Slack = []types.String{}
		for i, s := range *ch.Slack {
			out.Slack = append(out.Slack, keptSecret(s, pch.Slack, i))
		}
	}
	if ch.Webhook != nil && (len(*ch.Webhook) > 0 || pch.Webhook != nil) {
		out.Webhook = []webhookModel{}
		var priorSecrets []types.String
		for _, w := range pch.Webhook {
			priorSecrets = append(priorSecrets, w.Secret)
		}
		for i, w := range *ch.Webhook {
			secret := types.StringNull()
			if w.Secret != nil {
				secret = keptSecret(*w.Secret, priorSecrets, i)
			}
			out.Webhook = append(out.Webhook, webhookModel{URL: types.StringValue(w.Url), Secret: secret})
		}
	}
	if out.Email != nil || out.Oncall != nil || out.Slack != nil || out.Webhook != nil || prior.Channels != nil {
		m.Channels = &out
	}
	return m
}
