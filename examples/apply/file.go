package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// File is the desired state of a workspace, as written in YAML. Resources refer to each other
// by name: a check names its host, a status page component its host or check, an alert
// policy's conditions and a maintenance window the hosts they cover, an alert policy's
// oncall channel its on-call schedules. Field names are the API's; optional fields left out
// take the API's defaults, so removing a line from the file resets that field.
type File struct {
	Hosts []HostSpec `yaml:"hosts"`
	// Checks may also be listed here, each naming its host, instead of nested in it.
	Checks             []CheckSpec    `yaml:"checks"`
	OncallSchedules    []ScheduleSpec `yaml:"oncall_schedules"`
	AlertPolicies      []PolicySpec   `yaml:"alert_policies"`
	StatusPages        []PageSpec     `yaml:"status_pages"`
	MaintenanceWindows []WindowSpec   `yaml:"maintenance_windows"`
}

// HostSpec is a host, matched by name.
type HostSpec struct {
	Name string `yaml:"name"`
	// RenamedFrom is the name this resource had in the file before: apply renames the
	// resource its state knows by that name instead of creating another one.
	RenamedFrom string            `yaml:"renamed_from"`
	Hostname    string            `yaml:"hostname"`
	HostType    string            `yaml:"host_type"` // server unless given
	Description string            `yaml:"description"`
	Tags        map[string]string `yaml:"tags"` // the host's own tags; AI tags (ai:…) are left alone
	IsActive    *bool             `yaml:"is_active"`
	Checks      []CheckSpec       `yaml:"checks"`
}

// CheckSpec is a check, matched by name (check names are unique in a workspace). Changing its
// host or check_type replaces it, since the API cannot move a check or change its type.
type CheckSpec struct {
	Name string `yaml:"name"`
	// RenamedFrom is the name this resource had in the file before: apply renames the
	// resource its state knows by that name instead of creating another one.
	RenamedFrom      string         `yaml:"renamed_from"`
	Host             string         `yaml:"host"` // implied for a check nested in a host
	CheckType        string         `yaml:"check_type"`
	Config           map[string]any `yaml:"config"`
	IntervalSec      *int           `yaml:"interval_sec"`
	TimeoutSec       *int           `yaml:"timeout_sec"`
	FailureThreshold *int           `yaml:"failure_threshold"`
	// Severity left out keeps whatever the check has: the API cannot clear it.
	Severity string `yaml:"severity"`
	Enabled  *bool  `yaml:"enabled"`
}

// ScheduleSpec is an on-call schedule, matched by name. Members take turns in their order.
type ScheduleSpec struct {
	Name string `yaml:"name"`
	// RenamedFrom is the name this resource had in the file before: apply renames the
	// resource its state knows by that name instead of creating another one.
	RenamedFrom  string `yaml:"renamed_from"`
	Description  string `yaml:"description"`
	Timezone     string `yaml:"timezone"`      // IANA; America/Toronto unless given
	RotationType string `yaml:"rotation_type"` // daily, weekly (unless given), biweekly, monthly, custom
	// RotationStart left out keeps whatever the schedule has: the server picks one on
	// creation (the latest hand-off), and it cannot be cleared.
	RotationStart *time.Time `yaml:"rotation_start"`
	HandoffTime   string     `yaml:"handoff_time"` // HH:MM local; 09:00 unless given
	// RotationLengthHours is required by a custom rotation; left out, it keeps whatever the
	// schedule has, since the API cannot clear it.
	RotationLengthHours *int           `yaml:"rotation_length_hours"`
	Members             []MemberSpec   `yaml:"members"`
	Overrides           []OverrideSpec `yaml:"overrides"`
}

// MemberSpec is a person on an on-call rotation.
type MemberSpec struct {
	Name  string `yaml:"name"`
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
}

// OverrideSpec is someone covering [start, end) whoever the rotation says.
type OverrideSpec struct {
	Name  string    `yaml:"name"`
	Email string    `yaml:"email"`
	Phone string    `yaml:"phone"`
	Start time.Time `yaml:"start"`
	End   time.Time `yaml:"end"`
}

