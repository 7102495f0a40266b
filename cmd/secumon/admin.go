package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/domain/remoteworkers"
)

// withDatabase parses the flags, opens the database like serve does and runs fn with it.
func withDatabase(ctx context.Context, fs *flag.FlagSet, c *config, args []string, fn func(*adminEnv) error) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	if _, err := c.startTracing(ctx, log); err != nil {
		return err
	}
	pool, _, closeDB, err := openDatabase(ctx, c, log, false)
	if err != nil {
		return err
	}
	defer closeDB()
	return fn(&adminEnv{ctx: ctx, q: db.New(pool), pool: pool})
}

type adminEnv struct {
	ctx  context.Context
	q    *db.Queries
	pool *pgxpool.Pool
}

func migrateCmd(ctx context.Context, args []string) error {
	var c config
	return withDatabase(ctx, newFlagSet("migrate", &c), &c, args, func(*adminEnv) error {
		fmt.Println("migrations applied")
		return nil
	})
}

func tokenCreate(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("token create", &c)
	workspace := fs.String("workspace", "default", "workspace slug or id")
	roleName := fs.String("role", "viewer", "owner, admin, operator or viewer")
	name := fs.String("name", "", "what the token is for (required)")
	user := fs.String("user", "", "give this existing user id the role instead of creating a user")
	return withDatabase(ctx, fs, &c, args, func(e *adminEnv) error {
		role, err := access.ParseRole(*roleName)
		if err != nil {
			return err
		}
		var userID *uuid.UUID
		if *user != "" {
			id, err := uuid.Parse(*user)
			if err != nil {
				return fmt.Errorf("--user: %w", err)
			}
			userID = &id
		}
		issued, err := admin.CreateToken(e.ctx, e.pool, *workspace, role, *name, userID)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "token %s (%s in workspace %s, user %s); it is shown only once:\n", issued.ID, issued.Role, issued.WorkspaceID, issued.UserID)
		fmt.Println(issued.Token)
		return nil
	})
}

// tokenWorker makes a worker token: for one workspace (--workspace), or installation-wide
// (--shared: shared workers that serve every workspace), which only the operator can make;
// either may be pinned to one location (--location).
func tokenWorker(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("token worker", &c)
	workspace := fs.String("workspace", "", "workspace slug or id the token serves")
	shared := fs.Bool("shared", false, "an installation-wide token: its workers serve every workspace")
	name := fs.String("name", "", "what the token is for (required)")
	location := fs.String("location", "", "pin the token to this location: its workers probe from there only")
	return withDatabase(ctx, fs, &c, args, func(e *adminEnv) error {
		if *shared == (*workspace != "") {
			return fmt.Errorf("give either --shared or --workspace")
		}
		var ws *uuid.UUID
		if *workspace != "" {
			w, err := admin.FindWorkspace(e.ctx, e.q, *workspace)
			if err != nil {
				return err
			}
			ws = &w.ID
		}
		issued, err := remoteworkers.CreateToken(e.ctx, e.q, ws, *name, *location)
		if err != nil {
			return err
		}
		scope := "every workspace"
		if ws != nil {
			scope = "workspace " + ws.String()
		}
		if issued.Location != "" {
			scope += ", location " + strconv.Quote(issued.Location)
		}
		fmt.Fprintf(os.Stderr, "worker token %s (%s); it is shown only once:\n", issued.ID, scope)
		fmt.Println(issued.Token)
		return nil
	})
}

func tokenList(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("token list", &c)
	workspace := fs.String("workspace", "default", "workspace slug or id")
	return withDatabase(ctx, fs, &c, args, func(e *adminEnv) error {
		tokens, err := admin.ListTokens(e.ctx, e.q, *workspace)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tLAST USED\tREVOKED")
		for _, t := range tokens {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role, stamp(&t.CreatedAt), stamp(t.LastUsedAt), stamp(t.RevokedAt))
		}
		return tw.Flush()
	})
}

func tokenRevoke(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("token revoke", &c)
	workspace := fs.String("workspace", "default", "workspace slug or id")
	return withDatabase(ctx, fs, &c, args, func(e *adminEnv) error {
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: secumon token revoke [--workspace W] <token id>")
		}
		id, err := uuid.Parse(fs.Arg(0))
		if err != nil {
			return err
		}
		if err := admin.RevokeToken(e.ctx, e.q, *workspace, id); err != nil {
			return err
		}
		fmt.Println("revoked", id)
		return nil
	})
}

func workspaceCreate(ctx context.Context, args []string) error {
	var c config
	fs := newFlagSet("workspace create", &c)
	slug := fs.String("slug", "", "URL-safe identifier (required)")
	name := fs.String("name", "", "display name (default: the slug)")
	return withDatabase(ctx, fs, &c, args, func(e *adminEnv) error {
		ws, err := admin.CreateWorkspace(e.ctx, e.q, *slug, *name)
		if err != nil {
			return err
		}
		fmt.Println(ws.ID, ws.Slug)
		return nil
	})
}

func workspaceList(ctx context.Context, args []string) error {
	var c config
	return withDatabase(ctx, newFlagSet("workspace list", &c), &c, args, func(e *adminEnv) error {
		rows, err := e.q.ListWorkspaces(e.ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSLUG\tNAME\tCREATED")
		for _, w := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", w.ID, w.Slug, w.Name, stamp(&w.CreatedAt))
		}
		return tw.Flush()
	})
}

func stamp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
