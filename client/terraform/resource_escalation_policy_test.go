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

func escalation(wait, extra string) string {
	return schedule("Ops") + `
resource "secumon_escalation_policy" "ops" {
  name   = "ops chain"
  repeat = 1
  ` + extra + `
  levels = [
    {
      wait_sec = ` + wait + `
      targets  = [{ type = "oncall", schedule_id = secumon_oncall_schedule.ops.id }]
    },
    {
      wait_sec = 600
      targets = [{
        type         = "member"
        schedule_id  = secumon_oncall_schedule.ops.id
        member_email = "alice@example.com"
        via          = ["email", "sms"]
        timezone     = "Europe/Paris"
        time_slots   = [{ days = ["mon", "tue", "wed", "thu", "fri"], start = "08:00", end = "18:00" }]
      }, {
        type = "channels"
        channels = {
          email     = ["noc@example.com"]
          slack     = ["https://hooks.slack.com/services/T000/B000/XXXXXXXX"]
          pagerduty = [{ routing_key = "R0123456789ABCDEF0123456789ABCDE" }]
        }
      }]
    },
  ]
}`
}

func TestAccEscalationPolicy(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_escalation_policy.ops"
	var policyID idBox

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		CheckDestroy: gone("secumon_escalation_policy", func(ctx context.Context, id client.Id) error {
			_, err := a.c.EscalationPolicies.Get(ctx, id)
			return err
		}),
		Steps: []resource.TestStep{
			{ // create
				Config: a.config(escalation("300", "")),
				Check: resource.ComposeAggregateTestCheckFunc(
					policyID.capture(addr),
					resource.TestCheckResourceAttr(addr, "levels.#", "2"),
					resource.TestCheckNoResourceAttr(addr, "levels.0.targets.0.via"),
					resource.TestCheckNoResourceAttr(addr, "reminder_sec"),
					resource.TestCheckResourceAttr(addr, "levels.1.targets.1.channels.pagerduty.0.routing_key", "R0123456789ABCDEF0123456789ABCDE"),
					resource.TestCheckNoResourceAttr(addr, "levels.0.targets.0.channels"),
					func(*terraformState) error {
						p, err := a.c.EscalationPolicies.Get(context.Background(), policyID.v)
						require.NoError(t, err)
						assert.Equal(t, 1, p.Repeat)
						require.Len(t, p.Levels, 2)
						assert.Equal(t, 300, p.Levels[0].WaitSec)
						tg := p.Levels[1].Targets[0]
						require.NotNil(t, tg.Via)
						assert.Equal(t, []client.EscalationVia{client.EscalationViaEmail, client.EscalationViaSms}, *tg.Via)
						require.NotNil(t, tg.TimeSlots)
						require.Len(t, *tg.TimeSlots, 1)
						assert.Equal(t, "08:00", (*tg.TimeSlots)[0].Start)
						require.Len(t, p.Levels[1].Targets, 2)
						chans := p.Levels[1].Targets[1].Channels
						require.NotNil(t, chans)
						require.NotNil(t, chans.Email)
						assert.Equal(t, "noc@example.com", string((*chans.Email)[0]))
						require.NotNil(t, chans.Pagerduty)
						assert.Len(t, *chans.Pagerduty, 1)
						return nil
					},
				),
			},
			{ // update in place: a wait and a reminder
				Config: a.config(escalation("900", "reminder_sec = 1800")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "levels.0.wait_sec", "900"),
					resource.TestCheckResourceAttr(addr, "reminder_sec", "1800"),
					func(*terraformState) error {
						p, err := a.c.EscalationPolicies.Get(context.Background(), policyID.v)
						require.NoError(t, err)
						assert.Equal(t, policyID.v, p.Id)
						assert.Equal(t, 900, p.Levels[0].WaitSec)
						require.NotNil(t, p.ReminderSec)
						assert.Equal(t, 1800, *p.ReminderSec)
						return nil
					},
				),
			},
			{ // reminder removed from the configuration: cleared
				Config: a.config(escalation("900", "")),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(addr, "reminder_sec"),
					func(*terraformState) error {
						p, err := a.c.EscalationPolicies.Get(context.Background(), policyID.v)
						require.NoError(t, err)
						assert.True(t, p.ReminderSec == nil || *p.ReminderSec == 0)
						return nil
					},
				),
			},
			{ // import
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
				// write-only secrets cannot be read back
				ImportStateVerifyIgnore: []string{"levels.1.targets.1.channels.slack", "levels.1.targets.1.channels.pagerduty.0.routing_key"},
			},
			{ // drift
				PreConfig: func() {
					_, err := a.c.EscalationPolicies.Update(context.Background(), policyID.v, client.EscalationPolicyUpdate{Name: "renamed"})
					require.NoError(t, err)
				},
				Config:             a.config(escalation("900", "")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{ // deleted out of band: created again
				PreConfig: func() { require.NoError(t, a.c.EscalationPolicies.Delete(context.Background(), policyID.v)) },
				Config:    a.config(escalation("900", "")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}
