package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/secuaas/secumon/client"
)

// A view is the comparable form of one resource: the fields apply manages, with references
// as names, defaults filled in and secrets masked. The file's side and the workspace's side
// are both turned into the same view type, and a plan is the fields whose values differ.

// Defaults the API gives to fields left out, so that a field removed from the file goes back
// to its default instead of keeping the old value.
const (
	defaultHostType    = "server"
	defaultIntervalSec = 60
	defaultTimeoutSec  = 10
	defaultFailures    = 2
	defaultCooldownSec = 300
	defaultHistoryDays = 90
	defaultTimezone    = "America/Toronto"
	defaultRotation    = string(client.RotationTypeWeekly)
	defaultHandoff     = "09:00"
	rotationCustom     = string(client.RotationTypeCustom)
)

const (
	aiTagPrefix = "ai:"      // tags set by AI tagging, not by the file
	masked      = "********" // what the API sends instead of a secret
)

// Secrets of check configs that the API never returns (writeOnly or x-secret-values in the
// contract). They are masked in the file's view too, so the plan neither shows them nor
// sees a difference the API hides.
var (
	secretConfigKeys = map[string]bool{"community": true, "auth_passphrase": true, "priv_passphrase": true}
	secretValueMaps  = map[string]bool{"headers": true}
	// Objects with a write-only field: the object is hashed whole, only the field is masked.
	secretObjectFields = map[string]string{"basic_auth": "password"}
)

// checkSecrets are the write-only values of a check's config, nil when it has none: what
// the state's hash covers.
func checkSecrets(s CheckSpec) map[string]any {
	cfg, _ := normalize(s.Config).(map[string]any)
	var out map[string]any
	for k, v := range cfg {
		if _, nested := secretObjectFields[k]; secretConfigKeys[k] || secretValueMaps[k] || nested {
			if out == nil {
				out = map[string]any{}
			}
			out[k] = v
		}
	}
	return out
}

// policySecrets are the webhook secrets of a policy, by URL; nil when it has none.
func policySecrets(s PolicySpec) []WebhookSpec {
	var out []WebhookSpec
	for _, h := range s.Channels.Webhook {
		if h.Secret != "" {
			out = append(out, h)
		}
	}
	return out
}

type hostView struct {
	Hostname    string            `json:"hostname"`
	HostType    string            `json:"host_type"`
	Description string            `json:"description"`
	Tags        map[string]string `json:"tags"`
	IsActive    bool              `json:"is_active"`
}

func hostWant(s HostSpec) hostView {
	return hostView{
		Hostname: s.Hostname, HostType: or(s.HostType, defaultHostType), Description: s.Description,
		Tags: ownTags(s.Tags), IsActive: deref(s.IsActive, true),
	}
}

func hostHave(h client.Host) hostView {
	return hostView{
		Hostname: h.Hostname, HostType: string(h.HostType), Description: deref(h.Description, ""),
		Tags: ownTags(h.Tags), IsActive: h.IsActive,
	}
}

// ownTags drops the AI tags, which the file does not manage.
func ownTags(tags map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range tags {
		if !strings.HasPrefix(k, aiTagPrefix) {
			out[k] = v
		}
	}
	return out
}

type checkView struct {
	Host             string         `json:"host"`
	CheckType        string         `json:"check_type"`
	Config           map[string]any `json:"config"`
	IntervalSec      int            `json:"interval_sec"`
	TimeoutSec       int            `json:"timeout_sec"`
	FailureThreshold int            `json:"failure_threshold"`
	Severity         string         `json:"severity"`
	Enabled          bool           `json:"enabled"`
}

// checkWant is the file's view of a check; have is the check it will be compared with (nil
// for a new one): its masked secrets mask the same places of the file's config, and its
// severity stands when the file gives none.
func checkWant(s CheckSpec, have *client.Check) checkView {
	v := checkView{
		Host: s.Host, CheckType: s.CheckType, IntervalSec: deref(s.IntervalSec, defaultIntervalSec),
		TimeoutSec: deref(s.TimeoutSec, defaultTimeoutSec), FailureThreshold: deref(s.FailureThreshold, defaultFailures),
		Severity: s.Severity, Enabled: deref(s.Enabled, true),
	}
	var like map[string]any
	if have != nil {
		like, _ = have.Config.Map()
		if v.Severity == "" && have.Severity != nil {
			v.Severity = string(*have.Severity)
		}
	}
	v.Config, _ = maskLike(normalize(s.Config), like, true).(map[string]any)
	if v.Config == nil {
		v.Config = map[string]any{}
	}
	return v
}

