// Package tagging asks an AI provider for a host's role, OS, environment and vendor and stores
// the answer in the host's tags under the "ai:" prefix. It never overwrites a user's tag: it
// remembers what it wrote (host_ai_tags), replaces only that, and leaves alone any "ai:" key a
// user set or changed. Every call's tokens and cost are recorded in ai_usage.
package tagging

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/facts"
)

// MaxBulk is how many hosts one bulk run tags.
const MaxBulk = 200

// maxTags is the contract's limit on a host's tags (Tags.maxProperties).
const maxTags = 64

// Errors.
var (
	ErrNotFound = errors.New("host not found")
	// ErrBusy: a bulk run of the workspace is already going on.
	ErrBusy = errors.New("AI tagging of this workspace is already running")
)

// ProviderError is a failed provider call; the usage it still cost is recorded.
type ProviderError struct {
	Provider string
	Err      error
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("AI provider %s failed: %v", e.Provider, e.Err)
}
func (e *ProviderError) Unwrap() error { return e.Err }

// Pricer turns a model's usage into US dollars (providers.Set).
type Pricer interface {
	Cost(model string, u ai.Usage) float64
}

// Tagger tags hosts.
type Tagger struct {
	pool   *pgxpool.Pool
	prices Pricer
}

// New returns a tagger over pool.
func New(pool *pgxpool.Pool, prices Pricer) *Tagger { return &Tagger{pool: pool, prices: prices} }

// Result is one tagged host.
type Result struct {
	Host db.Host // with its new tags
	// Found are the provider's suggestions that passed ai.CleanTags, without prefix.
	Found []ai.Tag
	// Confidence is the mean confidence of Found (0 when nothing was found).
	Confidence float64
	CostUSD    float64
}

// AITags are the found tags as key → value.
func (r Result) AITags() map[string]string {
	m := map[string]string{}
	for _, t := range r.Found {
		m[t.Key] = t.Value
	}
	return m
}

// TagHost tags one host of the workspace with p.
func (t *Tagger) TagHost(ctx context.Context, workspaceID, hostID uuid.UUID, p ai.Provider) (Result, error) {
	q := db.New(t.pool)
	h, err := q.GetHost(ctx, db.GetHostParams{WorkspaceID: workspaceID, ID: hostID})
	if errors.Is(err, pgx.ErrNoRows) {
		return Result{}, ErrNotFound
	}
	if err != nil {
		return Result{}, err
	}
	hf, err := facts.Host(ctx, q, h)
	if err != nil {
		return Result{}, err
	}
	// No transaction is open while the provider thinks: a remote call takes seconds.
	suggested, usage, callErr := p.Tag(ctx, hf)
	res := Result{Found: ai.CleanTags(suggested), CostUSD: t.prices.Cost(p.Model(), usage)}
	rec := db.RecordAIUsageParams{
		WorkspaceID: workspaceID, ID: uuid.New(), Purpose: "tag", Provider: p.Name(), Model: p.Model(),
		InputTokens: usage.InputTokens, OutputTokens: usage.OutputTokens, CostUsd: res.CostUSD, HostID: &hostID,
	}
	// The call is paid for whatever happens next: record it first, even if the caller has gone.
	if callErr == nil || usage != (ai.Usage{}) {
		if err := q.RecordAIUsage(context.WithoutCancel(ctx), rec); err != nil {
			return res, err
		}
	}
	if callErr != nil {
		return res, &ProviderError{Provider: p.Name(), Err: callErr}
	}
	for _, f := range res.Found {
		res.Confidence += f.Confidence / float64(len(res.Found))
	}
	res.Confidence = math.Round(res.Confidence*100) / 100
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		h, err := q.LockHostForAITag(ctx, db.LockHostForAITagParams{WorkspaceID: workspaceID, ID: hostID})
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound // deleted while the provider answered
		}
		if err != nil {
			return err
		}
		var prev map[string]string
		switch last, err := q.GetHostAITags(ctx, db.GetHostAITagsParams{WorkspaceID: workspaceID, HostID: hostID}); {
		case err == nil:
			_ = json.Unmarshal(last.Written, &prev)
		case !errors.Is(err, pgx.ErrNoRows):
			return err
		}
		current := map[string]string{}
		_ = json.Unmarshal(h.Tags, &current)
		tags, written := Merge(current, prev, res.Found)
		if !maps.Equal(tags, current) {
			if h, err = q.SetHostTags(ctx, db.SetHostTagsParams{WorkspaceID: workspaceID, ID: hostID, Tags: mustJSON(tags)}); err != nil {
				return err
			}
		}
		res.Host = h
		return q.UpsertHostAITags(ctx, db.UpsertHostAITagsParams{
			WorkspaceID: workspaceID, HostID: hostID, Written: mustJSON(written), Found: mustJSON(res.Found),
			Confidence: res.Confidence, Provider: p.Name(), Model: p.Model(),
		})
	})
	return res, err
}

// Merge returns a host's tags with the found ones under "ai:", and the keys AI wrote. prev is
// what AI wrote last time: those keys, when a user has not changed them since, are AI's to
// replace or drop. Any other key, "ai:" or not, is the user's and stays as it is; so does the
// contract's limit of 64 tags.
func Merge(current, prev map[string]string, found []ai.Tag) (tags, written map[string]string) {
	tags = maps.Clone(current)
	if tags == nil {
		tags = map[string]string{}
	}
	for k, v := range prev {
		if cur, ok := tags[k]; ok && cur == v {
			delete(tags, k)
		}
	}
	written = map[string]string{}
	for _, f := range found {
		k := facts.AIPrefix + f.Key
		if _, taken := tags[k]; taken || len(tags) >= maxTags {
			continue
		}
		tags[k] = f.Value
		written[k] = f.Value
	}
	return tags, written
}

// BulkItem is the outcome for one host of a bulk run: a Result or an error.
type BulkItem struct {
	HostID uuid.UUID
	Result Result
	Err    error
}

// TagAll tags the workspace's hosts (only the active ones with activeOnly) one after the
// other, at most MaxBulk: never-tagged hosts first, then the least recently tagged, so that
// repeated runs cover a larger inventory. One run per workspace at a time (else ErrBusy).
func (t *Tagger) TagAll(ctx context.Context, workspaceID uuid.UUID, activeOnly bool, p ai.Provider) ([]BulkItem, error) {
	// The lock belongs to a database session: hold one connection for the run.
	conn, err := t.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	lq := db.New(conn)
	ok, err := lq.TryLockAITagging(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBusy
	}
	defer lq.UnlockAITagging(context.WithoutCancel(ctx), workspaceID) //nolint:errcheck // the connection returns to the pool; a failed unlock shows in its next use

	hosts, err := db.New(t.pool).AITagCandidates(ctx, db.AITagCandidatesParams{WorkspaceID: workspaceID, ActiveOnly: activeOnly, MaxRows: MaxBulk})
	if err != nil {
		return nil, err
	}
	items := make([]BulkItem, 0, len(hosts))
	for _, h := range hosts {
		if err := ctx.Err(); err != nil {
			return items, err
		}
		res, err := t.TagHost(ctx, workspaceID, h.ID, p)
		var pe *ProviderError
		if err != nil && !errors.Is(err, ErrNotFound) && !errors.As(err, &pe) {
			return items, err // the database, not this host
		}
		items = append(items, BulkItem{HostID: h.ID, Result: res, Err: err})
	}
	return items, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings and plain structs
	}
	return b
}
