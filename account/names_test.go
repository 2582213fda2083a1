package account_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"

	"github.com/tenantry/tenantry/account"
)

func TestValidNameRefusesInvisibleCharacters(t *testing.T) {
	for _, s := range []string{
		"\u202eevil\u200b", // right-to-left override, zero-width space
		"Ac\u200bme",       // zero-width space
		"Ac\u200dme",       // zero-width joiner
		"Ac\u200cme",       // zero-width non-joiner
		"\u2066Acme\u2069", // left-to-right isolate … pop
		"\u200fAcme",       // right-to-left mark
		"\ufeffAcme",       // byte-order mark
		"Ac\u2060me",       // word joiner
		"Ac\u00adme",       // soft hyphen
	} {
		if _, err := account.ValidName("name", s); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("ValidName(%q) = %v, want ErrInvalid", s, err)
		}
	}
	for _, s := range []string{"Acme", "Åsa Öberg", "東京", "مرحبا", "Ελένη"} {
		if _, err := account.ValidName("name", s); err != nil {
			t.Errorf("ValidName(%q) = %v, want nil", s, err)
		}
	}
}

// FuzzValidNameVisible: a name that ValidName accepts holds no control or format
// character, whatever it was given.
func FuzzValidNameVisible(f *testing.F) {
	for _, s := range []string{"Acme", "\u202eevil\u200b", "a\u200db", " x ", "\u061c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := account.ValidName("name", s)
		if err != nil {
			return
		}
		if i := strings.IndexFunc(n, func(r rune) bool { return unicode.Is(unicode.Cf, r) || unicode.IsControl(r) }); i >= 0 {
			t.Fatalf("ValidName(%q) accepted %q, which holds an invisible character at %d", s, n, i)
		}
	})
}
