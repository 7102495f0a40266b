package probes

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gosnmp/gosnmp"
)

// SNMPConfig is the config of an snmp check (OpenAPI schema SnmpConfig).
type SNMPConfig struct {
	Host           string    `json:"host,omitempty"`
	Port           int       `json:"port,omitempty"`
	Version        string    `json:"version,omitempty"`
	Community      string    `json:"community,omitempty"`
	Username       string    `json:"username,omitempty"`
	SecurityLevel  string    `json:"security_level,omitempty"`
	AuthProtocol   string    `json:"auth_protocol,omitempty"`
	AuthPassphrase string    `json:"auth_passphrase,omitempty"`
	PrivProtocol   string    `json:"priv_protocol,omitempty"`
	PrivPassphrase string    `json:"priv_passphrase,omitempty"`
	ContextName    string    `json:"context_name,omitempty"`
	DefaultOIDs    bool      `json:"default_oids"`
	OIDs           []SNMPOID `json:"oids,omitempty"`
}

// SNMPOID is one OID to get, with optional thresholds (OpenAPI schema SnmpOid).
type SNMPOID struct {
	OID       string   `json:"oid,omitempty"`
	Name      string   `json:"name,omitempty"`
	Counter   bool     `json:"counter"`
	WarnAbove *float64 `json:"warn_above,omitempty"`
	CritAbove *float64 `json:"crit_above,omitempty"`
	WarnBelow *float64 `json:"warn_below,omitempty"`
	CritBelow *float64 `json:"crit_below,omitempty"`
}

// DefaultSNMPConfig returns the defaults of an snmp check. The v2c community defaults to
// "public" when none is configured.
func DefaultSNMPConfig() SNMPConfig {
	return SNMPConfig{
		Port: 161, Version: "v2c", Community: "public",
		SecurityLevel: "authPriv", AuthProtocol: "SHA", PrivProtocol: "AES",
		DefaultOIDs: true,
	}
}

// Well-known OIDs (without the leading dot).
const (
	oidSysDescr  = "1.3.6.1.2.1.1.1.0"
	oidSysUpTime = "1.3.6.1.2.1.1.3.0"
	oidSysName   = "1.3.6.1.2.1.1.5.0"

	oidIfDescr       = "1.3.6.1.2.1.2.2.1.2"
	oidIfOperStatus  = "1.3.6.1.2.1.2.2.1.8"
	oidIfInOctets    = "1.3.6.1.2.1.2.2.1.10"
	oidIfOutOctets   = "1.3.6.1.2.1.2.2.1.16"
	oidIfName        = "1.3.6.1.2.1.31.1.1.1.1"
	oidIfHCInOctets  = "1.3.6.1.2.1.31.1.1.1.6"
	oidIfHCOutOctets = "1.3.6.1.2.1.31.1.1.1.10"
)

// maxInterfaces bounds the interfaces turned into samples per run.
const maxInterfaces = 4096

