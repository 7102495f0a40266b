package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
)

func TestExampleFileParses(t *testing.T) {
	f, err := Load("example.yaml")
	require.NoError(t, err)
	assert.Len(t, f.Hosts, 2)
	require.Len(t, f.Checks, 4, "nested and top-level checks end up in one list")
	assert.Equal(t, "demo-web", f.Checks[2].Host, "a nested check names its host")
	for _, h := range f.Hosts {
		assert.Equal(t, "127.0.0.1", h.Hostname, "the example only targets loopback")
	}
	require.Len(t, f.OncallSchedules, 1)
	assert.Equal(t, []string{f.OncallSchedules[0].Name}, f.AlertPolicies[0].Channels.Oncall, "the policy pages the file's schedule")
}

func TestParseRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown key":        {"hosts:\n  - name: a\n    hostname: 127.0.0.1\n    hostnme: x\n", "field hostnme not found"},
		"duplicate host":     {"hosts:\n  - {name: a, hostname: 127.0.0.1}\n  - {name: a, hostname: 127.0.0.1}\n", `host "a" appears twice`},
		"check of no host":   {"checks:\n  - {name: c, host: nowhere, check_type: ping}\n", `check "c": host "nowhere" is not in the file`},
		"nested elsewhere":   {"hosts:\n  - name: a\n    hostname: 127.0.0.1\n    checks: [{name: c, host: b, check_type: ping}]\n", `nested in host "a" but names host "b"`},
		"component of both":  {"status_pages:\n  - slug: s\n    components: [{name: x}]\n", "needs exactly one of host and check"},
		"window hosts":       {"maintenance_windows:\n  - {title: w, start_time: 2030-01-01T00:00:00Z, end_time: 2030-01-01T01:00:00Z, affected_hosts: [h]}\n", `host "h" is not in the file`},
		"window times":       {"maintenance_windows:\n  - {title: w}\n", "needs start_time and end_time"},
		"rename still there": {"hosts:\n  - {name: a, hostname: 127.0.0.1}\n  - {name: b, hostname: 127.0.0.1, renamed_from: a}\n", `host "b": renamed_from "a" is still in the file`},
		"renamed twice":      {"status_pages:\n  - {slug: a, renamed_from: old}\n  - {slug: b, renamed_from: old}\n", `status page "b": two resources are renamed from "old"`},
		"duplicate schedule": {"oncall_schedules:\n  - {name: s}\n  - {name: s}\n", `on-call schedule "s" appears twice`},
		"custom no length":   {"oncall_schedules:\n  - {name: s, rotation_type: custom}\n", "a custom rotation needs rotation_length_hours"},
		"member no email":    {"oncall_schedules:\n  - {name: s, members: [{name: a}]}\n", "member 1 needs a name and an email"},
		"override backwards": {"oncall_schedules:\n  - name: s\n    overrides: [{name: a, email: a@example.com, start: 2030-01-02T00:00:00Z, end: 2030-01-01T00:00:00Z}]\n", "override 1 needs a start and an end after it"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestSecretsCompareMasked: the API answers secrets as "********"; the file's secrets are
// masked the same way before comparing, so they never show as a difference or in the plan.
func TestSecretsCompareMasked(t *testing.T) {
	spec := CheckSpec{Name: "c", Host: "h", CheckType: "http", Config: map[string]any{
		"url": "http://127.0.0.1/", "headers": map[string]any{"Authorization": "Bearer x"}, "future_secret": "s3cret",
	}}
	have := client.Check{CheckType: "http", IntervalSec: 60, TimeoutSec: 10, FailureThreshold: 2, Enabled: true, Config: *client.CheckConfigFromMap(map[string]any{
		"url": "http://127.0.0.1/", "headers": map[string]any{"Authorization": masked}, "future_secret": masked,
	})}
	w := newWorkspace()
	want := checkWant(spec, &have)
	assert.Equal(t, masked, want.Config["future_secret"], "a value the API masks is masked in the file's view too")
	got := checkHave(have, w)
	got.Host = "h"
	assert.Empty(t, diff(got, want))

	// A secret the file drops is a difference; the old value shows only masked.
	delete(spec.Config, "future_secret")
	d := diff(got, checkWant(spec, &have))
	require.Len(t, d, 1)
	assert.Equal(t, "config", d[0].Field)
	assert.NotContains(t, d[0].Old+d[0].New, "Bearer x")
}

// scheduleFromServer is what the API answers for a schedule created with only a name and
// members: the server's defaults filled in, rotation_start chosen by the server.
func scheduleFromServer(name string, members ...client.OncallMember) client.OncallSchedule {
	return client.OncallSchedule{
		Id: uuid.New(), Name: name, Timezone: "America/Toronto", RotationType: client.RotationTypeWeekly, HandoffTime: "09:00",
		RotationStart: time.Date(2030, 1, 14, 14, 0, 0, 123456789, time.UTC), Members: members, Overrides: client.OncallOverrides{},
	}
}

// TestScheduleDefaultsCompareEqual: fields the file leaves out compare with the server's
// defaults, and rotation_start and rotation_length_hours, which the server keeps, with what
// it holds; so a schedule the file barely describes plans no change.
func TestScheduleDefaultsCompareEqual(t *testing.T) {
	have := scheduleFromServer("s", client.OncallMember{Name: "Alice", Email: "alice@example.com"})
	have.RotationLengthHours = client.Ptr(12)
	spec := ScheduleSpec{Name: "s", Members: []MemberSpec{{Name: "Alice", Email: "alice@example.com"}}}
	assert.Empty(t, diff(scheduleHave(have), scheduleWant(spec, &have)))

	// What the file sets is compared, to the microsecond PostgreSQL keeps.
	start := have.RotationStart.Add(time.Hour)
	spec.RotationStart, spec.HandoffTime = &start, "08:00"
	d := diff(scheduleHave(have), scheduleWant(spec, &have))
	require.Len(t, d, 2)
	assert.Equal(t, Diff{Field: "rotation_start", Old: `"2030-01-14T14:00:00.123456Z"`, New: `"2030-01-14T15:00:00.123456Z"`}, d[0])
	assert.Equal(t, Diff{Field: "handoff_time", Old: `"09:00"`, New: `"08:00"`}, d[1])

	// A new schedule plans only what the file sets: no rotation_start, nothing empty.
	p := &Plan{}
	p.created("on-call schedule", "s", scheduleWant(ScheduleSpec{Name: "s"}, nil), nil)
	var set []string
	for _, d := range p.Changes[0].Diffs {
		set = append(set, d.Field)
	}
	assert.Equal(t, []string{"timezone", "rotation_type", "handoff_time"}, set)
}

// TestPolicyScheduleReferences: a policy may page a schedule of the file or one the workspace
// holds; one in neither, or one -prune would delete, is an error naming policy and schedule.
func TestPolicyScheduleReferences(t *testing.T) {
	f, err := Parse([]byte("oncall_schedules:\n  - {name: in-file}\nalert_policies:\n" +
		"  - {name: p, channels: {oncall: [in-file, in-workspace]}}\n"))
	require.NoError(t, err)
	kept := scheduleFromServer("in-workspace")
	w := newWorkspace()
	w.Schedules[kept.Name], w.schedulesByID[kept.Id], w.scheduleNames[kept.Id] = kept, kept, kept.Name
	st := &State{Resources: map[string]map[string]Owned{}}

	p, err := MakePlan(f, w, st, Options{})
	require.NoError(t, err)
	var order []string
	for _, ch := range p.Changes {
		order = append(order, fmt.Sprintf("%s %s %s", ch.Action, ch.Kind, ch.Name))
	}
	assert.Equal(t, []string{"create on-call schedule in-file", "create alert policy p"}, order,
		"the schedule is created before the policy that pages it; the workspace's own schedule is not apply's")
	assert.Equal(t, 1, p.Unmanaged)

	// -prune leaves a schedule apply did not create alone, and deletes one it did.
	_, err = MakePlan(f, w, st, Options{Prune: true})
	require.NoError(t, err)
	st.Set(kindSchedule, kept.Name, Owned{ID: kept.Id})
	_, err = MakePlan(f, w, st, Options{Prune: true})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `alert policy "p": on-call schedule "in-workspace" is not in the file, so -prune would delete it`)

	_, err = MakePlan(f, newWorkspace(), &State{}, Options{})
	require.Error(t, err)
	assert.Equal(t, `alert policy "p": on-call schedule "in-workspace" is neither in the file nor in the workspace`, err.Error())
}

