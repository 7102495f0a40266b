package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

// Action is what apply does to one resource.
type Action string

// The actions of a plan. Replace deletes and creates again what cannot change in place; Keep
// is a resource that is not in the file, left alone because -prune was not given.
const (
	NoChange Action = "no change"
	Create   Action = "create"
	Update   Action = "update"
	Replace  Action = "replace"
	Delete   Action = "delete"
	Keep     Action = "keep"
)

// symbols mark the actions in the printed plan, as Terraform does.
var symbols = map[Action]string{NoChange: " ", Create: "+", Update: "~", Replace: "±", Delete: "-", Keep: "!"}

// The kinds of resources, as plans and the state file name them.
const (
	kindHost     = "host"
	kindCheck    = "check"
	kindSchedule = "on-call schedule"
	kindPolicy   = "alert policy"
	kindPage     = "status page"
	kindWindow   = "maintenance window"
)

// Change is the plan for one resource.
type Change struct {
	Kind   string `json:"kind"`
	Name   string `json:"name"` // the file's key: name, slug or title
	Action Action `json:"action"`
	Diffs  []Diff `json:"diffs,omitempty"` // the fields that differ (for a create, the fields it sets)
	Note   string `json:"note,omitempty"`
	run    func(context.Context, *executor) error
	id     uuid.UUID // the existing resource, uuid.Nil for a create
	// secrets is the hash of the file's write-only fields, recorded in the state once sent.
	secrets string
}

// Plan is the ordered list of changes that makes the workspace match the file: hosts, then
// checks and on-call schedules, then what refers to them, then deletions in the reverse
// order.
type Plan struct {
	Changes []Change
	// Unmanaged counts the workspace's resources that apply did not create and leaves alone.
	Unmanaged int
	ids       map[string]map[string]uuid.UUID // kind → the file's key → the existing resource's id
}

// Options are the choices of a plan.
type Options struct {
	Prune bool // delete what the state holds and the file no longer lists
	Adopt bool // manage resources of the file's names that apply did not create
}

// resolver matches the file's resources with the workspace's through the state.
type resolver struct {
	st      *State
	w       *Workspace
	adopt   bool
	claimed map[uuid.UUID]bool
	ids     map[string]map[string]uuid.UUID
	errs    []error
}

// resolve finds the existing resource the file's key stands for: the one the state knows
// by key, or by renamedFrom (a rename), or, with -adopt, the one of that name that apply did
// not create. uuid.Nil means it is to be created; note says how it was found.
func (r *resolver) resolve(kind, key, renamedFrom string, exists func(uuid.UUID) bool, named func(string) (uuid.UUID, bool)) (uuid.UUID, string) {
	note := ""
	for _, k := range []string{key, renamedFrom} {
		own, ok := r.st.Get(kind, k)
		if k == "" || !ok {
			continue
		}
		if exists(own.ID) {
			r.claim(kind, key, own.ID)
			if k != key {
				return own.ID, "renamed from " + k
			}
			return own.ID, ""
		}
		note = "deleted outside apply: created again"
	}
	id, ok := named(key)
	switch {
	case !ok:
		return uuid.Nil, note
	case r.w.ambiguous[kind][key]:
		r.errs = append(r.errs, fmt.Errorf("%s %q: the workspace holds several of this name, so apply cannot create or adopt it", kind, key))
	case r.st.Owns(kind, id) || r.claimed[id]:
		r.errs = append(r.errs, fmt.Errorf("%s %q: the workspace's %s of this name is managed under another name of the state; say renamed_from", kind, key, kind))
	case !r.adopt:
		r.errs = append(r.errs, fmt.Errorf("%s %q already exists in the workspace and apply did not create it: pass -adopt to manage it from this file, or choose another name", kind, key))
	default:
		r.claim(kind, key, id)
		return id, "adopted"
	}
	return uuid.Nil, note
}

func (r *resolver) claim(kind, key string, id uuid.UUID) {
	r.claimed[id] = true
	if r.ids[kind] == nil {
		r.ids[kind] = map[string]uuid.UUID{}
	}
	r.ids[kind][key] = id
}

// found is the existing resource a file's resource stands for (uuid.Nil: none) and how it
// was found.
type found struct {
	id   uuid.UUID
	note string
}

