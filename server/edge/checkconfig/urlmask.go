package checkconfig

import (
	"net/url"
	"strings"
)

// MaskURL hides the credentials a URL may carry: the password of its user info and the
// values of its query string become Mask (a query part without "=" is masked whole). The
// scheme, host, path and fragment stay readable. A URL that does not parse is masked whole.
// It is the one rule for URLs stored as secrets: HTTP check URLs and webhook URLs.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return Mask
	}
	if u.User == nil && u.RawQuery == "" {
		return raw
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.User != nil {
		b.WriteString(url.User(u.User.Username()).String())
		if _, ok := u.User.Password(); ok {
			b.WriteString(":" + Mask)
		}
		b.WriteString("@")
	}
	b.WriteString(u.Host)
	b.WriteString(u.EscapedPath())
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, part := range parts {
			if key, _, ok := strings.Cut(part, "="); ok {
				parts[i] = key + "=" + Mask
			} else if part != "" {
				parts[i] = Mask
			}
		}
		b.WriteString("?" + strings.Join(parts, "&"))
	}
	if u.Fragment != "" {
		b.WriteString("#" + u.EscapedFragment())
	}
	return b.String()
}

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

// KeepMaskedURLs lets a client send back URLs it read masked: each sent value that contains
// Mask and equals the mask of a stored value takes that stored value (the one at the same
// position first, else the first one not taken yet), so a read-modify-write keeps the
// stored secrets. mask is MaskURL or MaskSlackURL.
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
