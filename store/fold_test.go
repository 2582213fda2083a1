package store_test

import (
	"strings"
	"testing"

	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// FoldKey(a) == FoldKey(b) exactly when strings.EqualFold(a, b).
func TestFoldKeyAgreesWithEqualFold(t *testing.T) {
	alphabet := rapid.SampledFrom([]rune("aAkKK\u212aßẞsSſΣσςİıiI0é É"))
	gen := rapid.StringOfN(alphabet, 0, 6, -1)
	rapid.Check(t, func(t *rapid.T) {
		a, b := gen.Draw(t, "a"), gen.Draw(t, "b")
		if (store.FoldKey(a) == store.FoldKey(b)) != strings.EqualFold(a, b) {
			t.Fatalf("FoldKey(%q)=%q, FoldKey(%q)=%q, EqualFold=%v", a, store.FoldKey(a), b, store.FoldKey(b), strings.EqualFold(a, b))
		}
	})
}
