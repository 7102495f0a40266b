package examples_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/secuaas/secumon/client"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

// call is one request that went through a recorder.
type call struct {
	Method, Path, Key string // Key is the Idempotency-Key
	Status            int
}

// recorder is a loopback reverse proxy in front of a test server that records every call,
// so a test can say which requests a program made. before, when set, runs ahead of each
// request it forwards.
type recorder struct {
	URL    string
	mu     sync.Mutex
	calls  []call
	before func(r *http.Request)
}

func record(t *testing.T, env *servertest.Env) *recorder {
	t.Helper()
	target, err := url.Parse(env.URL)
	require.NoError(t, err)
	rec := &recorder{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		rec.mu.Lock()
		rec.calls = append(rec.calls, call{Method: r.Method, Path: r.URL.Path, Key: r.Header.Get(client.IdempotencyKeyHeader), Status: resp.StatusCode})
		rec.mu.Unlock()
		return nil
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rec.before != nil {
			rec.before(r)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// take returns the calls recorded since the last take.
func (r *recorder) take() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// writes are the calls that may change something.
func writes(calls []call) []call {
	var out []call
	for _, c := range calls {
		if c.Method != http.MethodGet && c.Method != http.MethodHead {
			out = append(out, c)
		}
	}
	return out
}

// runApply runs the apply binary against baseURL with the owner's token and requires it to
// succeed.
func runApply(t *testing.T, bin, baseURL string, env *servertest.Env, args ...string) string {
	t.Helper()
	out, err := tryApply(t, bin, baseURL, env, args...)
	require.NoError(t, err)
	return out
}

// tryApply runs the apply binary and returns its output and how it exited.
func tryApply(t *testing.T, bin, baseURL string, env *servertest.Env, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := applyCommand(t, bin, baseURL, env, &out, &out, args...)
	return out.String(), err
}

// applyCommand runs the apply binary with the test's state file unless args name one.
func applyCommand(t *testing.T, bin, baseURL string, env *servertest.Env, stdout, stderr *bytes.Buffer, args ...string) error {
	t.Helper()
	if !slices.Contains(args, "-state") {
		args = append([]string{"-state", statePath(t)}, args...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "SECUMON_URL="+baseURL, "SECUMON_TOKEN="+env.OwnerToken)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	t.Logf("apply %s:\n%s", strings.Join(args, " "), stdout.String())
	if stderr != stdout {
		t.Logf("stderr:\n%s", stderr.String())
	}
	return err
}

// states holds each test's state file: the runs of a test share it, as the runs of one
// user would.
var states sync.Map

func statePath(t *testing.T) string {
	t.Helper()
	if p, ok := states.Load(t.Name()); ok {
		return p.(string)
	}
	p := filepath.Join(t.TempDir(), "apply.state.json")
	states.Store(t.Name(), p)
	return p
}

// editedExample writes example.yaml with each pair of edits (old text, new text) made once
// into a temporary file and returns its path.
func editedExample(t *testing.T, edits ...string) string {
	t.Helper()
	original, err := os.ReadFile(exampleFile)
	require.NoError(t, err)
	edited := string(original)
	for i := 0; i < len(edits); i += 2 {
		require.Equal(t, 1, strings.Count(edited, edits[i]), "example.yaml changed: %q", edits[i])
		edited = strings.Replace(edited, edits[i], edits[i+1], 1)
	}
	file := filepath.Join(t.TempDir(), "edited.yaml")
	require.NoError(t, os.WriteFile(file, []byte(edited), 0o600))
	return file
}

// section is the text of example.yaml from the line starting with key up to the next
// top-level key.
func section(t *testing.T, key, next string) string {
	t.Helper()
	original, err := os.ReadFile(exampleFile)
	require.NoError(t, err)
	text := string(original)
	from, to := strings.Index(text, "\n"+key+":\n"), strings.Index(text, "\n"+next+":\n")
	require.True(t, from >= 0 && to > from, "example.yaml has %s then %s", key, next)
	return text[from+1 : to+1]
}

// paths returns "METHOD /path" for each call, without the API prefix and with ids as {id}.
func paths(calls []call) []string {
	out := make([]string, len(calls))
	for i, c := range calls {
		parts := strings.Split(strings.TrimPrefix(c.Path, "/api/v2"), "/")
		for j, part := range parts {
			if _, err := uuid.Parse(part); err == nil {
				parts[j] = "{id}"
			}
		}
		out[i] = c.Method + " " + strings.Join(parts, "/")
	}
	return out
}

const exampleFile = "apply/example.yaml"

// exampleCounts is what example.yaml describes.
var exampleCounts = map[string]int{"hosts": 2, "checks": 4, "oncall_schedules": 1, "alert_policies": 1, "status_pages": 1, "maintenance_windows": 1}

// inventory counts the workspace's resources the way apply sees them (windows that are not
// cancelled) and returns them by name for closer looks.
type inventory struct {
	Hosts     map[string]client.Host
	Checks    map[string]client.Check
	Schedules map[string]client.OncallSchedule
	Policies  map[string]client.AlertPolicy
	Pages     map[string]client.StatusPage
	Windows   map[string]client.MaintenanceWindow
}

func (inv inventory) counts() map[string]int {
	return map[string]int{"hosts": len(inv.Hosts), "checks": len(inv.Checks), "oncall_schedules": len(inv.Schedules),
		"alert_policies": len(inv.Policies), "status_pages": len(inv.Pages), "maintenance_windows": len(inv.Windows)}
}

func take[T any](t *testing.T, seq func(yield func(T, error) bool), key func(T) string, keep func(T) bool) map[string]T {
	t.Helper()
	out := map[string]T{}
	for item, err := range seq {
		require.NoError(t, err)
		if keep == nil || keep(item) {
			require.NotContains(t, out, key(item), "apply created a duplicate")
			out[key(item)] = item
		}
	}
	return out
}

// listed turns a list the API answers in one piece into the sequence take reads.
func listed[T any](items []T, err error) func(yield func(T, error) bool) {
	return func(yield func(T, error) bool) {
		if err != nil {
			yield(*new(T), err)
			return
		}
		for _, item := range items {
			if !yield(item, nil) {
				return
			}
		}
	}
}

func inventoryOf(t *testing.T, env *servertest.Env) inventory {
	t.Helper()
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	ctx := context.Background()
	return inventory{
		Schedules: take(t, listed(c.Oncall.List(ctx)), func(s client.OncallSchedule) string { return s.Name }, nil),
		Hosts:     take(t, c.Hosts.All(ctx, nil), func(h client.Host) string { return h.Name }, nil),
		Checks:    take(t, c.Checks.All(ctx, nil), func(c client.Check) string { return c.Name }, nil),
		Policies:  take(t, c.AlertPolicies.All(ctx, nil), func(p client.AlertPolicy) string { return p.Name }, nil),
		Pages:     take(t, c.StatusPages.All(ctx, nil), func(p client.StatusPage) string { return p.Slug }, nil),
		Windows: take(t, c.Maintenance.All(ctx, nil), func(m client.MaintenanceWindow) string { return m.Title },
			func(m client.MaintenanceWindow) bool { return m.Status != client.MaintenanceStatusCancelled }),
	}
}

// storedConfig is a check's config as the database holds it, secrets included.
func storedConfig(t *testing.T, env *servertest.Env, id client.Id) map[string]any {
	t.Helper()
	row, err := env.Queries.GetCheck(context.Background(), db.GetCheckParams{WorkspaceID: env.Workspace, ID: id})
	require.NoError(t, err)
	var cfg map[string]any
	require.NoError(t, json.Unmarshal(row.Config, &cfg))
	return cfg
}

// appliedExample builds apply, starts a server behind a recorder and applies example.yaml:
// the start of the tests that edit it. It returns what the workspace then holds.
func appliedExample(t *testing.T) (bin string, env *servertest.Env, rec *recorder, applied inventory) {
	t.Helper()
	bin = build(t, "apply")
	env = servertest.Start(t)
	rec = record(t, env)
	runApply(t, bin, rec.URL, env, "-f", exampleFile)
	applied = inventoryOf(t, env)
	rec.take()
	return bin, env, rec, applied
}

// TestApplyTwice applies example.yaml to an empty workspace, then again: the second run
// reports no change and sends no request that could change anything, although the file
// holds secrets the API only ever returns masked.
func TestApplyTwice(t *testing.T) {
	bin := build(t, "apply")
	env := servertest.Start(t)
	rec := record(t, env)

	out := runApply(t, bin, rec.URL, env, "-f", exampleFile)
	assert.Contains(t, out, "Plan: 10 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged.")
	assert.Contains(t, out, "Apply complete: 10 created, 0 updated, 0 replaced, 0 deleted.")
	assert.Contains(t, out, "+ create    check demo-db-snmp")
	assert.Contains(t, out, "+ create    on-call schedule demo-oncall\n      description: \"Who answers for the demo stack\"\n"+
		"      timezone: \"America/Toronto\"\n      rotation_type: \"weekly\"\n      handoff_time: \"09:00\"\n      members: [",
		"the plan sets no rotation_start: the server picks it")
	assert.NotContains(t, out, "demo-community", "the plan never prints a secret")
	assert.NotContains(t, out, "demo-webhook-signing-key", "the plan never prints a secret")
	assert.NotContains(t, out, "Bearer demo-secret-token", "the plan never prints a secret")
	created := writes(rec.take())
	for _, c := range created {
		assert.Equal(t, http.MethodPost, c.Method, "a first apply only creates: %+v", c)
		assert.NotEmpty(t, c.Key, "every create carries an Idempotency-Key: %+v", c)
	}
	order := paths(created)
	assert.Less(t, slices.Index(order, "POST /oncall-schedules"), slices.Index(order, "POST /alert-policies"),
		"the schedule exists before the policy that pages it: %v", order)

	inv := inventoryOf(t, env)
	require.Equal(t, exampleCounts, inv.counts())
	web, dbHost := inv.Hosts["demo-web"], inv.Hosts["demo-db"]
	assert.Equal(t, client.Tags{"env": "demo", "role": "web"}, web.Tags)
	assert.Equal(t, client.HostType("vm"), dbHost.HostType)
	ping := inv.Checks["demo-web-ping"]
	assert.Equal(t, web.Id, ping.HostId)
	assert.Equal(t, 5, ping.TimeoutSec)
	assert.Equal(t, dbHost.Id, inv.Checks["demo-db-postgres"].HostId, "a top-level check goes to the host it names")
	assert.False(t, inv.Checks["demo-db-snmp"].Enabled)
	// The secrets went to the server: masked in answers, stored as written.
	snmp, err := inv.Checks["demo-db-snmp"].Config.AsSnmpConfig()
	require.NoError(t, err)
	require.NotNil(t, snmp.Community)
	assert.Equal(t, "********", *snmp.Community)
	assert.Equal(t, "demo-community", storedConfig(t, env, inv.Checks["demo-db-snmp"].Id)["community"])
	assert.Equal(t, map[string]any{"Authorization": "Bearer demo-secret-token"}, storedConfig(t, env, inv.Checks["demo-web-health"].Id)["headers"])
	hooks := *inv.Policies["demo-critical"].Channels.Webhook
	require.Len(t, hooks, 1)
	assert.Equal(t, "********", *hooks[0].Secret)
	oncall := inv.Schedules["demo-oncall"]
	assert.Equal(t, []client.Id{oncall.Id}, *inv.Policies["demo-critical"].Channels.Oncall, "the policy pages the schedule by id")
	assert.Equal(t, []client.OncallMember{{Name: "Alice", Email: "alice@example.com"}, {Name: "Bob", Email: "bob@example.com", Phone: client.Ptr("+15145550100")}}, oncall.Members)
	require.Len(t, oncall.Overrides, 1)
	assert.Equal(t, time.Date(2030, 1, 15, 0, 0, 0, 0, time.UTC), oncall.Overrides[0].Start)
	assert.False(t, oncall.RotationStart.IsZero(), "the server chose the rotation's start")
	page := inv.Pages["demo-status"]
	require.Len(t, page.Components, 3)
	assert.Equal(t, "Website", page.Components[0].Name)
	assert.Equal(t, inv.Checks["demo-web-health"].Id, *page.Components[0].CheckId)
	assert.Equal(t, web.Id, *page.Components[1].HostId)
	window := inv.Windows["Demo database upgrade"]
	assert.Equal(t, []client.Id{dbHost.Id}, window.AffectedHosts)
	assert.False(t, window.NotifySubscribers)

	out = runApply(t, bin, rec.URL, env, "-f", exampleFile)
	assert.Contains(t, out, "Plan: 0 to create, 0 to update, 0 to replace, 0 to delete, 10 unchanged.")
	assert.Contains(t, out, "No changes: the workspace matches "+exampleFile)
	assert.Empty(t, writes(rec.take()), "the second apply only reads")
	assert.Equal(t, inv, inventoryOf(t, env), "nothing changed, not even updated_at")
}

// TestApplyEditedFile edits the file after a first apply: a field changes (update), a check
// moves to another host (replace), a check and a policy leave the file (kept without -prune,
// deleted with it).
func TestApplyEditedFile(t *testing.T) {
	bin, env, rec, before := appliedExample(t)

	file := editedExample(t,
		"        interval_sec: 60\n        timeout_sec: 5\n", "        interval_sec: 30\n        timeout_sec: 5\n",
		"  - name: demo-db-postgres\n    host: demo-db\n", "  - name: demo-db-postgres\n    host: demo-web\n",
		"  - name: demo-db-snmp\n    host: demo-db\n    check_type: snmp\n    enabled: false # no agent on the demo machine\n    config: {port: 16161, version: v2c, community: demo-community}\n", "",
		section(t, "alert_policies", "status_pages"), "")

	// -plan shows the differences field by field and changes nothing.
	out := runApply(t, bin, rec.URL, env, "-plan", "-f", file)
	assert.Contains(t, out, "~ update    check demo-web-ping\n      interval_sec: 60 → 30\n")
	assert.Contains(t, out, "~ update    status page demo-status (check demo-db-postgres is replaced)\n")
	assert.Contains(t, out, "± replace   check demo-db-postgres (host and check_type cannot change in place)\n      host: \"demo-db\" → \"demo-web\"\n")
	assert.Contains(t, out, "! keep      check demo-db-snmp (not in the file; kept: -prune deletes it)")
	assert.Contains(t, out, "! keep      alert policy demo-critical (not in the file;")
	assert.Contains(t, out, "Plan: 0 to create, 2 to update, 1 to replace, 0 to delete, 5 unchanged, 2 not in the file (kept; -prune deletes them).")
	assert.Contains(t, out, "Nothing applied (-plan).")
	assert.Empty(t, writes(rec.take()))

	// Without -prune, what left the file stays.
	out = runApply(t, bin, rec.URL, env, "-f", file)
	assert.Contains(t, out, "Apply complete: 0 created, 2 updated, 1 replaced, 0 deleted.")
	after := inventoryOf(t, env)
	assert.Equal(t, 30, after.Checks["demo-web-ping"].IntervalSec)
	assert.Equal(t, before.Checks["demo-web-ping"].Id, after.Checks["demo-web-ping"].Id, "an update keeps the id")
	assert.Equal(t, after.Hosts["demo-web"].Id, after.Checks["demo-db-postgres"].HostId)
	assert.NotEqual(t, before.Checks["demo-db-postgres"].Id, after.Checks["demo-db-postgres"].Id, "a replaced check is a new one")
	page := after.Pages["demo-status"]
	require.Len(t, page.Components, 3, "the page points at the new check")
	assert.Equal(t, after.Checks["demo-db-postgres"].Id, *page.Components[2].CheckId)
	assert.Equal(t, before.Pages["demo-status"].Components[0].Id, page.Components[0].Id, "components keep their ids")
	assert.Contains(t, after.Checks, "demo-db-snmp")
	assert.Contains(t, after.Policies, "demo-critical")
	assert.Equal(t, "demo-community", storedConfig(t, env, after.Checks["demo-db-snmp"].Id)["community"])

	// With -prune, they go.
	rec.take()
	out = runApply(t, bin, rec.URL, env, "-prune", "-f", file)
	assert.Contains(t, out, "- delete    check demo-db-snmp (not in the file)")
	assert.Contains(t, out, "Apply complete: 0 created, 0 updated, 0 replaced, 2 deleted.")
	deletes := writes(rec.take())
	require.Len(t, deletes, 2)
	for _, c := range deletes {
		assert.Equal(t, http.MethodDelete, c.Method)
		assert.Equal(t, http.StatusNoContent, c.Status)
	}
	after = inventoryOf(t, env)
	assert.NotContains(t, after.Checks, "demo-db-snmp")
	assert.Empty(t, after.Policies)
	assert.Len(t, after.Checks, 3)

	out = runApply(t, bin, rec.URL, env, "-prune", "-f", file)
	assert.Contains(t, out, "No changes")
	assert.Empty(t, writes(rec.take()))
}

// TestApplyOncallSchedules changes the members of the example's on-call schedule (one PUT,
// the server's rotation_start kept), then takes the schedule and the policy that pages it
// out of the file: -prune refuses to delete a schedule a policy of the file still pages, and
// deletes the policy before the schedule otherwise.
func TestApplyOncallSchedules(t *testing.T) {
	bin, env, rec, before := appliedExample(t)

	// Bob hands his turns to Dave.
	file := editedExample(t, `      - {name: Bob, email: bob@example.com, phone: "+15145550100"}`+"\n", "      - {name: Dave, email: dave@example.com}\n")
	out := runApply(t, bin, rec.URL, env, "-f", file)
	assert.Contains(t, out, "~ update    on-call schedule demo-oncall\n      members: "+
		`[{"name":"Alice","email":"alice@example.com"},{"name":"Bob","email":"bob@example.com","phone":"+15145550100"}] → `+
		`[{"name":"Alice","email":"alice@example.com"},{"name":"Dave","email":"dave@example.com"}]`+"\n")
	assert.Contains(t, out, "Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 9 unchanged.")
	assert.Equal(t, []string{"PUT /oncall-schedules/{id}"}, paths(writes(rec.take())))
	after := inventoryOf(t, env)
	oncall := after.Schedules["demo-oncall"]
	assert.Equal(t, before.Schedules["demo-oncall"].Id, oncall.Id, "an update keeps the id the policy pages")
	assert.Equal(t, []client.OncallMember{{Name: "Alice", Email: "alice@example.com"}, {Name: "Dave", Email: "dave@example.com"}}, oncall.Members)
	assert.Equal(t, before.Schedules["demo-oncall"].RotationStart, oncall.RotationStart, "the server's rotation_start is left alone")
	assert.Equal(t, before.Schedules["demo-oncall"].Overrides, oncall.Overrides)
	assert.Equal(t, before.Policies, after.Policies)
	out = runApply(t, bin, rec.URL, env, "-f", file)
	assert.Contains(t, out, "No changes")

	// Without the schedule but with the policy paging it, -prune would leave the policy
	// paging nobody: apply says so and changes nothing.
	schedules, policies := section(t, "oncall_schedules", "alert_policies"), section(t, "alert_policies", "status_pages")
	file = editedExample(t, schedules, "")
	out, err := tryApply(t, bin, rec.URL, env, "-prune", "-f", file)
	require.Error(t, err)
	assert.Contains(t, out, `alert policy "demo-critical": on-call schedule "demo-oncall" is not in the file, so -prune would delete it`)
	assert.Empty(t, writes(rec.take()))

	// Without both, the policy goes first, then the schedule.
	file = editedExample(t, schedules, "", policies, "")
	out = runApply(t, bin, rec.URL, env, "-plan", "-f", file)
	assert.Contains(t, out, "! keep      on-call schedule demo-oncall (not in the file; kept: -prune deletes it)")
	out = runApply(t, bin, rec.URL, env, "-prune", "-f", file)
	assert.Contains(t, out, "- delete    alert policy demo-critical (not in the file)\n- delete    on-call schedule demo-oncall (not in the file)\n")
	assert.Contains(t, out, "Apply complete: 0 created, 0 updated, 0 replaced, 2 deleted.")
	assert.Equal(t, []string{"DELETE /alert-policies/{id}", "DELETE /oncall-schedules/{id}"}, paths(writes(rec.take())))
	after = inventoryOf(t, env)
	assert.Empty(t, after.Schedules)
	assert.Empty(t, after.Policies)
	assert.Len(t, after.Checks, 4, "the rest of the file is untouched")

	// A policy paging a schedule that is nowhere is an error naming both.
	file = editedExample(t, schedules, "")
	out, err = tryApply(t, bin, rec.URL, env, "-f", file)
	require.Error(t, err)
	assert.Contains(t, out, `alert policy "demo-critical": on-call schedule "demo-oncall" is neither in the file nor in the workspace`)
	assert.Empty(t, writes(rec.take()))
}

// TestApplyRidesOutADatabaseOutage kills the server's PostgreSQL just as apply sends its
// fourth create, and starts it again a moment later: the server answers 503, the SDK waits
// and sends the same request again with the same Idempotency-Key, and the apply completes
// with every resource created exactly once.
func TestApplyRidesOutADatabaseOutage(t *testing.T) {
	cluster := dbtest.Cluster()
	if cluster == nil {
		t.Skip("needs the harness's own PostgreSQL (SECUMON_TEST_DATABASE_URL is set)")
	}
	bin := build(t, "apply")
	env := servertest.Start(t)
	rec := record(t, env)

	var (
		mu      sync.Mutex
		posts   int
		killed  bool
		restart = make(chan error, 1)
	)
	rec.before = func(r *http.Request) {
		if r.Method != http.MethodPost {
			return
		}
		mu.Lock()
		posts++
		n := posts
		mu.Unlock()
		if n != 4 {
			return
		}
		// This runs in the proxy's goroutine: assert, not require.
		if !assert.NoError(t, cluster.Kill()) {
			return
		}
		mu.Lock()
		killed = true
		mu.Unlock()
		go func() {
			time.Sleep(time.Second)
			restart <- cluster.StartAgain(context.Background())
		}()
	}
	t.Cleanup(func() {
		// Whatever happened, leave the database running for the other tests.
		mu.Lock()
		defer mu.Unlock()
		if killed {
			require.NoError(t, <-restart)
		}
	})

	out := runApply(t, bin, rec.URL, env, "-f", exampleFile)
	assert.Contains(t, out, "Apply complete: 10 created, 0 updated, 0 replaced, 0 deleted.")

	// The fourth create met the outage and was sent again with its key until it went through.
	posts4 := writes(rec.take())
	require.GreaterOrEqual(t, len(posts4), 11, "at least one retry")
	hit := posts4[3]
	assert.Equal(t, http.StatusServiceUnavailable, hit.Status, "the outage hit the fourth create")
	var tries []int
	for _, c := range posts4 {
		if c.Key == hit.Key {
			tries = append(tries, c.Status)
		}
	}
	assert.Equal(t, http.StatusCreated, tries[len(tries)-1], "the retries of %s ended in a create: %v", hit.Path, tries)

	assert.Equal(t, exampleCounts, inventoryOf(t, env).counts(), "every resource exists once")
	out = runApply(t, bin, rec.URL, env, "-f", exampleFile)
	assert.Contains(t, out, "No changes")
}

// foreignResources fills the workspace with one resource of each kind that apply did not
// create, as a workspace shared with people and other tools holds.
func foreignResources(t *testing.T, env *servertest.Env) inventory {
	t.Helper()
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	ctx := context.Background()
	host, err := c.Hosts.Create(ctx, client.HostCreate{Name: "foreign-web", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	check, err := c.Raw().CreateCheckWithBodyWithResponse(ctx, &client.CreateCheckParams{}, "application/json",
		strings.NewReader(`{"host_id":"`+host.Id.String()+`","name":"foreign-tcp","check_type":"tcp","config":{"port":5432}}`))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, check.StatusCode(), string(check.Body))
	_, err = c.Oncall.Create(ctx, client.OncallScheduleCreate{Name: "foreign-oncall"})
	require.NoError(t, err)
	_, err = c.AlertPolicies.Create(ctx, client.AlertPolicyCreate{Name: "foreign-policy"})
	require.NoError(t, err)
	_, err = c.StatusPages.Create(ctx, client.StatusPageCreate{Slug: "foreign-status", Title: "Foreign"})
	require.NoError(t, err)
	_, err = c.Maintenance.Create(ctx, client.MaintenanceWindowCreate{Title: "Foreign window",
		StartTime: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC), EndTime: time.Date(2031, 1, 1, 1, 0, 0, 0, time.UTC)})
	require.NoError(t, err)
	return inventoryOf(t, env)
}

// TestApplyManagesOnlyWhatItCreated: -prune deletes what apply created and the file no
// longer lists, never the workspace's other resources; a resource of a name of the file that
// apply did not create is an error, until -adopt takes it over.
func TestApplyManagesOnlyWhatItCreated(t *testing.T) {
	bin := build(t, "apply")
	env := servertest.Start(t)
	rec := record(t, env)
	foreign := foreignResources(t, env)
	rec.take()

	out := runApply(t, bin, rec.URL, env, "-prune", "-f", exampleFile)
	assert.Contains(t, out, "Plan: 10 to create, 0 to update, 0 to replace, 0 to delete, 0 unchanged.")
	assert.Contains(t, out, "6 resources of the workspace were not created by apply: left alone.")
	assert.NotContains(t, out, "foreign")
	for _, c := range writes(rec.take()) {
		assert.Equal(t, http.MethodPost, c.Method, "only creates: %+v", c)
	}
	inv := inventoryOf(t, env)
	for name, n := range exampleCounts {
		assert.Equal(t, n+1, inv.counts()[name], "the example's %s and the foreign one", name)
	}
	state, err := os.ReadFile(statePath(t))
	require.NoError(t, err)
	assert.Contains(t, string(state), inv.Hosts["demo-web"].Id.String(), "the state records what apply created")
	assert.NotContains(t, string(state), foreign.Hosts["foreign-web"].Id.String())
	assert.NotContains(t, string(state), "demo-webhook-signing-key", "the state holds hashes, not secrets")

	// The policy leaves the file: -prune deletes it, and only it.
	file := editedExample(t, section(t, "alert_policies", "status_pages"), "")
	out = runApply(t, bin, rec.URL, env, "-prune", "-f", file)
	assert.Contains(t, out, "- delete    alert policy demo-critical (not in the file)")
	assert.Contains(t, out, "Apply complete: 0 created, 0 updated, 0 replaced, 1 deleted.")
	assert.Equal(t, []string{"DELETE /alert-policies/{id}"}, paths(writes(rec.take())))
	after := inventoryOf(t, env)
	assert.Equal(t, foreign.Policies, after.Policies, "the foreign policy stays")
	assert.Equal(t, foreign.Hosts["foreign-web"], after.Hosts["foreign-web"])
	assert.Equal(t, foreign.Checks["foreign-tcp"], after.Checks["foreign-tcp"])

	// A host of the workspace that apply did not create, named in the file: an error…
	adopting := editedExample(t, "  - name: demo-db\n", "  - name: foreign-web\n    hostname: 127.0.0.1\n    description: now in the file\n\n  - name: demo-db\n")
	out, err = tryApply(t, bin, rec.URL, env, "-f", adopting)
	require.Error(t, err)
	assert.Contains(t, out, `host "foreign-web" already exists in the workspace and apply did not create it: pass -adopt`)
	assert.Empty(t, writes(rec.take()))
	// …until -adopt: then it is apply's.
	out = runApply(t, bin, rec.URL, env, "-adopt", "-f", adopting)
	assert.Contains(t, out, "~ update    host foreign-web (adopted)\n      description: \"\" → \"now in the file\"\n")
	assert.Equal(t, "now in the file", *inventoryOf(t, env).Hosts["foreign-web"].Description)
	rec.take()
	// Once it leaves the file, -prune would delete it, but deleting a host deletes its
	// checks, and foreign-tcp is not apply's: the host is kept.
	out = runApply(t, bin, rec.URL, env, "-prune", "-f", adopting)
	assert.Contains(t, out, "No changes")
	out = runApply(t, bin, rec.URL, env, "-prune", "-f", exampleFile)
	assert.Contains(t, out, "! keep      host foreign-web (not in the file; kept: it holds checks apply did not create: foreign-tcp)")
	assert.Empty(t, writes(rec.take()))
	assert.Equal(t, foreign.Checks["foreign-tcp"], inventoryOf(t, env).Checks["foreign-tcp"])
	// Without the foreign check, the adopted host goes.
	c, err := client.New(env.URL, client.WithToken(env.OwnerToken))
	require.NoError(t, err)
	require.NoError(t, c.Checks.Delete(context.Background(), foreign.Checks["foreign-tcp"].Id))
	out = runApply(t, bin, rec.URL, env, "-prune", "-f", exampleFile)
	assert.Contains(t, out, "- delete    host foreign-web (not in the file)")
	assert.Contains(t, out, "Apply complete: 0 created, 0 updated, 0 replaced, 1 deleted.")
	after = inventoryOf(t, env)
	assert.NotContains(t, after.Hosts, "foreign-web")
	assert.Contains(t, after.Policies, "foreign-policy")

	// Adopting what already matches the file changes nothing, and is remembered.
	_, err = c.Hosts.Create(context.Background(), client.HostCreate{Name: "legacy", Hostname: "127.0.0.1"})
	require.NoError(t, err)
	legacy := editedExample(t, "  - name: demo-db\n", "  - name: legacy\n    hostname: 127.0.0.1\n\n  - name: demo-db\n")
	rec.take()
	out = runApply(t, bin, rec.URL, env, "-adopt", "-f", legacy)
	assert.Contains(t, out, "  no change host legacy (adopted)\n")
	assert.Contains(t, out, "No changes")
	out = runApply(t, bin, rec.URL, env, "-f", legacy)
	assert.Contains(t, out, "  no change host legacy\n", "the state knows it now")
	assert.Empty(t, writes(rec.take()))
}

// TestApplyPushesChangedSecrets: the API masks secrets, so apply compares a hash of what it
// sent, kept in its state: a new webhook secret or HTTP header is an update, sent, and the
// next run has nothing to do.
func TestApplyPushesChangedSecrets(t *testing.T) {
	bin, env, rec, _ := appliedExample(t)

	file := editedExample(t, "secret: demo-webhook-signing-key", "secret: rotated-signing-key",
		`"Bearer demo-secret-token"`, `"Bearer rotated-token"`)
	out := runApply(t, bin, rec.URL, env, "-f", file)
	assert.Contains(t, out, "~ update    check demo-web-health\n      secrets: \"********\" → \"******** (changed)\"\n")
	assert.Contains(t, out, "~ update    alert policy demo-critical\n      secrets: \"********\" → \"******** (changed)\"\n")
	assert.Contains(t, out, "Plan: 0 to create, 2 to update, 0 to replace, 0 to delete, 8 unchanged.")
	assert.NotContains(t, out, "rotated", "the plan never prints a secret")
	assert.ElementsMatch(t, []string{"PUT /checks/{id}", "PUT /alert-policies/{id}"}, paths(writes(rec.take())))

	inv := inventoryOf(t, env)
	assert.Equal(t, map[string]any{"Authorization": "Bearer rotated-token"}, storedConfig(t, env, inv.Checks["demo-web-health"].Id)["headers"])
	row, err := env.Queries.GetAlertPolicy(context.Background(), db.GetAlertPolicyParams{WorkspaceID: env.Workspace, ID: inv.Policies["demo-critical"].Id})
	require.NoError(t, err)
	assert.Contains(t, string(row.Channels), `"rotated-signing-key"`)

	out = runApply(t, bin, rec.URL, env, "-f", file)
	assert.Contains(t, out, "No changes")
	assert.Empty(t, writes(rec.take()))
}

// TestApplyRenamesInPlace: renamed_from renames the resource the state knows by its old
// name, keeping its id (and what points at it), instead of creating another one.
func TestApplyRenamesInPlace(t *testing.T) {
	bin, env, rec, before := appliedExample(t)

	original, err := os.ReadFile(exampleFile)
	require.NoError(t, err)
	text := string(original)
	for _, edit := range [][2]string{
		{"  - name: demo-db\n", "  - name: demo-database\n    renamed_from: demo-db\n"},
		{"host: demo-db\n", "host: demo-database\n"},
		{"affected_hosts: [demo-db]", "affected_hosts: [demo-database]"},
		{"      - name: demo-web-ping\n", "      - name: demo-web-icmp\n        renamed_from: demo-web-ping\n"},
		{"  - slug: demo-status\n", "  - slug: demo-health\n    renamed_from: demo-status\n"},
	} {
		require.Contains(t, text, edit[0])
		text = strings.ReplaceAll(text, edit[0], edit[1])
	}
	file := filepath.Join(t.TempDir(), "renamed.yaml")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))

	out := runApply(t, bin, rec.URL, env, "-f", file)
	assert.Contains(t, out, "~ update    host demo-database (renamed from demo-db)\n      name: \"demo-db\" → \"demo-database\"\n")
	assert.Contains(t, out, "~ update    check demo-web-icmp (renamed from demo-web-ping)\n      name: \"demo-web-ping\" → \"demo-web-icmp\"\n")
	assert.Contains(t, out, "~ update    status page demo-health (renamed from demo-status)\n      slug: \"demo-status\" → \"demo-health\"\n")
	assert.Contains(t, out, "Plan: 0 to create, 3 to update, 0 to replace, 0 to delete, 7 unchanged.",
		"the checks of the renamed host and the window on it do not change")
	for _, c := range writes(rec.take()) {
		assert.Equal(t, http.MethodPut, c.Method, "a rename creates and deletes nothing: %+v", c)
	}
	after := inventoryOf(t, env)
	require.Equal(t, exampleCounts, after.counts())
	assert.Equal(t, before.Hosts["demo-db"].Id, after.Hosts["demo-database"].Id)
	assert.Equal(t, before.Checks["demo-web-ping"].Id, after.Checks["demo-web-icmp"].Id)
	assert.Equal(t, before.Pages["demo-status"].Id, after.Pages["demo-health"].Id)
	assert.Equal(t, after.Hosts["demo-database"].Id, after.Checks["demo-db-postgres"].HostId)

	out = runApply(t, bin, rec.URL, env, "-prune", "-f", file)
	assert.Contains(t, out, "No changes")
	assert.Empty(t, writes(rec.take()))
}

// TestApplyExitCodesAndJSON: -detailed-exitcode exits 2 when the plan has changes, 0 when it
// has none, 1 on error; -json prints the plan as one JSON document on stdout.
func TestApplyExitCodesAndJSON(t *testing.T) {
	bin := build(t, "apply")
	env := servertest.Start(t)
	exitCode := func(err error) int {
		var exit *exec.ExitError
		if err == nil {
			return 0
		}
		require.ErrorAs(t, err, &exit)
		return exit.ExitCode()
	}

	var stdout, stderr bytes.Buffer
	err := applyCommand(t, bin, env.URL, env, &stdout, &stderr, "-plan", "-json", "-detailed-exitcode", "-f", exampleFile)
	assert.Equal(t, 2, exitCode(err), "a plan with changes")
	var plan struct {
		Changes []struct {
			Kind, Name, Action, Note string
			Diffs                    []struct {
				Field    string
				Old, New json.RawMessage
			}
		}
		Summary   map[string]int
		Unmanaged int
		Empty     bool
	}
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &plan), "stdout is one JSON document")
	assert.Equal(t, 10, plan.Summary["create"])
	assert.False(t, plan.Empty)
	require.NotEmpty(t, plan.Changes)
	assert.Equal(t, "host", plan.Changes[0].Kind)
	assert.Equal(t, "demo-web", plan.Changes[0].Name)
	assert.Equal(t, "create", plan.Changes[0].Action)
	assert.Equal(t, "hostname", plan.Changes[0].Diffs[0].Field)
	assert.JSONEq(t, `"127.0.0.1"`, string(plan.Changes[0].Diffs[0].New))
	assert.NotContains(t, stdout.String(), "demo-webhook-signing-key")
	assert.Contains(t, stderr.String(), "Nothing applied (-plan).")
	assert.Empty(t, inventoryOf(t, env).Hosts, "-plan changed nothing")

	stdout.Reset()
	stderr.Reset()
	err = applyCommand(t, bin, env.URL, env, &stdout, &stderr, "-json", "-detailed-exitcode", "-f", exampleFile)
	assert.Equal(t, 2, exitCode(err), "an apply that changed something")
	assert.True(t, json.Valid(stdout.Bytes()))
	assert.Contains(t, stderr.String(), "Apply complete: 10 created")

	out, err := tryApply(t, bin, env.URL, env, "-detailed-exitcode", "-f", exampleFile)
	assert.Equal(t, 0, exitCode(err), "nothing to change")
	assert.Contains(t, out, "No changes")

	out, err = tryApply(t, bin, env.URL, env, "-detailed-exitcode", "-f", "apply/no-such-file.yaml")
	assert.Equal(t, 1, exitCode(err), "an error")
	assert.Contains(t, out, "no-such-file.yaml")

	// Without -detailed-exitcode a plan with changes exits 0, as before.
	_, err = tryApply(t, bin, env.URL, env, "-plan", "-f", editedExample(t, "cooldown_sec: 600", "cooldown_sec: 900"))
	assert.Equal(t, 0, exitCode(err))
}
