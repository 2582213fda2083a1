package memstore

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fold returns a key equal for two strings exactly when strings.EqualFold reports
// them equal: every rune is replaced by the smallest rune of its simple case-folding
// orbit (so 'k', 'K' and the Kelvin sign all become 'K').
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			m = min(m, f)
		}
		b.WriteRune(m)
	}
	return b.String()
}
