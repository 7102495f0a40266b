package provider

import (
	"context"
	"testing"

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

// crud drives a resource's Create, Read, Update, Read and Delete in process against a real
// server, checking what Terraform checks: the state after an apply keeps every value the
// plan knew, and a Read right after finds no drift. plans are the plans of the create and of
// each update (their id and computed attributes unknown).
func crud(t *testing.T, r resource.Resource, plans ...any) {
	t.Helper()
	ctx := context.Background()
	var sr resource.SchemaResponse
	r.Schema(ctx, resource.SchemaRequest{}, &sr)
	typ := sr.Schema.Type().TerraformType(ctx)
	null := tftypes.NewValue(typ, nil)

	var state tfsdk.State
	for i, model := range plans {
		plan := tfsdk.Plan{Schema: sr.Schema, Raw: null}
		require.False(t, plan.Set(ctx, model).HasError())
		if i == 0 {
			resp := &resource.CreateResponse{State: tfsdk.State{Schema: sr.Schema, Raw: null}}
			r.Create(ctx, resource.CreateRequest{Plan: plan}, resp)
			require.False(t, resp.Diagnostics.HasError(), "create: %v", resp.Diagnostics)
			state = resp.State
		} else {
			var id, created types.String
			state.GetAttribute(ctx, path.Root("id"), &id)
			state.GetAttribute(ctx, path.Root("created_at"), &created)
			plan.SetAttribute(ctx, path.Root("id"), id)
			plan.SetAttribute(ctx, path.Root("created_at"), created)
			resp := &resource.UpdateResponse{State: tfsdk.State{Schema: sr.Schema, Raw: plan.Raw}}
			r.Update(ctx, resource.UpdateRequest{Plan: plan, State: state}, resp)
			require.False(t, resp.Diagnostics.HasError(), "update %d: %v", i, resp.Diagnostics)
			state = resp.State
		}
		keepsPlan(t, plan.Raw, state.Raw)
		assert.True(t, state.Raw.IsFullyKnown(), "step %d: unknown values left in the state", i)

		read := &resource.ReadResponse{State: state}
		r.Read(ctx, resource.ReadRequest{State: state}, read)
		require.False(t, read.Diagnostics.HasError(), "read: %v", read.Diagnostics)
		assert.True(t, read.State.Raw.Equal(state.Raw), "step %d: drift right after the apply:\napplied %v\nread    %v", i, state.Raw, read.State.Raw)
	}
	del := &resource.DeleteResponse{State: state}
	r.Delete(ctx, resource.DeleteRequest{State: state}, del)
	require.False(t, del.Diagnostics.HasError(), "delete: %v", del.Diagnostics)
	gone := &resource.ReadResponse{State: state}
	r.Read(ctx, resource.ReadRequest{State: state}, gone)
	require.False(t, gone.Diagnostics.HasError(), "read after delete: %v", gone.Diagnostics)
	assert.True(t, gone.State.Raw.IsNull(), "a deleted resource leaves the state")
}

// keepsPlan fails when a value the plan knew differs in the applied state.
func keepsPlan(t *testing.T, plan, state tftypes.Value) {
	t.Helper()
	_ = tftypes.Walk(plan, func(p *tftypes.AttributePath, v tftypes.Value) (bool, error) {
		if !v.IsKnown() {
			return false, nil
		}
		if v.Type().Is(tftypes.Object{}) || v.Type().Is(tftypes.List{}) || v.Type().Is(tftypes.Set{}) || v.Type().Is(tftypes.Map{}) {
			if v.IsNull() {
				got, _, err := tftypes.WalkAttributePath(state, p)
				if err == nil {
					assert.True(t, got.(tftypes.Value).IsNull(), "%s: planned null, applied %v", p, got)
				}
				return false, nil
			}
			return true, nil
		}
		got, _, err := tftypes.WalkAttributePath(state, p)
		if assert.NoError(t, err, "%s", p) {
			assert.True(t, v.Equal(got.(tftypes.Value)), "%s: planned %v, applied %v", p, v, got)
		}
		return false, nil
	})
}

func inProcessClient(t *testing.T) *client.Client {
	env := servertest.Start(t)
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	return c
}

func sv(s string) types.String { return types.StringValue(s) }

func TestResourcesInProcess(t *testing.T) {
	ctx := context.Background()
	c := inProcessClient(t)
	unknown := types.StringUnknown()
	host, err := c.Hosts.Create(ctx, client.HostCreate{Name: "web-01", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	hostID := sv(host.Id.String())

	t.Run("host", func(t *testing.T) {
		tags := types.MapValueMust(types.StringType, map[string]attrValue{"env": sv("prod")})
		none := types.MapValueMust(types.StringType, map[string]attrValue{})
		crud(t, &hostResource{base: base{c}},
			hostModel{ID: unknown, Name: sv("db-01"), Hostname: sv("127.0.0.1"), HostType: sv("server"),
				Description: types.StringNull(), Tags: tags, IsActive: types.BoolValue(true), CreatedAt: unknown},
			hostModel{ID: unknown, Name: sv("db-01"), Hostname: sv("127.0.0.2"), HostType: sv("vm"),
				Description: sv("primary"), Tags: none, IsActive: types.BoolValue(false), CreatedAt: unknown},
			hostModel{ID: unknown, Name: sv("db-01"), Hostname: sv("127.0.0.2"), HostType: sv("vm"),
				Description: types.StringNull(), Tags: none, IsActive: types.BoolValue(false), CreatedAt: unknown})
	})
	t.Run("maintenance window", func(t *testing.T) {
		hosts := types.SetValueMust(types.StringType, []attrValue{hostID})
		m := maintenanceWindowModel{ID: unknown, Title: sv("upgrade"), Description: types.StringNull(),
			StartTime: sv("2099-01-01T03:00:00+01:00"), EndTime: sv("2099-01-01T04:00:00Z"),
			SuppressAlerts: types.BoolValue(true), NotifySubscribers: types.BoolValue(false), AffectedHosts: hosts,
			Status: unknown, CreatedAt: unknown}
		m2 := m
		m2.Title, m2.Description = sv("upgrade, take 2"), sv("kernel")
		r := &maintenanceWindowResource{base: base{c}}
		// Delete cancels: the read after it removes the window from the state.
		crud(t, r, m, m2)
	})
	t.Run("status page", func(t *testing.T) {
		comp := func(name string) statusPageComponent {
			return statusPageComponent{Name: sv(name), Group: types.StringNull(), Order: types.Int64Null(), HostID: hostID, CheckID: types.StringNull()}
		}
		p := statusPageModel{ID: unknown, Slug: sv("inproc"), Title: sv("Status"), Description: types.StringNull(),
			IsPublic: types.BoolValue(true), ShowHistoryDays: types.Int64Value(90),
			Components: []statusPageComponent{comp("Web"), comp("Web again")}, CreatedAt: unknown}
		p2 := p
		p2.Title, p2.Components = sv("Status 2"), []statusPageComponent{comp("Web")}
		crud(t, &statusPageResource{base: base{c}}, p, p2)
	})
	t.Run("oncall schedule", func(t *testing.T) {
		s := oncallScheduleModel{ID: unknown, Name: sv("Ops"), Description: types.StringNull(), Timezone: sv("Europe/Paris"),
			RotationType: sv("weekly"), RotationStart: unknown, HandoffTime: sv("09:00"), RotationLengthHours: types.Int64Unknown(),
			Members:   []oncallMember{{Name: sv("Alice"), Email: sv("alice@example.com"), Phone: types.StringNull()}},
			Overrides: []oncallOverride{{Name: sv("Bob"), Email: sv("bob@example.com"), Phone: sv("+33600000002"), Start: sv("2099-01-01T00:00:00+01:00"), End: sv("2099-01-02T00:00:00Z")}},
			CreatedAt: unknown}
		s2 := s
		s2.Name, s2.Overrides = sv("Ops team"), nil
		crud(t, &oncallScheduleResource{base: base{c}}, s, s2)
	})
	// The paging channels, every secret set: the API masks them all, and the state must
	// keep the configured values (crud fails on any drift).
	paging := func() *alertChannels {
		return &alertChannels{
			Teams:    []types.String{sv("https://prod-00.westeurope.logic.azure.com/workflows/0a1b2c3d/triggers/manual/paths/invoke?sig=XXXX")},
			Discord:  []types.String{sv("https://discord.com/api/webhooks/123456789012345678/XXXX")},
			Telegram: []telegramModel{{BotToken: sv("123456789:AAF-abcdefghijklmnopqrstuvwxyz0123456"), ChatID: sv("-1001234567890")}},
			Pagerduty: []pagerdutyModel{{RoutingKey: sv("R0123456789ABCDEF0123456789ABCDE"), Severity: sv("error")},
				{RoutingKey: sv("S0123456789ABCDEF0123456789ABCDE"), Severity: types.StringNull()}},
			Opsgenie: []opsgenieModel{{APIKey: sv("eb243592-faa2-4ba2-a551-1afdf565c889"), Region: sv("eu"), Priority: sv("P2")}},
			Ntfy: []ntfyModel{{URL: sv("https://ntfy.sh/secumon-ops-7f3a"), Token: sv("tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2"),
				Priority: types.Int64Value(4), Tags: []types.String{sv("rotating_light")}}},
		}
	}
	schedule, err := c.Oncall.Create(ctx, client.OncallScheduleCreate{Name: "Ops",
		Members: &[]client.OncallMember{{Name: "Alice", Email: "alice@example.com", Phone: client.Ptr("+33600000001")}}})
	require.NoError(t, err)
	scheduleID := sv(schedule.Id.String())
	escalation, err := c.EscalationPolicies.Create(ctx, client.EscalationPolicyCreate{Name: "for the alert policy",
		Levels: []client.EscalationLevel{{WaitSec: 300, Targets: []client.EscalationTarget{{Type: "oncall", ScheduleId: &schedule.Id}}}}})
	require.NoError(t, err)

	t.Run("escalation policy", func(t *testing.T) {
		oncall := escalationTarget{Type: sv("oncall"), ScheduleID: scheduleID, MemberEmail: types.StringNull(), Timezone: types.StringNull()}
		member := escalationTarget{Type: sv("member"), ScheduleID: scheduleID, MemberEmail: sv("alice@example.com"),
			Via: []types.String{sv("email"), sv("sms")}, Timezone: sv("Europe/Paris"),
			TimeSlots: []timeSlot{{Days: []types.String{sv("mon"), sv("fri")}, Start: sv("08:00"), End: sv("18:00")}}}
		channels := escalationTarget{Type: sv("channels"), ScheduleID: types.StringNull(), MemberEmail: types.StringNull(),
			Timezone: types.StringNull(), Channels: paging()}
		p := escalationPolicyModel{ID: unknown, Name: sv("ops chain"), Description: sv("nights"), Repeat: types.Int64Value(1),
			ReminderSec: types.Int64Value(900), CreatedAt: unknown, Levels: []escalationLevel{
				{WaitSec: types.Int64Value(300), Targets: []escalationTarget{oncall}},
				{WaitSec: types.Int64Value(600), Targets: []escalationTarget{member, channels}},
			}}
		p2 := p
		p2.Name, p2.Description, p2.ReminderSec, p2.Repeat = sv("ops chain 2"), types.StringNull(), types.Int64Null(), types.Int64Value(0)
		p2.Levels = []escalationLevel{{WaitSec: types.Int64Value(900), Targets: []escalationTarget{channels, oncall}}}
		crud(t, &escalationPolicyResource{base: base{c}}, p, p2)
	})
	t.Run("alert policy", func(t *testing.T) {
		p := alertPolicyModel{ID: unknown, Name: sv("critical"), Description: types.StringNull(), Enabled: types.BoolValue(true),
			CooldownSec: types.Int64Unknown(),
			Conditions:  &alertConditions{Severity: []types.String{sv("critical")}, HostTags: types.MapNull(types.StringType)},
			Channels: &alertChannels{Email: []types.String{sv("ops@example.com")},
				Webhook: []webhookModel{{URL: sv("https://hooks.example.com/x"), Secret: sv("0123456789abcdef-secret")}},
				Slack:   []types.String{sv("https://hooks.slack.com/services/T/B/X")}},
			Escalation: types.StringNull(), CreatedAt: unknown}
		p2 := p // the paging channels, and an escalation policy
		p2.Name, p2.Conditions, p2.Channels, p2.Escalation = sv("critical 2"), nil, paging(), sv(escalation.Id.String())
		p3 := p2 // back to e-mail only, no escalation
		p3.Channels, p3.Escalation = &alertChannels{Email: []types.String{sv("ops@example.com")}}, types.StringNull()
		crud(t, &alertPolicyResource{base: base{c}}, p, p2, p3)
	})
	t.Run("alert policy created with every channel", func(t *testing.T) {
		ch := paging()
		ch.Email, ch.Oncall = []types.String{sv("ops@example.com")}, []types.String{scheduleID}
		p := alertPolicyModel{ID: unknown, Name: sv("paging"), Description: sv("all channels"), Enabled: types.BoolValue(true),
			CooldownSec: types.Int64Value(600), Channels: ch, Escalation: sv(escalation.Id.String()), CreatedAt: unknown}
		crud(t, &alertPolicyResource{base: base{c}}, p)
	})
}