// ProbeSNMP gets the configured OIDs and, with default_oids, the system group and the IF-MIB
// interface table (operational status and octet counters as bytes/s rates, computed from the
// previous run's values kept in memo). Thresholds per OID set Warning or Critical. No answer
// at all is Unknown.
func ProbeSNMP(ctx context.Context, c Check, memo *Memo, g *Guard) Result {
	cfg := DefaultSNMPConfig()
	if err := decodeConfig(c.Config, &cfg); err != nil {
		return unknownResult("snmp: %v", err)
	}
	if cfg.Port == 0 {
		cfg.Port = 161
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return unknownResult("snmp: invalid config: port %d out of range 1..65535", cfg.Port)
	}
	for i := range cfg.OIDs {
		o := strings.TrimPrefix(strings.TrimSpace(cfg.OIDs[i].OID), ".")
		if !validOID(o) {
			return unknownResult("snmp: invalid config: oids[%d]: %q is not a numeric OID", i, cfg.OIDs[i].OID)
		}
		cfg.OIDs[i].OID = o
		if cfg.OIDs[i].Name == "" {
			cfg.OIDs[i].Name = o
		}
	}
	if !cfg.DefaultOIDs && len(cfg.OIDs) == 0 {
		return unknownResult("snmp: invalid config: default_oids is false and no oids are configured")
	}
	_, addr, err := resolveTarget(ctx, g, cfg.Host, c)
	if err != nil {
		return unknownResult("snmp: %v", err)
	}

	client, err := snmpClient(ctx, cfg, addr.String(), g)
	if err != nil {
		return unknownResult("snmp: invalid config: %v", err)
	}
	where := netip.AddrPortFrom(addr, uint16(cfg.Port)).String()
	if err := client.Connect(); err != nil {
		return snmpFailure(where, cfg, err)
	}
	defer client.Close()

	// One Get for the system group and the configured OIDs.
	var oids []string
	if cfg.DefaultOIDs {
		oids = append(oids, oidSysDescr, oidSysUpTime, oidSysName)
	}
	for _, o := range cfg.OIDs {
		oids = append(oids, o.OID)
	}
	start := time.Now()
	got := map[string]gosnmp.SnmpPDU{}
	for chunk := range slices.Chunk(dedupe(oids), gosnmp.MaxOids) {
		pkt, err := client.Get(chunk)
		if err != nil {
			return snmpFailure(where, cfg, err)
		}
		if pkt.Error != gosnmp.NoError {
			return unknownResult("snmp %s: agent answered %s (index %d)", where, pkt.Error, pkt.ErrorIndex)
		}
		for _, v := range pkt.Variables {
			got[strings.TrimPrefix(v.Name, ".")] = v
		}
	}
	latency := time.Since(start)
	now := time.Now()

	res := Result{
		Status:    OK,
		LatencyMs: ms(latency),
		Metrics:   map[string]float64{},
		Facts:     map[string]string{},
	}
	var notes, problems []string
	uptime := -1.0
	if cfg.DefaultOIDs {
		if v, ok := got[oidSysDescr]; ok && present(v) {
			res.Facts["sysDescr"] = pduString(v)
		}
		if v, ok := got[oidSysName]; ok && present(v) {
			res.Facts["sysName"] = pduString(v)
		}
		if v, ok := got[oidSysUpTime]; ok && present(v) {
			if f, ok := pduFloat(v); ok {
				uptime = f / 100 // TimeTicks are hundredths of a second
				res.Metrics["sys_uptime_s"] = uptime
			}
		}
	}
	memo.startRun(uptime)
	defer memo.endRun()

	// Configured OIDs.
	for _, o := range cfg.OIDs {
		v, ok := got[o.OID]
		if !ok || !present(v) {
			res.Status = Worse(res.Status, Unknown)
			problems = append(problems, fmt.Sprintf("%s: %s", o.Name, absentReason(v, ok)))
			continue
		}
		var value float64
		if o.Counter {
			n, ok := pduUint(v)
			if !ok {
				res.Status = Worse(res.Status, Unknown)
				problems = append(problems, fmt.Sprintf("%s: %s value is not a counter", o.Name, v.Type))
				continue
			}
			rate, ok := memo.Rate("oid:"+o.OID, n, now)
			if !ok {
				notes = append(notes, o.Name+": rate from the next run")
				continue
			}
			value = rate
		} else {
			f, ok := pduFloat(v)
			if !ok {
				res.Facts[o.Name] = pduString(v)
				if hasThresholds(o) {
					res.Status = Worse(res.Status, Unknown)
					problems = append(problems, fmt.Sprintf("%s: value %q is not a number", o.Name, pduString(v)))
				}
				continue
			}
			value = f
		}
		res.Samples = append(res.Samples, Sample{OID: o.OID, Name: o.Name, Value: value})
		res.Metrics[o.Name] = value
		if st, why := oidStatus(o, value); st != OK {
			res.Status = Worse(res.Status, st)
			problems = append(problems, why)
		}
	}

	// Interfaces.
	var ifSummary string
	if cfg.DefaultOIDs {
		samples, count, up, err := walkInterfaces(client, memo, now)
		res.Samples = append(res.Samples, samples...)
		if err != nil {
			res.Status = Worse(res.Status, Warning)
			problems = append(problems, "interface table: "+snmpErrText(cfg, err))
		} else {
			res.Metrics["if_count"] = float64(count)
			res.Metrics["if_up"] = float64(up)
			ifSummary = fmt.Sprintf("%d interface(s), %d up", count, up)
		}
	}

	var parts []string
	if n := res.Facts["sysName"]; n != "" {
		parts = append(parts, n)
	} else {
		parts = append(parts, where)
	}
	if uptime >= 0 {
		parts = append(parts, "up "+time.Duration(uptime*float64(time.Second)).Round(time.Second).String())
	}
	if ifSummary != "" {
		parts = append(parts, ifSummary)
	}
	if len(cfg.OIDs) > 0 {
		parts = append(parts, fmt.Sprintf("%d OID(s)", len(cfg.OIDs)))
	}
	parts = append(parts, notes...)
	res.Output = strings.Join(parts, ", ")
	if len(problems) > 0 {
		res.ErrorMsg = strings.Join(problems, "; ")
		res.Output += "; " + res.ErrorMsg
	}
	return res
}

