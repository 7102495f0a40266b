package main

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

// Workspace is what the workspace holds now, indexed the way the file names things.
type Workspace struct {
	Hosts    map[string]client.Host        // by name
	Checks   map[string]client.Check       // by name
	Policies map[string]client.AlertPolicy // by name
	Pages    map[string]client.StatusPage  // by slug
	// Schedules are the on-call schedules, by name (unique in a workspace).
	Schedules map[string]client.OncallSchedule
	// Windows holds, by title, the scheduled or active window, else the latest completed
	// one. Cancelled windows are history and take no part.
	Windows map[string]client.MaintenanceWindow

	hostNames, checkNames, scheduleNames map[uuid.UUID]string
}

// Read lists everything apply manages.
func Read(ctx context.Context, c *client.Client) (*Workspace, error) {
	w := &Workspace{
		Hosts: map[string]client.Host{}, Checks: map[string]client.Check{}, Policies: map[string]client.AlertPolicy{},
		Pages: map[string]client.StatusPage{}, Windows: map[string]client.MaintenanceWindow{},
		Schedules: map[string]client.OncallSchedule{},
		hostNames: map[uuid.UUID]string{}, checkNames: map[uuid.UUID]string{}, scheduleNames: map[uuid.UUID]string{},
	}
	err := collect(c.Hosts.All(ctx, nil), func(h client.Host) error {
		w.Hosts[h.Name], w.hostNames[h.Id] = h, h.Name
		return nil
	})
	if err == nil {
		err = collect(c.Checks.All(ctx, nil), func(ch client.Check) error {
			w.Checks[ch.Name], w.checkNames[ch.Id] = ch, ch.Name
			return nil
		})
	}
	if err == nil {
		// Policy names are not unique in the API; apply needs them to be.
		err = collect(c.AlertPolicies.All(ctx, nil), func(p client.AlertPolicy) error {
			if _, dup := w.Policies[p.Name]; dup {
				return fmt.Errorf("two alert policies are named %q: apply matches policies by name, rename or delete one", p.Name)
			}
			w.Policies[p.Name] = p
			return nil
		})
	}
	if err == nil {
		err = collect(c.StatusPages.All(ctx, nil), func(p client.StatusPage) error {
			w.Pages[p.Slug] = p
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
		w.Schedules[s.Name], w.scheduleNames[s.Id] = s, s.Name
	}
	return w, nil
}

// addWindow keeps, for each title, the window the file's entry stands for.
func (w *Workspace) addWindow(m client.MaintenanceWindow) error {
	if m.Status == client.MaintenanceStatusCancelled {
		return nil
	}
	old, seen := w.Windows[m.Title]
	switch {
	case !seen:
	case isOpen(old) && isOpen(m):
		return fmt.Errorf("two maintenance windows titled %q are scheduled or active: apply matches windows by title, cancel one", m.Title)
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