// resolveAll resolves the file's resources of a kind, given the workspace's by id and by
// name.
func resolveAll[S keyed, T any](r *resolver, kind string, specs []S, byID map[uuid.UUID]T, byName map[string]T, idOf func(T) uuid.UUID) map[string]found {
	exists := func(id uuid.UUID) bool { _, ok := byID[id]; return ok }
	named := func(name string) (uuid.UUID, bool) {
		v, ok := byName[name]
		if !ok {
			return uuid.Nil, false
		}
		return idOf(v), true
	}
	out := map[string]found{}
	for _, s := range specs {
		key, from := s.keys()
		id, note := r.resolve(kind, key, from, exists, named)
		out[key] = found{id, note}
	}
	return out
}

// MakePlan compares the file with the resources the state says apply manages. With
// opts.Prune those the file no longer lists are deleted instead of kept; the workspace's
// other resources are never touched.
func MakePlan(f *File, w *Workspace, st *State, opts Options) (*Plan, error) {
	r := &resolver{st: st, w: w, adopt: opts.Adopt, claimed: map[uuid.UUID]bool{}, ids: map[string]map[string]uuid.UUID{}}
	openWindows := map[string]client.MaintenanceWindow{}
	for title, m := range w.Windows {
		if isOpen(m) {
			openWindows[title] = m
		}
	}
	hosts := resolveAll(r, kindHost, f.Hosts, w.hostsByID, w.Hosts, func(h client.Host) uuid.UUID { return h.Id })
	checks := resolveAll(r, kindCheck, f.Checks, w.checksByID, w.Checks, func(c client.Check) uuid.UUID { return c.Id })
	schedules := resolveAll(r, kindSchedule, f.OncallSchedules, w.schedulesByID, w.Schedules, func(s client.OncallSchedule) uuid.UUID { return s.Id })
	policies := resolveAll(r, kindPolicy, f.AlertPolicies, w.policiesByID, w.Policies, func(p client.AlertPolicy) uuid.UUID { return p.Id })
	pages := resolveAll(r, kindPage, f.StatusPages, w.pagesByID, w.Pages, func(p client.StatusPage) uuid.UUID { return p.Id })
	windows := resolveAll(r, kindWindow, f.MaintenanceWindows, w.windowsByID, openWindows, func(m client.MaintenanceWindow) uuid.UUID { return m.Id })
	if err := errors.Join(append(r.errs, checkSchedules(f, w, st, opts.Prune))...); err != nil {
		return nil, err
	}
	// References show under the file's names, renamed resources included.
	for name, id := range r.ids[kindHost] {
		w.hostNames[id] = name
	}
	for name, id := range r.ids[kindCheck] {
		w.checkNames[id] = name
	}
	for name, id := range r.ids[kindSchedule] {
		w.scheduleNames[id] = name
	}

	p := &Plan{ids: r.ids}
	// existing records a resource the state manages: its diffs, a rename and a change of
	// secrets make an update.
	existing := func(kind, key string, fd found, oldKey string, diffs []Diff, secrets string, update func(context.Context, *executor) error) {
		if oldKey != key {
			diffs = append([]Diff{{Field: map[string]string{kindPage: "slug", kindWindow: "title"}[kind], Old: quote(oldKey), New: quote(key)}}, diffs...)
			if diffs[0].Field == "" {
				diffs[0].Field = "name"
			}
		}
		if d, ok := secretsDiff(st, kind, fd.id, secrets); ok {
			diffs = append(diffs, d)
		}
		p.add(Change{Kind: kind, Name: key, Note: fd.note, id: fd.id, secrets: secrets}, diffs, update)
	}
	created := func(kind, key string, fd found, view any, secrets string, create func(context.Context, *executor) error) {
		p.created(kind, key, view, create)
		last := &p.Changes[len(p.Changes)-1]
		last.Note, last.secrets = fd.note, secrets
	}

	for _, s := range f.Hosts {
		fd := hosts[s.Name]
		if have, ok := w.hostsByID[fd.id]; ok {
			existing(kindHost, s.Name, fd, have.Name, diff(hostHave(have), hostWant(s)), "", func(ctx context.Context, x *executor) error {
				return x.updateHost(ctx, s, have)
			})
			continue
		}
		created(kindHost, s.Name, fd, hostWant(s), "", func(ctx context.Context, x *executor) error { return x.createHost(ctx, s) })
	}

	replaced := map[string]bool{} // checks that get a new id
	for _, s := range f.Checks {
		fd, secrets := checks[s.Name], st.Hash(checkSecrets(s))
		have, ok := w.checksByID[fd.id]
		if !ok {
			created(kindCheck, s.Name, fd, checkWant(s, nil), secrets, func(ctx context.Context, x *executor) error { return x.createCheck(ctx, s) })
			continue
		}
		old, want := checkHave(have, w), checkWant(s, &have)
		if old.Host != want.Host || old.CheckType != want.CheckType {
			ch := Change{Kind: kindCheck, Name: s.Name, Action: Replace, Note: "host and check_type cannot change in place", id: fd.id, secrets: secrets}
			ch.Diffs = diff(old, want)
			ch.run = func(ctx context.Context, x *executor) error { return x.replaceCheck(ctx, s, have) }
			p.Changes = append(p.Changes, ch)
			replaced[s.Name] = true
			continue
		}
		existing(kindCheck, s.Name, fd, have.Name, diff(old, want), secrets, func(ctx context.Context, x *executor) error { return x.updateCheck(ctx, s, have) })
	}

	// Schedules come before the policies that name them.
	for _, s := range f.OncallSchedules {
		fd := schedules[s.Name]
		if have, ok := w.schedulesByID[fd.id]; ok {
			existing(kindSchedule, s.Name, fd, have.Name, diff(scheduleHave(have), scheduleWant(s, &have)), "", func(ctx context.Context, x *executor) error {
				return x.updateSchedule(ctx, s, have)
			})
			continue
		}
		created(kindSchedule, s.Name, fd, scheduleWant(s, nil), "", func(ctx context.Context, x *executor) error { return x.createSchedule(ctx, s) })
	}

	for _, s := range f.AlertPolicies {
		fd, secrets := policies[s.Name], st.Hash(policySecrets(s))
		if have, ok := w.policiesByID[fd.id]; ok {
			existing(kindPolicy, s.Name, fd, have.Name, diff(policyHave(have, w), policyWant(s)), secrets, func(ctx context.Context, x *executor) error {
				return x.updatePolicy(ctx, s, have)
			})
			continue
		}
		created(kindPolicy, s.Name, fd, policyWant(s), secrets, func(ctx context.Context, x *executor) error { return x.createPolicy(ctx, s) })
	}

	for _, s := range f.StatusPages {
		fd := pages[s.Slug]
		have, ok := w.pagesByID[fd.id]
		if !ok {
			created(kindPage, s.Slug, fd, pageWant(s), "", func(ctx context.Context, x *executor) error { return x.createPage(ctx, s) })
			continue
		}
		update := func(ctx context.Context, x *executor) error { return x.updatePage(ctx, s, have) }
		existing(kindPage, s.Slug, fd, have.Slug, diff(pageHave(have, w), pageWant(s)), "", update)
		// Deleting a replaced check takes its components with it: put them back.
		for _, c := range s.Components {
			if replaced[c.Check] {
				last := &p.Changes[len(p.Changes)-1]
				last.Action, last.Note, last.run = Update, fmt.Sprintf("check %s is replaced", c.Check), update
				break
			}
		}
	}

	for _, s := range f.MaintenanceWindows {
		fd := windows[s.Title]
		create := func(ctx context.Context, x *executor) error { return x.createWindow(ctx, s) }
		have, ok := w.windowsByID[fd.id]
		if !ok {
			created(kindWindow, s.Title, fd, windowWant(s), "", create)
			continue
		}
		diffs := diff(windowHave(have, w), windowWant(s))
		if !isOpen(have) {
			// A completed window is history: the file describes the next one, if it differs.
			if len(diffs) == 0 && have.Title == s.Title {
				p.Changes = append(p.Changes, Change{Kind: kindWindow, Name: s.Title, Action: NoChange, Note: "completed", id: fd.id})
				continue
			}
			created(kindWindow, s.Title, found{}, windowWant(s), "", create)
			p.Changes[len(p.Changes)-1].Note = "the window with this title is completed: a new one is scheduled"
			continue
		}
		existing(kindWindow, s.Title, fd, have.Title, diffs, "", func(ctx context.Context, x *executor) error {
			return x.updateWindow(ctx, s, have)
		})
	}

	// What the state holds beyond the file, dependents first so that deletions succeed.
	leftovers := func(kind string, get func(uuid.UUID) (func(context.Context, *executor) error, bool)) {
		for _, key := range sortedKeys(st.Resources[kind]) {
			id := st.Resources[kind][key].ID
			if r.claimed[id] {
				continue
			}
			if del, ok := get(id); ok {
				p.leftover(opts.Prune, kind, key, id, del)
			}
		}
	}
	leftovers(kindPage, func(id uuid.UUID) (func(context.Context, *executor) error, bool) {
		page, ok := w.pagesByID[id]
		return func(ctx context.Context, x *executor) error { return x.deletePage(ctx, page) }, ok
	})
	leftovers(kindWindow, func(id uuid.UUID) (func(context.Context, *executor) error, bool) {
		m, ok := w.windowsByID[id]
		return func(ctx context.Context, x *executor) error { return x.cancelWindow(ctx, m) }, ok && isOpen(m)
	})
	leftovers(kindPolicy, func(id uuid.UUID) (func(context.Context, *executor) error, bool) {
		pol, ok := w.policiesByID[id]
		return func(ctx context.Context, x *executor) error { return x.deletePolicy(ctx, pol) }, ok
	})
	leftovers(kindSchedule, func(id uuid.UUID) (func(context.Context, *executor) error, bool) {
		s, ok := w.schedulesByID[id]
		return func(ctx context.Context, x *executor) error { return x.deleteSchedule(ctx, s) }, ok
	})
	leftovers(kindCheck, func(id uuid.UUID) (func(context.Context, *executor) error, bool) {
		c, ok := w.checksByID[id]
		return func(ctx context.Context, x *executor) error { return x.deleteCheck(ctx, c) }, ok
	})
	leftovers(kindHost, func(id uuid.UUID) (func(context.Context, *executor) error, bool) {
		h, ok := w.hostsByID[id]
		return func(ctx context.Context, x *executor) error { return x.deleteHost(ctx, h) }, ok
	})

	// Deleting a host deletes its checks: keep a host that holds checks apply did not create.
	for i, ch := range p.Changes {
		if ch.Kind != kindHost || ch.Action != Delete {
			continue
		}
		var theirs []string
		for _, c := range w.checksByID {
			if c.HostId == ch.id && !r.claimed[c.Id] && !st.Owns(kindCheck, c.Id) {
				theirs = append(theirs, c.Name)
			}
		}
		if len(theirs) > 0 {
			slices.Sort(theirs)
			p.Changes[i].Action, p.Changes[i].run = Keep, nil
			p.Changes[i].Note = "not in the file; kept: it holds checks apply did not create: " + strings.Join(theirs, ", ")
		}
	}

	// The rest of the workspace is not apply's.
	for _, ids := range []map[uuid.UUID]bool{keysOf(w.hostsByID), keysOf(w.checksByID), keysOf(w.schedulesByID),
		keysOf(w.policiesByID), keysOf(w.pagesByID), keysOf(w.windowsByID)} {
		for id := range ids {
			if !r.claimed[id] && !p.has(id) {
				p.Unmanaged++
			}
		}
	}
	return p, nil
}