func checkHave(c client.Check, w *Workspace) checkView {
	config, _ := c.Config.Map()
	v := checkView{
		Host: names([]client.Id{c.HostId}, w.hostNames)[0], CheckType: string(c.CheckType),
		Config: config, IntervalSec: c.IntervalSec, TimeoutSec: c.TimeoutSec,
		FailureThreshold: c.FailureThreshold, Enabled: c.Enabled,
	}
	if c.Severity != nil {
		v.Severity = string(*c.Severity)
	}
	if v.Config == nil {
		v.Config = map[string]any{}
	}
	return v
}

// maskLike masks the secrets of a config: values under the contract's secret keys (when top
// says v is the config itself), and any string whose counterpart in like (the API's masked
// answer) is the mask, so that a secret the contract adds later does not cause a perpetual
// difference either.
func maskLike(v, like any, top bool) any {
	m, ok := v.(map[string]any)
	if !ok {
		if s, isStr := v.(string); isStr && s != "" && like == masked {
			return masked
		}
		return v
	}
	likeMap, _ := like.(map[string]any)
	out := make(map[string]any, len(m))
	for k, val := range m {
		switch {
		case top && secretConfigKeys[k]:
			out[k] = masked
		case top && secretValueMaps[k]:
			vals, _ := val.(map[string]any)
			hidden := make(map[string]any, len(vals))
			for hk := range vals {
				hidden[hk] = masked
			}
			out[k] = hidden
		case top && secretObjectFields[k] != "":
			obj, _ := val.(map[string]any)
			hidden := make(map[string]any, len(obj))
			for ok, ov := range obj {
				hidden[ok] = ov
			}
			if _, set := hidden[secretObjectFields[k]]; set {
				hidden[secretObjectFields[k]] = masked
			}
			out[k] = hidden
		default:
			out[k] = maskLike(val, likeMap[k], false)
		}
	}
	return out
}

// normalize gives a YAML value the shape the same JSON has once decoded (numbers as float64,
// maps as map[string]any), so that it compares with the API's answer.
func normalize(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

type policyView struct {
	Description string         `json:"description"`
	Enabled     bool           `json:"enabled"`
	CooldownSec int            `json:"cooldown_sec"`
	Conditions  conditionsView `json:"conditions"`
	Channels    channelsView   `json:"channels"`
}

type conditionsView struct {
	Severity   []string          `json:"severity,omitempty"`
	CheckTypes []string          `json:"check_types,omitempty"`
	Hosts      []string          `json:"hosts,omitempty"`
	HostTags   map[string]string `json:"host_tags,omitempty"`
}

type channelsView struct {
	Email   []string      `json:"email,omitempty"`
	Slack   []string      `json:"slack,omitempty"`
	Webhook []webhookView `json:"webhook,omitempty"`
	Oncall  []string      `json:"oncall,omitempty"`
}

type webhookView struct {
	URL    string `json:"url"`
	Secret string `json:"secret,omitempty"` // masked: only whether there is one shows
}

func policyWant(s PolicySpec) policyView {
	v := policyView{
		Description: s.Description, Enabled: deref(s.Enabled, true), CooldownSec: deref(s.CooldownSec, defaultCooldownSec),
		Conditions: conditionsView{
			Severity: s.Conditions.Severity, CheckTypes: s.Conditions.CheckTypes, Hosts: s.Conditions.Hosts, HostTags: s.Conditions.HostTags,
		},
		Channels: channelsView{Email: s.Channels.Email, Slack: s.Channels.Slack, Oncall: s.Channels.Oncall},
	}
	for _, w := range s.Channels.Webhook {
		v.Channels.Webhook = append(v.Channels.Webhook, webhookView{URL: w.URL, Secret: maskIfSet(w.Secret)})
	}
	return v
}

func policyHave(p client.AlertPolicy, w *Workspace) policyView {
	c, ch := p.Conditions, p.Channels
	v := policyView{
		Description: deref(p.Description, ""), Enabled: p.Enabled, CooldownSec: p.CooldownSec,
		Conditions: conditionsView{
			Severity: strs(deref(c.Severity, nil)), CheckTypes: strs(deref(c.CheckTypes, nil)),
			Hosts: names(deref(c.HostIds, nil), w.hostNames), HostTags: deref(c.HostTags, nil),
		},
		Channels: channelsView{
			Slack: deref(ch.Slack, nil), Oncall: names(deref(ch.Oncall, nil), w.scheduleNames),
		},
	}
	for _, e := range deref(ch.Email, nil) {
		v.Channels.Email = append(v.Channels.Email, string(e))
	}
	for _, h := range deref(ch.Webhook, nil) {
		v.Channels.Webhook = append(v.Channels.Webhook, webhookView{URL: h.Url, Secret: maskIfSet(deref(h.Secret, ""))})
	}
	return v
}

func maskIfSet(secret string) string {
	if secret == "" {
		return ""
	}
	return masked
}

type scheduleView struct {
	Description         string         `json:"description"`
	Timezone            string         `json:"timezone"`
	RotationType        string         `json:"rotation_type"`
	RotationStart       string         `json:"rotation_start"` // empty: the server chooses
	HandoffTime         string         `json:"handoff_time"`
	RotationLengthHours *int           `json:"rotation_length_hours"`
	Members             []memberView   `json:"members"`
	Overrides           []overrideView `json:"overrides"`
}

type memberView struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone,omitempty"`
}

