package account_test

import (
	"errors"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// Limits as data: an account holds at most its plan's tokens, teams and pending
// invitations; the next one is refused with ErrLimit and changes nothing.
func TestPlanLimits(t *testing.T) {
	e := newEnvWith(t, account.Options{Plans: []account.Plan{
		{Name: "tight", Seats: 10, UserManagement: true, Tokens: 1, Teams: 1, Invitations: 1},
	}})
	owner, acct := e.register("owner@acme.test")
	users := []rbac.Holder{owner}
	tenants := []rbac.Ref{acct.Ref}
	do(e, owner, account.CreateToken{Tenant: acct.Ref, Name: "ci"})
	do(e, owner, account.CreateTeam{Tenant: acct.Ref, Name: "Ops"})
	do(e, owner, account.Invite{Tenant: acct.Ref, Email: "one@acme.test"})
	for name, op := range map[string]func() error{
		"a second token":      func() error { return try(e, owner, account.CreateToken{Tenant: acct.Ref, Name: "cd"}) },
		"a second team":       func() error { return try(e, owner, account.CreateTeam{Tenant: acct.Ref, Name: "Dev"}) },
		"a second invitation": func() error { return try(e, owner, account.Invite{Tenant: acct.Ref, Email: "two@acme.test"}) },
	} {
		err := e.unchangedIn(users, tenants, op)
		if !errors.Is(err, account.ErrLimit) {
			t.Errorf("%s: got %v, want ErrLimit, changing nothing", name, err)
		}
	}
	// A token that was reset no longer counts: its successor takes its place.
	tok := get(e, owner, account.Tokens{Tenant: acct.Ref}).Items[0]
	do(e, owner, account.ResetToken{Tenant: acct.Ref, Token: rbac.Token(tok.ID)})
	if err := try(e, owner, account.CreateToken{Tenant: acct.Ref, Name: "cd"}); !errors.Is(err, account.ErrLimit) {
		t.Errorf("a token beside a reset one's successor: got %v, want ErrLimit", err)
	}
	// Revoking the invitation makes room for another.
	inv := get(e, owner, account.Members{Tenant: acct.Ref}).Items[1]
	do(e, owner, account.RevokeInvitation{Tenant: acct.Ref, Invitation: inv.Holder})
	do(e, owner, account.Invite{Tenant: acct.Ref, Email: "two@acme.test"})
}

// A token acts within its creator's current access (D40): when its creator leaves,
// it acts as nothing, unless an admin who holds its grants took it over first.
func TestReassignTokenBeforeItsCreatorLeaves(t *testing.T) {
	e := newEnv(t)
	owner, acct := e.register("owner@acme.test")
	do(e, owner, account.SetPlan{Account: acct.Ref, Plan: "team"})
	ann := e.joinTo(owner, acct.Ref, "ann@acme.test", grant(acct.Ref, rbac.Admin))
	bob := e.joinTo(owner, acct.Ref, "bob@acme.test", grant(acct.Ref, rbac.Admin))
	viewer := e.joinTo(owner, acct.Ref, "vic@acme.test", grant(acct.Ref, rbac.Viewer))
	mine := do(e, ann, account.CreateToken{Tenant: acct.Ref, Name: "ann's", Grants: []account.GrantSpec{grant(acct.Ref, rbac.Admin)}})
	kept := do(e, ann, account.CreateToken{Tenant: acct.Ref, Name: "kept", Grants: []account.GrantSpec{grant(acct.Ref, rbac.Admin)}})
	if !e.allowed(rbac.Token(mine.ID), rbac.AccountRename, acct.Ref) {
		t.Fatal("a fresh admin token may not rename the account")
	}
	// A viewer cannot take over an admin token (D12), nor a token (D22) anything.
	if err := try(e, viewer, account.ReassignToken{Tenant: acct.Ref, Token: rbac.Token(kept.ID)}); !errors.Is(err, account.ErrNotFound) {
		t.Errorf("a viewer reassigning a token: %v, want ErrNotFound (tokens are for who manages them)", err)
	}
	if err := try(e, rbac.Token(mine.ID), account.ReassignToken{Tenant: acct.Ref, Token: rbac.Token(kept.ID)}); !errors.Is(err, account.ErrInvalid) {
		t.Errorf("a token reassigning a token: %v, want ErrInvalid", err)
	}
	info := do(e, bob, account.ReassignToken{Tenant: acct.Ref, Token: rbac.Token(kept.ID)})
	if info.CreatedBy != bob.ID {
		t.Fatalf("reassigned to %s, want %s", info.CreatedBy, bob.ID)
	}
	do(e, owner, account.RemoveMember{Tenant: acct.Ref, Member: ann})
	if e.allowed(rbac.Token(mine.ID), rbac.AccountView, acct.Ref) {
		t.Error("the token of a removed admin still acts (D40)")
	}
	if err := e.svc.Authorize(e.ctx, rbac.Token(mine.ID), rbac.AccountRename, acct.Ref); err == nil {
		t.Error("Authorize lets the token of a removed admin rename the account")
	}
	if !e.allowed(rbac.Token(kept.ID), rbac.AccountRename, acct.Ref) {
		t.Error("the token reassigned before its creator left stopped working")
	}
	// Nor can the orphaned token invite its creator back.
	if err := try(e, rbac.Token(mine.ID), account.Invite{Tenant: acct.Ref, Email: "ann@acme.test", Grants: []account.GrantSpec{grant(acct.Ref, rbac.Admin)}}); err == nil {
		t.Error("the token of a removed admin invited its creator back")
	}
}
