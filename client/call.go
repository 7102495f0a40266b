package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/google/uuid"
)

// IdempotencyKeyHeader is the header that makes a POST safe to repeat: the server replays the
// first answer to a request with the same key and body instead of acting twice.
const IdempotencyKeyHeader = "Idempotency-Key"

// WithIdempotencyKey sets the request's Idempotency-Key, replacing the random one the
// services give every POST. Use it to make a create safe to repeat across runs of a program
// (a key derived from what is created), not only across the retries of one call.
func WithIdempotencyKey(key string) RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set(IdempotencyKeyHeader, key)
		return nil
	}
}

// WithIfMatch makes a PUT, PATCH or DELETE conditional on the resource still having etag
// (the ETag header of the GET or PUT answer that the caller's copy came from): when it has
// changed since, the server refuses the write with 412 (ErrPreconditionFailed) instead of
// overwriting someone else's change.
func WithIfMatch(etag string) RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("If-Match", etag)
		return nil
	}
}

// newKey is a fresh Idempotency-Key for one call; its retries send the same one.
func newKey() *IdempotencyKey {
	k := uuid.NewString()
	return &k
}

// decode reads a 2xx answer into a T, or turns any other answer into an *APIError.
func decode[T any](resp *http.Response, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, errorFrom(resp)
	}
	v := new(T)
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return nil, fmt.Errorf("secumon: decoding the %d answer of %s %s: %w", resp.StatusCode, resp.Request.Method, resp.Request.URL.Path, err)
	}
	return v, nil
}

// decodeSlice is decode for the operations that answer a bare array.
func decodeSlice[T any](resp *http.Response, err error) ([]T, error) {
	v, err := decode[[]T](resp, err)
	if err != nil {
		return nil, err
	}
	return *v, nil
}

// noContent checks a 2xx answer without a body (204).
func noContent(resp *http.Response, err error) error {
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return errorFrom(resp)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return nil
}
