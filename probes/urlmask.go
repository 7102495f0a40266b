package probes

import (
	"net/url"
	"strings"
)

// Mask stands in for a secret wherever one is shown: in API answers (checkconfig.Mask) and
// in the credentials of URLs (MaskURL).
const Mask = "********"

// MaskURL hides the credentials a URL may carry: the password of its user info and the
// values of its query string become Mask (a query part without "=" is masked whole). The
// scheme, host, path and fragment stay readable. A URL that does not parse is masked whole.
// It is the one rule for URLs holding secrets: HTTP check URLs (in API answers and in the
// output of their runs) and webhook URLs.
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
