package database

import (
	"context"
	"log/slog"
	"time"
)

// The wait between attempts of Retry, doubled after each failure up to retryMax: the
// embedded PostgreSQL's supervisor restarts a killed server within a few seconds, and an
// external one restarted by hand may take longer.
const (
	retryFirst = 200 * time.Millisecond
	retryMax   = 5 * time.Second
)

// Retry calls start until it succeeds, retrying with backoff (and a log line each time) as
// long as it fails because the database is unavailable (IsUnavailable), so that a part
// starting while PostgreSQL restarts waits for it instead of ending the process. Any other
// error is returned at once: it will not go away by waiting. When ctx ends first, Retry
// returns ctx's error.
func Retry(ctx context.Context, log *slog.Logger, what string, start func(context.Context) error) error {
	wait := retryFirst
	for {
		err := start(ctx)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !IsUnavailable(err):
			return err
		}
		log.Warn(what+": database unavailable; retrying", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, retryMax)
	}
}
