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

func schedule(name string) string {
	return `
resource "secumon_oncall_schedule" "ops" {
  name          = "` + name + `"
  timezone      = "Europe/Paris"
  rotation_type = "weekly"
  handoff_time  = "09:00"
  members = [
    { name = "Alice", email = "alice@example.com", phone = "+33600000001" },
    { name = "Bob", email = "bob@example.com" },
  ]
  overrides = [
    { name = "Carol", email = "carol@example.com", start = "2099-01-01T00:00:00+01:00", end = "2099-01-02T00:00:00Z" },
  ]
}`
}

func TestAccOncallSchedule(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_oncall_schedule.ops"
	var schedID idBox

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		CheckDestroy: gone("secumon_oncall_schedule", func(ctx context.Context, id client.Id) error {
			_, err := a.c.Oncall.Get(ctx, id)
			return err
		}),
		Steps: []resource.TestStep{
			{
				Config: a.config(schedule("Ops")),
				Check: resource.ComposeAggregateTestCheckFunc(
					schedID.capture(addr),
					resource.TestCheckResourceAttr(addr, "members.#", "2"),
					resource.TestCheckResourceAttr(addr, "members.0.phone", "+33600000001"),
					resource.TestCheckResourceAttr(addr, "overrides.0.start", "2099-01-01T00:00:00+01:00"),
					resource.TestCheckResourceAttrSet(addr, "rotation_start"),
				),
			},
			{ // update in place
				Config: a.config(schedule("Ops team")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraformState) error {
					d, err := a.c.Oncall.Get(context.Background(), schedID.v)
					require.NoError(t, err)
					assert.Equal(t, "Ops team", d.Schedule.Name)
					assert.Len(t, d.Schedule.Members, 2)
					return nil
				},
			},
			{ // import (the API answers override times in UTC)
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"overrides.0.start"},
			},
			{ // drift: a member removed through the API
				PreConfig: func() {
					d, err := a.c.Oncall.Get(context.Background(), schedID.v)
					require.NoError(t, err)
					members := d.Schedule.Members[:1]
					require.NoError(t, a.c.Oncall.Update(context.Background(), schedID.v, client.OncallScheduleUpdate{Name: d.Schedule.Name, Members: &members}))
				},
				Config:             a.config(schedule("Ops team")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{ // deleted out of band: created again
				PreConfig: func() { require.NoError(t, a.c.Oncall.Delete(context.Background(), schedID.v)) },
				Config:    a.config(schedule("Ops team")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}
