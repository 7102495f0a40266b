package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/secuaas/secumon/client"
)

// executor carries out a plan. It resolves the file's names to ids as it goes: a check
// created in this run gets the id of a host created a moment before, a policy the id of a
// schedule.
type executor struct {
	c                        *client.Client
	out                      io.Writer
	st                       *State
	hosts, checks, schedules map[string]uuid.UUID
}

// newExecutor starts from the workspace's names (a policy may page a schedule the file does
// not manage), overlaid with the file's names of the resources the plan matched.
func newExecutor(c *client.Client, w *Workspace, p *Plan, st *State, out io.Writer) *executor {
	x := &executor{c: c, out: out, st: st, hosts: map[string]uuid.UUID{}, checks: map[string]uuid.UUID{}, schedules: map[string]uuid.UUID{}}
	for name, h := range w.Hosts {
		x.hosts[name] = h.Id
	}
	for name, s := range w.Schedules {
		x.schedules[name] = s.Id
	}
	for name, ch := range w.Checks {
		x.checks[name] = ch.Id
	}
	for kind, m := range map[string]map[string]uuid.UUID{kindHost: x.hosts, kindCheck: x.checks, kindSchedule: x.schedules} {
		for name, id := range p.ids[kind] {
			m[name] = id
		}
	}
	return x
}

// own records in the state a resource apply created.
func (x *executor) own(kind, key string, id uuid.UUID) {
	x.st.Set(kind, key, Owned{ID: id})
}

// Apply runs the plan's changes in order and stops at the first error; running apply again
// picks up from where it stopped, since every step is planned from what exists. Each call
// the SDK makes is retried on 503 and connection errors (creates too: they carry an
// Idempotency-Key), so a short outage of the server's database does not fail the run.
//
// The state file is written before the first change (adopted and renamed resources under
// the file's names, resources deleted outside apply forgotten) and after each change, so
// that a run that stops half-way still knows what it created.
func (p *Plan) Apply(ctx context.Context, c *client.Client, w *Workspace, st *State, out io.Writer) error {
	if err := p.Record(st); err != nil {
		return err
	}
	x := newExecutor(c, w, p, st, out)
	for _, ch := range p.Changes {
		if ch.run == nil {
			continue
		}
		if err := ch.run(ctx, x); err != nil {
			return errors.Join(fmt.Errorf("%s %s %s: %w", ch.Action, ch.Kind, ch.Name, err), st.Save())
		}
		if ch.Action == Delete {
			st.Remove(ch.Kind, ch.Name)
		} else if o, ok := st.Get(ch.Kind, ch.Name); ok {
			o.Secrets = ch.secrets // sent with the create or the update
			st.Set(ch.Kind, ch.Name, o)
		}
		if err := st.Save(); err != nil {
			return err
		}
		fmt.Fprintf(out, "%s %s %s\n", pastTense[ch.Action], ch.Kind, ch.Name)
	}
	return nil
}

// Record writes to the state what the plan found before any change: adopted and renamed
// resources under the file's names, resources deleted outside apply forgotten. Apply does
// it first; a plan without changes needs only this.
func (p *Plan) Record(st *State) error {
	secrets := map[uuid.UUID]string{}
	for _, m := range st.Resources {
		for _, o := range m {
			secrets[o.ID] = o.Secrets
		}
	}
	for kind, m := range st.Resources {
		for key, o := range m {
			if !p.has(o.ID) {
				st.Remove(kind, key) // gone from the workspace
			}
		}
	}
	for _, ch := range p.Changes {
		if ch.id != uuid.Nil && ch.Action != Delete && ch.Action != Keep {
			st.Set(ch.Kind, ch.Name, Owned{ID: ch.id, Secrets: secrets[ch.id]})
		}
	}
	return st.Save()
}

var pastTense = map[Action]string{Create: "created", Update: "updated", Replace: "replaced", Delete: "deleted"}

func (x *executor) createHost(ctx context.Context, s HostSpec) error {
	v := hostWant(s)
	ht := client.HostType(v.HostType)
	h, err := x.c.Hosts.Create(ctx, client.HostCreate{
		Name: s.Name, Hostname: v.Hostname, HostType: &ht, Description: &v.Description,
		Tags: (*client.Tags)(&v.Tags), IsActive: &v.IsActive,
	})
	if err == nil {
		x.hosts[s.Name] = h.Id
		x.own(kindHost, s.Name, h.Id)
	}
	return err
}

