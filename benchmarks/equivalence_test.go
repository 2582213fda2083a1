package benchmarks

import (
	"context"
	"errors"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// requests returns every check of the scenario between accounts [lo, hi): every
// user of those accounts, on every scope of those accounts, reading and writing.
func (s scenario) requests(lo, hi int) []request {
	var out []request
	for i := lo; i < hi; i++ {
		for _, m := range s.members(i) {
			for j := lo; j < hi; j++ {
				for _, sc := range s.scopes(j) {
					r := request{user: m.user, dom: acctID(j), obj: sc.ref.ID, scope: sc.ref}
					r.act, r.action = actRead, sc.read
					out = append(out, r)
					r.act, r.action = actWrite, sc.write
					out = append(out, r)
				}
			}
		}
	}
	return out
}

// want is the scenario's answer: owners and admins read and write their own
// account, viewers only read it, and nobody reaches another account.
func (s scenario) want(r request) bool {
	for i := range s.n {
		if acctID(i) != r.dom {
			continue
		}
		for _, m := range s.members(i) {
			if m.user == r.user {
				return m.role != roleViewer || r.act == actRead
			}
		}
	}
	return false
}

// member reports whether user is a member of the account dom in the scenario.
func (s scenario) member(user, dom string) bool {
	for i := range s.n {
		if acctID(i) != dom {
			continue
		}
		for _, m := range s.members(i) {
			if m.user == user {
				return true
			}
		}
	}
	return false
}

// assertEquivalent checks that Tenantry and both casbin models decide every request
// between accounts [lo, hi) of s as the scenario says, and that Tenantry's Authorize
// agrees with its Check: a denial inside the user's own account is refused, another
// account is not found.
func assertEquivalent(t *testing.T, s scenario, lo, hi int) {
	ctx := context.Background()
	svc, _, err := s.tenantry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reqs := s.requests(lo, hi)
	allowed := 0
	for _, r := range reqs {
		d, err := svc.Check(ctx, rbac.User(r.user), r.action, r.scope)
		if err != nil {
			t.Fatalf("tenantry: %v: %v", r, err)
		}
		if d.Allowed != s.want(r) {
			t.Errorf("tenantry: %v: allowed=%v, want %v (%s)", r, d.Allowed, s.want(r), d.Reason())
		}
		if d.Allowed {
			allowed++
		}
		err = svc.Authorize(ctx, rbac.User(r.user), r.action, r.scope)
		switch {
		case s.want(r):
			if err != nil {
				t.Errorf("tenantry: Authorize %v: %v, want nil", r, err)
			}
		case s.member(r.user, r.dom):
			if !errors.Is(err, rbac.ErrDenied) {
				t.Errorf("tenantry: Authorize %v: %v, want a denial", r, err)
			}
		default:
			if !errors.Is(err, account.ErrNotFound) {
				t.Errorf("tenantry: Authorize %v: %v, want not found", r, err)
			}
		}
	}
	if allowed == 0 || allowed == len(reqs) {
		t.Fatalf("degenerate scenario: %d of %d requests allowed", allowed, len(reqs))
	}
	for _, c := range casbinModels {
		e, _, err := c.enforcer(s)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, r := range reqs {
			ok, err := enforce(e, r)
			if err != nil {
				t.Fatalf("%s: %v: %v", c.name, r, err)
			}
			if ok != s.want(r) {
				t.Errorf("%s: %v: allowed=%v, want %v", c.name, r, ok, s.want(r))
			}
		}
	}
}

// TestEquivalence runs every check of a whole scenario of eight accounts.
func TestEquivalence(t *testing.T) {
	s := scenario{n: 8}
	assertEquivalent(t, s, 0, s.n)
}

// TestEquivalenceBenchmarked runs every check among the benchmarked account and its
// neighbours in the smaller benchmarked scenario. (The benchmarks themselves fail on
// a wrong answer at every size.)
func TestEquivalenceBenchmarked(t *testing.T) {
	s := scenario{n: sizes[0].n}
	mid := s.n / 2
	assertEquivalent(t, s, mid-1, mid+2)
}

// TestBenchmarkedRequests checks the two requests the benchmarks time.
func TestBenchmarkedRequests(t *testing.T) {
	s := scenario{n: sizes[0].n}
	allow, deny := s.viewerRequests()
	if !s.want(allow) || s.want(deny) {
		t.Fatalf("want %v allowed and %v denied", allow, deny)
	}
	if allow.scope.Kind != rbac.KindInbox {
		t.Fatalf("benchmarked scope %v is not an inbox", allow.scope)
	}
}
