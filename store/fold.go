package store

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// FoldKey returns a key that is equal for two strings exactly when strings.EqualFold
// reports them equal: every rune is replaced by the smallest rune of its simple
// case-folding orbit (so 'k', 'K' and the Kelvin sign all become 'K'). Values that are
// unique without regard to case (emails, team names) are compared through it, so that
// every store agrees with Go, whatever a database's locale.
func FoldKey(s string) string {
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