// updateHost sends every managed field; the host's AI tags are sent back as they are, since
// tags are replaced as a whole.
func (x *executor) updateHost(ctx context.Context, s HostSpec, have client.Host) error {
	v := hostWant(s)
	for k, val := range have.Tags {
		if _, own := ownTags(have.Tags)[k]; !own {
			v.Tags[k] = val
		}
	}
	ht := client.HostType(v.HostType)
	_, err := x.c.Hosts.Update(ctx, have.Id, client.HostUpdate{
		Name: &s.Name, Hostname: &v.Hostname, HostType: &ht, Description: &v.Description, Tags: (*client.Tags)(&v.Tags), IsActive: &v.IsActive,
	})
	return err
}

func (x *executor) deleteHost(ctx context.Context, h client.Host) error {
	return gone(x.c.Hosts.Delete(ctx, h.Id))
}

// checkConfig is the file's config as sent: with its secrets, unlike the view.
func checkConfig(s CheckSpec) *client.CheckConfig {
	cfg, _ := normalize(s.Config).(map[string]any)
	if cfg == nil {
		cfg = map[string]any{}
	}
	return client.CheckConfigFromMap(cfg)
}

func severity(s CheckSpec) *client.Severity {
	if s.Severity == "" {
		return nil
	}
	sev := client.Severity(s.Severity)
	return &sev
}

func (x *executor) createCheck(ctx context.Context, s CheckSpec) error {
	v := checkWant(s, nil)
	// The file's config is a free-form map: the type-independent form of CheckCreate takes it
	// as is, and the server validates it against the schema of the check type.
	cfg, _ := checkConfig(s).Map()
	ch, err := x.c.Checks.Create(ctx, client.CheckCreateBase{
		HostId: x.hosts[s.Host], Name: s.Name, CheckType: client.CheckType(s.CheckType), Config: &cfg,
		IntervalSec: &v.IntervalSec, TimeoutSec: &v.TimeoutSec, FailureThreshold: &v.FailureThreshold,
		Severity: severity(s), Enabled: &v.Enabled,
	}.CheckCreate())
	if err == nil {
		x.checks[s.Name] = ch.Id
		x.own(kindCheck, s.Name, ch.Id)
		if ch.PingUrl != nil {
			// A heartbeat check's ping URL is shown this once: the job it watches needs it.
			fmt.Fprintf(x.out, "check %s: ping URL %s (shown once; POST /checks/%s/ping-token replaces it)\n", s.Name, *ch.PingUrl, ch.Id)
		}
	}
	return err
}

func (x *executor) updateCheck(ctx context.Context, s CheckSpec, have client.Check) error {
	v := checkWant(s, &have)
	_, err := x.c.Checks.Update(ctx, have.Id, client.CheckUpdate{
		Name: &s.Name, Config: checkConfig(s), IntervalSec: &v.IntervalSec, TimeoutSec: &v.TimeoutSec,
		FailureThreshold: &v.FailureThreshold, Severity: severity(s), Enabled: &v.Enabled,
	})
	return err
}

// replaceCheck deletes the check first: names are unique, so the new one cannot coexist.
func (x *executor) replaceCheck(ctx context.Context, s CheckSpec, have client.Check) error {
	if err := x.deleteCheck(ctx, have); err != nil {
		return err
	}
	return x.createCheck(ctx, s)
}

func (x *executor) deleteCheck(ctx context.Context, c client.Check) error {
	return gone(x.c.Checks.Delete(ctx, c.Id))
}

// scheduleBody is the file's schedule as the API takes it: every field apply manages, except
// rotation_start and rotation_length_hours when the file leaves them to the server.
type scheduleBody struct {
	description, timezone, handoff string
	rotation                       client.RotationType
	members                        []client.OncallMember
	overrides                      client.OncallOverrides
}

func newScheduleBody(s ScheduleSpec) scheduleBody {
	v := scheduleWant(s, nil)
	b := scheduleBody{
		description: v.Description, timezone: v.Timezone, handoff: v.HandoffTime, rotation: client.RotationType(v.RotationType),
		members: []client.OncallMember{}, overrides: client.OncallOverrides{},
	}
	for _, m := range s.Members {
		b.members = append(b.members, client.OncallMember{Name: m.Name, Email: openapi_types.Email(m.Email), Phone: optional(m.Phone)})
	}
	for _, o := range s.Overrides {
		b.overrides = append(b.overrides, client.OncallOverride{
			Name: o.Name, Email: openapi_types.Email(o.Email), Phone: optional(o.Phone), Start: o.Start, End: o.End,
		})
	}
	return b
}

