package provider

import (
	"context"
	"regexp"
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
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
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
	Email     []types.String   `tfsdk:"email"`
	Webhook   []webhookModel   `tfsdk:"webhook"`
	Slack     []types.String   `tfsdk:"slack"`
	Oncall    []types.String   `tfsdk:"oncall"`
	Teams     []types.String   `tfsdk:"teams"`
	Discord   []types.String   `tfsdk:"discord"`
	Telegram  []telegramModel  `tfsdk:"telegram"`
	Pagerduty []pagerdutyModel `tfsdk:"pagerduty"`
	Opsgenie  []opsgenieModel  `tfsdk:"opsgenie"`
	Ntfy      []ntfyModel      `tfsdk:"ntfy"`
}

type telegramModel struct {
	BotToken types.String `tfsdk:"bot_token"`
	ChatID   types.String `tfsdk:"chat_id"`
}

type pagerdutyModel struct {
	RoutingKey types.String `tfsdk:"routing_key"`
	Severity   types.String `tfsdk:"severity"`
}

type opsgenieModel struct {
	APIKey   types.String `tfsdk:"api_key"`
	Region   types.String `tfsdk:"region"`
	Priority types.String `tfsdk:"priority"`
}

type ntfyModel struct {
	URL      types.String   `tfsdk:"url"`
	Token    types.String   `tfsdk:"token"`
	Priority types.Int64    `tfsdk:"priority"`
	Tags     []types.String `tfsdk:"tags"`
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
			"channels": channelsAttribute("Where notifications go."),
			"escalation_policy_id": schema.StringAttribute{Optional: true, Validators: []validator.String{uuidValidator{}},
				Description: "An escalation policy (secumon_escalation_policy) that matching incidents escalate through."},
			"created_at": createdAtAttribute(),
		},
	}
}

// Bounds of the new channels' secrets and ids, as openapi/secumon.yaml states them.
var (
	telegramTokenRe = regexp.MustCompile(`^[0-9]{1,20}:[A-Za-z0-9_-]{30,100}$`)
	telegramChatRe  = regexp.MustCompile(`^(-?[0-9]{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$`)
	pagerdutyKeyRe  = regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	opsgenieKeyRe   = regexp.MustCompile(`^[A-Za-z0-9-]{16,64}$`)
	ntfyURLRe       = regexp.MustCompile(`^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]+/[^/?#\s]+$`)
	ntfyTokenRe     = regexp.MustCompile(`^\S{8,256}$`)
	ntfyTagRe       = regexp.MustCompile(`^[^,\r\n]{1,64}$`)
)

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
	ch = m.Channels.api(diags)
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
	list := stringList
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

	m.Channels = channelsState(p.Channels, prior.Channels)
	return m
}

// stringList is n strings as the state keeps them: null when the API answers none and the
// configuration left the list out.
func stringList(n int, at func(int) string, priorNil bool) []types.String {
	if n == 0 && priorNil {
		return nil
	}
	out := make([]types.String, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, types.StringValue(at(i)))
	}
	return out
}

