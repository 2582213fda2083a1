package account_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
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

// A cursor is opaque, but a client may send anything: any cursor gives a page or an
// *InvalidError naming page.after, never a panic, for an account admin (who pages
// through the store's listing) and for an inbox admin (who pages through the holders
// it may see). The seeds are raw cursor keys, encoded as cursors are.
func FuzzMembersCursor(f *testing.F) {
	fx := newFixture(f)
	admin := fx.join("admin@acme.test", grant(fx.acct, rbac.Admin))
	ia := fx.join("ia@acme.test", grant(fx.inboxA, rbac.Admin))
	do(fx.env, fx.owner, account.Invite{Tenant: fx.acct, Email: "p@acme.test", Grants: []account.GrantSpec{grant(fx.inboxA, rbac.Viewer)}})
	for _, s := range []string{"", "1", "0", "4", "1:", "4:", "1:user-1", "4:inv-9", "2:team", "9:zz", "\xff", "1:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		after := base64.RawURLEncoding.EncodeToString([]byte(key))
		for _, actor := range []rbac.Holder{admin, ia} {
			for _, limit := range []int{0, 1} {
				p, err := account.Get(fx.ctx, fx.svc, actor, account.Members{Tenant: fx.acct, Page: account.PageRequest{After: after, Limit: limit}})
				if err != nil {
					var ie *account.InvalidError
					if !errors.As(err, &ie) || ie.Field != "page.after" {
						t.Fatalf("Members after %q as %v: %v", key, actor, err)
					}
					continue
				}
				if limit > 0 && len(p.Items) > limit {
					t.Fatalf("a page of %d items, limit %d", len(p.Items), limit)
				}
			}
		}
	})
}
