// Command incident-bot follows the live event stream of a workspace (GET /events, read with
// the SDK's server-sent events reader, which reconnects by itself) and acknowledges every
// open critical incident nobody has acknowledged yet, logging what it does. Each event says
// that something changed; the bot then lists the open critical incidents and acknowledges
// those still under investigation. It stops on SIGINT.
//
//	SECUMON_URL=http://127.0.0.1:8080 SECUMON_TOKEN=smn_… go run ./examples/incident-bot
//
// Flags:
//
//	-once          handle the incidents open now (the stream's first event) and exit
//	-timeout 10m   stop after this long (0: run until interrupted)
//
// The token needs the operator role; without SECUMON_TOKEN the bot uses the owner token
// `make run` wrote in .secumon/owner.token (run it from the repository's root).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"

	"github.com/secuaas/secumon/examples/internal/localtoken"

	"github.com/secuaas/secumon/client"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	logger := log.New(os.Stdout, "incident-bot: ", log.LstdFlags)
	if err := run(ctx, os.Args[1:], logger); err != nil {
		logger.Print(err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, logger *log.Logger) error {
	fs := flag.NewFlagSet("incident-bot", flag.ContinueOnError)
	once := fs.Bool("once", false, "acknowledge the incidents open now and exit")
	timeout := fs.Duration("timeout", 0, "stop after this `duration` (0: until interrupted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	url, token := os.Getenv("SECUMON_URL"), os.Getenv("SECUMON_TOKEN")
	if url == "" {
		url = "http://127.0.0.1:8080"
	}
	if token == "" {
		var err error
		if token, err = localtoken.Owner("operator"); err != nil {
			return err
		}
	}
	c, err := client.New(url, client.WithToken(token), client.WithUserAgent("secumon-incident-bot/"+client.Version))
	if err != nil {
		return err
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}

	logger.Printf("following the events of %s", c.BaseURL())
	for ev, err := range c.Events.Stream(ctx) {
		if err != nil {
			if ctx.Err() != nil {
				break // interrupted or timed out: a normal end
			}
			return fmt.Errorf("event stream: %w", err)
		}
		var summary client.DashboardSummary
		if err := ev.Decode(&summary); err != nil {
			logger.Printf("skipping a %q event: %v", ev.Type, err)
			continue
		}
		logger.Printf("event %s: %d open incidents", ev.ID, summary.IncidentsOpen)
		if err := acknowledgeCritical(ctx, c, logger); err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		if *once {
			break
		}
	}
	logger.Print("stopped")
	return nil
}

// acknowledgeCritical acknowledges the open critical incidents still under investigation.
func acknowledgeCritical(ctx context.Context, c *client.Client, logger *log.Logger) error {
	// Open incidents nobody has acknowledged are those under investigation.
	status, critical := client.ListIncidentsParamsStatusInvestigating, client.SeverityCritical
	for inc, err := range c.Incidents.All(ctx, &client.ListIncidentsParams{Status: &status, Severity: &critical}) {
		if err != nil {
			return fmt.Errorf("listing the critical incidents: %w", err)
		}
		switch _, err := c.Incidents.Acknowledge(ctx, inc.Id); {
		case client.IsConflict(err):
			// Someone acknowledged or resolved it between the list and now.
			logger.Printf("incident %s %q changed meanwhile: left as it is", inc.Id, inc.Title)
		case err != nil:
			return fmt.Errorf("acknowledging incident %s: %w", inc.Id, err)
		default:
			logger.Printf("acknowledged critical incident %s %q", inc.Id, inc.Title)
		}
	}
	return nil
}
