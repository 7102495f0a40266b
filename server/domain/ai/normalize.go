package ai

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// MinTagConfidence is the confidence below which a suggested tag is not kept.
const MinTagConfidence = 0.5

// Limits on what a provider's answer may put in SecuMon.
const (
	maxTagValue    = 64
	maxFindingText = 1000
	maxFindings    = 12
)

// CleanTags keeps what a provider may set: known keys (TagKeys), once each (the most confident
// wins), values as short lowercase slugs ("Web Server" → "web-server"), confidences within
// [0, 1] and at least MinTagConfidence. The result is ordered as TagKeys. Remote providers
// answer free text, so nothing they say reaches a host's tags unchecked.
func CleanTags(tags []Tag) []Tag {
	best := map[string]Tag{}
	for _, t := range tags {
		key := strings.ToLower(strings.TrimSpace(t.Key))
		if !slices.Contains(TagKeys, key) {
			continue
		}
		value := slug(t.Value)
		conf := clamp01(t.Confidence)
		if value == "" || value == "unknown" || conf < MinTagConfidence {
			continue
		}
		if prev, ok := best[key]; ok && prev.Confidence >= conf {
			continue
		}
		best[key] = Tag{Key: key, Value: value, Confidence: round2(conf)}
	}
	out := []Tag{}
	for _, k := range TagKeys {
		if t, ok := best[k]; ok {
			out = append(out, t)
		}
	}
	return out
}

// CleanFindings keeps findings of known kinds with some text, trimmed to a readable length,
// at most a dozen, and drops repeats.
func CleanFindings(fs []Finding) []Finding {
	out := []Finding{}
	seen := map[string]bool{}
	for _, f := range fs {
		if f.Kind != FindingCause && f.Kind != FindingRelated && f.Kind != FindingNextStep {
			continue
		}
		text := strings.Join(strings.Fields(f.Text), " ")
		if text == "" || seen[f.Kind+"\x00"+text] {
			continue
		}
		seen[f.Kind+"\x00"+text] = true
		if r := []rune(text); len(r) > maxFindingText {
			text = string(r[:maxFindingText-1]) + "…"
		}
		out = append(out, Finding{Kind: f.Kind, Text: text, Confidence: round2(clamp01(f.Confidence))})
		if len(out) == maxFindings {
			break
		}
	}
	return out
}

// slug lowercases s and keeps letters, digits, '.', '_' and '-', turning runs of anything
// else into one '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_'):
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > maxTagValue {
		out = strings.TrimRight(out[:maxTagValue], "-")
	}
	return out
}

func clamp01(f float64) float64 {
	if math.IsNaN(f) {
		return 0
	}
	return math.Max(0, math.Min(1, f))
}

func round2(f float64) float64 { return math.Round(f*100) / 100 }
