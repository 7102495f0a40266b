// Command quickstart is the shortest tour of the SecuMon Go SDK: it creates a host on
// 127.0.0.1, adds a ping check, runs it now, waits for the result, prints the host's uptime,
// and deletes what it created.
//
//	SECUMON_URL=http://127.0.0.1:8080 SECUMON_TOKEN=smn_… go run ./examples/quickstart
//
// Without SECUMON_TOKEN it uses the owner token `make run` wrote in .secumon/owner.token (run
// it from the repository's root). The token needs the admin role (it creates and deletes a
// host). A worker must be running (`secumon serve` runs one) for the check to produce a result.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/secuaas/secumon/examples/internal/localtoken"

	"github.com/secuaas/secumon/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Stdout, os.Getenv("SECUMON_URL"), os.Getenv("SECUMON_TOKEN")); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// statusNames spells the check status codes.
var statusNames = map[client.CheckStatus]string{
	client.StatusOK: "OK", client.StatusWarning: "WARNING", client.StatusCritical: "CRITICAL", client.StatusUnknown: "UNKNOWN",
}

func run(ctx context.Context, out io.Writer, url, token string) (err error) {
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	if token == "" {
		if token, err = localtoken.Owner("admin"); err != nil {
			return err
		}
	}
	c, err := client.New(url, client.WithToken(token), client.WithUserAgent("secumon-quickstart/"+client.Version))
	if err != nil {
		return err
	}

	// A unique name, so that runs never collide with each other or with real hosts.
	name := "quickstart-" + suffix()
	host, err := c.Hosts.Create(ctx, client.HostCreate{
		Name: name, Hostname: "127.0.0.1", Tags: &client.Tags{"source": "quickstart"},
	})
	if err != nil {
		return fmt.Errorf("creating the host: %w", err)
	}
	fmt.Fprintf(out, "created host %s (%s)\n", host.Name, host.Hostname)
	defer func() {
		// Deleting the host deletes its check and results too. The caller's context may be
		// the one that ended, so clean up with a fresh one.
		cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if derr := c.Hosts.Delete(cleanup, host.Id); derr != nil {
			err = errors.Join(err, fmt.Errorf("deleting the host: %w", derr))
			return
		}
		fmt.Fprintf(out, "deleted host %s\n", host.Name)
	}()

	interval, timeout := 60, 5
	// Each check type has its own typed variant; NewCheckCreate sets check_type from it.
	check, err := c.Checks.Create(ctx, client.NewCheckCreate(client.PingCheckCreate{
		HostId: host.Id, Name: "ping " + name,
		Config:      &client.PingConfig{Count: client.Ptr(3), IntervalMs: client.Ptr(100)},
		IntervalSec: &interval, TimeoutSec: &timeout,
	}))
	if err != nil {
		return fmt.Errorf("creating the check: %w", err)
	}
	fmt.Fprintf(out, "created check %q\n", check.Name)

	// Run it now and wait for that run's result; a worker picks it up within moments.
	waitCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	result, err := c.Checks.RunAndWait(waitCtx, check.Id)
	if err != nil {
		return fmt.Errorf("running the check: %w", err)
	}
	fmt.Fprintf(out, "result: %s in %.2f ms: %s%s\n", statusNames[result.Status], result.LatencyMs, result.Output, errSuffix(result.ErrorMsg))

	uptime, err := c.Results.Uptime(ctx, host.Id, nil)
	if err != nil {
		return fmt.Errorf("reading the uptime: %w", err)
	}
	fmt.Fprintf(out, "uptime over %s: %.2f%% (%d samples)\n", uptime.Window, uptime.UptimePct, uptime.Samples)
	return nil
}

func errSuffix(msg string) string {
	if msg == "" {
		return ""
	}
	return " (" + msg + ")"
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
