package syslog

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/secuaas/secumon/server/platform/database"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/platform/batch"
)

// writer batches rows from every connection into few COPYs: a batch is written when it
// reaches batchSize or flushEvery after its first row, whichever comes first.
type writer struct {
	pool       *pgxpool.Pool
	log        *slog.Logger
	queue      *batch.Queue[db.CopyHostLogsParams]
	batchSize  int
	flushEvery time.Duration
	stats      *counters
}

// add queues rows; it blocks while the queue is full (back-pressure on TCP senders; UDP
// datagrams wait in the socket buffer). A row goes in whenever the queue has room, even
// after ctx ended (the writer drains the queue after the readers stop); rows a full queue
// cannot take once ctx ended are counted as lost.
func (w *writer) add(ctx context.Context, rows []db.CopyHostLogsParams) error {
	for i, r := range rows {
		if err := w.queue.Add(ctx, r); err != nil {
			w.stats.lost.Add(uint64(len(rows) - i))
			return err
		}
	}
	return nil
}

// run writes batches until ctx ends, then what is still queued. It also keeps the daily
// partitions ahead of time, hourly, so that the receiver works without a probe worker.
func (w *writer) run(ctx context.Context) {
	partitionsDone := make(chan struct{})
	go func() {
		defer close(partitionsDone)
		tick := time.NewTicker(time.Hour)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				w.ensurePartitions(ctx)
			}
		}
	}()
	w.queue.Run(ctx, w.batchSize, w.flushEvery, w.write)
	<-partitionsDone
}

// write stores one batch, retrying with backoff while the database is unreachable. A batch
// the database refuses for its content is dropped (retrying cannot help, and would stall
// every sender), except a row with no partition yet, which creates the partitions first.
func (w *writer) write(ctx context.Context, batch []db.CopyHostLogsParams) {
	if len(batch) == 0 {
		return
	}
	backoff := 100 * time.Millisecond
	ensured := false
	for {
		_, err := db.New(w.pool).CopyHostLogs(ctx, batch)
		if err == nil {
			w.stats.stored.Add(uint64(len(batch)))
			return
		}
		switch {
		case ctx.Err() != nil:
			w.log.Error("syslog: entries lost at shutdown", "rows", len(batch), "err", err)
			w.stats.lost.Add(uint64(len(batch)))
			return
		case missingPartition(err) && !ensured:
			w.ensurePartitions(ctx)
			ensured = true
		case refused(err): // a missing partition again: the rows are older than yesterday
			w.log.Error("syslog: the database refused a batch of entries; dropped", "rows", len(batch), "err", err)
			w.stats.lost.Add(uint64(len(batch)))
			return
		default:
			w.log.Warn("syslog: writing entries failed; retrying", "rows", len(batch), "err", err, "in", backoff)
		}
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

func (w *writer) ensurePartitions(ctx context.Context) {
	if err := database.EnsurePartitions(ctx, w.pool, time.Now()); err != nil && ctx.Err() == nil {
		w.log.Warn("syslog: creating log partitions", "err", err)
	}
}

// missingPartition is PostgreSQL's "no partition of relation … found for row".
func missingPartition(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514" && strings.Contains(pgErr.Message, "no partition")
}

// refused is an error about the data itself (classes 22 data exception, 23 integrity).
func refused(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23"))
}
