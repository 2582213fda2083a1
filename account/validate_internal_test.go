package account

import (
	"net/mail"
	"testing"
)

// simpleAddressAgrees fails t when simpleAddress accepts s but mail.ParseAddress does
// not read it as itself without a name, the case NormalizeEmail skips it for.
func simpleAddressAgrees(t *testing.T, s string) {
	t.Helper()
	if !simpleAddress(s) {
		return
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		t.Fatalf("simpleAddress(%q) but ParseAddress gives %+v, %v", s, a, err)
	}
}

func TestSimpleAddress(t *testing.T) {
	for s, want := range map[string]bool{
		"ann@example.com": true, "Ann.B+tag_x-y@mail-1.Example.COM": true, "a@localhost": true,
		"a@b": true, "": false, "@": false, "a@": false, "@b.c": false, ".a@b.c": false,
		"a.@b.c": false, "a..b@c.d": false, "a@b..c": false, "a@.b": false, "a@b.": false,
		"a@@b.c": false, "a@b@c.d": false, "\"q\"@x.test": false, "Ann <ann@x.test>": false,
		"a b@c.d": false, "a@b_c.d": false, "a@b+c.d": false, "é@x.test": false, "a@[1.2.3.4]": false,
	} {
		if got := simpleAddress(s); got != want {
			t.Errorf("simpleAddress(%q) = %v, want %v", s, got, want)
		}
		simpleAddressAgrees(t, s)
	}
}

func FuzzSimpleAddress(f *testing.F) {
	for _, s := range []string{"ann@example.com", "a.b+c_d-e@f-g.h", "a..b@c", "a@b.", "-@-", "+@a"} {
		f.Add(s)
	}
	f.Fuzz(simpleAddressAgrees)
}
