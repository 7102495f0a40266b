package server_test

import (
	"context"
	"testing"

	"github.com/secuaas/secumon/server/domain/access"

	"github.com/google/uuid"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/admin"
	"github.com/secuaas/secumon/server/testkit/dbtest"
	"github.com/secuaas/secumon/server/testkit/servertest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func dbCountHosts(env *servertest.Env) db.CountHostsParams {
	return db.CountHostsParams{WorkspaceID: env.Workspace}
}

func adminTokenForUser(env *servertest.Env, workspace string, role access.Role, user uuid.UUID) (admin.IssuedToken, error) {
	return admin.CreateToken(context.Background(), env.Pool, workspace, role, "second-membership", &user)
}
