package rbac_test

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/rbac"
	"pgregory.net/rapid"
)

func TestDecideChangeRules(t *testing.T) {
	alice, bob := rbac.User("alice"), rbac.User("bob")
	acct := rbac.Account("a")
	base := rbac.Change{Actor: alice, ActorLevel: rbac.Admin, Target: bob, Scope: acct, From: rbac.None, To: rbac.Viewer}
	cases := []struct {
		name string
		mod  func(*rbac.Change)
		rule rbac.Rule
		ok   bool
	}{
		{"D11/AdminMayGrantViewer", func(*rbac.Change) {}, rbac.RuleAdminChanges, true},
		{"D11/AdminMayAlterAdmins", func(c *rbac.Change) { c.From, c.To = rbac.Admin, rbac.Viewer }, rbac.RuleAdminChanges, true},
		{"D11/AdminMayRevoke", func(c *rbac.Change) { c.From, c.To = rbac.Admin, rbac.None }, rbac.RuleAdminChanges, true},
		{"D11/ViewerMayNotGrant", func(c *rbac.Change) { c.ActorLevel = rbac.Viewer }, rbac.RuleAdminChanges, false},
		{"D11/StrangerMayNotGrant", func(c *rbac.Change) { c.ActorLevel = rbac.None }, rbac.RuleAdminChanges, false},
		{"D4/OwnerIsNeverGranted", func(c *rbac.Change) { c.ActorLevel, c.To = rbac.Owner, rbac.Owner }, rbac.RuleOwnerNotGrant, false},
		{"D9/NobodyAltersTheOwner", func(c *rbac.Change) { c.ActorLevel, c.TargetIsOwner = rbac.Owner, true }, rbac.RuleOwnerImmutable, false},
		{"D10/NobodyChangesOwnAccess", func(c *rbac.Change) { c.Target = alice }, rbac.RuleNoSelfChange, false},
		{"D10/NorThroughOwnTeam", func(c *rbac.Change) { c.Target, c.TargetIncludesActor = rbac.Team("t"), true }, rbac.RuleNoSelfChange, false},
		{"D24/TokenCannotChangeOwnGrants", func(c *rbac.Change) { c.Actor, c.Target = rbac.Token("k"), rbac.Token("k") }, rbac.RuleTokenSelf, false},
		{"D12/AdminMayGiveUpToAdmin", func(c *rbac.Change) { c.ActorLevel, c.To = rbac.Admin, rbac.Admin }, rbac.RuleAdminChanges, true},
		{"P4/InvalidLevel", func(c *rbac.Change) { c.To = 55 }, rbac.RuleInvalidLevel, false},
		{"P3/InvalidScope", func(c *rbac.Change) { c.Scope = rbac.Ref{} }, rbac.RuleInvalidScope, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mod(&c)
			d := rbac.DecideChange(c)
			if d.Allowed != tc.ok || d.Rule != tc.rule {
				t.Fatalf("DecideChange(%+v) = allowed %v by %v, want %v by %v (%s)", c, d.Allowed, d.Rule, tc.ok, tc.rule, d.Reason())
			}
		})
	}
}

func TestDecideTransferAndLeave(t *testing.T) {
	owner, admin, outsider := rbac.User("o"), rbac.User("a"), rbac.User("x")
	acct := rbac.Account("acc")
	if d := rbac.DecideTransfer(owner, rbac.Owner, owner, admin, acct, true, false); !d.Allowed {
		t.Errorf("D16: owner to member refused: %s", d.Reason())
	}
	if d := rbac.DecideTransfer(admin, rbac.Admin, owner, admin, acct, true, false); d.Allowed || d.Rule != rbac.RuleTransfer {
		t.Errorf("D16: admin transferred ownership: %+v", d)
	}
	if d := rbac.DecideTransfer(owner, rbac.Owner, owner, outsider, acct, false, false); d.Allowed {
		t.Errorf("D16: transfer to a non-member allowed")
	}
	if d := rbac.DecideTransfer(owner, rbac.Owner, owner, owner, acct, true, false); d.Allowed {
		t.Errorf("D16: transfer to oneself allowed")
	}
	if d := rbac.DecideTransfer(rbac.Token("k"), rbac.Admin, owner, admin, acct, true, false); d.Allowed {
		t.Errorf("D16: a token transferred ownership")
	}
	if d := rbac.DecideTransfer(owner, rbac.Owner, owner, admin, acct, true, true); d.Allowed || d.Rule != rbac.RuleSubOwnership {
		t.Errorf("C4: sub-account transferred on its own: %+v", d)
	}
	if d := rbac.DecideLeave(owner, owner, acct); d.Allowed || d.Rule != rbac.RuleLeave {
		t.Errorf("D15: the owner may leave: %+v", d)
	}
	if d := rbac.DecideLeave(admin, owner, acct); !d.Allowed {
		t.Errorf("D15: a member may not leave: %+v", d)
	}
}

