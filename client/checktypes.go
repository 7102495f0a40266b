package client

import (
	"encoding/json"
	"fmt"
)

// CheckCreateVariant is one check type's CheckCreate: its Config field has that type's
// settings (HttpCheckCreate.Config is an HttpConfig…).
type CheckCreateVariant interface {
	PingCheckCreate | SnmpCheckCreate | HttpCheckCreate | TcpCheckCreate | DnsCheckCreate | TlsCheckCreate |
		GrpcCheckCreate | SmtpCheckCreate | PostgresCheckCreate | HeartbeatCheckCreate
}

// CheckConfigVariant is the config of one check type.
type CheckConfigVariant interface {
	PingConfig | SnmpConfig | HttpConfig | TcpConfig | DnsConfig | TlsConfig |
		GrpcConfig | SmtpConfig | PostgresConfig | HeartbeatConfig
}

// NewCheckCreate returns the body of Checks.Create for one check type; check_type is set
// from the variant, so the variant's own CheckType field may be left empty:
//
//	check, err := c.Checks.Create(ctx, client.NewCheckCreate(client.HttpCheckCreate{
//		HostId: host.Id, Name: "shop health",
//		Config: client.HttpConfig{URL: "https://shop.example.com/health"},
//	}))
func NewCheckCreate[T CheckCreateVariant](v T) CheckCreate {
	var out CheckCreate
	var err error
	switch v := any(v).(type) {
	case PingCheckCreate:
		err = out.FromPingCheckCreate(v)
	case SnmpCheckCreate:
		err = out.FromSnmpCheckCreate(v)
	case HttpCheckCreate:
		err = out.FromHttpCheckCreate(v)
	case TcpCheckCreate:
		err = out.FromTcpCheckCreate(v)
	case DnsCheckCreate:
		err = out.FromDnsCheckCreate(v)
	case TlsCheckCreate:
		err = out.FromTlsCheckCreate(v)
	case GrpcCheckCreate:
		err = out.FromGrpcCheckCreate(v)
	case SmtpCheckCreate:
		err = out.FromSmtpCheckCreate(v)
	case PostgresCheckCreate:
		err = out.FromPostgresCheckCreate(v)
	case HeartbeatCheckCreate:
		err = out.FromHeartbeatCheckCreate(v)
	}
	mustEncode(err)
	return out
}

// NewCheckConfig wraps one check type's settings as a CheckConfig, e.g. for CheckUpdate:
//
//	c.Checks.Update(ctx, id, client.CheckUpdate{Config: client.NewCheckConfig(client.TlsConfig{WarnDays: client.Ptr(14)})})
func NewCheckConfig[T CheckConfigVariant](v T) *CheckConfig {
	var out CheckConfig
	var err error
	switch v := any(v).(type) {
	case PingConfig:
		err = out.FromPingConfig(v)
	case SnmpConfig:
		err = out.FromSnmpConfig(v)
	case HttpConfig:
		err = out.FromHttpConfig(v)
	case TcpConfig:
		err = out.FromTcpConfig(v)
	case DnsConfig:
		err = out.FromDnsConfig(v)
	case TlsConfig:
		err = out.FromTlsConfig(v)
	case GrpcConfig:
		err = out.FromGrpcConfig(v)
	case SmtpConfig:
		err = out.FromSmtpConfig(v)
	case PostgresConfig:
		err = out.FromPostgresConfig(v)
	case HeartbeatConfig:
		err = out.FromHeartbeatConfig(v)
	}
	mustEncode(err)
	return &out
}

// mustEncode panics on an encoding error, which the config structs (strings, numbers,
// booleans, slices and maps of them) cannot produce.
func mustEncode(err error) {
	if err != nil {
		panic(fmt.Sprintf("client: encoding a check config: %v", err))
	}
}

// TypedConfig decodes the check's config into the struct of its check_type: a PingConfig,
// SnmpConfig, HttpConfig, TcpConfig, DnsConfig, TlsConfig, GrpcConfig, SmtpConfig,
// PostgresConfig or HeartbeatConfig (secrets read back as "********").
func (c Check) TypedConfig() (any, error) {
	switch c.CheckType {
	case CheckTypePing:
		return c.Config.AsPingConfig()
	case CheckTypeSnmp:
		return c.Config.AsSnmpConfig()
	case CheckTypeHttp:
		return c.Config.AsHttpConfig()
	case CheckTypeTcp:
		return c.Config.AsTcpConfig()
	case CheckTypeDns:
		return c.Config.AsDnsConfig()
	case CheckTypeTls:
		return c.Config.AsTlsConfig()
	case CheckTypeGrpc:
		return c.Config.AsGrpcConfig()
	case CheckTypeSmtp:
		return c.Config.AsSmtpConfig()
	case CheckTypePostgres:
		return c.Config.AsPostgresConfig()
	case CheckTypeHeartbeat:
		return c.Config.AsHeartbeatConfig()
	}
	return nil, fmt.Errorf("client: unknown check type %q", c.CheckType)
}

// Map returns the config as a generic JSON object, whatever its type.
func (c CheckConfig) Map() (map[string]any, error) {
	m := map[string]any{}
	raw, err := c.MarshalJSON()
	if err != nil || len(raw) == 0 || string(raw) == "null" {
		return m, err
	}
	err = json.Unmarshal(raw, &m)
	return m, err
}

// CheckCreate turns the type-independent form of a new check (CheckType set, Config as a
// map, e.g. read from a file) into the body of Checks.Create; the server validates the
// config against the schema of CheckType.
func (b CheckCreateBase) CheckCreate() CheckCreate {
	raw, err := json.Marshal(b)
	mustEncode(err)
	var out CheckCreate
	mustEncode(out.UnmarshalJSON(raw))
	return out
}

// CheckConfigFromMap wraps an untyped config (e.g. read from a file) as a CheckConfig.
func CheckConfigFromMap(m map[string]any) *CheckConfig {
	if m == nil {
		m = map[string]any{}
	}
	raw, err := json.Marshal(m)
	mustEncode(err)
	var out CheckConfig
	mustEncode(out.UnmarshalJSON(raw))
	return &out
}
