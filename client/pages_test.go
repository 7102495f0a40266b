package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pagedHosts serves n hosts two per page, with opaque cursors, and records the queries.
type pagedHosts struct {
	mu      sync.Mutex
	n       int
	queries []string
}

func (p *pagedHosts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.queries = append(p.queries, r.URL.RawQuery)
	p.mu.Unlock()
	start := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		if _, err := fmt.Sscanf(c, "after-%d", &start); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
	}
	page := HostList{Count: p.n, Hosts: []Host{}}
	for i := start; i < min(start+2, p.n); i++ {
		page.Hosts = append(page.Hosts, Host{Id: uuid.New(), Name: fmt.Sprintf("host-%d", i)})
	}
	if start+2 < p.n {
		next := fmt.Sprintf("after-%d", start+2)
		page.NextCursor = &next
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

func TestAllFollowsNextCursor(t *testing.T) {
	srv := &pagedHosts{n: 5}
	c := newTestClient(t, srv)
	active := true
	var names []string
	for h, err := range c.Hosts.All(context.Background(), &ListHostsParams{Active: &active}) {
		require.NoError(t, err)
		names = append(names, h.Name)
	}
	assert.Equal(t, []string{"host-0", "host-1", "host-2", "host-3", "host-4"}, names)
	assert.Equal(t, []string{"active=true", "active=true&cursor=after-2", "active=true&cursor=after-4"}, srv.queries,
		"filters are kept on every page")
}

func TestAllStopsWhenTheLoopBreaks(t *testing.T) {
	srv := &pagedHosts{n: 10}
	c := newTestClient(t, srv)
	seen := 0
	for _, err := range c.Hosts.All(context.Background(), nil) {
		require.NoError(t, err)
		seen++
		if seen == 3 {
			break
		}
	}
	assert.Equal(t, 3, seen)
	assert.Len(t, srv.queries, 2, "no page fetched beyond the break")
}

func TestAllYieldsTheErrorAndStops(t *testing.T) {
	c := newTestClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	var errs []error
	for h, err := range c.Checks.All(context.Background(), nil) {
		assert.Zero(t, h)
		errs = append(errs, err)
	}
	require.Len(t, errs, 1)
	assert.True(t, IsForbidden(errs[0]))
}

func TestPagesDetectsACursorLoop(t *testing.T) {
	same := "again"
	calls := 0
	seq := pages(nil, func(cursor *string) ([]int, *string, error) {
		calls++
		return []int{calls}, &same, nil
	})
	var got []int
	var last error
	for v, err := range seq {
		if err != nil {
			last = err
			break
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2}, got)
	assert.True(t, errors.Is(last, errCursorLoop))
}