// snmpClient builds the gosnmp client; every socket goes through the Guard's Control.
func snmpClient(ctx context.Context, cfg SNMPConfig, target string, g *Guard) (*gosnmp.GoSNMP, error) {
	// Two tries per request within the time left, so that a silent agent ends the run before
	// the context does.
	per := remaining(ctx, DefaultTimeout) / 3
	per = max(min(per, 5*time.Second), 50*time.Millisecond)
	x := &gosnmp.GoSNMP{
		Target:         target,
		Port:           uint16(cfg.Port),
		Transport:      "udp",
		Context:        ctx,
		Timeout:        per,
		Retries:        1,
		MaxOids:        gosnmp.MaxOids,
		MaxRepetitions: 25,
		Control:        g.Control,
	}
	switch strings.ToLower(strings.TrimSpace(cfg.Version)) {
	case "", "v2c", "2c", "2":
		x.Version = gosnmp.Version2c
		x.Community = cfg.Community
	case "v3", "3":
		x.Version = gosnmp.Version3
		x.SecurityModel = gosnmp.UserSecurityModel
		x.ContextName = cfg.ContextName
		if cfg.Username == "" {
			return nil, errors.New("v3 needs a username")
		}
		usm := &gosnmp.UsmSecurityParameters{UserName: cfg.Username}
		switch strings.ToLower(cfg.SecurityLevel) {
		case "noauthnopriv":
			x.MsgFlags = gosnmp.NoAuthNoPriv
		case "authnopriv":
			x.MsgFlags = gosnmp.AuthNoPriv
		case "authpriv", "":
			x.MsgFlags = gosnmp.AuthPriv
		default:
			return nil, fmt.Errorf("unknown security_level %q", cfg.SecurityLevel)
		}
		if x.MsgFlags != gosnmp.NoAuthNoPriv {
			ap, ok := map[string]gosnmp.SnmpV3AuthProtocol{
				"MD5": gosnmp.MD5, "SHA": gosnmp.SHA, "SHA224": gosnmp.SHA224,
				"SHA256": gosnmp.SHA256, "SHA384": gosnmp.SHA384, "SHA512": gosnmp.SHA512,
			}[strings.ToUpper(cmp.Or(strings.TrimSpace(cfg.AuthProtocol), "SHA"))]
			if !ok {
				return nil, fmt.Errorf("unknown auth_protocol %q", cfg.AuthProtocol)
			}
			if len(cfg.AuthPassphrase) < 8 {
				return nil, errors.New("auth_passphrase needs at least 8 characters")
			}
			usm.AuthenticationProtocol, usm.AuthenticationPassphrase = ap, cfg.AuthPassphrase
		} else {
			usm.AuthenticationProtocol = gosnmp.NoAuth
		}
		if x.MsgFlags == gosnmp.AuthPriv {
			pp, ok := map[string]gosnmp.SnmpV3PrivProtocol{
				"DES": gosnmp.DES, "AES": gosnmp.AES, "AES192": gosnmp.AES192, "AES256": gosnmp.AES256,
				"AES192C": gosnmp.AES192C, "AES256C": gosnmp.AES256C,
			}[strings.ToUpper(cmp.Or(strings.TrimSpace(cfg.PrivProtocol), "AES"))]
			if !ok {
				return nil, fmt.Errorf("unknown priv_protocol %q", cfg.PrivProtocol)
			}
			if len(cfg.PrivPassphrase) < 8 {
				return nil, errors.New("priv_passphrase needs at least 8 characters")
			}
			usm.PrivacyProtocol, usm.PrivacyPassphrase = pp, cfg.PrivPassphrase
		} else {
			usm.PrivacyProtocol = gosnmp.NoPriv
		}
		x.SecurityParameters = usm
	default:
		return nil, fmt.Errorf("unknown version %q (v2c or v3)", cfg.Version)
	}
	return x, nil
}

