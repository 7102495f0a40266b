package provider_test

import (
	"context"
	"regexp"
	"strings"
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
    assertions = [
      { kind = "status_in", codes = [200, 204] },
      { kind = "json_path", path = "$.status", op = "==", value = jsonencode("ok") },
      { kind = "json_path", path = "$.items", measure = "length", op = ">", value = jsonencode(0), severity = "warning" },
      { kind = "json_path", path = "$.meta", op = "==", value = jsonencode({ b = [true, "x"], a = 1.5 }) },
      { kind = "json_path", path = "$.id", op = "exists" },
      { kind = "header_matches", name = "Content-Type", regex = "^application/json" },
      { kind = "latency_below_ms", ms = 800 },
      { kind = "cert_days_above", days = 21, severity = "warning" },
    ]
  }
}

resource "secumon_check" "snmp" {
  host_id = secumon_host.web.id
  name    = "web snmp"
  snmp = {
    community = "snmp-secret"
    oids = [
      { oid = "1.3.6.1.4.1.2021.11.9.0", name = "cpu_user_pct", warn_above = 80, crit_above = 95 },
      { oid = ".1.3.6.1.2.1.2.2.1.10.1", counter = true, warn_below = -1.5 },
    ]
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
	var checkID, replacedID, snmpID idBox

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
			{ // assertions and oids: each kind's fields, the contract's bounds and enums
				Config: a.config(checkHost + `
resource "secumon_check" "web" {
  host_id = secumon_host.web.id
  name    = "bad assertions"
  http = {
    url = "http://127.0.0.1:8081/"
    assertions = [
      { kind = "status_in", text = "x" },
      { kind = "json_path", path = "status", op = "~", value = "not json" },
      { kind = "no_such_kind" },
    ]
  }
}`),
				PlanOnly: true,
				// Every rule is tested in TestListFieldValidation; here, that Terraform shows them.
				ExpectError: regexp.MustCompile(`codes\s+is\s+required\s+when\s+kind\s+is\s+"status_in"`),
			},
			{
				Config: a.config(checkHost + `
resource "secumon_check" "web" {
  host_id = secumon_host.web.id
  name    = "bad oids"
  snmp    = { oids = [{ oid = "not.an.oid", name = "` + strings.Repeat("n", 129) + `" }] }
}`),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`must\s+be\s+a\s+numeric\s+OID`),
			},
			{ // create
				Config: a.config(httpCheck),
				Check: resource.ComposeAggregateTestCheckFunc(
					checkID.capture(addr),
					snmpID.capture("secumon_check.snmp"),
					resource.TestCheckResourceAttr(addr, "check_type", "http"),
					resource.TestCheckResourceAttr(addr, "interval_sec", "60"),
					resource.TestCheckResourceAttr(addr, "enabled", "true"),
					resource.TestCheckResourceAttr(addr, "locations.#", "0"),
					resource.TestCheckResourceAttr(addr, "confirm_locations", "1"),
					resource.TestCheckResourceAttr(addr, "http.headers.Authorization", "Bearer header-secret"),
					resource.TestCheckResourceAttr(addr, "http.basic_auth.password", "basic-secret"),
					resource.TestCheckNoResourceAttr(addr, "ping_url"),
					resource.TestCheckResourceAttr(addr, "http.assertions.#", "8"),
					resource.TestCheckResourceAttr(addr, "http.assertions.1.value", `"ok"`),
					resource.TestCheckResourceAttr(addr, "http.assertions.3.value", `{"a":1.5,"b":[true,"x"]}`),
					resource.TestCheckNoResourceAttr(addr, "http.assertions.4.value"),
					resource.TestCheckResourceAttr("secumon_check.snmp", "snmp.oids.#", "2"),
					resource.TestCheckResourceAttr("secumon_check.snmp", "snmp.oids.1.counter", "true"),
					resource.TestCheckResourceAttr("secumon_check.snmp", "snmp.community", "snmp-secret"),
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
						m, err := c.Config.Map()
						require.NoError(t, err)
						assert.Equal(t, []any{
							map[string]any{"kind": "status_in", "codes": []any{200.0, 204.0}},
							map[string]any{"kind": "json_path", "path": "$.status", "op": "==", "value": "ok"},
							map[string]any{"kind": "json_path", "path": "$.items", "measure": "length", "op": ">", "value": 0.0, "severity": "warning"},
							map[string]any{"kind": "json_path", "path": "$.meta", "op": "==", "value": map[string]any{"a": 1.5, "b": []any{true, "x"}}},
							map[string]any{"kind": "json_path", "path": "$.id", "op": "exists"},
							map[string]any{"kind": "header_matches", "name": "Content-Type", "regex": "^application/json"},
							map[string]any{"kind": "latency_below_ms", "ms": 800.0},
							map[string]any{"kind": "cert_days_above", "days": 21.0, "severity": "warning"},
						}, m["assertions"], "the API holds the assertions as configured, no unset field sent")
						return nil
					},
					func(*terraformState) error {
						list, err := a.c.Checks.List(context.Background(), nil)
						require.NoError(t, err)
						for _, c := range list.Checks {
							if c.Name != "web snmp" {
								continue
							}
							m, err := c.Config.Map()
							require.NoError(t, err)
							assert.Equal(t, []any{
								map[string]any{"oid": "1.3.6.1.4.1.2021.11.9.0", "name": "cpu_user_pct", "warn_above": 80.0, "crit_above": 95.0},
								map[string]any{"oid": ".1.3.6.1.2.1.2.2.1.10.1", "counter": true, "warn_below": -1.5},
							}, m["oids"])
							return nil
						}
						t.Error("no snmp check")
						return nil
					},
				),
			},
			{ // update in place: the check's fields and its config
				Config: a.config(strings.NewReplacer(`severity = "major"`, `severity = "minor"
  interval_sec = 120
  enabled = false
  locations = ["eu-west", "us-east"]
  confirm_locations = 2`, `{ kind = "latency_below_ms", ms = 800 },`, "", `jsonencode("ok")`, `jsonencode("up")`).Replace(httpCheck)),
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction(addr, plancheck.ResourceActionUpdate),
					plancheck.ExpectResourceAction("secumon_check.job", plancheck.ResourceActionNoop),
					plancheck.ExpectResourceAction("secumon_check.snmp", plancheck.ResourceActionNoop),
				}},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "interval_sec", "120"),
					resource.TestCheckResourceAttr(addr, "severity", "minor"),
					func(*terraformState) error {
						c, err := a.c.Checks.Get(context.Background(), checkID.v)
						require.NoError(t, err)
						assert.Equal(t, 120, c.IntervalSec)
						assert.False(t, c.Enabled)
						require.NotNil(t, c.Locations)
						assert.Equal(t, []string{"eu-west", "us-east"}, *c.Locations)
						assert.Equal(t, 2, *c.ConfirmLocations)
						m, err := c.Config.Map()
						require.NoError(t, err)
						if assert.Len(t, m["assertions"], 7, "the removed assertion is gone") {
							assert.Equal(t, "up", m["assertions"].([]any)[1].(map[string]any)["value"])
						}
						return nil
					},
				),
			},
			{ // import by id: the API never shows the secrets or the ping URL again
				ResourceName: addr, ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"http.url", "http.headers", "http.basic_auth.password"},
			},
			{ // the oids come back as configured; only the community is unknown to an import
				ResourceName: "secumon_check.snmp", ImportState: true, ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"snmp.community"},
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
			{ // drift inside a list: an OID's threshold changed through the API
				PreConfig: func() {
					ctx := context.Background()
					c, err := a.c.Checks.Get(ctx, snmpID.v)
					require.NoError(t, err)
					cfg, err := c.Config.Map()
					require.NoError(t, err)
					cfg["oids"].([]any)[0].(map[string]any)["warn_above"] = 70
					// The masked community sent back keeps the stored one.
					_, err = a.c.Checks.Update(ctx, snmpID.v, client.CheckUpdate{Config: client.CheckConfigFromMap(cfg)})
					require.NoError(t, err)
				},
				Config:   a.config(httpCheck),
				PlanOnly: true, ExpectNonEmptyPlan: true,
				ConfigPlanChecks: resource.ConfigPlanChecks{PostApplyPostRefresh: []plancheck.PlanCheck{
					plancheck.ExpectResourceAction("secumon_check.snmp", plancheck.ResourceActionUpdate),
				}},
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
