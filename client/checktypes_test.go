package client_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
)

// A check's config is typed by its check type: NewCheckCreate takes the variant of one type
// and sets check_type from it.
func ExampleNewCheckCreate() {
	hostID := uuid.MustParse("8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f")
	body := client.NewCheckCreate(client.HttpCheckCreate{
		HostId: hostID, Name: "shop health",
		Config: client.HttpConfig{
			URL:          "https://shop.example.com/health",
			Method:       client.Ptr(client.HttpMethodHEAD),
			BodyContains: client.Ptr(`"ok"`),
		},
		IntervalSec: client.Ptr(30),
	})
	// c.Checks.Create(ctx, body) sends:
	raw, _ := json.Marshal(body)
	fmt.Println(string(raw))
	// Output:
	// {"check_type":"http","config":{"body_contains":"\"ok\"","method":"HEAD","url":"https://shop.example.com/health"},"host_id":"8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f","interval_sec":30,"name":"shop health"}
}

// Reading a check back: TypedConfig returns the config struct of its check type.
func ExampleCheck_TypedConfig() {
	var check client.Check
	_ = json.Unmarshal([]byte(`{"check_type": "tls", "config": {"port": 8443, "warn_days": 21}}`), &check)
	cfg, _ := check.TypedConfig()
	switch cfg := cfg.(type) {
	case client.TlsConfig:
		fmt.Println("tls on port", *cfg.Port, "warns", *cfg.WarnDays, "days ahead")
	case client.HttpConfig:
		fmt.Println("http", cfg.URL)
	}
	// Output:
	// tls on port 8443 warns 21 days ahead
}

func TestCheckConfigHelpers(t *testing.T) {
	for _, tc := range []struct {
		body client.CheckCreate
		want string
	}{
		{client.NewCheckCreate(client.PingCheckCreate{Name: "p"}), "ping"},
		{client.NewCheckCreate(client.SnmpCheckCreate{Name: "s", Config: &client.SnmpConfig{Community: client.Ptr("c")}}), "snmp"},
		{client.NewCheckCreate(client.TcpCheckCreate{Name: "t", Config: client.TcpConfig{Port: 22}}), "tcp"},
		{client.NewCheckCreate(client.DnsCheckCreate{Name: "d", Config: client.DnsConfig{QueryName: "example.org"}}), "dns"},
		{client.NewCheckCreate(client.TlsCheckCreate{Name: "t", CheckType: client.CheckTypePing}), "tls"}, // the variant decides
	} {
		got, err := tc.body.Discriminator()
		require.NoError(t, err)
		assert.Equal(t, tc.want, got)
	}

	// The type-independent form, for configs read from files.
	body := client.CheckCreateBase{Name: "x", CheckType: client.CheckTypeTcp, Config: &map[string]any{"port": 5432}}.CheckCreate()
	v, err := body.ValueByDiscriminator()
	require.NoError(t, err)
	assert.Equal(t, 5432, v.(client.TcpCheckCreate).Config.Port)

	cfg := client.NewCheckConfig(client.DnsConfig{QueryName: "example.org", Protocol: client.Ptr(client.DnsProtocolTCP)})
	m, err := cfg.Map()
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"query_name": "example.org", "protocol": "tcp"}, m)
	assert.Equal(t, cfg, client.CheckConfigFromMap(m))

	_, err = client.Check{CheckType: "gopher"}.TypedConfig()
	assert.Error(t, err)
	assert.Equal(t, client.CheckStatus(2), client.StatusCritical)
}