// snmpFailure is the result of a request that got no usable answer: Unknown.
func snmpFailure(where string, cfg SNMPConfig, err error) Result {
	var na *NotAllowedError
	if errors.As(err, &na) {
		return unknownResult("snmp: %v", err)
	}
	return unknownResult("snmp %s: %s", where, snmpErrText(cfg, err))
}

func snmpErrText(cfg SNMPConfig, err error) string {
	switch {
	case errors.Is(err, gosnmp.ErrUnknownUsername), errors.Is(err, gosnmp.ErrWrongDigest),
		errors.Is(err, gosnmp.ErrDecryption), errors.Is(err, gosnmp.ErrUnknownSecurityLevel),
		errors.Is(err, gosnmp.ErrUnknownSecurityModels),
		// gosnmp reports a wrong auth key as an unauthenticated answer (no exported error).
		strings.Contains(err.Error(), "not authentic"), strings.Contains(err.Error(), "requires authentication"):
		return fmt.Sprintf("SNMPv3 authentication failed (check username, security level, protocols and passphrases): %v", err)
	case errors.Is(err, gosnmp.ErrMaxRetriesExceeded), errors.Is(err, context.DeadlineExceeded),
		isTimeout(err), strings.Contains(err.Error(), "timeout"):
		what := "wrong community or credentials?"
		if strings.EqualFold(cfg.Version, "v3") {
			what = "wrong credentials or agent down?"
		}
		return fmt.Sprintf("no SNMP answer (%s): %v", what, err)
	}
	return err.Error()
}

type ifRow struct {
	index    string
	descr    string
	name     string
	oper     float64
	hasOper  bool
	in, out  counterCell
	instance string
}

type counterCell struct {
	col   string // column name, e.g. ifHCInOctets
	oid   string // column OID
	value uint64
	ok    bool
}