// PolicySpec is an alert policy, matched by name.
type PolicySpec struct {
	Name string `yaml:"name"`
	// RenamedFrom is the name this resource had in the file before: apply renames the
	// resource its state knows by that name instead of creating another one.
	RenamedFrom string        `yaml:"renamed_from"`
	Description string        `yaml:"description"`
	Enabled     *bool         `yaml:"enabled"`
	CooldownSec *int          `yaml:"cooldown_sec"`
	Conditions  ConditionSpec `yaml:"conditions"`
	Channels    ChannelSpec   `yaml:"channels"`
}

// ConditionSpec says which incidents a policy matches; hosts are host names.
type ConditionSpec struct {
	Severity   []string          `yaml:"severity"`
	CheckTypes []string          `yaml:"check_types"`
	Hosts      []string          `yaml:"hosts"`
	HostTags   map[string]string `yaml:"host_tags"`
}

// ChannelSpec says whom a policy notifies; oncall lists on-call schedule names: schedules of
// the file, or schedules the workspace already holds and the file does not manage.
type ChannelSpec struct {
	Email   []string      `yaml:"email"`
	Slack   []string      `yaml:"slack"`
	Webhook []WebhookSpec `yaml:"webhook"`
	Oncall  []string      `yaml:"oncall"`
}

// WebhookSpec is a webhook channel. Its secret is write-only: the API masks it, so a change
// of the secret alone is not seen; it is sent with the policy's next update.
type WebhookSpec struct {
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"`
}

// PageSpec is a status page, matched by slug.
type PageSpec struct {
	Slug string `yaml:"slug"`
	// RenamedFrom is the name this resource had in the file before: apply renames the
	// resource its state knows by that name instead of creating another one.
	RenamedFrom     string          `yaml:"renamed_from"`
	Title           string          `yaml:"title"`
	Description     string          `yaml:"description"`
	IsPublic        *bool           `yaml:"is_public"`
	ShowHistoryDays *int            `yaml:"show_history_days"`
	Components      []ComponentSpec `yaml:"components"`
}

// ComponentSpec is one line of a status page: a host or a check, by name.
type ComponentSpec struct {
	Name  string `yaml:"name"`
	Group string `yaml:"group"`
	Host  string `yaml:"host"`
	Check string `yaml:"check"`
	Order *int   `yaml:"order"`
}

// WindowSpec is a maintenance window, matched by title.
type WindowSpec struct {
	Title string `yaml:"title"`
	// RenamedFrom is the name this resource had in the file before: apply renames the
	// resource its state knows by that name instead of creating another one.
	RenamedFrom       string    `yaml:"renamed_from"`
	Description       string    `yaml:"description"`
	StartTime         time.Time `yaml:"start_time"`
	EndTime           time.Time `yaml:"end_time"`
	AffectedHosts     []string  `yaml:"affected_hosts"` // host names
	SuppressAlerts    *bool     `yaml:"suppress_alerts"`
	NotifySubscribers *bool     `yaml:"notify_subscribers"`
}

// Load reads and checks the file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse decodes a file, rejecting unknown keys (a typo must not silently reset a field), and
// checks that names are unique and references point at resources of the file.
func Parse(data []byte) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	// Nested checks join the flat list with their host's name.
	for i := range f.Hosts {
		for _, c := range f.Hosts[i].Checks {
			if c.Host != "" && c.Host != f.Hosts[i].Name {
				return nil, fmt.Errorf("check %q is nested in host %q but names host %q", c.Name, f.Hosts[i].Name, c.Host)
			}
			c.Host = f.Hosts[i].Name
			f.Checks = append(f.Checks, c)
		}
		f.Hosts[i].Checks = nil
	}
	return &f, f.validate()
}