// TestBasicAuthPasswordMasked: an HTTP check's basic_auth password is write-only: the plan
// of a new check shows it masked (the user name stays), and it is part of the secrets whose
// hash tells apply that the file changed it.
func TestBasicAuthPasswordMasked(t *testing.T) {
	spec := CheckSpec{Name: "c", Host: "h", CheckType: "http", Config: map[string]any{
		"url": "https://127.0.0.1/", "basic_auth": map[string]any{"username": "monitor", "password": "pw-s3cret"},
	}}
	want := checkWant(spec, nil)
	assert.Equal(t, map[string]any{"username": "monitor", "password": masked}, want.Config["basic_auth"])
	assert.Equal(t, map[string]any{"basic_auth": map[string]any{"username": "monitor", "password": "pw-s3cret"}}, checkSecrets(spec))

	have := client.Check{CheckType: "http", IntervalSec: 60, TimeoutSec: 10, FailureThreshold: 2, Enabled: true, Config: *client.CheckConfigFromMap(map[string]any{
		"url": "https://127.0.0.1/", "basic_auth": map[string]any{"username": "monitor", "password": masked},
	})}
	got := checkHave(have, newWorkspace())
	got.Host = "h"
	assert.Empty(t, diff(got, checkWant(spec, &have)), "the API's masked answer is no difference")
}
