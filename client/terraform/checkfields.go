package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework-validators/float64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// A check's config is described once, as data: for each check type, its fields with their
// kind, bounds and secrecy (from the contract's PingConfig, HttpConfig… schemas). The
// resource's nested attributes, the conversion to the API's config object and back, and the
// handling of masked secrets all follow from this table, so adding a check type or a field
// is adding a line here.

// kind is a field's Terraform type.
type kind int

const (
	kString kind = iota
	kInt
	kFloat
	kBool
	kIntList
	kStringList
	kStringMap
	kObject
	kObjectList // a list of objects of fields (SNMP oids, HTTP assertions)
	kJSON       // any JSON value, held as JSON text (an assertion's value)
)

// secretMask is what the API answers in place of a write-only secret.
const secretMask = "********"

type field struct {
	name     string
	kind     kind
	required bool
	// secret: write-only, masked by the API. Sensitive in Terraform; the configured value is
	// kept in the state when the API answers the mask.
	secret bool
	desc   string
	str    []validator.String
	num    []validator.Int64
	flt    []validator.Float64
	list   []validator.List
	dict   []validator.Map
	fields []field // kObject, kObjectList: the object's fields
	// obj validates the object (kObject) or each object of the list (kObjectList), e.g.
	// the fields a discriminated variant requires.
	obj []validator.Object
}

// Shorthands for the table.
func str(name, desc string, v ...validator.String) field {
	return field{name: name, kind: kString, desc: desc, str: v}
}
func integer(name, desc string, lo, hi int64) field {
	return field{name: name, kind: kInt, desc: desc, num: []validator.Int64{int64validator.Between(lo, hi)}}
}
func float(name, desc string, lo, hi float64) field {
	return field{name: name, kind: kFloat, desc: desc, flt: []validator.Float64{float64validator.Between(lo, hi)}}
}
func number(name, desc string) field  { return field{name: name, kind: kFloat, desc: desc} }
func boolean(name, desc string) field { return field{name: name, kind: kBool, desc: desc} }
func jsonValue(name, desc string) field {
	return field{name: name, kind: kJSON, desc: desc, str: []validator.String{jsonText{}}}
}

// objectList is a list of at most max objects, each of fields and validated by obj.
func objectList(name, desc string, max int, fields []field, obj ...validator.Object) field {
	return field{name: name, kind: kObjectList, desc: desc, fields: fields, obj: obj,
		list: []validator.List{listvalidator.SizeAtMost(max)}}
}
func required(f field) field        { f.required = true; return f }
func secret(f field) field          { f.secret = true; return f }
func maxLen(n int) validator.String { return stringvalidator.LengthAtMost(n) }
func oneOf(v ...string) validator.String {
	return stringvalidator.OneOf(v...)
}

var (
	noMax   = math.MaxFloat64
	port    = func(desc string) field { return integer("port", desc, 1, 65535) }
	host    = str("host", "Target; defaults to the host's hostname.", maxLen(255))
	warnLat = float("warn_latency_ms", "Latency (ms) above which the run is WARNING.", 0, noMax)
	critLat = float("crit_latency_ms", "Latency (ms) above which the run is CRITICAL.", 0, noMax)
	urlRe   = regexp.MustCompile(`^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\s]+([/?#]\S*)?$`)
)

// checkType is one check type: its name (the API's check_type and the nested attribute's
// name) and its config's fields.
type checkType struct {
	name   string
	desc   string
	fields []field
}

