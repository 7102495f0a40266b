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

func window(title string) string {
	return checkHost + `
resource "secumon_maintenance_window" "upgrade" {
  title          = "` + title + `"
  start_time     = "2099-01-01T03:00:00+01:00"
  end_time       = "2099-01-01T04:00:00Z"
  affected_hosts = [secumon_host.web.id]
}`
}

func TestAccMaintenanceWindow(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_maintenance_window.upgrade"
	var windowID idBox

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		// The API keeps windows as history: destroy cancels them.
		CheckDestroy: func(*terraformState) error {
			w, err := a.c.Maintenance.Get(context.Background(), windowID.v)
			if err == nil {
				assert.Equal(t, client.MaintenanceStatusCancelled, w.Status)
			}
			return nil
		},
		Steps: []resource.TestStep{
			{ // create; the configured time spelling is kept (same instant as the API's UTC)
				Config: a.config(window("DB upgrade")),
				Check: resource.ComposeAggregateTestCheckFunc(
					windowID.capture(addr),
					resource.TestCheckResourceAttr(addr, "status", "scheduled"),
					resource.TestCheckResourceAttr(addr, "start_time", "2099-01-01T03:00:00+01:00"),
					resource.TestCheckResourceAttr(addr, "affected_hosts.#", "1"),
					resource.TestCheckResourceAttr(addr, "suppress_alerts", "true"),
				),
			},
			{ // update in place
				Config: a.config(window("DB upgrade, take 2")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraformState) error {
					w, err := a.c.Maintenance.Get(context.Background(), windowID.v)
					require.NoError(t, err)
					assert.Equal(t, "DB upgrade, take 2", w.Title)
					return nil
				},
			},
			{ // import by id (the API answers the times in UTC)
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"start_time"},
			},
			{ // drift: changed out of band
				PreConfig: func() {
					_, err := a.c.Maintenance.Update(context.Background(), windowID.v, client.MaintenanceWindowUpdate{Title: client.Ptr("renamed")})
					require.NoError(t, err)
				},
				Config:             a.config(window("DB upgrade, take 2")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{ // drift: cancelled out of band is created again
				PreConfig: func() { require.NoError(t, a.c.Maintenance.Cancel(context.Background(), windowID.v)) },
				Config:    a.config(window("DB upgrade, take 2")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: windowID.capture(addr),
			},
		},
	})
}
