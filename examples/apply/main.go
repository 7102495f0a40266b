// Command apply is Terraform-style automation with the SecuMon Go SDK: it reads a YAML file
// describing hosts and their checks, on-call schedules, alert policies, status pages and
// maintenance windows, prints a plan (what it creates, updates, replaces or deletes, field by
// field) and applies it in dependency order (a schedule before the policies that page it,
// and the other way round for deletions). The file names resources by name (status pages by
// slug, maintenance windows by title); the state file ties each name to the id of the
// resource apply created, so applying the same file twice changes nothing the second time.
//
//	SECUMON_URL=http://127.0.0.1:8080 SECUMON_TOKEN=smn_… go run ./examples/apply -f examples/apply/example.yaml
//
// Without SECUMON_TOKEN it uses the owner token `make run` wrote in .secumon/owner.token (run
// it from the repository's root).
//
// Apply manages only what it created. A state file (-state, by default beside the YAML file:
// example.yaml → example.state.json) records, for each resource of the file, the id of the
// resource it created, like Terraform's state: resources are matched by those ids, so a
// rename in the file (with renamed_from: the old name) renames the resource in place, and
// -prune deletes only what the state holds and the file no longer lists. The workspace's
// other resources are left alone; one that bears a name of the file is an error unless
// -adopt takes it over. Keep the state file with the YAML file, out of version control if
// you like (it holds ids and salted hashes of secrets, never a secret).
//
// Flags:
//
//	-f file              the desired state (example.yaml shows every field)
//	-state file          the state file (default: beside -f, .state.json)
//	-plan                print the plan and stop
//	-prune               delete what the state holds and the file no longer lists
//	                     (otherwise the plan lists it as kept); maintenance windows are
//	                     cancelled, since the API keeps them
//	-adopt               manage resources of the file's names that apply did not create
//	-json                print the plan as one JSON document on stdout (progress goes to stderr)
//	-detailed-exitcode   exit 0 when there is nothing to change, 2 when the plan has changes
//	                     (applied or not), 1 on error, as terraform plan does
//
// Fields left out of the file take the API's defaults, so deleting a line resets the field;
// the few the API cannot reset (a check's severity, a schedule's rotation_start and
// rotation_length_hours) keep their value instead.
// Secrets (SNMP communities and passphrases, HTTP headers, webhook secrets) are write-only:
// the API masks them, so apply compares whether they are set, and a salted hash of what it
// last sent, kept in the state file: a changed secret is an update ("secrets: changed"),
// never printed. The token needs the admin role.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/secuaas/secumon/examples/internal/localtoken"

	"github.com/secuaas/secumon/client"
)

// errChanges is how run says that the plan had changes, for -detailed-exitcode.
var errChanges = errors.New("the plan has changes")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errChanges):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "apply:", err)
		os.Exit(1)
	}
}

// run is the program; with -detailed-exitcode it returns errChanges when the plan had
// changes. out takes the plan; with -json, what is not the plan goes to errOut.
func run(ctx context.Context, args []string, out, errOut io.Writer) error {
	fs := flag.NewFlagSet("apply", flag.ContinueOnError)
	fs.SetOutput(errOut)
	file := fs.String("f", "secumon.yaml", "the YAML `file` describing the workspace")
	statePath := fs.String("state", "", "the state `file` (default: beside -f, with the extension .state.json)")
	planOnly := fs.Bool("plan", false, "print the plan without applying it")
	prune := fs.Bool("prune", false, "delete the resources of the state that are not in the file")
	adopt := fs.Bool("adopt", false, "manage resources of the file's names that apply did not create")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	detailed := fs.Bool("detailed-exitcode", false, "exit 2 when the plan has changes, 0 when it has none")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *statePath == "" {
		*statePath = defaultStatePath(*file)
	}
	url, token := os.Getenv("SECUMON_URL"), os.Getenv("SECUMON_TOKEN")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	if token == "" {
		var err error
		if token, err = localtoken.Owner("admin"); err != nil {
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

	workspaces, err := c.Workspaces.List(ctx)
	if err != nil {
		return fmt.Errorf("reading the workspace: %w", err)
	}
	st, err := LoadState(*statePath, workspaces.ActiveWorkspaceId)
	if err != nil {
		return err
	}
	current, err := Read(ctx, c)
	if err != nil {
		return fmt.Errorf("reading the workspace: %w", err)
	}
	plan, err := MakePlan(desired, current, st, Options{Prune: *prune, Adopt: *adopt})
	if err != nil {
		return err
	}
	log := out
	if *asJSON {
		if err := plan.JSON(out); err != nil {
			return err
		}
		log = errOut
	} else {
		plan.Print(out)
	}
	var changed error
	if *detailed && !plan.Empty() {
		changed = errChanges
	}
	switch {
	case plan.Empty() && *planOnly:
		fmt.Fprintf(log, "No changes: the workspace matches %s.\n", *file)
		return nil
	case plan.Empty():
		fmt.Fprintf(log, "No changes: the workspace matches %s.\n", *file)
		return plan.Record(st) // what -adopt took over, for the next runs
	case *planOnly:
		fmt.Fprintln(log, "Nothing applied (-plan).")
		return changed
	}
	if err := plan.Apply(ctx, c, current, st, log); err != nil {
		return err
	}
	fmt.Fprintf(log, "Apply complete: %d created, %d updated, %d replaced, %d deleted.\n",
		plan.Count(Create), plan.Count(Update), plan.Count(Replace), plan.Count(Delete))
	return changed
}