// checkTypes are the check types the provider manages, in the contract's order.
var checkTypes = []checkType{
	{"ping", "ICMP echo.", []field{
		host,
		integer("count", "Echo requests per run. Default: 3.", 1, 20),
		integer("interval_ms", "Milliseconds between echo requests. Default: 200.", 10, 5000),
		integer("size", "ICMP payload bytes. Default: 56.", 8, 1472),
		boolean("ipv6", "Ping over IPv6. Default: false."),
		float("warn_loss_pct", "Packet loss (percent) at or above which the run is WARNING. Default: 20.", 0, 100),
		float("crit_loss_pct", "Packet loss (percent) at or above which the run is CRITICAL. Default: 100.", 0, 100),
		float("warn_rtt_ms", "Average round-trip time (ms) above which the run is WARNING. Default: 200.", 0, noMax),
		float("crit_rtt_ms", "Average round-trip time (ms) above which the run is CRITICAL. Default: 1000.", 0, noMax),
	}},
	{"snmp", "SNMP v2c or v3 get.", []field{
		host, port("UDP port of the agent. Default: 161."),
		str("version", "v2c (default) or v3.", oneOf("v2c", "v3")),
		secret(str("community", "v2c community (write-only). Default: public.", maxLen(255))),
		str("username", "v3 user.", maxLen(255)),
		str("security_level", "v3 security level. Default: authPriv.", oneOf("noAuthNoPriv", "authNoPriv", "authPriv")),
		str("auth_protocol", "v3 authentication protocol. Default: SHA.", oneOf("MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512")),
		secret(str("auth_passphrase", "v3 authentication passphrase (write-only).", stringvalidator.LengthBetween(8, 255))),
		str("priv_protocol", "v3 privacy protocol. Default: AES.", oneOf("DES", "AES", "AES192", "AES256")),
		secret(str("priv_passphrase", "v3 privacy passphrase (write-only).", stringvalidator.LengthBetween(8, 255))),
		str("context_name", "v3 context name.", maxLen(255)),
		boolean("default_oids", "Also collect sysDescr, sysUpTime, sysName and interface counters. Default: true."),
		objectList("oids", "Extra OIDs to get, each with optional thresholds (at most 100).", 100, snmpOidFields),
	}},
	{"http", "HTTP(S) request.", []field{
		secret(required(str("url", "Absolute http or https URL. Credentials in it are write-only (the API masks them), hence sensitive.",
			maxLen(2048), stringvalidator.RegexMatches(urlRe, "must be an absolute http or https URL")))),
		str("method", "GET (default), HEAD, POST, PUT or OPTIONS.", oneOf("GET", "HEAD", "POST", "PUT", "OPTIONS")),
		{name: "headers", kind: kStringMap, secret: true, desc: "Request headers; values are write-only.",
			dict: []validator.Map{mapvalidator.SizeAtMost(32), mapvalidator.ValueStringsAre(maxLen(4096))}},
		str("body", "Request body.", maxLen(65536)),
		{name: "expected_status", kind: kIntList, desc: "Accepted status codes. Default: any 2xx.",
			list: []validator.List{listvalidator.SizeAtMost(32), listvalidator.ValueInt64sAre(int64validator.Between(100, 599))}},
		str("body_contains", "Substring the response body must contain.", maxLen(1024)),
		boolean("verify_tls", "Verify the server's certificate. Default: true."),
		boolean("follow_redirects", "Follow redirects. Default: true."),
		warnLat, critLat,
		{name: "basic_auth", kind: kObject, desc: "HTTP basic authentication.", fields: []field{
			required(str("username", "User name (no colon).", stringvalidator.LengthBetween(1, 255),
				stringvalidator.RegexMatches(regexp.MustCompile(`^[^:]*$`), "must not contain a colon"))),
			secret(required(str("password", "Password (write-only).", maxLen(255)))),
		}},
		boolean("tls_required", "CRITICAL unless the final URL is https."),
		integer("cert_warn_days", "https: WARNING when the certificate expires within this many days. Default: 14.", 0, 3650),
		integer("cert_crit_days", "https: CRITICAL when the certificate expires within this many days. Default: 3.", 0, 3650),
		objectList("assertions", "Conditions on the response, all evaluated on every run (at most 32); a failing one sets "+
			"the run's status to its severity, and the run's output names it by its index in this list. `kind` selects "+
			"the fields each one takes.", 32, httpAssertionFields, assertionKinds),
	}},
	{"tcp", "TCP connect, optionally send and expect.", []field{
		host, required(port("Port to connect to.")),
		str("send", "Bytes to send after connecting.", maxLen(4096)),
		str("expect", "Substring the banner or reply must contain.", maxLen(1024)),
		warnLat, critLat,
	}},
	{"dns", "DNS query.", []field{
		required(str("query_name", "Name to resolve.", stringvalidator.LengthBetween(1, 253))),
		str("record_type", "Record type. Default: A.", oneOf("A", "AAAA", "CNAME", "MX", "NS", "TXT", "SOA", "SRV", "PTR", "CAA")),
		str("resolver", "Resolver as host:port; defaults to the host's hostname on port 53.", maxLen(255)),
		str("protocol", "udp (default) or tcp.", oneOf("udp", "tcp")),
		{name: "expected_answers", kind: kStringList, desc: "Each must appear in the answer section.",
			list: []validator.List{listvalidator.SizeAtMost(32), listvalidator.ValueStringsAre(maxLen(255))}},
		str("expected_rcode", "Response code the answer must have. Default: NOERROR.", oneOf("NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED")),
		warnLat, critLat,
	}},
	{"tls", "TLS certificate expiry and chain.", []field{
		host, port("Port to connect to. Default: 443."),
		str("server_name", "SNI name; defaults to host.", maxLen(253)),
		integer("warn_days", "WARNING when the certificate expires within this many days. Default: 30.", 0, 3650),
		integer("crit_days", "CRITICAL when the certificate expires within this many days. Default: 7.", 0, 3650),
		boolean("verify_chain", "Verify the certificate chain and name. Default: true."),
	}},
	{"grpc", "gRPC health check.", []field{
		host, required(port("Port of the gRPC server.")),
		str("service", "Service name sent in the health request.", maxLen(255)),
		boolean("tls", "Connect with TLS. Default: false."),
		boolean("verify_tls", "With tls, verify the certificate. Default: true."),
		str("server_name", "With tls, the name sent (SNI) and verified.", maxLen(253)),
		warnLat, critLat,
	}},
	{"smtp", "SMTP banner and STARTTLS.", []field{
		host, port("Port of the SMTP server. Default: 25."),
		str("ehlo_name", "Name sent with EHLO. Default: secumon.local.", stringvalidator.LengthBetween(1, 253)),
		str("starttls", "none, optional (default) or required.", oneOf("none", "optional", "required")),
		boolean("verify_tls", "After STARTTLS, verify the certificate. Default: true."),
		str("server_name", "Name the certificate is verified against.", maxLen(253)),
		integer("warn_days", "WARNING when the certificate expires within this many days. Default: 30.", 0, 3650),
		integer("crit_days", "CRITICAL when the certificate expires within this many days. Default: 7.", 0, 3650),
		str("expect_banner", "Substring the 220 banner must contain.", maxLen(1024)),
		warnLat, critLat,
	}},
	{"postgres", "PostgreSQL login and optional query.", []field{
		host, port("Port of the server. Default: 5432."),
		str("database", "Database. Default: postgres.", stringvalidator.LengthBetween(1, 63)),
		str("user", "Role to log in as. Default: postgres.", stringvalidator.LengthBetween(1, 63)),
		secret(str("password", "Password (write-only).", maxLen(1024))),
		str("sslmode", "disable, prefer (default), require or verify-full.", oneOf("disable", "prefer", "require", "verify-full")),
		str("query", "One read-only statement.", maxLen(4096)),
		integer("expect_rows_min", "With query, CRITICAL when it returns fewer rows.", 0, 1000000),
		warnLat, critLat,
	}},
	{"heartbeat", "A job pings SecuMon; a missed ping fails the check. The ping URL is `ping_url`.", []field{
		integer("period_sec", "Seconds between pings; excludes schedule.", 1, 31536000),
		str("schedule", "Cron schedule of the job; excludes period_sec.", stringvalidator.LengthBetween(1, 120)),
		str("timezone", "IANA time zone of schedule. Default: UTC.", stringvalidator.LengthBetween(1, 64)),
		integer("grace_sec", "Seconds a ping may be late. Default: 60.", 0, 86400),
	}},
}

