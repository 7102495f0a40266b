package public

import (
	"strings"
)

// Slugify is the badge key of a component name: lower-case ASCII letters and digits, each
// run of anything else one dash, common Latin accents dropped ("Base de données (EU)" →
// "base-de-donnees-eu").
func Slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range unaccent.Replace(strings.ToLower(name)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	return b.String()
}

// unaccent maps the accented letters of Western European names to ASCII.
var unaccent = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ã", "a", "ä", "a", "å", "a", "æ", "ae",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n",
	"ò", "o", "ó", "o", "ô", "o", "õ", "o", "ö", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
)
