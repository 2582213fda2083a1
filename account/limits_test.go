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