// snmpOidFields are the contract's SnmpOid.
var snmpOidFields = []field{
	required(str("oid", "Numeric OID.", maxLen(255),
		stringvalidator.RegexMatches(regexp.MustCompile(`^\.?[0-9]+(\.[0-9]+)+$`), "must be a numeric OID"))),
	str("name", "Metric name; defaults to the OID.", maxLen(128)),
	boolean("counter", "Report the rate per second between runs. Default: false."),
	number("warn_above", "WARNING when the value is above."),
	number("crit_above", "CRITICAL when the value is above."),
	number("warn_below", "WARNING when the value is below."),
	number("crit_below", "CRITICAL when the value is below."),
}

// assertionKinds are the contract's HttpAssertion variants: for each kind, the fields it
// requires and those it also allows (severity is allowed in every kind).
var assertionKinds = variants{key: "kind", common: []string{"severity"}, of: []variant{
	{"status_in", []string{"codes"}, nil},
	{"latency_below_ms", []string{"ms"}, nil},
	{"header_equals", []string{"name", "value"}, nil},
	{"header_matches", []string{"name", "regex"}, nil},
	{"body_contains", []string{"text"}, nil},
	{"body_not_contains", []string{"text"}, nil},
	{"body_matches", []string{"regex"}, nil},
	{"json_path", []string{"path", "op"}, []string{"value", "measure"}},
	{"cert_days_above", []string{"days"}, nil},
}}