// No escalation (D4, D12): whatever sequence of changes is attempted, applying only the
// permitted ones never gives anyone a level above what its granter held on that scope
// at the time, and nobody but the first owner ever holds Owner.
func TestNoSequenceOfChangesEscalates(t *testing.T) {
	users := []rbac.Holder{rbac.User("owner"), rbac.User("u1"), rbac.User("u2"), rbac.User("u3")}
	var scopes []rbac.Ref
	for _, s := range allScopes {
		if isAncestorOrSelf(rbac.Account("a"), s) {
			scopes = append(scopes, s)
		}
	}
	type key struct {
		h rbac.Holder
		s rbac.Ref
	}
	rapid.Check(t, func(t *rapid.T) {
		grants := map[key]rbac.Level{{users[0], rbac.Account("a")}: rbac.Owner}
		granterHad := map[key]rbac.Level{}
		held := func(h rbac.Holder) []rbac.Grant {
			var out []rbac.Grant
			for _, k := range slices.SortedFunc(maps.Keys(grants), func(a, b key) int { return a.s.Compare(b.s)*4 + a.h.Compare(b.h) }) {
				if k.h == h {
					out = append(out, rbac.Grant{Holder: h, Scope: k.s, Level: grants[k]})
				}
			}
			return out
		}
		for range rapid.IntRange(1, 40).Draw(t, "steps") {
			actor := rapid.SampledFrom(users).Draw(t, "actor")
			target := rapid.SampledFrom(users).Draw(t, "target")
			scope := rapid.SampledFrom(scopes).Draw(t, "scope")
			to := rapid.SampledFrom([]rbac.Level{rbac.None, rbac.Viewer, rbac.Admin, rbac.Owner}).Draw(t, "to")
			k := key{target, scope}
			actorLevel := rbac.EffectiveLevel(pathOf(scope), held(actor))
			d := rbac.DecideChange(rbac.Change{
				Actor: actor, ActorLevel: actorLevel, Target: target, Scope: scope,
				From: grants[k], To: to, TargetIsOwner: target == users[0],
			})
			if !d.Allowed {
				if d.Rule.Text() == "" {
					t.Fatalf("refusal cites no rule: %+v", d)
				}
				continue
			}
			if to == rbac.None {
				delete(grants, k)
				delete(granterHad, k)
			} else {
				grants[k], granterHad[k] = to, actorLevel
			}
			for k, l := range grants {
				if l == rbac.Owner && k != (key{users[0], rbac.Account("a")}) {
					t.Fatalf("%v holds owner on %v", k.h, k.s)
				}
				if had, ok := granterHad[k]; ok && l > had {
					t.Fatalf("%v holds %v on %v, granted by someone who held %v", k.h, l, k.s, had)
				}
			}
			if grants[key{users[0], rbac.Account("a")}] != rbac.Owner {
				t.Fatal("the owner's access changed (D9)")
			}
		}
	})
}

func ExampleDecideChange() {
	// An account admin may make a teammate admin, but nobody may give the owner level
	// (D4), nor change their own access (D10).
	c := rbac.Change{
		Actor: rbac.User("alice"), ActorLevel: rbac.Admin,
		Target: rbac.User("bob"), Scope: rbac.Account("acme"), To: rbac.Admin,
	}
	fmt.Println(rbac.DecideChange(c).Allowed)

	c.To = rbac.Owner
	fmt.Println(rbac.DecideChange(c).Rule)

	c.To, c.Target = rbac.Viewer, rbac.User("alice")
	fmt.Println(rbac.DecideChange(c).Rule)
	// Output:
	// true
	// D4
	// D10
}

func TestDecideCreateRemoveAndTeamPlace(t *testing.T) {
	owner, admin, viewer := rbac.User("o"), rbac.User("a"), rbac.User("v")
	acct := rbac.Account("acc")
	if d := rbac.DecideCreateAccount(viewer); !d.Allowed || d.Rule != rbac.RuleCreateAccount {
		t.Errorf("D28: a user may not create an account: %+v", d)
	}
	if d := rbac.DecideCreateAccount(rbac.Token("k")); d.Allowed {
		t.Errorf("D28: a token created an account")
	}
	cases := []struct {
		name         string
		decide       func(actor rbac.Holder, lvl rbac.Level, target rbac.Holder) rbac.Decision
		notAdminRule rbac.Rule
	}{
		{"RemoveMember", func(a rbac.Holder, l rbac.Level, m rbac.Holder) rbac.Decision {
			return rbac.DecideRemoveMember(a, l, m, owner, acct)
		}, rbac.RuleRemoveMember},
		{"TeamPlace", func(a rbac.Holder, l rbac.Level, m rbac.Holder) rbac.Decision {
			return rbac.DecideTeamPlace(a, l, m, owner, acct)
		}, rbac.RuleAdminChanges},
	}
	for _, c := range cases {
		if d := c.decide(admin, rbac.Admin, viewer); !d.Allowed {
			t.Errorf("%s: an admin may not act on a viewer: %s", c.name, d.Reason())
		}
		if d := c.decide(viewer, rbac.Viewer, admin); d.Allowed || d.Rule != c.notAdminRule || d.Level != rbac.Viewer {
			t.Errorf("%s: a viewer acted: %+v", c.name, d)
		}
		if d := c.decide(admin, rbac.Admin, owner); d.Allowed || d.Rule != rbac.RuleOwnerImmutable {
			t.Errorf("%s: D9 not cited for the owner: %+v", c.name, d)
		}
		if d := c.decide(admin, rbac.Admin, admin); d.Allowed || d.Rule != rbac.RuleNoSelfChange {
			t.Errorf("%s: D10 not cited for oneself: %+v", c.name, d)
		}
		if d := c.decide(owner, rbac.Owner, viewer); !d.Allowed {
			t.Errorf("%s: the owner may not act: %s", c.name, d.Reason())
		}
	}
	if d := rbac.DecideRemoveMember(owner, rbac.Owner, viewer, owner, rbac.Org("o1")); !d.Allowed || d.Action != rbac.OrgUsersManage {
		t.Errorf("D13 on an organization: %+v", d)
	}
}