// walkInterfaces walks the IF-MIB columns it needs and returns one sample per interface per
// metric. Octet counters use the 64-bit ifXTable columns and fall back to the 32-bit ifTable
// ones for interfaces without them.
func walkInterfaces(x *gosnmp.GoSNMP, memo *Memo, now time.Time) (samples []Sample, count, up int, err error) {
	rows := map[string]*ifRow{}
	row := func(idx string) *ifRow {
		r, ok := rows[idx]
		if !ok {
			if len(rows) >= maxInterfaces {
				return nil
			}
			r = &ifRow{index: idx}
			rows[idx] = r
		}
		return r
	}
	walk := func(col string, fn func(r *ifRow, v gosnmp.SnmpPDU)) error {
		return x.BulkWalk(col, func(v gosnmp.SnmpPDU) error {
			name := strings.TrimPrefix(v.Name, ".")
			idx, ok := strings.CutPrefix(name, col+".")
			if !ok || !present(v) {
				return nil
			}
			if r := row(idx); r != nil {
				fn(r, v)
			}
			return nil
		})
	}
	if err := walk(oidIfDescr, func(r *ifRow, v gosnmp.SnmpPDU) { r.descr = pduString(v) }); err != nil {
		return nil, 0, 0, err
	}
	if err := walk(oidIfName, func(r *ifRow, v gosnmp.SnmpPDU) { r.name = pduString(v) }); err != nil {
		return nil, 0, 0, err
	}
	if err := walk(oidIfOperStatus, func(r *ifRow, v gosnmp.SnmpPDU) {
		r.oper, r.hasOper = pduFloat(v)
	}); err != nil {
		return nil, 0, 0, err
	}
	setCell := func(cell func(r *ifRow) *counterCell, colName, colOID string) func(r *ifRow, v gosnmp.SnmpPDU) {
		return func(r *ifRow, v gosnmp.SnmpPDU) {
			if n, ok := pduUint(v); ok {
				*cell(r) = counterCell{col: colName, oid: colOID, value: n, ok: true}
			}
		}
	}
	in := func(r *ifRow) *counterCell { return &r.in }
	out := func(r *ifRow) *counterCell { return &r.out }
	if err := walk(oidIfHCInOctets, setCell(in, "ifHCInOctets", oidIfHCInOctets)); err != nil {
		return nil, 0, 0, err
	}
	if err := walk(oidIfHCOutOctets, setCell(out, "ifHCOutOctets", oidIfHCOutOctets)); err != nil {
		return nil, 0, 0, err
	}
	missing := false
	for _, r := range rows {
		if !r.in.ok || !r.out.ok {
			missing = true
		}
	}
	if missing {
		fill := func(cell func(r *ifRow) *counterCell, colName, colOID string) func(r *ifRow, v gosnmp.SnmpPDU) {
			set := setCell(cell, colName, colOID)
			return func(r *ifRow, v gosnmp.SnmpPDU) {
				if !cell(r).ok {
					set(r, v)
				}
			}
		}
		if err := walk(oidIfInOctets, fill(in, "ifInOctets", oidIfInOctets)); err != nil {
			return nil, 0, 0, err
		}
		if err := walk(oidIfOutOctets, fill(out, "ifOutOctets", oidIfOutOctets)); err != nil {
			return nil, 0, 0, err
		}
	}

	list := make([]*ifRow, 0, len(rows))
	for _, r := range rows {
		r.instance = r.name
		if r.instance == "" {
			r.instance = r.descr
		}
		if r.instance == "" {
			r.instance = r.index
		}
		list = append(list, r)
	}
	sort.Slice(list, func(i, j int) bool { return lessIndex(list[i].index, list[j].index) })
	for _, r := range list {
		count++
		if r.hasOper {
			if r.oper == 1 {
				up++
			}
			samples = append(samples, Sample{OID: oidIfOperStatus + "." + r.index, Name: "ifOperStatus", Instance: r.instance, Value: r.oper})
		}
		for _, cell := range []counterCell{r.in, r.out} {
			if !cell.ok {
				continue
			}
			// The key names the column, so a switch between 64- and 32-bit counters restarts.
			if rate, ok := memo.Rate(cell.col+"."+r.index, cell.value, now); ok {
				samples = append(samples, Sample{OID: cell.oid + "." + r.index, Name: cell.col, Instance: r.instance, Value: rate})
			}
		}
	}
	return samples, count, up, nil
}