// httpAssertionFields are the fields of every HttpAssertion variant, flattened (assertionKinds
// says which kind takes which).
var httpAssertionFields = []field{
	required(str("kind", "What is asserted: "+strings.Join(assertionKinds.names(), ", ")+".", oneOf(assertionKinds.names()...))),
	str("severity", "Status of a run where the assertion fails: warning or critical. Default: critical.", oneOf("warning", "critical")),
	{name: "codes", kind: kIntList, desc: "status_in: accepted status codes.",
		list: []validator.List{listvalidator.SizeBetween(1, 32), listvalidator.ValueInt64sAre(int64validator.Between(100, 599))}},
	float("ms", "latency_below_ms: milliseconds the response (to the end of the body) must take less than.", 0, 300000),
	str("name", "header_equals, header_matches: response header name (any letter case).", stringvalidator.LengthBetween(1, 256),
		stringvalidator.RegexMatches(regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"), "must be an HTTP header name")),
	jsonValue("value", "header_equals: the expected header value, a JSON string; json_path: the JSON value compared with "+
		"(not for exists and not_exists). JSON text, e.g. `jsonencode(\"ok\")` or `jsonencode(0)`."),
	str("regex", "header_matches, body_matches: regular expression (RE2 syntax), unanchored.", stringvalidator.LengthBetween(1, 1024)),
	str("text", "body_contains, body_not_contains: substring of the body (its first 1 MiB).", stringvalidator.LengthBetween(1, 1024)),
	str("path", "json_path: RFC 9535 JSONPath query.", stringvalidator.LengthBetween(1, 1024),
		stringvalidator.RegexMatches(regexp.MustCompile(`^\$`), "must be a JSONPath query starting with $")),
	str("op", "json_path: ==, !=, <, <=, >, >=, exists or not_exists.", oneOf("==", "!=", "<", "<=", ">", ">=", "exists", "not_exists")),
	str("measure", "json_path: value (default) compares the selected node, length its length.", oneOf("value", "length")),
	integer("days", "cert_days_above: the certificate must expire in more than this many days.", 0, 3650),
}

// attrType is a field's Terraform type.
func (f field) attrType() attr.Type {
	switch f.kind {
	case kString:
		return types.StringType
	case kInt:
		return types.Int64Type
	case kFloat:
		return types.Float64Type
	case kBool:
		return types.BoolType
	case kIntList:
		return types.ListType{ElemType: types.Int64Type}
	case kStringList:
		return types.ListType{ElemType: types.StringType}
	case kStringMap:
		return types.MapType{ElemType: types.StringType}
	case kObjectList:
		return types.ListType{ElemType: types.ObjectType{AttrTypes: attrTypes(f.fields)}}
	case kJSON:
		return types.StringType
	default:
		return types.ObjectType{AttrTypes: attrTypes(f.fields)}
	}
}

func attrTypes(fields []field) map[string]attr.Type {
	m := make(map[string]attr.Type, len(fields))
	for _, f := range fields {
		m[f.name] = f.attrType()
	}
	return m
}

// schemaAttribute is a field's nested attribute in the resource's schema.
func (f field) schemaAttribute() schema.Attribute {
	opt := !f.required
	switch f.kind {
	case kString, kJSON:
		return schema.StringAttribute{Required: f.required, Optional: opt, Sensitive: f.secret, Description: f.desc, Validators: f.str}
	case kInt:
		return schema.Int64Attribute{Required: f.required, Optional: opt, Sensitive: f.secret, Description: f.desc, Validators: f.num}
	case kFloat:
		return schema.Float64Attribute{Required: f.required, Optional: opt, Sensitive: f.secret, Description: f.desc, Validators: f.flt}
	case kBool:
		return schema.BoolAttribute{Required: f.required, Optional: opt, Sensitive: f.secret, Description: f.desc}
	case kIntList, kStringList:
		return schema.ListAttribute{ElementType: f.attrType().(types.ListType).ElemType, Required: f.required, Optional: opt,
			Sensitive: f.secret, Description: f.desc, Validators: f.list}
	case kStringMap:
		return schema.MapAttribute{ElementType: types.StringType, Required: f.required, Optional: opt,
			Sensitive: f.secret, Description: f.desc, Validators: f.dict}
	case kObjectList:
		return schema.ListNestedAttribute{NestedObject: schema.NestedAttributeObject{Attributes: schemaAttributes(f.fields), Validators: f.obj},
			Required: f.required, Optional: opt, Sensitive: f.secret, Description: f.desc, Validators: f.list}
	default:
		return schema.SingleNestedAttribute{Attributes: schemaAttributes(f.fields), Required: f.required, Optional: opt,
			Sensitive: f.secret, Description: f.desc, Validators: f.obj}
	}
}

func schemaAttributes(fields []field) map[string]schema.Attribute {
	m := make(map[string]schema.Attribute, len(fields))
	for _, f := range fields {
		m[f.name] = f.schemaAttribute()
	}
	return m
}

// toAPI turns a configured object into the API's JSON object: null attributes are left out
// (the API applies its defaults).
func toAPI(obj types.Object, fields []field) map[string]any {
	out := map[string]any{}
	attrs := obj.Attributes()
	for _, f := range fields {
		v, ok := attrs[f.name]
		if !ok || v.IsNull() || v.IsUnknown() {
			continue
		}
		switch f.kind {
		case kString:
			out[f.name] = v.(types.String).ValueString()
		case kInt:
			out[f.name] = v.(types.Int64).ValueInt64()
		case kFloat:
			out[f.name] = v.(types.Float64).ValueFloat64()
		case kBool:
			out[f.name] = v.(types.Bool).ValueBool()
		case kIntList:
			l := []any{} // an empty list is sent as [], not null
			for _, e := range v.(types.List).Elements() {
				l = append(l, e.(types.Int64).ValueInt64())
			}
			out[f.name] = l
		case kStringList:
			l := []any{}
			for _, e := range v.(types.List).Elements() {
				l = append(l, e.(types.String).ValueString())
			}
			out[f.name] = l
		case kStringMap:
			m := map[string]any{}
			for k, e := range v.(types.Map).Elements() {
				m[k] = e.(types.String).ValueString()
			}
			out[f.name] = m
		case kObject:
			out[f.name] = toAPI(v.(types.Object), f.fields)
		case kObjectList:
			l := []any{}
			for _, e := range v.(types.List).Elements() {
				l = append(l, toAPI(e.(types.Object), f.fields))
			}
			out[f.name] = l
		case kJSON:
			var j any
			if err := json.Unmarshal([]byte(v.(types.String).ValueString()), &j); err == nil { // else refused by jsonText
				out[f.name] = j
			}
		}
	}
	return out
}

// fromAPI turns the API's config object into the state's object. prior is what the plan or
// the state held (null on import): a secret the API masks keeps its prior value, since the
// API never shows it; with no prior value it is null (an import cannot know it).
func fromAPI(m map[string]any, prior types.Object, fields []field, diags *diag.Diagnostics) types.Object {
	var priorAttrs map[string]attr.Value
	if !prior.IsNull() && !prior.IsUnknown() {
		priorAttrs = prior.Attributes()
	}
	vals := make(map[string]attr.Value, len(fields))
	for _, f := range fields {
		vals[f.name] = fieldFromAPI(f, m[f.name], priorAttrs[f.name], diags)
	}
	obj, d := types.ObjectValue(attrTypes(fields), vals)
	diags.Append(d...)
	return obj
}

func fieldFromAPI(f field, v any, prior attr.Value, diags *diag.Diagnostics) attr.Value {
	if v == nil {
		return nullOf(f)
	}
	bad := func() attr.Value {
		diags.AddWarning("Unexpected config value", fmt.Sprintf("the API answered %T for %s", v, f.name))
		return nullOf(f)
	}
	switch f.kind {
	case kString:
		s, ok := v.(string)
		if !ok {
			return bad()
		}
		if f.secret && strings.Contains(s, secretMask) {
			if p, ok := prior.(types.String); ok && !p.IsNull() && !p.IsUnknown() {
				return p
			}
			return types.StringNull()
		}
		return types.StringValue(s)
	case kInt:
		n, ok := v.(float64)
		if !ok {
			return bad()
		}
		return types.Int64Value(int64(n))
	case kFloat:
		n, ok := v.(float64)
		if !ok {
			return bad()
		}
		return types.Float64Value(n)
	case kBool:
		b, ok := v.(bool)
		if !ok {
			return bad()
		}
		return types.BoolValue(b)
	case kIntList, kStringList:
		l, ok := v.([]any)
		if !ok {
			return bad()
		}
		elems := make([]attr.Value, 0, len(l))
		for _, e := range l {
			if f.kind == kIntList {
				n, _ := e.(float64)
				elems = append(elems, types.Int64Value(int64(n)))
			} else {
				s, _ := e.(string)
				elems = append(elems, types.StringValue(s))
			}
		}
		list, d := types.ListValue(f.attrType().(types.ListType).ElemType, elems)
		diags.Append(d...)
		return list
	case kStringMap:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		var priorElems map[string]attr.Value
		if p, ok := prior.(types.Map); ok && !p.IsNull() && !p.IsUnknown() {
			priorElems = p.Elements()
		}
		elems := make(map[string]attr.Value, len(m))
		for k, e := range m {
			s, _ := e.(string)
			if p, ok := priorElems[k]; ok && f.secret && strings.Contains(s, secretMask) {
				elems[k] = p // a masked value keeps the configured one; a new key shows as drift
				continue
			}
			elems[k] = types.StringValue(s)
		}
		mv, d := types.MapValue(types.StringType, elems)
		diags.Append(d...)
		return mv
	case kObjectList:
		l, ok := v.([]any)
		if !ok {
			return bad()
		}
		var priorElems []attr.Value // matched by index: a masked secret keeps the value at its place
		if p, ok := prior.(types.List); ok && !p.IsNull() && !p.IsUnknown() {
			priorElems = p.Elements()
		}
		elemType := types.ObjectType{AttrTypes: attrTypes(f.fields)}
		elems := make([]attr.Value, 0, len(l))
		for i, e := range l {
			m, ok := e.(map[string]any)
			if !ok {
				return bad()
			}
			p := types.ObjectNull(elemType.AttrTypes)
			if i < len(priorElems) {
				p, _ = priorElems[i].(types.Object)
			}
			elems = append(elems, fromAPI(m, p, f.fields, diags))
		}
		list, d := types.ListValue(elemType, elems)
		diags.Append(d...)
		return list
	case kJSON:
		// The configured text stays when it says the same value (jsonencode's spacing or key
		// order is not drift); otherwise the API's value, encoded.
		if p, ok := prior.(types.String); ok && !p.IsNull() && !p.IsUnknown() {
			var pv any
			if json.Unmarshal([]byte(p.ValueString()), &pv) == nil && reflect.DeepEqual(pv, v) {
				return p
			}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return bad()
		}
		return types.StringValue(string(b))
	default:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		p, _ := prior.(types.Object)
		if prior == nil {
			p = types.ObjectNull(attrTypes(f.fields))
		}
		return fromAPI(m, p, f.fields, diags)
	}
}

func nullOf(f field) attr.Value {
	switch f.kind {
	case kString:
		return types.StringNull()
	case kInt:
		return types.Int64Null()
	case kFloat:
		return types.Float64Null()
	case kBool:
		return types.BoolNull()
	case kIntList, kStringList:
		return types.ListNull(f.attrType().(types.ListType).ElemType)
	case kStringMap:
		return types.MapNull(types.StringType)
	case kObjectList:
		return types.ListNull(types.ObjectType{AttrTypes: attrTypes(f.fields)})
	case kJSON:
		return types.StringNull()
	default:
		return types.ObjectNull(attrTypes(f.fields))
	}
}

// jsonText requires a JSON value other than null (the contract's "any JSON value").
type jsonText struct{}

func (jsonText) Description(context.Context) string {
	return "must be JSON text (jsonencode) of a value other than null"
}
func (v jsonText) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }
func (jsonText) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	var v any
	if err := json.Unmarshal([]byte(req.ConfigValue.ValueString()), &v); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid JSON", "must be JSON text, e.g. jsonencode(\"ok\"): "+err.Error())
	} else if v == nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid JSON", "null is not a value the API accepts")
	}
}

