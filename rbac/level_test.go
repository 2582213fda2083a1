package rbac_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/tenantry/tenantry/rbac"
	"pgregory.net/rapid"
)

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]rbac.Level{
		"viewer": rbac.Viewer, "10": rbac.Viewer, " Admin ": rbac.Admin, "100": rbac.Admin,
		"owner": rbac.Owner, "1000": rbac.Owner, "none": rbac.None, "0": rbac.None,
	} {
		got, err := rbac.ParseLevel(in)
		if err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "11", "member", "adminn", "1e2", "-10", "0x64"} {
		_, err := rbac.ParseLevel(in)
		var le *rbac.LevelError
		if !errors.Is(err, rbac.ErrInvalidLevel) || !errors.As(err, &le) || le.Input != in {
			t.Errorf("ParseLevel(%q) error = %v; want a *LevelError matching ErrInvalidLevel", in, err)
		}
	}
}

func TestLevelJSONAcceptsNamesAndNumbers(t *testing.T) {
	var v struct{ A, B rbac.Level }
	if err := json.Unmarshal([]byte(`{"A":"admin","B":10}`), &v); err != nil || v.A != rbac.Admin || v.B != rbac.Viewer {
		t.Fatalf("got %+v, %v", v, err)
	}
	if err := json.Unmarshal([]byte(`{"A":true}`), &v); !errors.Is(err, rbac.ErrInvalidLevel) {
		t.Fatalf("bool level: err = %v, want ErrInvalidLevel", err)
	}
	b, err := json.Marshal(struct{ L rbac.Level }{rbac.Owner})
	if err != nil || string(b) != `{"L":"owner"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
}

// Lattice law: the order on levels is total and String/Parse round-trip.
func TestLevelOrderIsTotal(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.SampledFrom(append([]rbac.Level{rbac.None}, rbac.Levels[:]...)).Draw(t, "a")
		b := rapid.SampledFrom(append([]rbac.Level{rbac.None}, rbac.Levels[:]...)).Draw(t, "b")
		if (a < b) == (b < a) && a != b {
			t.Fatalf("levels %v and %v are not comparable", a, b)
		}
		back, err := rbac.ParseLevel(a.String())
		if err != nil || back != a {
			t.Fatalf("ParseLevel(%q) = %v, %v", a.String(), back, err)
		}
	})
}

func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{"viewer", "100", "OWNER", "", "\x00", "1000 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := rbac.ParseLevel(s)
		if err != nil {
			if !errors.Is(err, rbac.ErrInvalidLevel) {
				t.Fatalf("ParseLevel(%q): untyped error %v", s, err)
			}
			return
		}
		if !l.Valid() {
			t.Fatalf("ParseLevel(%q) = invalid level %d", s, l)
		}
		var j rbac.Level
		if err := j.UnmarshalJSON([]byte(s)); err == nil && !j.Valid() {
			t.Fatalf("UnmarshalJSON(%q) = invalid level %d", s, j)
		}
	})
}

func FuzzParseAction(f *testing.F) {
	for _, a := range rbac.Actions() {
		f.Add(a.String())
	}
	f.Add("inbox.rename ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := rbac.ParseAction(s)
		if err != nil {
			var ae *rbac.ActionError
			if !errors.Is(err, rbac.ErrUnknownAction) || !errors.As(err, &ae) {
				t.Fatalf("ParseAction(%q): untyped error %v", s, err)
			}
			if a != 0 {
				t.Fatalf("ParseAction(%q) returned action %v with an error", s, a)
			}
			return
		}
		if !a.Valid() {
			t.Fatalf("ParseAction(%q) = invalid action", s)
		}
		if _, err := rbac.ParseKind(s); err == nil && s == "" {
			t.Fatal("empty kind parsed")
		}
	})
}

func TestParseActionRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range rbac.Actions() {
		if seen[a.String()] {
			t.Errorf("duplicate action name %q", a)
		}
		seen[a.String()] = true
		b, err := rbac.ParseAction(a.String())
		if err != nil || b != a {
			t.Errorf("ParseAction(%q) = %v, %v", a, b, err)
		}
		if a.Kinds() == 0 || !a.Need().Valid() || a.Need() == rbac.None || len(a.Rules()) == 0 || a.Doc() == "" {
			t.Errorf("action %v has an incomplete policy row", a)
		}
		for _, r := range a.Rules() {
			if r.Text() == "" {
				t.Errorf("action %v cites rule %q, which has no text", a, r)
			}
		}
	}
}