// channelsAttribute is the schema of typed notification channels, shared by alert policies
// and escalation targets (the API's AlertChannels).
func channelsAttribute(description string) schema.SingleNestedAttribute {
	url := stringvalidator.RegexMatches(urlRe, "must be an absolute http or https URL")
	return schema.SingleNestedAttribute{Optional: true, Description: description,
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
			"teams": schema.ListAttribute{ElementType: types.StringType, Optional: true, Sensitive: true,
				Description: "Microsoft Teams Workflows webhook URLs (secrets).",
				Validators:  []validator.List{listvalidator.SizeAtMost(20), listvalidator.ValueStringsAre(url, stringvalidator.LengthAtMost(2048))}},
			"discord": schema.ListAttribute{ElementType: types.StringType, Optional: true, Sensitive: true,
				Description: "Discord webhook URLs (secrets).",
				Validators:  []validator.List{listvalidator.SizeAtMost(20), listvalidator.ValueStringsAre(url, stringvalidator.LengthAtMost(2048))}},
			"telegram": schema.ListNestedAttribute{Optional: true, Validators: []validator.List{listvalidator.SizeAtMost(20)},
				Description: "Telegram chats a bot posts to.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"bot_token": schema.StringAttribute{Required: true, Sensitive: true, Description: "The bot's token from @BotFather (write-only).",
						Validators: []validator.String{stringvalidator.RegexMatches(telegramTokenRe, "must be a bot token from @BotFather")}},
					"chat_id": schema.StringAttribute{Required: true, Description: "A numeric chat id or a public channel's @username.",
						Validators: []validator.String{stringvalidator.RegexMatches(telegramChatRe, "must be a numeric chat id or a public channel's @username")}},
				}}},
			"pagerduty": schema.ListNestedAttribute{Optional: true, Validators: []validator.List{listvalidator.SizeAtMost(20)},
				Description: "PagerDuty services (Events API v2).",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"routing_key": schema.StringAttribute{Required: true, Sensitive: true, Description: "The 32-character integration key (write-only).",
						Validators: []validator.String{stringvalidator.RegexMatches(pagerdutyKeyRe, "must be the 32-character integration key")}},
					"severity": schema.StringAttribute{Optional: true, Description: "Severity of every alert; absent, it follows the incident's.",
						Validators: []validator.String{stringvalidator.OneOf("critical", "error", "warning", "info")}},
				}}},
			"opsgenie": schema.ListNestedAttribute{Optional: true, Validators: []validator.List{listvalidator.SizeAtMost(20)},
				Description: "Opsgenie API integrations.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"api_key": schema.StringAttribute{Required: true, Sensitive: true, Description: "The API integration key (write-only).",
						Validators: []validator.String{stringvalidator.RegexMatches(opsgenieKeyRe, "must be the API integration key")}},
					"region": schema.StringAttribute{Optional: true, Computed: true, Default: stringdefault.StaticString("us"),
						Description: "`us` or `eu`.", Validators: []validator.String{stringvalidator.OneOf("us", "eu")}},
					"priority": schema.StringAttribute{Optional: true, Description: "P1 to P5; absent, it follows the incident's severity.",
						Validators: []validator.String{stringvalidator.OneOf("P1", "P2", "P3", "P4", "P5")}},
				}}},
			"ntfy": schema.ListNestedAttribute{Optional: true, Validators: []validator.List{listvalidator.SizeAtMost(20)},
				Description: "ntfy topics.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"url": schema.StringAttribute{Required: true, Sensitive: true, Description: "The topic URL (a secret: the topic works as a password).",
						Validators: []validator.String{stringvalidator.RegexMatches(ntfyURLRe, "must be the http or https URL of a topic"), stringvalidator.LengthAtMost(2048)}},
					"token": schema.StringAttribute{Optional: true, Sensitive: true, Description: "An access token (write-only).",
						Validators: []validator.String{stringvalidator.RegexMatches(ntfyTokenRe, "must be 8 to 256 non-space characters")}},
					"priority": schema.Int64Attribute{Optional: true, Description: "1 (min) to 5 (max); absent, it follows the incident's severity.",
						Validators: []validator.Int64{int64validator.Between(1, 5)}},
					"tags": schema.ListAttribute{ElementType: types.StringType, Optional: true,
						Validators: []validator.List{listvalidator.SizeAtMost(10), listvalidator.ValueStringsAre(stringvalidator.RegexMatches(ntfyTagRe, "must be 1 to 64 characters without commas or line breaks"))}},
				}}},
		}}
}

// api is the channels as the API takes them: empty lists when absent, so that removing them
// from the configuration clears them.
func (c *alertChannels) api(diags *diag.Diagnostics) *client.AlertChannels {
	if c == nil {
		return &client.AlertChannels{}
	}
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
	teams, discord := strs(c.Teams), strs(c.Discord)
	telegram := make([]client.TelegramChannel, 0, len(c.Telegram))
	for _, t := range c.Telegram {
		telegram = append(telegram, client.TelegramChannel{BotToken: strPtr(t.BotToken), ChatId: t.ChatID.ValueString()})
	}
	pd := make([]client.PagerdutyChannel, 0, len(c.Pagerduty))
	for _, p := range c.Pagerduty {
		pd = append(pd, client.PagerdutyChannel{RoutingKey: strPtr(p.RoutingKey), Severity: (*client.PagerdutyChannelSeverity)(strPtr(p.Severity))})
	}
	og := make([]client.OpsgenieChannel, 0, len(c.Opsgenie))
	for _, o := range c.Opsgenie {
		og = append(og, client.OpsgenieChannel{ApiKey: strPtr(o.APIKey), Region: (*client.OpsgenieChannelRegion)(strPtr(o.Region)),
			Priority: (*client.OpsgenieChannelPriority)(strPtr(o.Priority))})
	}
	ntfy := make([]client.NtfyChannel, 0, len(c.Ntfy))
	for _, n := range c.Ntfy {
		nc := client.NtfyChannel{Url: n.URL.ValueString(), Token: strPtr(n.Token)}
		if !n.Priority.IsNull() && !n.Priority.IsUnknown() {
			prio := int32(n.Priority.ValueInt64())
			nc.Priority = &prio
		}
		if n.Tags != nil {
			tags := strs(n.Tags)
			nc.Tags = &tags
		}
		ntfy = append(ntfy, nc)
	}
	return &client.AlertChannels{Email: &email, Webhook: &hooks, Slack: &slack, Oncall: &oncall, Teams: &teams, Discord: &discord,
		Telegram: &telegram, Pagerduty: &pd, Opsgenie: &og, Ntfy: &ntfy}
}

