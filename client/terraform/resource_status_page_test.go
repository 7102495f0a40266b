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

func statusPage(title string) string {
	return checkHost + `
resource "secumon_check" "web" {
  host_id = secumon_host.web.id
  name    = "web tcp"
  tcp     = { port = 8081 }
}

resource "secumon_status_page" "public" {
  slug  = "tf-status"
  title = "` + title + `"
  components = [
    { name = "Website", host_id = secumon_host.web.id, group = "Web" },
    { name = "API port", check_id = secumon_check.web.id },
  ]
}`
}

func TestAccStatusPage(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_status_page.public"
	var pageID idBox
	var firstComponent client.Id

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		CheckDestroy: gone("secumon_status_page", func(ctx context.Context, id client.Id) error {
			_, err := a.c.StatusPages.Get(ctx, id)
			return err
		}),
		Steps: []resource.TestStep{
			{
				Config: a.config(statusPage("Shop status")),
				Check: resource.ComposeAggregateTestCheckFunc(
					pageID.capture(addr),
					resource.TestCheckResourceAttr(addr, "components.#", "2"),
					resource.TestCheckResourceAttr(addr, "is_public", "true"),
					func(*terraformState) error {
						p, err := a.c.StatusPages.Get(context.Background(), pageID.v)
						require.NoError(t, err)
						require.Len(t, p.Components, 2)
						firstComponent = *p.Components[0].Id
						return nil
					},
				),
			},
			{ // update in place; the components keep their ids
				Config: a.config(statusPage("Shop status, live")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: func(*terraformState) error {
					p, err := a.c.StatusPages.Get(context.Background(), pageID.v)
					require.NoError(t, err)
					assert.Equal(t, "Shop status, live", p.Title)
					assert.Equal(t, firstComponent, *p.Components[0].Id)
					return nil
				},
			},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true},
			{ // drift: a component removed through the API
				PreConfig: func() {
					p, err := a.c.StatusPages.Get(context.Background(), pageID.v)
					require.NoError(t, err)
					_, err = a.c.StatusPages.Update(context.Background(), pageID.v, client.StatusPageUpdate{Components: &[]client.StatusPageComponent{p.Components[0]}})
					require.NoError(t, err)
				},
				Config:             a.config(statusPage("Shop status, live")),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{ // deleted out of band: created again
				PreConfig: func() { require.NoError(t, a.c.StatusPages.Delete(context.Background(), pageID.v)) },
				Config:    a.config(statusPage("Shop status, live")),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}