func (x *executor) createSchedule(ctx context.Context, s ScheduleSpec) error {
	b := newScheduleBody(s)
	created, err := x.c.Oncall.Create(ctx, client.OncallScheduleCreate{
		Name: s.Name, Description: &b.description, Timezone: &b.timezone, RotationType: &b.rotation,
		RotationStart: s.RotationStart, HandoffTime: &b.handoff, RotationLengthHours: s.RotationLengthHours,
		Members: &b.members, Overrides: &b.overrides,
	})
	if err == nil {
		x.schedules[s.Name] = created.Id
		x.own(kindSchedule, s.Name, created.Id)
	}
	return err
}

// updateSchedule sends every field the file manages; the API keeps those left out (nil).
func (x *executor) updateSchedule(ctx context.Context, s ScheduleSpec, have client.OncallSchedule) error {
	b := newScheduleBody(s)
	return x.c.Oncall.Update(ctx, have.Id, client.OncallScheduleUpdate{
		Name: s.Name, Description: &b.description, Timezone: &b.timezone, RotationType: &b.rotation,
		RotationStart: s.RotationStart, HandoffTime: &b.handoff, RotationLengthHours: s.RotationLengthHours,
		Members: &b.members, Overrides: &b.overrides,
	})
}

// deleteSchedule runs after the policies that named the schedule are deleted.
func (x *executor) deleteSchedule(ctx context.Context, s client.OncallSchedule) error {
	return gone(x.c.Oncall.Delete(ctx, s.Id))
}

// policyBody turns the file's policy into the API's conditions and channels.
func (x *executor) policyBody(s PolicySpec) (*client.AlertConditions, *client.AlertChannels) {
	c := s.Conditions
	cond := &client.AlertConditions{
		Severity: list(enums[client.Severity](c.Severity)), CheckTypes: list(enums[client.CheckType](c.CheckTypes)),
		HostIds: list(x.ids(x.hosts, c.Hosts)),
	}
	if len(c.HostTags) > 0 {
		cond.HostTags = (*client.Tags)(&c.HostTags)
	}
	ch := s.Channels
	chans := &client.AlertChannels{Slack: list(ch.Slack), Oncall: list(x.ids(x.schedules, ch.Oncall))}
	var emails []openapi_types.Email
	for _, e := range ch.Email {
		emails = append(emails, openapi_types.Email(e))
	}
	chans.Email = list(emails)
	var hooks []client.WebhookChannel
	for _, h := range ch.Webhook {
		hook := client.WebhookChannel{Url: h.URL}
		if h.Secret != "" {
			hook.Secret = &h.Secret
		}
		hooks = append(hooks, hook)
	}
	chans.Webhook = list(hooks)
	return cond, chans
}

func (x *executor) createPolicy(ctx context.Context, s PolicySpec) error {
	v := policyWant(s)
	cond, chans := x.policyBody(s)
	created, err := x.c.AlertPolicies.Create(ctx, client.AlertPolicyCreate{
		Name: s.Name, Description: &v.Description, Enabled: &v.Enabled, CooldownSec: &v.CooldownSec, Conditions: cond, Channels: chans,
	})
	if err == nil {
		x.own(kindPolicy, s.Name, created.Id)
	}
	return err
}

func (x *executor) updatePolicy(ctx context.Context, s PolicySpec, have client.AlertPolicy) error {
	v := policyWant(s)
	cond, chans := x.policyBody(s)
	_, err := x.c.AlertPolicies.Update(ctx, have.Id, client.AlertPolicyUpdate{
		Name: s.Name, Description: &v.Description, Enabled: &v.Enabled, CooldownSec: &v.CooldownSec, Conditions: cond, Channels: chans,
	})
	return err
}

func (x *executor) deletePolicy(ctx context.Context, p client.AlertPolicy) error {
	return gone(x.c.AlertPolicies.Delete(ctx, p.Id))
}