func keysOf[T any](m map[uuid.UUID]T) map[uuid.UUID]bool {
	out := make(map[uuid.UUID]bool, len(m))
	for id := range m {
		out[id] = true
	}
	return out
}

// has reports whether the plan names the resource with this id.
func (p *Plan) has(id uuid.UUID) bool {
	for _, ch := range p.Changes {
		if ch.id == id {
			return true
		}
	}
	return false
}

// secretsDiff is the difference of write-only fields: the hash of what apply last sent to
// the resource against the file's.
func secretsDiff(st *State, kind string, id uuid.UUID, want string) (Diff, bool) {
	var have string
	for _, o := range st.Resources[kind] {
		if o.ID == id {
			have = o.Secrets
		}
	}
	if have == want {
		return Diff{}, false
	}
	d := Diff{Field: "secrets", Old: `"(not sent by apply)"`, New: `"(none)"`}
	if have != "" {
		d.Old = quote(masked)
	}
	if want != "" {
		d.New = quote(masked + " (changed)")
	}
	return d, true
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// add records an existing resource: an update when diffs is not empty.
func (p *Plan) add(ch Change, diffs []Diff, update func(context.Context, *executor) error) {
	ch.Action = NoChange
	if len(diffs) > 0 {
		ch.Action, ch.Diffs, ch.run = Update, diffs, update
	}
	p.Changes = append(p.Changes, ch)
}

// created records a new resource with the non-empty fields of its view.
func (p *Plan) created(kind, name string, view any, run func(context.Context, *executor) error) {
	ch := Change{Kind: kind, Name: name, Action: Create, run: run}
	for _, f := range fields(view) {
		if f.Value != `""` && f.Value != "[]" && f.Value != "{}" && f.Value != "null" {
			ch.Diffs = append(ch.Diffs, Diff{Field: f.Name, New: f.Value})
		}
	}
	p.Changes = append(p.Changes, ch)
}

// leftover records a resource apply manages that is not in the file.
func (p *Plan) leftover(prune bool, kind, name string, id uuid.UUID, del func(context.Context, *executor) error) {
	if prune {
		p.Changes = append(p.Changes, Change{Kind: kind, Name: name, Action: Delete, Note: "not in the file", run: del, id: id})
		return
	}
	p.Changes = append(p.Changes, Change{Kind: kind, Name: name, Action: Keep, Note: "not in the file; kept: -prune deletes it", id: id})
}

// checkSchedules makes sure every on-call schedule the file's policies name will exist once
// the plan is applied: declared in the file, or already in the workspace and not about to
// be pruned (a policy left pointing at a deleted schedule would notify nobody).
func checkSchedules(f *File, w *Workspace, st *State, prune bool) error {
	inFile := map[string]bool{}
	for _, s := range f.OncallSchedules {
		inFile[s.Name] = true
	}
	var errs []error
	for _, pol := range f.AlertPolicies {
		for _, name := range pol.Channels.Oncall {
			s, inWorkspace := w.Schedules[name]
			switch {
			case inFile[name]:
			case !inWorkspace:
				errs = append(errs, fmt.Errorf("alert policy %q: on-call schedule %q is neither in the file nor in the workspace", pol.Name, name))
			case prune && st.Owns(kindSchedule, s.Id):
				errs = append(errs, fmt.Errorf("alert policy %q: on-call schedule %q is not in the file, so -prune would delete it: add it to oncall_schedules", pol.Name, name))
			}
		}
	}
	return errors.Join(errs...)
}

// Count returns how many changes have the action.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, ch := range p.Changes {
		if ch.Action == a {
			n++
		}
	}
	return n
}

