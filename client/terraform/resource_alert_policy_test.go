package provider_test

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
)

func policy(cooldown string) string {
	return schedule("Ops") + `
resource "secumon_alert_policy" "critical" {
  name         = "critical to ops"
  cooldown_sec = ` + cooldown + `
  conditions = {
    severity    = ["critical", "major"]
    check_types = ["http", "tcp"]
    host_tags   = { env = "prod" }
  }
  channels = {
    email   = ["ops@example.com"]
    webhook = [{ url = "https://hooks.example.com/secumon", secret = "0123456789abcdef-signing" }]
    slack   = ["https://hooks.slack.com/services/T000/B000/XXXXXXXX"]
    oncall  = [secumon_oncall_schedule.ops.id]
    teams   = ["https://prod-00.westeurope.logic.azure.com/workflows/0a1b2c3d/triggers/manual/paths/invoke?sig=XXXX"]
    discord = ["https://discord.com/api/webhooks/123456789012345678/XXXX"]
    telegram  = [{ bot_token = "123456789:AAF-abcdefghijklmnopqrstuvwxyz0123456", chat_id = "-1001234567890" }]
    pagerduty = [{ routing_key = "R0123456789ABCDEF0123456789ABCDE", severity = "critical" }]
    opsgenie  = [{ api_key = "eb243592-faa2-4ba2-a551-1afdf565c889", priority = "P2" }]
    ntfy      = [{ url = "https://ntfy.sh/secumon-ops-7f3a", token = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2", priority = 4, tags = ["rotating_light"] }]
  }
}`
}

func TestAccAlertPolicy(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_alert_policy.critical"
	var policyID idBox

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		CheckDestroy: gone("secumon_alert_policy", func(ctx context.Context, id client.Id) error {
			_, err := a.c.AlertPolicies.Get(ctx, id)
			return err
		}),
		Steps: []resource.TestStep{
			{ // create; the webhook secret the API masks stays as configured (no diff after apply)
				Config: a.config(policy("300")),
				Check: resource.ComposeAggregateTestCheckFunc(
					policyID.capture(addr),
					resource.TestCheckResourceAttr(addr, "channels.webhook.0.secret", "0123456789abcdef-signing"),
					resource.TestCheckResourceAttr(addr, "conditions.severity.#", "2"),
					resource.TestCheckResourceAttr(addr, "channels.telegram.0.bot_token", "123456789:AAF-abcdefghijklmnopqrstuvwxyz0123456"),
					resource.TestCheckResourceAttr(addr, "channels.ntfy.0.url", "https://ntfy.sh/secumon-ops-7f3a"),
					resource.TestCheckResourceAttr(addr, "channels.opsgenie.0.region", "us"),
					func(*terraformState) error {
						p, err := a.c.AlertPolicies.Get(context.Background(), policyID.v)
						require.NoError(t, err)
						assert.Equal(t, 300, p.CooldownSec)
						require.Len(t, *p.Channels.Webhook, 1)
						ch := p.Channels
						require.NotNil(t, ch.Teams)
						assert.Len(t, *ch.Teams, 1)
						require.NotNil(t, ch.Discord)
						assert.Len(t, *ch.Discord, 1)
						require.NotNil(t, ch.Telegram)
						require.Len(t, *ch.Telegram, 1)
						assert.Equal(t, "-1001234567890", (*ch.Telegram)[0].ChatId)
						require.NotNil(t, ch.Pagerduty)
						require.Len(t, *ch.Pagerduty, 1)
						assert.Equal(t, client.PagerdutyChannelSeverity("critical"), *(*ch.Pagerduty)[0].Severity)
						require.NotNil(t, ch.Opsgenie)
						require.Len(t, *ch.Opsgenie, 1)
						assert.Equal(t, client.OpsgenieChannelPriority("P2"), *(*ch.Opsgenie)[0].Priority)
						require.NotNil(t, ch.Ntfy)
						require.Len(t, *ch.Ntfy, 1)
						assert.Equal(t, int32(4), *(*ch.Ntfy)[0].Priority)
						assert.Equal(t, []string{"rotating_light"}, *(*ch.Ntfy)[0].Tags)
						return nil
					},
				),
			},
			{ // update in place
				Config: a.config(policy("600")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.TestCheckResourceAttr(addr, "cooldown_sec", "600"),
			},
			{ // import: write-only secrets cannot be read back
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"channels.webhook.0.secret", "channels.slack", "channels.teams", "channels.discord",
					"channels.telegram.0.bot_token", "channels.pagerduty.0.routing_key", "channels.opsgenie.0.api_key",
					"channels.ntfy.0.url", "channels.ntfy.0.token"},
			},
			{ // drift
				PreConfig: func() {
					_, err := a.c.AlertPolicies.Update(context.Background(), policyID.v, client.AlertPolicyUpdate{Name: "renamed", CooldownSec: client.Ptr(60)})
					require.NoError(t, err)
				},
				Config:             a.config(policy("600")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{ // deleted out of band: created again
				PreConfig: func() { require.NoError(t, a.c.AlertPolicies.Delete(context.Background(), policyID.v)) },
				Config:    a.config(policy("600")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}

func routedPolicy(routed bool) string {
	ref := ""
	if routed {
		ref = "escalation_policy_id = secumon_escalation_policy.ops.id"
	}
	return escalation("300", "") + `
resource "secumon_alert_policy" "routed" {
  name = "routed"
  ` + ref + `
}`
}

func TestAccAlertPolicyEscalation(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_alert_policy.routed"
	var policyID, escID idBox

	escalationOf := func() *client.Id {
		p, err := a.c.AlertPolicies.Get(context.Background(), policyID.v)
		require.NoError(t, err)
		return p.EscalationPolicyId
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		Steps: []resource.TestStep{
			{ // created routed to the escalation policy
				Config: a.config(routedPolicy(true)),
				Check: resource.ComposeAggregateTestCheckFunc(
					policyID.capture(addr),
					escID.capture("secumon_escalation_policy.ops"),
					resource.TestCheckResourceAttrPair(addr, "escalation_policy_id", "secumon_escalation_policy.ops", "id"),
					func(*terraformState) error {
						got := escalationOf()
						require.NotNil(t, got)
						assert.Equal(t, escID.v, *got)
						return nil
					},
				),
			},
			{ // import keeps the routing
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
			},
			{ // left out of the configuration: unrouted in place
				Config: a.config(routedPolicy(false)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(addr, "escalation_policy_id"),
					func(*terraformState) error {
						assert.Nil(t, escalationOf())
						return nil
					},
				),
			},
		},
	})
}
