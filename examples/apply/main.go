// Command apply is Terraform-style automation with the SecuMon Go SDK: it reads a YAML file
// describing hosts and their checks, on-call schedules, alert policies, status pages and
// maintenance windows, prints a plan (what it creates, updates, replaces or deletes, field by
// field) and applies it in dependency order (a schedule before the policies that page it,
// and the other way round for deletions). Resources are matched by name (status pages by
// slug, maintenance windows by title), so applying the same file twice changes nothing the
// second time.
//
//	SECUMON_URL=http://127.0.0.1:8080 SECUMON_TOKEN=smn_… go run ./examples/apply -f examples/apply/example.yaml
//
// Without SECUMON_TOKEN it uses the owner token `make run` wrote in .secumon/owner.token (run
// it from the repository's root).
//
// Flags:
//
//	-f file   the desired state (example.yaml shows every field)
//	-plan     print the plan and stop
//	-prune    delete what the workspace holds and the file does not (otherwise the plan
//	          lists it as kept); maintenance windows are cancelled, since the API keeps them
//
// Fields left out of the file take the API's defaults, so deleting a line resets the field;
// the few the API cannot reset (a check's severity, a schedule's rotation_start and
// rotation_length_hours) keep their value instead.
// Secrets (SNMP communities and passphrases, HTTP headers, webhook secrets) are write-only:
// the API masks them, so apply compares only whether they are set, never prints them, and
// sends them with the resource's next update. The token needs the admin role.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/secuaas/secumon/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "apply:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	file := fs.String("f", "secumon.yaml", "the YAML `file` describing the workspace")
	planOnly := fs.Bool("plan", false, "print the plan without applying it")
	prune := fs.Bool("prune", false, "delete resources that are not in the file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url, token := os.Getenv("SECUMON_URL"), os.Getenv("SECUMON_TOKEN")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	if token == "" {
		var err error
		if token, err = ownerToken(); err != nil {
			return err
		}
	}

	desired, err := Load(*file)
	if err != nil {
		return err
	}
	// Patient retries: apply is unattended, and riding out a restart of the server or its
	// database beats failing half-way. The server's 503 asks for 5 s between attempts.
	c, err := client.New(url, client.WithToken(token), client.WithUserAgent("secumon-apply/"+client.Version),
		client.WithRetry(client.RetryPolicy{MaxAttempts: 8, MinBackoff: 250 * time.Millisecond, MaxBackoff: 5 * time.Second}))
	if err != nil {
		return err
	}

	current, err := Read(ctx, c)
	if err != nil {
		return fmt.Errorf("reading the workspace: %w", err)
	}
	plan, err := MakePlan(desired, current, *prune)
	if err != nil {
		return err
	}
	plan.Print(out)
	switch {
	case plan.Empty():
		fmt.Fprintf(out, "No changes: the workspace matches %s.\n", *file)
		return nil
	case *planOnly:
		fmt.Fprintln(out, "Nothing applied (-plan).")
		return nil
	}
	if err := plan.Apply(ctx, c, current, out); err != nil {
		return err
	}
	fmt.Fprintf(out, "Apply complete: %d created, %d updated, %d replaced, %d deleted.\n",
		plan.Count(Create), plan.Count(Update), plan.Count(Replace), plan.Count(Delete))
	return nil
}

// ownerToken reads the owner token `make run` (secumon serve) wrote on its first start, in
// $SECUMON_DATA_DIR/owner.token (./.secumon/owner.token by default): the token to use when
// SECUMON_TOKEN is not set.
func ownerToken() (string, error) {
	dir := os.Getenv("SECUMON_DATA_DIR")
	if dir == "" {
		dir = ".secumon"
	}
	file := filepath.Join(dir, "owner.token")
	b, err := os.ReadFile(file)
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		return string(bytes.TrimSpace(b)), nil
	}
	if err == nil {
		err = errors.New("empty")
	}
	return "", fmt.Errorf("set SECUMON_TOKEN to an API token, or run this where `make run` wrote %s (%v); `secumon token create --role admin …` mints other tokens", file, err)
}
