package checkconfig

import (
	"net/url"
	"strings"

	"github.com/secuaas/secumon/probes"
)

// MaskURL hides the credentials of a URL: the user-info password and the query values
// (probes.MaskURL, the one rule, also applied to the output of HTTP check runs).
func MaskURL(raw string) string { return probes.MaskURL(raw) }

// MaskSlackURL hides a Slack incoming-webhook URL, which is a secret as a whole: only the
// scheme, the host and the first path segment stay, e.g.
// https://hooks.slack.com/services/********.
func MaskSlackURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Mask
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(u.EscapedPath(), "/"), "/")
	if first != "" {
		first += "/"
	}
	return u.Scheme + "://" + u.Host + "/" + first + Mask
}

// MaskPathURL hides the whole path of a URL whose path is a secret, like an ntfy topic:
// only the scheme and the host stay, e.g. https://ntfy.sh/********.
func MaskPathURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return Mask
	}
	return u.Scheme + "://" + u.Host + "/" + Mask
}

// KeepMaskedURLs lets a client send back URLs it read masked: each sent value that contains
// Mask and equals the mask of a stored value takes that stored value (the one at the same
// position first, else the first one not taken yet), so a read-modify-write keeps the
// stored secrets. mask is MaskURL, MaskSlackURL or MaskPathURL.
func KeepMaskedURLs(sent, stored []string, mask func(string) string) []string {
	out := make([]string, len(sent))
	used := make([]bool, len(stored))
	take := func(i int, v string) bool {
		if i < len(stored) && !used[i] && stored[i] != v && mask(stored[i]) == v {
			used[i] = true
			return true
		}
		return false
	}
	for i, v := range sent {
		out[i] = v
		if !strings.Contains(v, Mask) {
			continue
		}
		if take(i, v) {
			out[i] = stored[i]
			continue
		}
		for j := range stored {
			if take(j, v) {
				out[i] = stored[j]
				break
			}
		}
	}
	return out
}
