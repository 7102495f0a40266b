package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strings"

	"github.com/secuaas/secumon/gen/api"
	"github.com/secuaas/secumon/gen/db"
	"github.com/secuaas/secumon/server/domain/ai"
	"github.com/secuaas/secumon/server/domain/ai/analysis"
	"github.com/secuaas/secumon/server/domain/ai/providers"
	"github.com/secuaas/secumon/server/domain/ai/tagging"
	"github.com/secuaas/secumon/server/edge/problem"
)

// aiOps is what the AI operations use.
type aiOps struct {
	providers *providers.Set
	tagger    *tagging.Tagger
	sessions  *analysis.Sessions
}

// aiProvider returns the provider called name ("" for the default), or the 503 naming the
// setting it lacks.
func (a *API) aiProvider(name string) (ai.Provider, error) {
	if err := a.aiConfigured(); err != nil {
		return nil, err
	}
	p, err := a.ai.providers.Get(name)
	return p, aiError(err)
}

func (a *API) aiConfigured() error {
	if a.ai == nil {
		return problem.New(http.StatusServiceUnavailable, "AI is not configured on this server")
	}
	return nil
}

// aiError maps the AI packages' errors to problems.
func aiError(err error) error {
	var unavailable *ai.UnavailableError
	var failed *tagging.ProviderError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unavailable):
		// Retrying does not help until the setting is set: no Retry-After.
		return problem.New(http.StatusServiceUnavailable, unavailable.Error())
	case errors.As(err, &failed):
		return problem.Unavailable(failed.Error())
	case errors.Is(err, tagging.ErrNotFound):
		return problem.NotFound("host")
	case errors.Is(err, analysis.ErrNotFound):
		return problem.NotFound("incident")
	case errors.Is(err, analysis.ErrNoSession):
		return problem.New(http.StatusNotFound, err.Error())
	case errors.Is(err, tagging.ErrBusy), errors.Is(err, analysis.ErrActive), errors.Is(err, analysis.ErrNotActive),
		errors.Is(err, analysis.ErrNotCritical), errors.Is(err, analysis.ErrResolved):
		return problem.Conflict("%s", err.Error())
	}
	return err
}

func (a *API) AiTagHost(ctx context.Context, req api.AiTagHostRequestObject) (api.AiTagHostResponseObject, error) {
	ws := caller(ctx).WorkspaceID
	// An unknown host is 404 whatever the provider setup.
	if _, err := a.q.GetHost(ctx, db.GetHostParams{WorkspaceID: ws, ID: req.Id}); err != nil {
		return nil, notFoundAs(err, "host")
	}
	p, err := a.aiProvider("")
	if err != nil {
		return nil, err
	}
	res, err := a.ai.tagger.TagHost(ctx, ws, req.Id, p)
	if err != nil {
		return nil, aiError(err)
	}
	name := p.Name()
	return api.AiTagHost200JSONResponse{
		Host: api.HostRef{Id: res.Host.ID, Name: res.Host.Name}, AiTags: res.AITags(), Confidence: res.Confidence,
		CostUsd: res.CostUSD, Provider: &name, Tags: decodeTags(res.Host.Tags),
	}, nil
}

func (a *API) AiTagHosts(ctx context.Context, req api.AiTagHostsRequestObject) (api.AiTagHostsResponseObject, error) {
	var provider string
	activeOnly := false
	if b := req.Body; b != nil {
		if b.Provider != nil {
			provider = string(*b.Provider)
		}
		activeOnly = derefOr(b.ActiveOnly, false)
	}
	p, err := a.aiProvider(provider)
	if err != nil {
		return nil, err
	}
	items, err := a.ai.tagger.TagAll(ctx, caller(ctx).WorkspaceID, activeOnly, p)
	if err != nil {
		return nil, aiError(err)
	}
	out := api.AiTagHosts200JSONResponse{Results: make([]api.AiTagItem, len(items))}
	var cost float64
	for i, it := range items {
		cost += it.Result.CostUSD
		item := api.AiTagItem{HostId: it.HostID, Status: api.AiTagItemStatusOk}
		if it.Err != nil {
			out.Failed++
			msg := it.Err.Error()
			item.Status, item.Error = api.AiTagItemStatusError, &msg
		} else {
			out.Tagged++
			tags, conf := api.Tags(it.Result.AITags()), it.Result.Confidence
			item.AiTags, item.Confidence = &tags, &conf
		}
		out.Results[i] = item
	}
	cost = math.Round(cost*1e8) / 1e8
	out.CostUsd = &cost
	return out, nil
}

