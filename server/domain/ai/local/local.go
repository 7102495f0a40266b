// Package local is SecuMon's default AI provider: deterministic heuristics over what SecuMon
// knows (host names, check types and ports, SNMP sysDescr, failing checks, storms). It needs
// no network and costs nothing, so tagging and incident analysis work offline; its answers
// are the same for the same facts.
package local

import (
	"context"

	"github.com/secuaas/secumon/server/domain/ai"
)

// Provider is the local provider. The zero value is ready to use.
type Provider struct{}

var _ ai.Provider = Provider{}

// New returns the local provider.
func New() Provider { return Provider{} }

// Name is "local".
func (Provider) Name() string { return ai.Local }

// Model is ai.LocalModel, priced at zero.
func (Provider) Model() string { return ai.LocalModel }

// Tag suggests role, os, environment and vendor tags; see tag.go.
func (Provider) Tag(ctx context.Context, h ai.HostFacts) ([]ai.Tag, ai.Usage, error) {
	if err := ctx.Err(); err != nil {
		return nil, ai.Usage{}, err
	}
	return tagHost(h), ai.Usage{}, nil
}

// Analyze suggests a probable cause, related failures and next steps; see analyze.go.
func (Provider) Analyze(ctx context.Context, ic ai.IncidentContext) ([]ai.Finding, ai.Usage, error) {
	if err := ctx.Err(); err != nil {
		return nil, ai.Usage{}, err
	}
	return analyze(ic), ai.Usage{}, nil
}