// channelsState is the channels as the API answered them; masked secrets keep the configured
// value at the same position, and lists the configuration left out stay null.
func channelsState(ch client.AlertChannels, prior *alertChannels) *alertChannels {
	list := stringList
	var pch alertChannels
	if prior != nil {
		pch = *prior
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
	secretURLs := func(api *[]string, prior []types.String) []types.String {
		if api == nil || (len(*api) == 0 && prior == nil) {
			return nil
		}
		out := []types.String{}
		for i, s := range *api {
			out = append(out, keptSecret(s, prior, i))
		}
		return out
	}
	out.Teams = secretURLs(ch.Teams, pch.Teams)
	out.Discord = secretURLs(ch.Discord, pch.Discord)
	// Write-only keys come back masked or not at all: the state keeps the configured one
	// at the same position.
	secret := func(api *string, prior []types.String, i int) types.String {
		if api == nil {
			if i < len(prior) {
				return prior[i]
			}
			return types.StringNull()
		}
		return keptSecret(*api, prior, i)
	}
	if ch.Telegram != nil && (len(*ch.Telegram) > 0 || pch.Telegram != nil) {
		var prior []types.String
		for _, t := range pch.Telegram {
			prior = append(prior, t.BotToken)
		}
		out.Telegram = []telegramModel{}
		for i, t := range *ch.Telegram {
			out.Telegram = append(out.Telegram, telegramModel{BotToken: secret(t.BotToken, prior, i), ChatID: types.StringValue(t.ChatId)})
		}
	}
	if ch.Pagerduty != nil && (len(*ch.Pagerduty) > 0 || pch.Pagerduty != nil) {
		var prior []types.String
		for _, p := range pch.Pagerduty {
			prior = append(prior, p.RoutingKey)
		}
		out.Pagerduty = []pagerdutyModel{}
		for i, p := range *ch.Pagerduty {
			out.Pagerduty = append(out.Pagerduty, pagerdutyModel{RoutingKey: secret(p.RoutingKey, prior, i),
				Severity: stringOrNull((*string)(p.Severity))})
		}
	}
	if ch.Opsgenie != nil && (len(*ch.Opsgenie) > 0 || pch.Opsgenie != nil) {
		var prior []types.String
		for _, o := range pch.Opsgenie {
			prior = append(prior, o.APIKey)
		}
		out.Opsgenie = []opsgenieModel{}
		for i, o := range *ch.Opsgenie {
			region := types.StringValue("us")
			if o.Region != nil {
				region = types.StringValue(string(*o.Region))
			}
			out.Opsgenie = append(out.Opsgenie, opsgenieModel{APIKey: secret(o.ApiKey, prior, i), Region: region,
				Priority: stringOrNull((*string)(o.Priority))})
		}
	}
	if ch.Ntfy != nil && (len(*ch.Ntfy) > 0 || pch.Ntfy != nil) {
		var priorURLs, priorTokens []types.String
		var priorTags [][]types.String
		for _, n := range pch.Ntfy {
			priorURLs, priorTokens, priorTags = append(priorURLs, n.URL), append(priorTokens, n.Token), append(priorTags, n.Tags)
		}
		out.Ntfy = []ntfyModel{}
		for i, n := range *ch.Ntfy {
			m := ntfyModel{URL: keptSecret(n.Url, priorURLs, i), Token: types.StringNull(), Priority: types.Int64Null()}
			if n.Token != nil {
				m.Token = secret(n.Token, priorTokens, i)
			}
			if n.Priority != nil {
				m.Priority = types.Int64Value(int64(*n.Priority))
			}
			if n.Tags != nil && (len(*n.Tags) > 0 || (i < len(priorTags) && priorTags[i] != nil)) {
				m.Tags = []types.String{}
				for _, t := range *n.Tags {
					m.Tags = append(m.Tags, types.StringValue(t))
				}
			}
			out.Ntfy = append(out.Ntfy, m)
		}
	}
	if out.Email != nil || out.Oncall != nil || out.Slack != nil || out.Webhook != nil || out.Teams != nil || out.Discord != nil ||
		out.Telegram != nil || out.Pagerduty != nil || out.Opsgenie != nil || out.Ntfy != nil || prior != nil {
		return &out
	}
	return nil
}