func (f *File) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	hosts, checks := map[string]bool{}, map[string]bool{}
	unique := func(kind, name string, seen map[string]bool) {
		switch {
		case name == "":
			bad("a %s has no name", kind)
		case seen[name]:
			bad("%s %q appears twice", kind, name)
		}
		seen[name] = true
	}
	for _, h := range f.Hosts {
		unique("host", h.Name, hosts)
		if h.Hostname == "" {
			bad("host %q has no hostname", h.Name)
		}
	}
	for _, c := range f.Checks {
		unique("check", c.Name, checks)
		if !hosts[c.Host] {
			bad("check %q: host %q is not in the file", c.Name, c.Host)
		}
		if c.CheckType == "" {
			bad("check %q has no check_type", c.Name)
		}
	}
	schedules := map[string]bool{}
	for _, s := range f.OncallSchedules {
		unique("on-call schedule", s.Name, schedules)
		if s.RotationType == rotationCustom && s.RotationLengthHours == nil {
			bad("on-call schedule %q: a custom rotation needs rotation_length_hours", s.Name)
		}
		for i, m := range s.Members {
			if m.Name == "" || m.Email == "" {
				bad("on-call schedule %q: member %d needs a name and an email", s.Name, i+1)
			}
		}
		for i, o := range s.Overrides {
			switch {
			case o.Name == "" || o.Email == "":
				bad("on-call schedule %q: override %d needs a name and an email", s.Name, i+1)
			case o.Start.IsZero() || !o.End.After(o.Start):
				bad("on-call schedule %q: override %d needs a start and an end after it", s.Name, i+1)
			}
		}
	}
	// Schedules an alert policy names may also be in the workspace only: MakePlan checks
	// those, since the file alone cannot tell.
	policies := map[string]bool{}
	for _, p := range f.AlertPolicies {
		unique("alert policy", p.Name, policies)
		for _, h := range p.Conditions.Hosts {
			if !hosts[h] {
				bad("alert policy %q: host %q is not in the file", p.Name, h)
			}
		}
	}
	pages := map[string]bool{}
	for _, p := range f.StatusPages {
		unique("status page (slug)", p.Slug, pages)
		for _, c := range p.Components {
			switch {
			case (c.Host == "") == (c.Check == ""):
				bad("status page %q: component %q needs exactly one of host and check", p.Slug, c.Name)
			case c.Host != "" && !hosts[c.Host]:
				bad("status page %q: host %q is not in the file", p.Slug, c.Host)
			case c.Check != "" && !checks[c.Check]:
				bad("status page %q: check %q is not in the file", p.Slug, c.Check)
			}
		}
	}
	windows := map[string]bool{}
	for _, w := range f.MaintenanceWindows {
		unique("maintenance window (title)", w.Title, windows)
		if w.StartTime.IsZero() || w.EndTime.IsZero() {
			bad("maintenance window %q needs start_time and end_time", w.Title)
		}
		for _, h := range w.AffectedHosts {
			if !hosts[h] {
				bad("maintenance window %q: host %q is not in the file", w.Title, h)
			}
		}
	}
	renames(bad, "host", f.Hosts)
	renames(bad, "check", f.Checks)
	renames(bad, "on-call schedule", f.OncallSchedules)
	renames(bad, "alert policy", f.AlertPolicies)
	renames(bad, "status page", f.StatusPages)
	renames(bad, "maintenance window", f.MaintenanceWindows)
	return errors.Join(errs...)
}

// keyed is a resource of the file: its key (name, slug or title) and the key it had before.
type keyed interface {
	keys() (key, renamedFrom string)
}

func (s HostSpec) keys() (string, string)     { return s.Name, s.RenamedFrom }
func (s CheckSpec) keys() (string, string)    { return s.Name, s.RenamedFrom }
func (s ScheduleSpec) keys() (string, string) { return s.Name, s.RenamedFrom }
func (s PolicySpec) keys() (string, string)   { return s.Name, s.RenamedFrom }
func (s PageSpec) keys() (string, string)     { return s.Slug, s.RenamedFrom }
func (s WindowSpec) keys() (string, string)   { return s.Title, s.RenamedFrom }

// renames checks that each renamed_from names a key the file no longer uses, once.
func renames[T keyed](bad func(string, ...any), kind string, items []T) {
	keys, from := map[string]bool{}, map[string]bool{}
	for _, it := range items {
		k, _ := it.keys()
		keys[k] = true
	}
	for _, it := range items {
		switch k, old := it.keys(); {
		case old == "":
		case keys[old]:
			bad("%s %q: renamed_from %q is still in the file", kind, k, old)
		case from[old]:
			bad("%s %q: two resources are renamed from %q", kind, k, old)
		default:
			from[old] = true
		}
	}
}
