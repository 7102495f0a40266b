package provider_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
)

// TestAccExampleConfiguration applies examples/terraform/main.tf as it is (its provider block
// reads SECUMON_URL and SECUMON_TOKEN): the plan after the apply is empty (checked by the
// framework), a change made through the API shows as drift, and destroy removes what it
// created and nothing else.
func TestAccExampleConfiguration(t *testing.T) {
	a := newAcc(t)
	t.Setenv("SECUMON_URL", a.env.URL)
	t.Setenv("SECUMON_TOKEN", a.env.OwnerToken)
	raw, err := os.ReadFile(filepath.Join("..", "..", "examples", "terraform", "main.tf"))
	require.NoError(t, err)
	config := string(raw)
	ctx := context.Background()
	other, err := a.c.Hosts.Create(ctx, client.HostCreate{Name: "not-managed", Hostname: "127.0.0.9"})
	require.NoError(t, err)
	var hostID, policyID, chainID idBox

	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: a.factories,
		CheckDestroy: func(*terraformState) error {
			_, err := a.c.Hosts.Get(ctx, hostID.v)
			assert.True(t, client.IsNotFound(err), "the example's host is deleted: %v", err)
			checks, err := a.c.Checks.List(ctx, nil)
			require.NoError(t, err)
			assert.Empty(t, checks.Checks)
			policies, err := a.c.AlertPolicies.List(ctx, nil)
			require.NoError(t, err)
			assert.Empty(t, policies.Policies)
			chains, err := a.c.EscalationPolicies.List(ctx, nil)
			require.NoError(t, err)
			assert.Empty(t, chains.Policies)
			_, err = a.c.Hosts.Get(ctx, other.Id)
			return err // the unmanaged host is still there
		},
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					hostID.capture("secumon_host.web"),
					resource.TestCheckOutput("workspace", "default"),
					resource.TestCheckResourceAttr("secumon_check.backup", "check_type", "heartbeat"),
					resource.TestCheckResourceAttr("secumon_check.web_http", "http.assertions.#", "2"),
					policyID.capture("secumon_alert_policy.critical"),
					chainID.capture("secumon_escalation_policy.ops"),
					func(*terraformState) error { // the alert policy escalates through the example's chain
						p, err := a.c.AlertPolicies.Get(ctx, policyID.v)
						require.NoError(t, err)
						if assert.NotNil(t, p.EscalationPolicyId) {
							assert.Equal(t, chainID.v, *p.EscalationPolicyId)
						}
						return nil
					},
				),
			},
			{
				PreConfig: func() {
					_, err := a.c.Hosts.Update(ctx, hostID.v, client.HostUpdate{Hostname: client.Ptr("127.1.1.1")})
					require.NoError(t, err)
				},
				Config:             config,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{Config: config}, // converges again
		},
	})
}