// lessIndex orders table indexes numerically component by component.
func lessIndex(a, b string) bool {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, errx := strconv.ParseUint(as[i], 10, 64)
		y, erry := strconv.ParseUint(bs[i], 10, 64)
		if errx != nil || erry != nil {
			if as[i] != bs[i] {
				return as[i] < bs[i]
			}
			continue
		}
		if x != y {
			return x < y
		}
	}
	return len(as) < len(bs)
}

func oidStatus(o SNMPOID, v float64) (Status, string) {
	f := func(t float64) string { return strconv.FormatFloat(t, 'g', -1, 64) }
	switch {
	case o.CritAbove != nil && v > *o.CritAbove:
		return Critical, fmt.Sprintf("%s = %s above critical threshold %s", o.Name, f(v), f(*o.CritAbove))
	case o.CritBelow != nil && v < *o.CritBelow:
		return Critical, fmt.Sprintf("%s = %s below critical threshold %s", o.Name, f(v), f(*o.CritBelow))
	case o.WarnAbove != nil && v > *o.WarnAbove:
		return Warning, fmt.Sprintf("%s = %s above warning threshold %s", o.Name, f(v), f(*o.WarnAbove))
	case o.WarnBelow != nil && v < *o.WarnBelow:
		return Warning, fmt.Sprintf("%s = %s below warning threshold %s", o.Name, f(v), f(*o.WarnBelow))
	}
	return OK, ""
}

func hasThresholds(o SNMPOID) bool {
	return o.WarnAbove != nil || o.CritAbove != nil || o.WarnBelow != nil || o.CritBelow != nil
}

// present reports whether a varbind holds a value (not noSuchObject, noSuchInstance,
// endOfMibView or NULL).
func present(v gosnmp.SnmpPDU) bool {
	switch v.Type {
	case gosnmp.NoSuchObject, gosnmp.NoSuchInstance, gosnmp.EndOfMibView, gosnmp.Null:
		return false
	}
	return true
}

func absentReason(v gosnmp.SnmpPDU, ok bool) string {
	if !ok {
		return "not in the answer"
	}
	switch v.Type {
	case gosnmp.NoSuchObject:
		return "noSuchObject"
	case gosnmp.NoSuchInstance:
		return "noSuchInstance"
	case gosnmp.EndOfMibView:
		return "endOfMibView"
	}
	return "no value"
}

// pduString renders a value as text (octet strings as UTF-8, numbers in decimal).
func pduString(v gosnmp.SnmpPDU) string {
	switch val := v.Value.(type) {
	case []byte:
		return strings.TrimRight(string(val), "\x00")
	case string:
		return val
	case nil:
		return ""
	}
	if f, ok := pduFloat(v); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return fmt.Sprint(v.Value)
}

// pduFloat returns a numeric value; octet strings holding a number (as UCD-SNMP's load
// averages do) count as numbers.
func pduFloat(v gosnmp.SnmpPDU) (float64, bool) {
	switch val := v.Value.(type) {
	case float32:
		return float64(val), true
	case float64:
		return val, true
	case []byte:
		f, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimRight(string(val), "\x00")), 64)
		return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		b := gosnmp.ToBigInt(val)
		f, _ := b.Float64()
		return f, true
	}
	return 0, false
}

// pduUint returns a counter's value.
func pduUint(v gosnmp.SnmpPDU) (uint64, bool) {
	switch val := v.Value.(type) {
	case uint, uint8, uint16, uint32, uint64:
		return gosnmp.ToBigInt(val).Uint64(), true
	case int, int8, int16, int32, int64:
		b := gosnmp.ToBigInt(val)
		if b.Sign() < 0 {
			return 0, false
		}
		return b.Uint64(), true
	case []byte:
		n, err := strconv.ParseUint(strings.TrimSpace(string(val)), 10, 64)
		return n, err == nil
	}
	return 0, false
}

func validOID(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for _, r := range p {
			if r < '0' || r > '9' {
				return false
			}
		}
	}
	return true
}

func dedupe(s []string) []string {
	seen := make(map[string]bool, len(s))
	out := s[:0:0]
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