func (a *API) StartIncidentAiMode(ctx context.Context, req api.StartIncidentAiModeRequestObject) (api.StartIncidentAiModeResponseObject, error) {
	if err := a.aiConfigured(); err != nil {
		return nil, err
	}
	who, b := caller(ctx), req.Body
	st := analysis.Start{Provider: string(b.Provider), Justification: strings.TrimSpace(b.Justification), Actor: who.TokenName}
	if st.Justification == "" {
		return nil, problem.Invalid(problem.FieldError{Field: "justification", Message: "must not be empty"})
	}
	// PostgreSQL text refuses NUL: refuse it here rather than fail the insert with a 500.
	if strings.ContainsRune(st.Justification, 0) {
		return nil, problem.Invalid(problem.FieldError{Field: "justification", Message: "must not contain NUL characters"})
	}
	if b.BudgetUsd != nil {
		st.BudgetUSD = *b.BudgetUsd
		if !(st.BudgetUSD > 0 && st.BudgetUSD <= analysis.MaxBudgetUSD) {
			return nil, problem.Invalid(problem.FieldError{Field: "budget_usd", Message: "must be more than 0 and at most 200"})
		}
	}
	if b.Operator != nil {
		st.Operator = strings.TrimSpace(*b.Operator)
		if strings.ContainsRune(st.Operator, 0) {
			return nil, problem.Invalid(problem.FieldError{Field: "operator", Message: "must not contain NUL characters"})
		}
	}
	sess, err := a.ai.sessions.Start(ctx, who.WorkspaceID, req.Id, st)
	if err != nil {
		return nil, aiError(err)
	}
	return api.StartIncidentAiMode200JSONResponse{
		IncidentId: sess.IncidentID, Provider: sess.Provider, BudgetUsd: sess.BudgetUsd, StartedAt: sess.StartedAt.UTC(),
		Active: sess.Status == analysis.StatusActive, Operator: optional(sess.Operator),
	}, nil
}

func (a *API) StopIncidentAiMode(ctx context.Context, req api.StopIncidentAiModeRequestObject) (api.StopIncidentAiModeResponseObject, error) {
	if err := a.aiConfigured(); err != nil {
		return nil, err
	}
	who := caller(ctx)
	sess, err := a.ai.sessions.Stop(ctx, who.WorkspaceID, req.Id, who.TokenName)
	if err != nil {
		return nil, aiError(err)
	}
	return api.StopIncidentAiMode200JSONResponse{IncidentId: sess.IncidentID, TotalUsd: sess.SpentUsd, Status: api.AiModeEndedStatusEnded}, nil
}

func (a *API) GetIncidentAiCost(ctx context.Context, req api.GetIncidentAiCostRequestObject) (api.GetIncidentAiCostResponseObject, error) {
	if err := a.aiConfigured(); err != nil {
		return nil, err
	}
	sess, err := a.ai.sessions.Latest(ctx, caller(ctx).WorkspaceID, req.Id)
	if err != nil {
		return nil, aiError(err)
	}
	calls, in, out := int(sess.Calls), int(sess.InputTokens), int(sess.OutputTokens)
	return api.GetIncidentAiCost200JSONResponse{Body: api.AiCost{
		IncidentId: sess.IncidentID, SpentUsd: sess.SpentUsd, BudgetUsd: sess.BudgetUsd, Active: sess.Status == analysis.StatusActive,
		StartedAt: sess.StartedAt.UTC(), EndedAt: utc(sess.EndedAt), Provider: &sess.Provider, Calls: &calls, InputTokens: &in, OutputTokens: &out,
	}}, nil
}
