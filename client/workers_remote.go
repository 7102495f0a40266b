package client

import (
	"context"
)

// WorkerTokensService manages the workspace's worker tokens: the credentials of remote
// workers (`secumon worker --server URL --token wrk_…`). Admins only.
type WorkerTokensService service

// Create makes a worker token, pinned to token.Location when set; its Token is shown in this
// answer only.
func (s *WorkerTokensService) Create(ctx context.Context, token WorkerTokenCreate, editors ...RequestEditorFn) (*WorkerToken, error) {
	return decode[WorkerToken](s.c.raw.CreateWorkerToken(ctx, &CreateWorkerTokenParams{IdempotencyKey: newKey()}, token, editors...))
}

// List returns the workspace's worker tokens, revoked ones included.
func (s *WorkerTokensService) List(ctx context.Context, editors ...RequestEditorFn) (*WorkerTokenList, error) {
	return decode[WorkerTokenList](s.c.raw.ListWorkerTokens(ctx, nil, editors...))
}

// Revoke stops a worker token from working.
func (s *WorkerTokensService) Revoke(ctx context.Context, id Id, editors ...RequestEditorFn) error {
	return noContent(s.c.raw.RevokeWorkerToken(ctx, id, editors...))
}

// WorkerProtocolService is what a remote worker calls with its worker token (a client made
// WithToken("wrk_…")): heartbeats, claims and result batches.
type WorkerProtocolService service

// Heartbeat registers the worker, or refreshes its registration.
func (s *WorkerProtocolService) Heartbeat(ctx context.Context, hello WorkerHello, editors ...RequestEditorFn) (*WorkerHeartbeatAck, error) {
	return decode[WorkerHeartbeatAck](s.c.raw.WorkerHeartbeat(ctx, hello, editors...))
}

// Claim leases due checks to the worker.
func (s *WorkerProtocolService) Claim(ctx context.Context, req WorkerClaimRequest, editors ...RequestEditorFn) (*WorkerClaims, error) {
	return decode[WorkerClaims](s.c.raw.ClaimWorkerChecks(ctx, req, editors...))
}

// SendResults sends a batch of results under key, its Idempotency-Key: the same key must be
// used when the same batch is sent again, so that the server stores it once.
func (s *WorkerProtocolService) SendResults(ctx context.Context, key string, batch WorkerResultBatch, editors ...RequestEditorFn) (*WorkerResultsAccepted, error) {
	return decode[WorkerResultsAccepted](s.c.raw.PostWorkerResults(ctx, &PostWorkerResultsParams{IdempotencyKey: &key}, batch, editors...))
}
