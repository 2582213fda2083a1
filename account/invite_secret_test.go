package account_test

import (
	"context"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// An invitation goes only to its addressee: accepting needs its secret, which only
// the invited address receives, and a signed-in user with that address. A member who
// takes the invitee's address for a while cannot take the invitation with it.
func TestInvitationNeedsItsSecret(t *testing.T) {
	e := newEnv(t)
	owner, acct := e.register("owner@acme.test")
	do(e, owner, account.SetPlan{Account: acct.Ref, Plan: "team"})
	mallory := e.joinTo(owner, acct.Ref, "mallory@acme.test")
	inv := do(e, owner, account.Invite{Tenant: acct.Ref, Email: "bob@acme.test", Grants: []account.GrantSpec{grant(acct.Ref, rbac.Admin)}})
	if inv.Secret == "" || len(inv.Hash) != 0 {
		t.Fatalf("Invite returned secret %q, hash %x: the secret is shown once, its hash never", inv.Secret, inv.Hash)
	}
	var stored store.Invitation
	if err := e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		stored, err = r.Invitation(ctx, inv.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(stored.Hash) == 0 || string(stored.Hash) == inv.Secret {
		t.Fatalf("the store keeps %x for the secret: its hash, never the secret in clear", stored.Hash)
	}
	for _, a := range get(e, owner, account.Members{Tenant: acct.Ref}).Items {
		if a.Holder == rbac.Invite(inv.ID) && len(a.Invitation.Hash) != 0 {
			t.Fatal("the member listing shows the invitation's hash")
		}
	}

	// Mallory takes Bob's address, and tries without the secret and with a guess.
	do(e, mallory, profile.ChangeEmail{Email: "bob@acme.test"})
	for _, secret := range []string{"", inv.ID + ".00", inv.Secret[:len(inv.Secret)-1] + "x"} {
		notFound(t, e.unchangedIn([]rbac.Holder{mallory, owner}, []rbac.Ref{acct.Ref}, func() error {
			return try(e, mallory, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: secret})
		}))
	}
	do(e, mallory, profile.ChangeEmail{Email: "mallory@acme.test"})

	// Bob, with his address and the secret he received, accepts.
	bob, _ := e.register("bob@acme.test")
	do(e, bob, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	if !e.allowed(bob, rbac.AccountRename, acct.Ref) {
		t.Fatal("Bob accepted as admin but may not rename the account")
	}
	if e.allowed(mallory, rbac.AccountRename, acct.Ref) {
		t.Fatal("Mallory gained the invitation's access")
	}
}
