package conditional

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PgLocks is a Locker for several API processes on one database: a session-level advisory
// lock on a dedicated connection, held from the If-Match check to the end of the write. The
// key is the path hashed to 64 bits under a prefix of its own, away from the other advisory
// locks (which use small constants).
type PgLocks struct{ Pool *pgxpool.Pool }

func (l PgLocks) Lock(ctx context.Context, key string) (func(), error) {
	conn, err := l.Pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	const lock = "SELECT pg_advisory_lock(hashtextextended('secumon.if-match:' || $1, 0))"
	if _, err := conn.Exec(ctx, lock, key); err != nil {
		// A cancelled wait may leave the session in doubt: drop the connection.
		_ = conn.Conn().Close(context.WithoutCancel(ctx))
		conn.Release()
		return nil, err
	}
	return func() {
		const unlock = "SELECT pg_advisory_unlock(hashtextextended('secumon.if-match:' || $1, 0))"
		if _, err := conn.Exec(context.WithoutCancel(ctx), unlock, key); err != nil {
			_ = conn.Conn().Close(context.WithoutCancel(ctx))
		}
		conn.Release()
	}, nil
}
