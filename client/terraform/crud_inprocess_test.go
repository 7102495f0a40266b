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
	t.Run("alert policy", func(t *testing.T) {
		p := alertPolicyModel{ID: unknown, Name: sv("critical"), Description: types.StringNull(), Enabled: types.BoolValue(true),
			CooldownSec: types.Int64Unknown(),
			Conditions:  &alertConditions{Severity: []types.String{sv("critical")}, HostTags: types.MapNull(types.StringType)},
			Channels: &alertChannels{Email: []types.String{sv("ops@example.com")},
				Webhook: []webhookModel{{URL: sv("https://hooks.example.com/x"), Secret: sv("0123456789abcdef-secret")}},
				Slack:   []types.String{sv("https://hooks.slack.com/services/T/B/X")}},
			CreatedAt: unknown}
		p2 := p
		p2.Name, p2.Conditions = sv("critical 2"), nil
		crud(t, &alertPolicyResource{base: base{c}}, p, p2)
	})
}