type overrideView struct {
	memberView
	Start string `json:"start"`
	End   string `json:"end"`
}

// scheduleWant is the file's view of a schedule; have is the schedule it will be compared
// with (nil for a new one), whose rotation_start and rotation_length_hours stand when the
// file gives none, since the API cannot clear them.
func scheduleWant(s ScheduleSpec, have *client.OncallSchedule) scheduleView {
	v := scheduleView{
		Description: s.Description, Timezone: or(s.Timezone, defaultTimezone), RotationType: or(s.RotationType, defaultRotation),
		HandoffTime: or(s.HandoffTime, defaultHandoff), RotationLengthHours: s.RotationLengthHours,
	}
	if s.RotationStart != nil {
		v.RotationStart = stamp(*s.RotationStart)
	}
	if have != nil {
		if v.RotationStart == "" {
			v.RotationStart = stamp(have.RotationStart)
		}
		if v.RotationLengthHours == nil {
			v.RotationLengthHours = have.RotationLengthHours
		}
	}
	for _, m := range s.Members {
		v.Members = append(v.Members, memberView(m))
	}
	for _, o := range s.Overrides {
		v.Overrides = append(v.Overrides, overrideView{memberView{o.Name, o.Email, o.Phone}, stamp(o.Start), stamp(o.End)})
	}
	return v
}

func scheduleHave(s client.OncallSchedule) scheduleView {
	v := scheduleView{
		Description: deref(s.Description, ""), Timezone: s.Timezone, RotationType: string(s.RotationType),
		RotationStart: stamp(s.RotationStart), HandoffTime: s.HandoffTime, RotationLengthHours: s.RotationLengthHours,
	}
	for _, m := range s.Members {
		v.Members = append(v.Members, memberView{Name: m.Name, Email: string(m.Email), Phone: deref(m.Phone, "")})
	}
	for _, o := range s.Overrides {
		v.Overrides = append(v.Overrides, overrideView{memberView{o.Name, string(o.Email), deref(o.Phone, "")}, stamp(o.Start), stamp(o.End)})
	}
	return v
}

type pageView struct {
	Title           string          `json:"title"`
	Description     string          `json:"description"`
	IsPublic        bool            `json:"is_public"`
	ShowHistoryDays int             `json:"show_history_days"`
	Components      []componentView `json:"components"`
}

type componentView struct {
	Name  string `json:"name"`
	Group string `json:"group,omitempty"`
	Host  string `json:"host,omitempty"`
	Check string `json:"check,omitempty"`
	Order int    `json:"order"`
}

