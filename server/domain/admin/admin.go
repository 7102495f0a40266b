// Package admin performs the operator-side actions of the secumon command: creating
// workspaces and tokens, revoking tokens, and bootstrapping a fresh installation. They run
// directly against the database, which is what lets them mint the very first token.
package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
)

var slugPattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$`)

// CreateWorkspace adds a workspace; slug must be URL-safe and unique.
func CreateWorkspace(ctx context.Context, q *db.Queries, slug, name string) (db.Workspace, error) {
	if !slugPattern.MatchString(slug) {
		return db.Workspace{}, fmt.Errorf("workspace slug %q: use lower-case letters, digits and dashes", slug)
	}
	if name == "" {
		name = slug
	}
	return q.CreateWorkspace(ctx, db.CreateWorkspaceParams{ID: uuid.New(), Slug: slug, Name: name})
}

// FindWorkspace accepts a workspace slug or id.
func FindWorkspace(ctx context.Context, q *db.Queries, slugOrID string) (db.Workspace, error) {
	ws, err := q.GetWorkspaceBySlugOrID(ctx, slugOrID)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.Workspace{}, fmt.Errorf("no workspace %q", slugOrID)
	}
	return ws, err
}

// IssuedToken is a freshly minted token: Token is shown once and never stored.
type IssuedToken struct {
	Token       string
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	UserID      uuid.UUID
	Role        access.Role
}

// CreateToken mints a token named name with role in workspace. With a nil user a new user
// (named after the token) is created; with a user, that user gets (or keeps) role in
// workspace, which is how one user comes to belong to several workspaces.
func CreateToken(ctx context.Context, pool *pgxpool.Pool, workspace string, role access.Role, name string, user *uuid.UUID) (IssuedToken, error) {
	if name == "" {
		return IssuedToken{}, errors.New("a token needs a name")
	}
	var out IssuedToken
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		ws, err := FindWorkspace(ctx, q, workspace)
		if err != nil {
			return err
		}
		out, err = issue(ctx, q, ws.ID, role, name, user)
		return err
	})
	return out, err
}

func issue(ctx context.Context, q *db.Queries, workspaceID uuid.UUID, role access.Role, name string, user *uuid.UUID) (IssuedToken, error) {
	userID := uuid.New()
	if user != nil {
		userID = *user
	} else if _, err := q.CreateUser(ctx, db.CreateUserParams{ID: userID, Name: name}); err != nil {
		return IssuedToken{}, err
	}
	if err := q.UpsertMembership(ctx, db.UpsertMembershipParams{WorkspaceID: workspaceID, UserID: userID, Role: string(role)}); err != nil {
		return IssuedToken{}, err
	}
	token, hash := access.NewToken()
	row, err := q.CreateAPIToken(ctx, db.CreateAPITokenParams{WorkspaceID: workspaceID, ID: uuid.New(), UserID: userID, Name: name, TokenHash: hash})
	if err != nil {
		return IssuedToken{}, err
	}
	return IssuedToken{Token: token, ID: row.ID, WorkspaceID: workspaceID, UserID: userID, Role: role}, nil
}

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	ID         uuid.UUID
	Name       string
	Role       string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// ListTokens lists a workspace's tokens, revoked ones included.
func ListTokens(ctx context.Context, q *db.Queries, workspace string) ([]TokenInfo, error) {
	ws, err := FindWorkspace(ctx, q, workspace)
	if err != nil {
		return nil, err
	}
	rows, err := q.ListAPITokens(ctx, ws.ID)
	if err != nil {
		return nil, err
	}
	out := make([]TokenInfo, len(rows))
	for i, r := range rows {
		out[i] = TokenInfo{ID: r.ID, Name: r.Name, Role: deref(r.Role), CreatedAt: r.CreatedAt, LastUsedAt: r.LastUsedAt, RevokedAt: r.RevokedAt}
	}
	return out, nil
}

// RevokeToken revokes a token of workspace; running servers stop accepting it within their
// authentication cache time.
func RevokeToken(ctx context.Context, q *db.Queries, workspace string, id uuid.UUID) error {
	ws, err := FindWorkspace(ctx, q, workspace)
	if err != nil {
		return err
	}
	n, err := q.RevokeAPIToken(ctx, db.RevokeAPITokenParams{WorkspaceID: ws.ID, ID: id})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("no active token %s in workspace %s", id, workspace)
	}
	return nil
}

// OwnerTokenFile is where the first start writes the owner token, inside the data directory.
const OwnerTokenFile = "owner.token"

// Bootstrap prepares an empty database: one workspace ("default") and an owner token, written
// to dataDir/owner.token with mode 0600. On a database that has workspaces it does nothing and
// returns "". Concurrent first starts are serialized by an advisory lock.
func Bootstrap(ctx context.Context, pool *pgxpool.Pool, dataDir string) (token string, err error) {
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.LockBootstrap(ctx); err != nil {
			return err
		}
		n, err := q.CountWorkspaces(ctx)
		if err != nil || n > 0 {
			return err
		}
		ws, err := CreateWorkspace(ctx, q, "default", "Default")
		if err != nil {
			return err
		}
		issued, err := issue(ctx, q, ws.ID, access.Owner, "owner", nil)
		if err != nil {
			return err
		}
		token = issued.Token
		return nil
	})
	if err != nil || token == "" {
		return "", err
	}
	if dataDir != "" {
		if err := os.MkdirAll(dataDir, 0o700); err != nil {
			return token, err
		}
		if err := os.WriteFile(filepath.Join(dataDir, OwnerTokenFile), []byte(token+"\n"), 0o600); err != nil {
			return token, err
		}
	}
	return token, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
