package ai

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Price is what a model costs, in US dollars per million tokens.
type Price struct {
	Input  float64
	Output float64
}

// Prices maps model names, or prefixes of model names, to their price. A model is priced by
// its longest listed prefix, so "claude-sonnet-4-5" covers "claude-sonnet-4-5-20250929".
type Prices map[string]Price

// LocalModel is the "model" of the local provider, which costs nothing.
const LocalModel = "heuristics"

// DefaultPrices are list prices (USD per million tokens) of common models. A newer version of a
// family falls back to the family's price through its prefix; SECUMON_AI_PRICES adds or
// overrides entries.
var DefaultPrices = Prices{
	LocalModel: {0, 0},

	"claude-opus-4":     {15, 75},
	"claude-opus-4-5":   {5, 25},
	"claude-opus-4-6":   {5, 25},
	"claude-sonnet-4":   {3, 15},
	"claude-haiku-4-5":  {1, 5},
	"claude-3-7-sonnet": {3, 15},
	"claude-3-5-haiku":  {0.8, 4},
	"claude-3-haiku":    {0.25, 1.25},

	"gpt-5":        {1.25, 10},
	"gpt-5-mini":   {0.25, 2},
	"gpt-5-nano":   {0.05, 0.4},
	"gpt-4.1":      {2, 8},
	"gpt-4.1-mini": {0.4, 1.6},
	"gpt-4.1-nano": {0.1, 0.4},
	"gpt-4o":       {2.5, 10},
	"gpt-4o-mini":  {0.15, 0.6},
	"o4-mini":      {1.1, 4.4},
}

// Lookup returns the price of model by its longest listed prefix.
func (p Prices) Lookup(model string) (Price, bool) {
	best, found := "", false
	for name := range p {
		if strings.HasPrefix(model, name) && (!found || len(name) > len(best)) {
			best, found = name, true
		}
	}
	return p[best], found
}

// Cost is what usage of model costs in US dollars (0 for an unlisted model: Config.Validate
// refuses configurations that would use one). It keeps 8 decimals, well below a cent.
func (p Prices) Cost(model string, u Usage) float64 {
	price, _ := p.Lookup(model)
	usd := (float64(u.InputTokens)*price.Input + float64(u.OutputTokens)*price.Output) / 1e6
	return math.Round(usd*1e8) / 1e8
}

// ParsePrices reads "model=input/output,model=input/output" (USD per million tokens) on top of
// base, which it does not modify.
func ParsePrices(base Prices, s string) (Prices, error) {
	out := Prices{}
	for k, v := range base {
		out[k] = v
	}
	for _, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		model, pair, ok := strings.Cut(entry, "=")
		in, outp, ok2 := strings.Cut(pair, "/")
		if !ok || !ok2 || strings.TrimSpace(model) == "" {
			return nil, fmt.Errorf("price %q: want model=input/output (USD per million tokens)", entry)
		}
		pin, err1 := strconv.ParseFloat(strings.TrimSpace(in), 64)
		pout, err2 := strconv.ParseFloat(strings.TrimSpace(outp), 64)
		if err1 != nil || err2 != nil || pin < 0 || pout < 0 || math.IsInf(pin+pout, 0) {
			return nil, fmt.Errorf("price %q: prices must be non-negative numbers", entry)
		}
		out[strings.TrimSpace(model)] = Price{Input: pin, Output: pout}
	}
	return out, nil
}
