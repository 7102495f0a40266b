package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/client"
)

// fakeSecuMon stands in for a SecuMon server in the examples: three hosts served two per
// page, creates, a 404 for unknown hosts, a validation error, and an event stream. (The
// package's tests run the SDK against the real server.)
func fakeSecuMon() *httptest.Server {
	names := []string{"db-01", "web-01", "web-02"}
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	problem := func(w http.ResponseWriter, status int, title, detail string, fields ...client.FieldError) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.Header().Set("X-Request-ID", "3f2a9c1b")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "https://secumon.secuaas.ovh/problems/x", "title": title,
			"status": status, "detail": detail, "errors": fields})
	}
	mux.HandleFunc("GET /api/v2/hosts", func(w http.ResponseWriter, r *http.Request) {
		start := 0
		if r.URL.Query().Get("cursor") == "page-2" {
			start = 2
		}
		page := client.HostList{Count: len(names)}
		for _, n := range names[start:min(start+2, len(names))] {
			page.Hosts = append(page.Hosts, client.Host{Id: uuid.New(), Name: n, Hostname: "127.0.0.1"})
		}
		if start == 0 {
			next := "page-2"
			page.NextCursor = &next
		}
		writeJSON(w, http.StatusOK, page)
	})
	mux.HandleFunc("POST /api/v2/hosts", func(w http.ResponseWriter, r *http.Request) {
		var in client.HostCreate
		_ = json.NewDecoder(r.Body).Decode(&in)
		if in.Hostname == "" {
			problem(w, http.StatusBadRequest, "Invalid request", "hostname: property \"hostname\" is missing",
				client.FieldError{Field: "hostname", Message: `property "hostname" is missing`})
			return
		}
		writeJSON(w, http.StatusCreated, client.Host{Id: uuid.New(), Name: in.Name, Hostname: in.Hostname, IsActive: true})
	})
	mux.HandleFunc("GET /api/v2/hosts/{id}", func(w http.ResponseWriter, r *http.Request) {
		problem(w, http.StatusNotFound, "Not found", "host not found")
	})
	mux.HandleFunc("GET /api/v2/events", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "id: 1\ndata: {\"hosts_total\":3,\"checks_enabled\":2,\"incidents_open\":0,\"recent_incidents\":[]}\n\n")
		fmt.Fprint(w, ": ping\n\n")
		fmt.Fprint(w, "id: 2\ndata: {\"hosts_total\":3,\"checks_enabled\":2,\"incidents_open\":1,\"recent_incidents\":[]}\n\n")
		_ = http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	return httptest.NewServer(mux)
}

func ExampleNew() {
	c, err := client.New("http://127.0.0.1:8080",
		client.WithToken("smn_example"),
		client.WithWorkspace("81cdc29b-541f-4274-97d8-c743f303a205"),
		client.WithUserAgent("inventory-sync/1.0"),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 5, MinBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second}),
		client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}),
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(c.BaseURL())
	// Output: http://127.0.0.1:8080/api/v2/
}

func ExampleHostsService_All() {
	srv := fakeSecuMon()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("smn_example"))

	// The iterator fetches the pages as the loop needs them, following next_cursor.
	for host, err := range c.Hosts.All(context.Background(), nil) {
		if err != nil {
			fmt.Println("error:", err)
			break
		}
		fmt.Println(host.Name)
	}
	// Output:
	// db-01
	// web-01
	// web-02
}

func ExampleHostsService_Create() {
	srv := fakeSecuMon()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("smn_example"))
	ctx := context.Background()

	// Create sends a random Idempotency-Key, kept across its retries: a create retried after a
	// lost answer creates one host. WithIdempotencyKey makes it stable across program runs.
	host, err := c.Hosts.Create(ctx, client.HostCreate{Name: "web-03", Hostname: "127.0.0.1"},
		client.WithIdempotencyKey("inventory-sync:web-03"))
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Println("created", host.Name, host.Hostname)
	// Output: created web-03 127.0.0.1
}

func ExampleIsNotFound() {
	srv := fakeSecuMon()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("smn_example"))

	_, err := c.Hosts.Get(context.Background(), uuid.MustParse("8f3b1c2a-2d44-4e1a-9b77-0a1b2c3d4e5f"))
	switch {
	case client.IsNotFound(err):
		fmt.Println("no such host here")
	case err != nil:
		fmt.Println("error:", err)
	}
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output:
	// no such host here
	// true
}

func ExampleAPIError() {
	srv := fakeSecuMon()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("smn_example"))

	_, err := c.Hosts.Create(context.Background(), client.HostCreate{Name: "web-04"})
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Title)
		for _, f := range apiErr.Errors {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
		fmt.Println("quote request", apiErr.RequestID)
	}
	fmt.Println(err)
	// Output:
	// 400 Invalid request
	// hostname: property "hostname" is missing
	// quote request 3f2a9c1b
	// secumon: 400 Invalid request: hostname: property "hostname" is missing (request 3f2a9c1b)
}

func ExampleEventsService_Stream() {
	srv := fakeSecuMon()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("smn_example"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	seen := 0
	for ev, err := range c.Events.Stream(ctx) {
		if err != nil {
			fmt.Println("stream ended:", err)
			break
		}
		var summary client.DashboardSummary
		if err := ev.Decode(&summary); err != nil {
			continue
		}
		fmt.Printf("event %s: %d open incidents\n", ev.ID, summary.IncidentsOpen)
		if seen++; seen == 2 {
			break // leaving the loop closes the stream
		}
	}
	// Output:
	// event 1: 0 open incidents
	// event 2: 1 open incidents
}

func ExampleWithRetry() {
	// A server that is briefly unavailable: the first answer is a 503 asking to retry.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"workspaces":[],"active_workspace_id":""}`)
	}))
	defer srv.Close()

	c, _ := client.New(srv.URL, client.WithRetry(client.RetryPolicy{MaxAttempts: 3}))
	_, err := c.Workspaces.List(context.Background())
	fmt.Println(err, calls.Load())
	// Output: <nil> 2
}
