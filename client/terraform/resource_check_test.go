package provider_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
)

const checkHost = `
resource "secumon_host" "web" {
  name     = "web-01"
  hostname = "127.0.0.1"
}
`

// The http check carries every kind of write-only secret: credentials in the URL, a header
// value and a basic-auth password. The API answers them masked; the state must keep the
// configured values, or every plan after the apply would show a diff (the test framework
// fails a step whose post-apply plan is not empty).
const httpCheck = checkHost + `
resource "secumon_check" "web" {
  host_id  = secumon_host.web.id
  name     = "web http"
  severity = "major"
  http = {
    url             = "http://monitor:url-secret@127.0.0.1:8081/health?token=query-secret"
    expected_status = [200, 204]
    headers         = { Authorization = "Bearer header-secret" }
    basic_auth      = { username = "monitor", password = "basic-secret" }
  }
}

resource "secumon_check" "job" {
  host_id   = secumon_host.web.id
  name      = "nightly backup"
  heartbeat = { period_sec = 86400, grace_sec = 600 }
}

data "secumon_check" "web" { id = secumon_check.web.id }
`

func TestAccCheck(t *testing.T) {
	a := newAcc(t)
	const addr = "secumon_check.web"
	var checkID, replacedID idBox

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		CheckDestroy: gone("secumon_check", func(ctx context.Context, id client.Id) error {
			_, err := a.c.Checks.Get(ctx, id)
			return err
		}),
		Steps: []resource.TestStep{
			{ // exactly one check type; bounds of the contract
				Config: a.config(checkHost + `
resource "secumon_check" "web" {
  host_id      = secumon_host.web.id
  name         = "two types"
  interval_sec = 5
  ping         = {}
  tcp          = { port = 70000 }
}`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)(interval_sec|ping|tcp).*(interval_sec|ping|tcp|port)`),
			},
			{ // create
				Config: a.config(httpCheck),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkID.capture(addr),
					resource.TestCheckResourceAttr(addr, "check_type", "http"),
					resource.TestCheckResourceAttr(addr, "interval_sec", "60"),
					resource.TestCheckResourceAttr(addr, "enabled", "true"),
					resource.TestCheckResourceAttr(addr, "http.headers.Authorization", "Bearer header-secret"),
					resource.TestCheckResourceAttr(addr, "http.basic_auth.password", "basic-secret"),
					resource.TestCheckNoResourceAttr(addr, "ping_url"),
					resource.TestCheckResourceAttr("secumon_check.job", "check_type", "heartbeat"),
					resource.TestMatchResourceAttr("secumon_check.job", "ping_url", regexp.MustCompile(`/ping/hb_`)),
					resource.TestCheckResourceAttr("data.secumon_check.web", "check_type", "http"),
					resource.TestMatchResourceAttr("data.secumon_check.web", "config_json", regexp.MustCompile(`\*\*\*\*\*\*\*\*`)),
					func(*terraformState) error { // the API holds the secrets (and masks them)
						c, err := a.c.Checks.Get(context.Background(), checkID.v)
						require.NoError(t, err)
						cfg, err := c.Config.AsHttpConfig()
						require.NoError(t, err)
						assert.Equal(t, "********", *cfg.BasicAuth.Password, "the API masks the password")
						assert.Equal(t, []int{200, 204}, *cfg.ExpectedStatus)
						return nil
					},
				),
			},
			{ // update in place: the check's fields and its config
				Config: a.config(regexp.MustCompile(`severity = "major"`).ReplaceAllString(httpCheck,
					`severity = "minor"
  interval_sec = 120
  enabled = false`)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("secumon_check.job", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "interval_sec", "120"),
					resource.TestCheckResourceAttr(addr, "severity", "minor"),
					func(*terraformState) error {
						c, err := a.c.Checks.Get(context.Background(), checkID.v)
						require.NoError(t, err)
						assert.Equal(t, 120, c.IntervalSec)
						assert.False(t, c.Enabled)
						return nil
					},
				),
			},
			{ // import by id: the API never shows the secrets or the ping URL again
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"http.url", "http.headers", "http.basic_auth.password"},
			},
			{
				ResourceName: "secumon_check.job", ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"ping_url"},
			},
			{ // drift: a change through the API shows in the next plan
				PreConfig: func() {
					_, err := a.c.Checks.Update(context.Background(), checkID.v, client.CheckUpdate{TimeoutSec: client.Ptr(30)})
					require.NoError(t, err)
				},
				Config:             a.config(httpCheck),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{ // replace: another check type
				Config: a.config(checkHost + `
resource "secumon_check" "web" {
  host_id = secumon_host.web.id
  name    = "web tcp"
  tcp     = { port = 8081, send = "PING", expect = "PONG" }
}`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionDestroyBeforeCreate),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					replacedID.capture(addr),
					resource.TestCheckResourceAttr(addr, "check_type", "tcp"),
					resource.TestCheckResourceAttr(addr, "tcp.port", "8081"),
					func(*terraformState) error {
						assert.NotEqual(t, checkID.v, replacedID.v)
						_, err := a.c.Checks.Get(context.Background(), checkID.v)
						assert.True(t, client.IsNotFound(err), "the http check is deleted: %v", err)
						return nil
					},
				),
			},
			{ // drift: deleted out of band is created again
				PreConfig: func() { require.NoError(t, a.c.Checks.Delete(context.Background(), replacedID.v)) },
				Config: a.config(checkHost + `
resource "secumon_check" "web" {
  host_id = secumon_host.web.id
  name    = "web tcp"
  tcp     = { port = 8081, send = "PING", expect = "PONG" }
}`),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionCreate),
				}},
			},
		},
	})
}