// pageWant lists the components in the order the API returns them: by order, then by
// position in the list (a component's order defaults to its position).
func pageWant(s PageSpec) pageView {
	v := pageView{
		Title: s.Title, Description: s.Description, IsPublic: deref(s.IsPublic, true),
		ShowHistoryDays: deref(s.ShowHistoryDays, defaultHistoryDays), Components: []componentView{},
	}
	for i, c := range s.Components {
		v.Components = append(v.Components, componentView{Name: c.Name, Group: c.Group, Host: c.Host, Check: c.Check, Order: deref(c.Order, i)})
	}
	slices.SortStableFunc(v.Components, func(a, b componentView) int { return a.Order - b.Order })
	return v
}

func pageHave(p client.StatusPage, w *Workspace) pageView {
	v := pageView{
		Title: p.Title, Description: deref(p.Description, ""), IsPublic: p.IsPublic,
		ShowHistoryDays: p.ShowHistoryDays, Components: []componentView{},
	}
	for i, c := range p.Components {
		cv := componentView{Name: c.Name, Group: deref(c.Group, ""), Order: deref(c.Order, i)}
		if c.HostId != nil {
			cv.Host = names([]client.Id{*c.HostId}, w.hostNames)[0]
		}
		if c.CheckId != nil {
			cv.Check = names([]client.Id{*c.CheckId}, w.checkNames)[0]
		}
		v.Components = append(v.Components, cv)
	}
	return v
}

type windowView struct {
	Description       string   `json:"description"`
	StartTime         string   `json:"start_time"`
	EndTime           string   `json:"end_time"`
	AffectedHosts     []string `json:"affected_hosts"`
	SuppressAlerts    bool     `json:"suppress_alerts"`
	NotifySubscribers bool     `json:"notify_subscribers"`
}

func windowWant(s WindowSpec) windowView {
	return windowView{
		Description: s.Description, StartTime: stamp(s.StartTime), EndTime: stamp(s.EndTime),
		AffectedHosts: s.AffectedHosts, SuppressAlerts: deref(s.SuppressAlerts, true), NotifySubscribers: deref(s.NotifySubscribers, true),
	}
}

func windowHave(m client.MaintenanceWindow, w *Workspace) windowView {
	return windowView{
		Description: deref(m.Description, ""), StartTime: stamp(m.StartTime), EndTime: stamp(m.EndTime),
		AffectedHosts: names(m.AffectedHosts, w.hostNames), SuppressAlerts: m.SuppressAlerts, NotifySubscribers: m.NotifySubscribers,
	}
}

// stamp writes a time the way the API keeps it (RFC 3339, UTC, to the microsecond, as
// PostgreSQL does), so equal instants compare equal.
func stamp(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) }

// Field is one field of a view, its value as JSON.
type Field struct {
	Name, Value string
}

// fields lists a view's fields in declaration order. Empty lists and maps read the same
// whether absent or empty.
func fields(view any) []Field {
	v := reflect.ValueOf(view)
	out := make([]Field, 0, v.NumField())
	for i := range v.NumField() {
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		f := v.Field(i)
		value := "null"
		switch {
		case (f.Kind() == reflect.Slice || f.Kind() == reflect.Map) && f.Len() == 0:
			value = map[reflect.Kind]string{reflect.Slice: "[]", reflect.Map: "{}"}[f.Kind()]
		default:
			b, _ := json.Marshal(f.Interface()) // views hold only JSON-safe values
			value = string(b)
		}
		out = append(out, Field{Name: name, Value: value})
	}
	return out
}

// Diff is a field whose value changes.
type Diff struct {
	Field, Old, New string // Old and New are JSON texts; Old is empty for a create
}

// MarshalJSON writes the values as JSON values, not as strings holding JSON.
func (d Diff) MarshalJSON() ([]byte, error) {
	v := struct {
		Field string          `json:"field"`
		Old   json.RawMessage `json:"old,omitempty"`
		New   json.RawMessage `json:"new"`
	}{Field: d.Field, New: json.RawMessage(d.New)}
	if d.Old != "" {
		v.Old = json.RawMessage(d.Old)
	}
	return json.Marshal(v)
}

// diff compares two views of the same type.
func diff(have, want any) []Diff {
	h, w := fields(have), fields(want)
	var out []Diff
	for i := range w {
		if h[i].Value != w[i].Value {
			out = append(out, Diff{Field: w[i].Name, Old: h[i].Value, New: w[i].Value})
		}
	}
	return out
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// strs turns a list of string-based enums into strings.
func strs[S ~string](in []S) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = string(s)
	}
	return out
}
