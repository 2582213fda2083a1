package account_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tenantry/tenantry/account"
)

// Any input gives a normal form or a typed error, never a panic; a normal form is a
// fixed point and is accepted again.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"ann@example.com", " Ann@Example.COM ", "a@b", "Ann <ann@x.test>", "\"q\"@x.test", "a@@b.c", "", "@", "a@localhost"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := account.NormalizeEmail(s)
		if err != nil {
			var ie *account.InvalidError
			if !errors.Is(err, account.ErrInvalid) || !errors.As(err, &ie) || ie.Field != "email" {
				t.Fatalf("NormalizeEmail(%q): untyped error %v", s, err)
			}
			return
		}
		if n != strings.ToLower(n) || len(n) > account.MaxEmailLen || !strings.Contains(n, "@") {
			t.Fatalf("NormalizeEmail(%q) = %q", s, n)
		}
		if again, err := account.NormalizeEmail(n); err != nil || again != n {
			t.Fatalf("normal form %q is not a fixed point: %q, %v", n, again, err)
		}
	})
}

func FuzzValidName(f *testing.F) {
	for _, s := range []string{"Acme", "  Acme  ", "", "a\x00b", strings.Repeat("é", 101), "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := account.ValidName("name", s)
		if err != nil {
			if !errors.Is(err, account.ErrInvalid) {
				t.Fatalf("ValidName(%q): untyped error %v", s, err)
			}
			return
		}
		if n == "" || n != strings.TrimSpace(n) || !utf8.ValidString(n) || utf8.RuneCountInString(n) > account.MaxNameLen {
			t.Fatalf("ValidName(%q) = %q", s, n)
		}
	})
}

func FuzzValidID(f *testing.F) {
	for _, s := range []string{"acct_1", "a b", "", strings.Repeat("x", 200), "org:1.2-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := account.ValidID("id", s)
		if err != nil && !errors.Is(err, account.ErrInvalid) {
			t.Fatalf("ValidID(%q): untyped error %v", s, err)
		}
		if err == nil && (s == "" || len(s) > account.MaxIDLen || strings.ContainsAny(s, " /\\\x00")) {
			t.Fatalf("ValidID accepted %q", s)
		}
	})
}