// Empty reports whether applying the plan would change nothing.
func (p *Plan) Empty() bool {
	return p.Count(Create)+p.Count(Update)+p.Count(Replace)+p.Count(Delete) == 0
}

// Print writes the plan, one resource a line with the fields that differ under it.
func (p *Plan) Print(out io.Writer) {
	for _, ch := range p.Changes {
		line := fmt.Sprintf("%s %-9s %s %s", symbols[ch.Action], ch.Action, ch.Kind, ch.Name)
		if ch.Note != "" {
			line += " (" + ch.Note + ")"
		}
		fmt.Fprintln(out, strings.TrimRight(line, " "))
		for _, d := range ch.Diffs {
			if ch.Action == Create {
				fmt.Fprintf(out, "      %s: %s\n", d.Field, d.New)
			} else {
				fmt.Fprintf(out, "      %s: %s → %s\n", d.Field, d.Old, d.New)
			}
		}
	}
	fmt.Fprintf(out, "Plan: %d to create, %d to update, %d to replace, %d to delete, %d unchanged",
		p.Count(Create), p.Count(Update), p.Count(Replace), p.Count(Delete), p.Count(NoChange))
	if k := p.Count(Keep); k > 0 {
		fmt.Fprintf(out, ", %d not in the file (kept; -prune deletes them)", k)
	}
	fmt.Fprintln(out, ".")
	if p.Unmanaged > 0 {
		fmt.Fprintf(out, "%d resources of the workspace were not created by apply: left alone.\n", p.Unmanaged)
	}
}

// JSON writes the plan as one JSON document: its changes (secrets masked, as printed) and
// the count of each action.
func (p *Plan) JSON(out io.Writer) error {
	doc := struct {
		Changes   []Change       `json:"changes"`
		Summary   map[string]int `json:"summary"`
		Unmanaged int            `json:"unmanaged"`
		Empty     bool           `json:"empty"`
	}{Changes: p.Changes, Summary: map[string]int{}, Unmanaged: p.Unmanaged, Empty: p.Empty()}
	for _, a := range []Action{Create, Update, Replace, Delete, NoChange, Keep} {
		doc.Summary[string(a)] = p.Count(a)
	}
	if doc.Changes == nil {
		doc.Changes = []Change{}
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
