package provider_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
)

func TestAccHost(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_host.web"
	// A host the configuration does not manage: destroy must leave it alone.
	other, err := a.c.Hosts.Create(context.Background(), client.HostCreate{Name: "not-managed", Hostname: "127.0.0.9"})
	require.NoError(t, err)
	var hostID idBox

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		CheckDestroy: func(s *terraformState) error {
			if err := gone("secumon_host", func(ctx context.Context, id client.Id) error {
				_, err := a.c.Hosts.Get(ctx, id)
				return err
			})(s); err != nil {
				return err
			}
			_, err := a.c.Hosts.Get(context.Background(), other.Id)
			return err // the unmanaged host is still there
		},
		Steps: []resource.TestStep{
			{ // plan-time validation from the contract's bounds and enums
				Config:      a.config(`resource "secumon_host" "web" { name = "web-01"  hostname = "bad host!"  host_type = "mainframe" }`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)(hostname.*host_type|host_type.*hostname)`),
			},
			{ // create
				Config: a.config(`
resource "secumon_host" "web" {
  name     = "web-01"
  hostname = "127.0.0.1"
  tags     = { env = "prod" }
}`),
				Check: resource.ComposeAggregateTestCheckFunc(
					hostID.capture(addr),
					resource.TestCheckResourceAttrSet(addr, "id"),
					resource.TestCheckResourceAttrSet(addr, "created_at"),
					resource.TestCheckResourceAttr(addr, "host_type", "server"),
					resource.TestCheckResourceAttr(addr, "is_active", "true"),
					resource.TestCheckResourceAttr(addr, "tags.env", "prod"),
					func(*terraformState) error { // what the API holds
						h, err := a.c.Hosts.Get(context.Background(), hostID.v)
						require.NoError(t, err)
						require.Equal(t, "127.0.0.1", h.Hostname)
						require.Equal(t, "prod", h.Tags["env"])
						return nil
					},
				),
			},
			{ // update in place
				Config: a.config(`
resource "secumon_host" "web" {
  name        = "web-01"
  hostname    = "127.0.0.2"
  host_type   = "vm"
  description = "the web server"
  is_active   = false
}`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "hostname", "127.0.0.2"),
					resource.TestCheckResourceAttr(addr, "host_type", "vm"),
					resource.TestCheckResourceAttr(addr, "is_active", "false"),
					resource.TestCheckResourceAttr(addr, "tags.%", "0"),
					func(*terraformState) error {
						h, err := a.c.Hosts.Get(context.Background(), hostID.v)
						require.NoError(t, err)
						require.Equal(t, "127.0.0.2", h.Hostname)
						require.False(t, h.IsActive)
						require.Empty(t, h.Tags)
						return nil
					},
				),
			},
			{ // import by id
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
			},
			{ // drift: changed out of band shows in the plan
				PreConfig: func() {
					_, err := a.c.Hosts.Update(context.Background(), hostID.v, client.HostUpdate{Hostname: client.Ptr("127.9.9.9")})
					require.NoError(t, err)
				},
				Config: a.config(`
resource "secumon_host" "web" {
  name        = "web-01"
  hostname    = "127.0.0.2"
  host_type   = "vm"
  description = "the web server"
  is_active   = false
}`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
				}},
				Check: resource.TestCheckResourceAttr(addr, "hostname", "127.0.0.2"),
			},
			{ // drift: deleted out of band is created again
				PreConfig: func() { require.NoError(t, a.c.Hosts.Delete(context.Background(), hostID.v)) },
				Config: a.config(`
resource "secumon_host" "web" {
  name     = "web-01"
  hostname = "127.0.0.2"
}
data "secumon_host" "by_name" { name = secumon_host.web.name }
data "secumon_host" "by_id" { id = secumon_host.web.id }
data "secumon_workspace" "this" {}
data "secumon_workers" "all" {}`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPair("data.secumon_host.by_name", "id", addr, "id"),
					resource.TestCheckResourceAttr("data.secumon_host.by_name", "hostname", "127.0.0.2"),
					resource.TestCheckResourceAttrPair("data.secumon_host.by_id", "name", addr, "name"),
					resource.TestCheckResourceAttr("data.secumon_workspace.this", "slug", "default"),
					resource.TestCheckResourceAttr("data.secumon_workspace.this", "role", "owner"),
					resource.TestCheckResourceAttr("data.secumon_workers.all", "workers.#", "0"),
				),
			},
		},
	})
}
