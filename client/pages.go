package client

import (
	"errors"
	"iter"
)

// errCursorLoop stops an iteration whose server keeps sending the same cursor.
var errCursorLoop = errors.New("secumon: the server sent the same next_cursor twice")

// pages iterates over the items of a keyset-paginated list from the page at start (nil for
// the first): fetch gets the page at cursor and returns its items and its next_cursor. Iteration stops at the first
// error, which is yielded with a zero item, or when the caller breaks out of the loop.
func pages[T any](start *string, fetch func(cursor *string) ([]T, *string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := start
		for {
			items, next, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, item := range items {
				if !yield(item, nil) {
					return
				}
			}
			if next == nil || *next == "" {
				return
			}
			if cursor != nil && *next == *cursor {
				var zero T
				yield(zero, errCursorLoop)
				return
			}
			cursor = next
		}
	}
}
