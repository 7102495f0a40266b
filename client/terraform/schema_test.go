package provider_test

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	provider "github.com/secuaas/secumon/client/terraform"
)

// TestSchemasAreValid asks the provider for its schemas as Terraform does first: the
// framework checks every definition there (defaults only on computed attributes, validators
// of the right types…), without a server or a Terraform binary.
func TestSchemasAreValid(t *testing.T) {
	srv := providerserver.NewProtocol6(provider.New("test")())()
	resp, err := srv.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	require.NoError(t, err)
	for _, d := range resp.Diagnostics {
		assert.NotEqual(t, tfprotov6.DiagnosticSeverityError, d.Severity, "%s: %s", d.Summary, d.Detail)
	}
	for _, name := range []string{"secumon_host", "secumon_check", "secumon_maintenance_window", "secumon_status_page", "secumon_oncall_schedule", "secumon_alert_policy", "secumon_escalation_policy"} {
		assert.Contains(t, resp.ResourceSchemas, name)
	}
	for _, name := range []string{"secumon_host", "secumon_check", "secumon_workers", "secumon_workspace"} {
		assert.Contains(t, resp.DataSourceSchemas, name)
	}
	for _, name := range []string{"ping", "http", "tcp", "dns", "tls", "snmp", "grpc", "smtp", "postgres", "heartbeat"} {
		found := false
		for _, a := range resp.ResourceSchemas["secumon_check"].Block.Attributes {
			found = found || a.Name == name
		}
		assert.True(t, found, "secumon_check has no %s attribute", name)
	}
}
