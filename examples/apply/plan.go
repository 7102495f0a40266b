package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
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

// Change is the plan for one resource.
type Change struct {
	Kind, Name string
	Action     Action
	Diffs      []Diff // the fields that differ (for a create, the fields it sets)
	Note       string
	run        func(context.Context, *executor) error
}

// Plan is the ordered list of changes that makes the workspace match the file: hosts, then
// checks and on-call schedules, then what refers to them, then deletions in the reverse
// order.
type Plan struct {
	Changes []Change
}

// MakePlan compares the file with the workspace. prune turns resources missing from the
// file into deletions instead of keeping them.
func MakePlan(f *File, w *Workspace, prune bool) (*Plan, error) {
	if err := checkSchedules(f, w, prune); err != nil {
		return nil, err
	}
	p := &Plan{}
	wanted := map[string]map[string]bool{"host": {}, "check": {}, "schedule": {}, "policy": {}, "page": {}, "window": {}}

	for _, s := range f.Hosts {
		wanted["host"][s.Name] = true
		if have, ok := w.Hosts[s.Name]; ok {
			p.add(Change{Kind: "host", Name: s.Name}, diff(hostHave(have), hostWant(s)), func(ctx context.Context, x *executor) error {
				return x.updateHost(ctx, s, have)
			})
			continue
		}
		p.created("host", s.Name, hostWant(s), func(ctx context.Context, x *executor) error { return x.createHost(ctx, s) })
	}

	replaced := map[string]bool{} // checks that get a new id
	for _, s := range f.Checks {
		wanted["check"][s.Name] = true
		have, ok := w.Checks[s.Name]
		if !ok {
			p.created("check", s.Name, checkWant(s, nil), func(ctx context.Context, x *executor) error { return x.createCheck(ctx, s) })
			continue
		}
		old, want := checkHave(have, w), checkWant(s, &have)
		ch := Change{Kind: "check", Name: s.Name}
		if old.Host != want.Host || old.CheckType != want.CheckType {
			ch.Action, ch.Note = Replace, "host and check_type cannot change in place"
			ch.Diffs = diff(old, want)
			ch.run = func(ctx context.Context, x *executor) error { return x.replaceCheck(ctx, s, have) }
			p.Changes = append(p.Changes, ch)
			replaced[s.Name] = true
			continue
		}
		p.add(ch, diff(old, want), func(ctx context.Context, x *executor) error { return x.updateCheck(ctx, s, have) })
	}

	// Schedules come before the policies that name them.
	for _, s := range f.OncallSchedules {
		wanted["schedule"][s.Name] = true
		if have, ok := w.Schedules[s.Name]; ok {
			p.add(Change{Kind: "on-call schedule", Name: s.Name}, diff(scheduleHave(have), scheduleWant(s, &have)), func(ctx context.Context, x *executor) error {
				return x.updateSchedule(ctx, s, have)
			})
			continue
		}
		p.created("on-call schedule", s.Name, scheduleWant(s, nil), func(ctx context.Context, x *executor) error { return x.createSchedule(ctx, s) })
	}

	for _, s := range f.AlertPolicies {
		wanted["policy"][s.Name] = true
		if have, ok := w.Policies[s.Name]; ok {
			p.add(Change{Kind: "alert policy", Name: s.Name}, diff(policyHave(have, w), policyWant(s)), func(ctx context.Context, x *executor) error {
				return x.updatePolicy(ctx, s, have)
			})
			continue
		}
		p.created("alert policy", s.Name, policyWant(s), func(ctx context.Context, x *executor) error { return x.createPolicy(ctx, s) })
	}

	for _, s := range f.StatusPages {
		wanted["page"][s.Slug] = true
		if have, ok := w.Pages[s.Slug]; ok {
			update := func(ctx context.Context, x *executor) error { return x.updatePage(ctx, s, have) }
			p.add(Change{Kind: "status page", Name: s.Slug}, diff(pageHave(have, w), pageWant(s)), update)
			// Deleting a replaced check takes its components with it: put them back.
			for _, c := range s.Components {
				if replaced[c.Check] {
					last := &p.Changes[len(p.Changes)-1]
					last.Action, last.Note, last.run = Update, fmt.Sprintf("check %s is replaced", c.Check), update
					break
				}
			}
			continue
		}
		p.created("status page", s.Slug, pageWant(s), func(ctx context.Context, x *executor) error { return x.createPage(ctx, s) })
	}

	for _, s := range f.MaintenanceWindows {
		wanted["window"][s.Title] = true
		create := func(ctx context.Context, x *executor) error { return x.createWindow(ctx, s) }
		have, ok := w.Windows[s.Title]
		if !ok {
			p.created("maintenance window", s.Title, windowWant(s), create)
			continue
		}
		diffs := diff(windowHave(have, w), windowWant(s))
		if !isOpen(have) {
			// A completed window is history: the file describes the next one, if it differs.
			if len(diffs) == 0 {
				p.Changes = append(p.Changes, Change{Kind: "maintenance window", Name: s.Title, Action: NoChange, Note: "completed"})
				continue
			}
			p.created("maintenance window", s.Title, windowWant(s), create)
			p.Changes[len(p.Changes)-1].Note = "the window with this title is completed: a new one is scheduled"
			continue
		}
		p.add(Change{Kind: "maintenance window", Name: s.Title}, diffs, func(ctx context.Context, x *executor) error {
			return x.updateWindow(ctx, s, have)
		})
	}

	// What the workspace holds beyond the file, dependents first so that deletions succeed.
	for _, slug := range sortedKeys(w.Pages) {
		if !wanted["page"][slug] {
			page := w.Pages[slug]
			p.leftover(prune, "status page", slug, func(ctx context.Context, x *executor) error { return x.deletePage(ctx, page) })
		}
	}
	for _, title := range sortedKeys(w.Windows) {
		if m := w.Windows[title]; !wanted["window"][title] && isOpen(m) {
			p.leftover(prune, "maintenance window", title, func(ctx context.Context, x *executor) error { return x.cancelWindow(ctx, m) })
		}
	}
	for _, name := range sortedKeys(w.Policies) {
		if !wanted["policy"][name] {
			pol := w.Policies[name]
			p.leftover(prune, "alert policy", name, func(ctx context.Context, x *executor) error { return x.deletePolicy(ctx, pol) })
		}
	}
	for _, name := range sortedKeys(w.Schedules) {
		if !wanted["schedule"][name] {
			s := w.Schedules[name]
			p.leftover(prune, "on-call schedule", name, func(ctx context.Context, x *executor) error { return x.deleteSchedule(ctx, s) })
		}
	}
	for _, name := range sortedKeys(w.Checks) {
		if !wanted["check"][name] {
			c := w.Checks[name]
			p.leftover(prune, "check", name, func(ctx context.Context, x *executor) error { return x.deleteCheck(ctx, c) })
		}
	}
	for _, name := range sortedKeys(w.Hosts) {
		if !wanted["host"][name] {
			h := w.Hosts[name]
			p.leftover(prune, "host", name, func(ctx context.Context, x *executor) error { return x.deleteHost(ctx, h) })
		}
	}
	return p, nil
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

// leftover records a resource that is not in the file.
func (p *Plan) leftover(prune bool, kind, name string, del func(context.Context, *executor) error) {
	if prune {
		p.Changes = append(p.Changes, Change{Kind: kind, Name: name, Action: Delete, Note: "not in the file", run: del})
		return
	}
	p.Changes = append(p.Changes, Change{Kind: kind, Name: name, Action: Keep, Note: "not in the file; kept: -prune deletes it"})
}

// checkSchedules makes sure every on-call schedule the file's policies name will exist once
// the plan is applied: declared in the file, or already in the workspace and not about to
// be pruned (a policy left pointing at a deleted schedule would notify nobody).
func checkSchedules(f *File, w *Workspace, prune bool) error {
	inFile := map[string]bool{}
	for _, s := range f.OncallSchedules {
		inFile[s.Name] = true
	}
	var errs []error
	for _, pol := range f.AlertPolicies {
		for _, name := range pol.Channels.Oncall {
			_, inWorkspace := w.Schedules[name]
			switch {
			case inFile[name]:
			case !inWorkspace:
				errs = append(errs, fmt.Errorf("alert policy %q: on-call schedule %q is neither in the file nor in the workspace", pol.Name, name))
			case prune:
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
}
