package main

import (
	"context"
	"iter"
	"slices"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

// Workspace is what the workspace holds now, indexed by id and the way the file names
// things. Apply matches the file's resources by id through its state file; names serve
// references, -adopt, and the check that a create will not collide.
type Workspace struct {
	Hosts    map[string]client.Host        // by name
	Checks   map[string]client.Check       // by name
	Policies map[string]client.AlertPolicy // by name (the first of a name)
	Pages    map[string]client.StatusPage  // by slug
	// Schedules are the on-call schedules, by name (unique in a workspace).
	Schedules map[string]client.OncallSchedule
	// Windows holds, by title, the scheduled or active window, else the latest completed
	// one. Cancelled windows are history and take no part.
	Windows map[string]client.MaintenanceWindow

	hostsByID     map[uuid.UUID]client.Host
	checksByID    map[uuid.UUID]client.Check
	policiesByID  map[uuid.UUID]client.AlertPolicy
	pagesByID     map[uuid.UUID]client.StatusPage
	schedulesByID map[uuid.UUID]client.OncallSchedule
	windowsByID   map[uuid.UUID]client.MaintenanceWindow // not cancelled

	// ambiguous are the names that more than one resource of a kind holds (policy names
	// are not unique in the API, nor are the titles of open windows).
	ambiguous map[string]map[string]bool

	hostNames, checkNames, scheduleNames map[uuid.UUID]string
}

// newWorkspace returns an empty Workspace.
func newWorkspace() *Workspace {
	return &Workspace{
		Hosts: map[string]client.Host{}, Checks: map[string]client.Check{}, Policies: map[string]client.AlertPolicy{},
		Pages: map[string]client.StatusPage{}, Windows: map[string]client.MaintenanceWindow{},
		Schedules: map[string]client.OncallSchedule{},
		hostsByID: map[uuid.UUID]client.Host{}, checksByID: map[uuid.UUID]client.Check{}, policiesByID: map[uuid.UUID]client.AlertPolicy{},
		pagesByID: map[uuid.UUID]client.StatusPage{}, schedulesByID: map[uuid.UUID]client.OncallSchedule{},
		windowsByID: map[uuid.UUID]client.MaintenanceWindow{}, ambiguous: map[string]map[string]bool{},
		hostNames: map[uuid.UUID]string{}, checkNames: map[uuid.UUID]string{}, scheduleNames: map[uuid.UUID]string{},
	}
}

// Read lists everything apply manages.
func Read(ctx context.Context, c *client.Client) (*Workspace, error) {
	w := newWorkspace()
	err := collect(c.Hosts.All(ctx, nil), func(h client.Host) error {
		w.Hosts[h.Name], w.hostNames[h.Id], w.hostsByID[h.Id] = h, h.Name, h
		return nil
	})
	if err == nil {
		err = collect(c.Checks.All(ctx, nil), func(ch client.Check) error {
			w.Checks[ch.Name], w.checkNames[ch.Id], w.checksByID[ch.Id] = ch, ch.Name, ch
			return nil
		})
	}
	if err == nil {
		err = collect(c.AlertPolicies.All(ctx, nil), func(p client.AlertPolicy) error {
			w.policiesByID[p.Id] = p
			if _, dup := w.Policies[p.Name]; dup {
				w.ambiguate(kindPolicy, p.Name)
				return nil
			}
			w.Policies[p.Name] = p
			return nil
		})
	}
	if err == nil {
		err = collect(c.StatusPages.All(ctx, nil), func(p client.StatusPage) error {
			w.Pages[p.Slug], w.pagesByID[p.Id] = p, p
			return nil
		})
	}
	if err == nil {
		err = collect(c.Maintenance.All(ctx, nil), w.addWindow)
	}
	if err != nil {
		return nil, err
	}
	// The API lists schedules in one bare array, without pages.
	schedules, err := c.Oncall.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range schedules {
		w.Schedules[s.Name], w.scheduleNames[s.Id], w.schedulesByID[s.Id] = s, s.Name, s
	}
	return w, nil
}

func (w *Workspace) ambiguate(kind, name string) {
	if w.ambiguous[kind] == nil {
		w.ambiguous[kind] = map[string]bool{}
	}
	w.ambiguous[kind][name] = true
}

// addWindow keeps, for each title, the window the file's entry stands for.
func (w *Workspace) addWindow(m client.MaintenanceWindow) error {
	if m.Status == client.MaintenanceStatusCancelled {
		return nil
	}
	w.windowsByID[m.Id] = m
	old, seen := w.Windows[m.Title]
	switch {
	case !seen:
	case isOpen(old) && isOpen(m):
		w.ambiguate(kindWindow, m.Title)
		return nil
	case isOpen(old):
		return nil
	case !isOpen(m) && m.EndTime.Before(old.EndTime):
		return nil // an older completed window
	}
	w.Windows[m.Title] = m
	return nil
}

// isOpen reports whether a window can still change (scheduled or active).
func isOpen(m client.MaintenanceWindow) bool {
	return m.Status == client.MaintenanceStatusScheduled || m.Status == client.MaintenanceStatusActive
}

// collect runs add on every item of a list, stopping at the first error.
func collect[T any](items iter.Seq2[T, error], add func(T) error) error {
	for item, err := range items {
		if err != nil {
			return err
		}
		if err := add(item); err != nil {
			return err
		}
	}
	return nil
}

// names turns ids into the names the file uses; an id apply does not know stays an id, so
// it shows in a diff.
func names(ids []uuid.UUID, byID map[uuid.UUID]string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		if n, ok := byID[id]; ok {
			out[i] = n
		} else {
			out[i] = id.String()
		}
	}
	return out
}

// sortedKeys returns a map's keys in order, for output that does not change between runs.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