// components turns the file's components into the API's. A component that was already on
// the page (same name, same host or check) keeps its id, which badge URLs may use.
func (x *executor) components(s PageSpec, have *client.StatusPage) *[]client.StatusPageComponent {
	key := func(name string, host, check *uuid.UUID) string {
		return fmt.Sprintf("%s|%v|%v", name, deref(host, uuid.Nil), deref(check, uuid.Nil))
	}
	ids := map[string]*uuid.UUID{}
	if have != nil {
		for _, c := range have.Components {
			ids[key(c.Name, c.HostId, c.CheckId)] = c.Id
		}
	}
	out := make([]client.StatusPageComponent, 0, len(s.Components))
	for i, c := range s.Components {
		comp := client.StatusPageComponent{Name: c.Name, Order: client.Ptr(deref(c.Order, i))}
		if c.Group != "" {
			comp.Group = &c.Group
		}
		if c.Host != "" {
			comp.HostId = client.Ptr(x.hosts[c.Host])
		}
		if c.Check != "" {
			comp.CheckId = client.Ptr(x.checks[c.Check])
		}
		comp.Id = ids[key(comp.Name, comp.HostId, comp.CheckId)]
		out = append(out, comp)
	}
	return &out
}

func (x *executor) createPage(ctx context.Context, s PageSpec) error {
	v := pageWant(s)
	created, err := x.c.StatusPages.Create(ctx, client.StatusPageCreate{
		Slug: s.Slug, Title: s.Title, Description: &v.Description, IsPublic: &v.IsPublic,
		ShowHistoryDays: &v.ShowHistoryDays, Components: x.components(s, nil),
	})
	if err == nil {
		x.own(kindPage, s.Slug, created.Id)
	}
	return err
}

func (x *executor) updatePage(ctx context.Context, s PageSpec, have client.StatusPage) error {
	v := pageWant(s)
	_, err := x.c.StatusPages.Update(ctx, have.Id, client.StatusPageUpdate{
		Slug: &s.Slug, Title: &v.Title, Description: &v.Description, IsPublic: &v.IsPublic,
		ShowHistoryDays: &v.ShowHistoryDays, Components: x.components(s, &have),
	})
	return err
}

func (x *executor) deletePage(ctx context.Context, p client.StatusPage) error {
	return gone(x.c.StatusPages.Delete(ctx, p.Id))
}

func (x *executor) createWindow(ctx context.Context, s WindowSpec) error {
	v := windowWant(s)
	created, err := x.c.Maintenance.Create(ctx, client.MaintenanceWindowCreate{
		Title: s.Title, Description: &v.Description, StartTime: s.StartTime, EndTime: s.EndTime,
		AffectedHosts: client.Ptr(x.ids(x.hosts, s.AffectedHosts)), SuppressAlerts: &v.SuppressAlerts, NotifySubscribers: &v.NotifySubscribers,
	})
	if err == nil {
		x.own(kindWindow, s.Title, created.Id)
	}
	return err
}

func (x *executor) updateWindow(ctx context.Context, s WindowSpec, have client.MaintenanceWindow) error {
	v := windowWant(s)
	_, err := x.c.Maintenance.Update(ctx, have.Id, client.MaintenanceWindowUpdate{
		Title: &s.Title, Description: &v.Description, StartTime: &s.StartTime, EndTime: &s.EndTime,
		AffectedHosts: client.Ptr(x.ids(x.hosts, s.AffectedHosts)), SuppressAlerts: &v.SuppressAlerts, NotifySubscribers: &v.NotifySubscribers,
	})
	return err
}

// cancelWindow is how a window is deleted: the API keeps windows as history.
func (x *executor) cancelWindow(ctx context.Context, m client.MaintenanceWindow) error {
	return gone(x.c.Maintenance.Cancel(ctx, m.Id))
}

// ids resolves names (all checked to exist when the plan was made).
func (x *executor) ids(byName map[string]uuid.UUID, names []string) []uuid.UUID {
	out := make([]uuid.UUID, len(names))
	for i, n := range names {
		out[i] = byName[n]
	}
	return out
}

// gone treats a resource that is already gone as deleted: someone else got there first.
func gone(err error) error {
	if client.IsNotFound(err) {
		return nil
	}
	return err
}

// list is nil for an empty list, so that the API stores no empty condition.
func list[T any](items []T) *[]T {
	if len(items) == 0 {
		return nil
	}
	return &items
}

func enums[E ~string](in []string) []E {
	out := make([]E, len(in))
	for i, s := range in {
		out[i] = E(s)
	}
	return out
}

// optional is nil for an empty string, which the API would otherwise store as set.
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