// variants is a oneOf discriminated by one field (the contract's HttpAssertion, whose kind
// selects its fields), as a validator of each object: the fields its variant requires must
// be set, and only those, its optional ones and the common ones may be.
type variants struct {
	key    string
	common []string
	of     []variant
}

type variant struct {
	name               string
	required, optional []string
}

func (v variants) names() []string {
	out := make([]string, len(v.of))
	for i, o := range v.of {
		out[i] = o.name
	}
	return out
}

func (v variants) Description(context.Context) string {
	return "the fields set must be those the " + v.key + " takes"
}
func (v variants) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v variants) ValidateObject(_ context.Context, req validator.ObjectRequest, resp *validator.ObjectResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	attrs := req.ConfigValue.Attributes()
	key, ok := attrs[v.key].(types.String)
	if !ok || key.IsNull() || key.IsUnknown() {
		return // required, or not known yet
	}
	i := slices.IndexFunc(v.of, func(o variant) bool { return o.name == key.ValueString() })
	if i < 0 {
		return // the key's own validator names the allowed values
	}
	o := v.of[i]
	for _, name := range o.required {
		if a := attrs[name]; a == nil || a.IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path.AtName(name), "Missing attribute",
				fmt.Sprintf("%s is required when %s is %q", name, v.key, o.name))
		}
	}
	for _, name := range sortedNames(attrs) {
		allowed := name == v.key || slices.Contains(v.common, name) || slices.Contains(o.required, name) || slices.Contains(o.optional, name)
		if !allowed && !attrs[name].IsNull() {
			resp.Diagnostics.AddAttributeError(req.Path.AtName(name), "Attribute not allowed",
				fmt.Sprintf("%s does not apply when %s is %q", name, v.key, o.name))
		}
	}
}

func sortedNames(m map[string]attr.Value) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// blockTypes is the Terraform type of a check type's nested attribute.
func (t checkType) objectType() map[string]attr.Type { return attrTypes(t.fields) }

var _ = context.Background
