// Package batch gathers items that many goroutines produce into batches for one consumer, so
// that writers to PostgreSQL send few large COPYs rather than many small statements.
package batch

import (
	"context"
	"time"
)

// drainGrace is how long the last batch may take to write once shutdown began.
const drainGrace = 10 * time.Second

// Queue is a bounded queue of items waiting to be flushed in batches.
type Queue[T any] struct {
	in chan T
}

// New returns a queue holding up to capacity items; Add blocks beyond that.
func New[T any](capacity int) *Queue[T] {
	return &Queue[T]{in: make(chan T, capacity)}
}

// Add queues item. It blocks while the queue is full (back-pressure on the producers) and
// fails only when ctx ends first. An item goes in whenever there is room, even after ctx
// ended: shutdown cancels producers while their last items are on the way, and Run drains
// the queue, so only a full queue refuses (a plain select would pick ctx.Done at random).
func (q *Queue[T]) Add(ctx context.Context, item T) error {
	select {
	case q.in <- item:
		return nil
	default:
	}
	select {
	case q.in <- item:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Len is how many items wait.
func (q *Queue[T]) Len() int { return len(q.in) }

// Run hands batches to flush until ctx ends: a batch goes when it reaches size items or
// every after its first item, whichever comes first. Then it flushes what is still queued,
// with a context of its own that allows a short grace period. flush must not keep the slice.
func (q *Queue[T]) Run(ctx context.Context, size int, every time.Duration, flush func(ctx context.Context, batch []T)) {
	batch := make([]T, 0, size)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case item := <-q.in:
			if len(batch) == 0 {
				timer.Reset(every)
			}
			batch = append(batch, item)
			if len(batch) >= size {
				timer.Stop()
				flush(ctx, batch)
				batch = batch[:0]
			}
		case <-timer.C:
			flush(ctx, batch)
			batch = batch[:0]
		case <-ctx.Done():
			q.drain(batch, flush)
			return
		}
	}
}

// drain flushes the last items after shutdown began, within drainGrace.
func (q *Queue[T]) drain(batch []T, flush func(ctx context.Context, batch []T)) {
	ctx, cancel := context.WithTimeout(context.Background(), drainGrace)
	defer cancel()
	for {
		select {
		case item := <-q.in:
			batch = append(batch, item)
			continue
		default:
		}
		break
	}
	flush(ctx, batch)
}
