package account_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

func TestTransferOwnership(t *testing.T) {
	f := newFixture(t)
	a := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	stranger, _ := f.register("x@other.test")
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, f.owner, account.TransferOwnership{Account: f.acct, To: stranger})
	}), rbac.RuleTransfer)
	do(f.env, f.owner, account.TransferOwnership{Account: f.acct, To: a})
	if !f.allowed(a, rbac.AccountDelete, f.acct) {
		t.Fatal("the new owner cannot delete the account")
	}
	// C2: the previous owner stays as account admin.
	if !f.allowed(f.owner, rbac.AccountRename, f.acct) || f.allowed(f.owner, rbac.AccountDelete, f.acct) {
		t.Fatal("the previous owner is not exactly an admin")
	}
	// D9 now protects the new owner from the old one.
	denied(t, try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: a, Changes: change(f.proj, rbac.Viewer)}), rbac.RuleOwnerImmutable)
}

func TestOwnerMustTransferBeforeLeaving(t *testing.T) {
	f := newFixture(t)
	denied(t, f.unchanged(nil, func() error { return try(f.env, f.owner, account.Leave{Account: f.acct}) }), rbac.RuleLeave)
}

func TestDeleteAccountCascades(t *testing.T) {
	f := newFixture(t)
	m := f.join("m@acme.test", grant(f.inboxA, rbac.Admin))
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "QA"})
	do(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: rbac.Team(team.ID), Member: m})
	do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Viewer)}})
	do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "later@acme.test"})
	do(f.env, f.owner, account.DeleteAccount{Account: f.acct})
	snap := f.snapshot([]rbac.Holder{m}, f.acct)
	for _, gone := range []string{"grant", "team {", "token {", "invitation {", "proj-", "inbox-", "membership {Tenant:account:" + f.acct.ID} {
		if strings.Contains(snap, gone) {
			t.Fatalf("%q survived the account's deletion (D17):\n%s", gone, snap)
		}
	}
	if _, err := account.Get(f.ctx, f.svc, m, profile.Get{}); err != nil {
		t.Fatalf("users must stay (D17): %v", err)
	}
	// The audit log stays too, with the deletion as its last event.
	err := f.st.View(f.ctx, func(ctx2 context.Context, r store.Reader) error {
		evs, err := r.Events(ctx2, f.acct, 0, 1000)
		if err != nil {
			return err
		}
		if len(evs) == 0 || evs[len(evs)-1].Action != "account.delete" {
			t.Errorf("audit log after deletion: %+v", evs)
		}
		return nil
	})
	f.must(err)
}

func TestNotFoundNeverForbiddenForWhatOneCannotSee(t *testing.T) {
	f := newFixture(t)
	outsider, _ := f.register("out@other.test")
	for name, err := range map[string]error{
		"rename project": try(f.env, outsider, account.RenameResource{Resource: f.proj, Name: "X"}),
		"delete account": try(f.env, outsider, account.DeleteAccount{Account: f.acct}),
		"list members":   ask(f.env, outsider, account.Members{Tenant: f.acct}),
		"tokens":         ask(f.env, outsider, account.Tokens{Tenant: f.acct}),
		"transfer":       try(f.env, outsider, account.TransferOwnership{Account: f.acct, To: outsider}),
		"get account":    ask(f.env, outsider, account.Account{Account: f.acct}),
		"get resource":   ask(f.env, outsider, account.Resource{Resource: f.inboxA}),
		"seats":          ask(f.env, outsider, account.Seats{Tenant: f.acct}),
		"events":         ask(f.env, outsider, account.Events{Tenant: f.acct}),
		"level":          ask(f.env, outsider, account.Level{Holder: outsider, Scope: f.proj}),
		"create inbox":   try(f.env, outsider, account.CreateResource{Parent: f.proj, Kind: rbac.KindInbox, Name: "X"}),
		"leave":          try(f.env, outsider, account.Leave{Account: f.acct}),
		"authorize":      f.svc.Authorize(f.ctx, outsider, rbac.ProjectRename, f.proj),
	} {
		if !errors.Is(err, account.ErrNotFound) || errors.Is(err, rbac.ErrDenied) {
			t.Errorf("%s by an outsider: %v, want ErrNotFound (existence must not leak)", name, err)
		}
	}
	// An inbox viewer knows the project exists: a refusal there is a denial.
	iv := f.join("iv@acme.test", grant(f.inboxA, rbac.Viewer))
	if err := try(f.env, iv, account.RenameResource{Resource: f.proj, Name: "X"}); !errors.Is(err, rbac.ErrDenied) {
		t.Errorf("inbox viewer renaming the project: %v, want denied", err)
	}
	// A member without any access knows the account exists: a refusal there is a
	// denial too.
	zero := f.join("zero@acme.test")
	if err := try(f.env, zero, account.RenameAccount{Account: f.acct, Name: "X"}); !errors.Is(err, rbac.ErrDenied) {
		t.Errorf("a zero-access member renaming the account: %v, want denied", err)
	}
	if _, err := account.Get(f.ctx, f.svc, zero, account.Account{Account: f.acct}); err != nil {
		t.Errorf("a zero-access member cannot see the account: %v", err)
	}
}

// D18: a project, inbox or domain admin sees only the holders with access to what
// they administer; acting on anyone else answers as for a holder that does not exist.
func TestRestrictedAdminActsOnlyOnWhomItSees(t *testing.T) {
	f := newFixture(t)
	ia := f.join("ia@acme.test", grant(f.inboxA, rbac.Admin))
	zero := f.join("zero@acme.test")
	elsewhere := f.join("b@acme.test", grant(f.inboxB, rbac.Viewer))
	pending := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "p@acme.test", Grants: []account.GrantSpec{grant(f.domain, rbac.Viewer)}})
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "QA"})
	tok := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.inboxA, rbac.Viewer)}})
	for _, h := range []rbac.Holder{zero, elsewhere, rbac.Invite(pending.ID), rbac.Team(team.ID), rbac.Token(tok.ID), rbac.User("nobody")} {
		err := f.unchanged([]rbac.Holder{zero, elsewhere}, func() error {
			return try(f.env, ia, account.SetPermissions{Tenant: f.acct, Holder: h, Changes: change(f.inboxA, rbac.Viewer)})
		})
		notFound(t, err)
		notFound(t, ask(f.env, ia, account.Level{Holder: h, Scope: f.inboxA}))
		if h.Kind == rbac.HolderUser {
			notFound(t, f.unchanged(nil, func() error {
				return try(f.env, ia, account.RemoveFromResource{Scope: f.inboxA, Member: h})
			}))
		}
	}
	// An account admin sees everyone and gives zero access to Inbox A.
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	do(f.env, admin, account.SetPermissions{Tenant: f.acct, Holder: zero, Changes: change(f.inboxA, rbac.Viewer)})
	// Once zero has access to Inbox A, its admin sees and manages it.
	if lvl := get(f.env, ia, account.Level{Holder: zero, Scope: f.inboxA}); lvl != rbac.Viewer {
		t.Fatalf("inbox admin reads zero's level on Inbox A as %v", lvl)
	}
	do(f.env, ia, account.SetPermissions{Tenant: f.acct, Holder: zero, Changes: change(f.inboxA, rbac.Admin)})
	do(f.env, ia, account.RemoveFromResource{Scope: f.inboxA, Member: zero})
}

func TestNoEscalationThroughGrants(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	// other has access to the project's Inbox B, so the project admin sees it (D18).
	other := f.join("o@acme.test", grant(f.inboxB, rbac.Viewer))
	// A project admin cannot grant on the account, nor give owner.
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, pa, account.SetPermissions{Tenant: f.acct, Holder: other, Changes: change(f.acct, rbac.Viewer)})
	}), rbac.RuleAdminChanges)
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, pa, account.SetPermissions{Tenant: f.acct, Holder: other, Changes: change(f.proj, rbac.Owner)})
	}), rbac.RuleOwnerNotGrant)
	// All or nothing: one refused entry refuses the whole bulk update.
	f.unchanged(nil, func() error {
		return try(f.env, pa, account.SetPermissions{Tenant: f.acct, Holder: other, Changes: []account.PermissionChange{
			{Scope: f.inboxA, Level: rbac.Admin}, {Scope: rbac.Billing(f.acct.ID), Level: rbac.Viewer},
		}})
	})
	// A viewer of the account cannot grant anything to a new invitation either.
	v := f.join("v@acme.test", grant(f.acct, rbac.Viewer))
	f.unchanged(nil, func() error {
		return try(f.env, v, account.Invite{Tenant: f.acct, Email: "new@acme.test", Grants: []account.GrantSpec{grant(f.inboxA, rbac.Viewer)}})
	})
	// An account admin cannot give more than admin, even to a token.
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, admin, account.CreateToken{Tenant: f.acct, Name: "x", Grants: []account.GrantSpec{grant(f.acct, rbac.Owner)}})
	}), rbac.RuleOwnerNotGrant)
}

func TestTeamGrantsCountAndFollowTheRules(t *testing.T) {
	f := newFixture(t)
	dev := f.join("dev@acme.test")
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	team := do(f.env, admin, account.CreateTeam{Tenant: f.acct, Name: "Developers"})
	th := rbac.Team(team.ID)
	do(f.env, admin, account.SetPermissions{Tenant: f.acct, Holder: th, Changes: change(f.proj, rbac.Admin)})
	do(f.env, admin, account.AddTeamMember{Tenant: f.acct, Team: th, Member: dev})
	if !f.allowed(dev, rbac.InboxCreate, f.proj) {
		t.Fatal("team grant does not count (D5)")
	}
	got, err := f.members(dev, f.acct)
	if err != nil || !slices.Contains(got, dev) {
		t.Fatalf("a team-made project admin cannot list members: %v", err)
	}
	// D9: the owner cannot be put in a team; D10: nor can the actor add itself.
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, admin, account.AddTeamMember{Tenant: f.acct, Team: th, Member: f.owner})
	}), rbac.RuleOwnerImmutable)
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, admin, account.AddTeamMember{Tenant: f.acct, Team: th, Member: admin})
	}), rbac.RuleNoSelfChange)
	// D10: a team member cannot change the team's grants (their own access).
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: dev, Changes: change(f.acct, rbac.Admin)})
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, dev, account.SetPermissions{Tenant: f.acct, Holder: th, Changes: change(f.domain, rbac.Admin)})
	}), rbac.RuleNoSelfChange)
	// Nor delete it.
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, dev, account.DeleteTeam{Tenant: f.acct, Team: th})
	}), rbac.RuleNoSelfChange)
	do(f.env, admin, account.RenameTeam{Tenant: f.acct, Team: th, Name: "Devs"})
	do(f.env, admin, account.RemoveTeamMember{Tenant: f.acct, Team: th, Member: dev})
	if lvl := get(f.env, f.owner, account.Level{Holder: dev, Scope: f.proj}); lvl != rbac.Admin {
		t.Fatalf("dev's level on the project is %v, want admin from the account grant", lvl)
	}
	do(f.env, admin, account.DeleteTeam{Tenant: f.acct, Team: th})
	if _, err := account.Get(f.ctx, f.svc, admin, account.Teams{Tenant: f.acct}); err != nil {
		t.Fatal(err)
	}
	notFound(t, try(f.env, admin, account.RenameTeam{Tenant: f.acct, Team: th, Name: "Gone"}))
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	// D22/D12: a token never holds more than its creator.
	denied(t, try(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "x", Grants: []account.GrantSpec{grant(f.acct, rbac.Owner)}}), rbac.RuleOwnerNotGrant)
	if err := try(f.env, pa, account.CreateToken{Tenant: f.acct, Name: "x"}); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("a project admin created an account token: %v", err)
	}
	nt := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Admin)}})
	info, secret := nt.TokenInfo, nt.Secret
	if info.Last4 != secret[len(secret)-4:] || len(info.Hash) != 0 || info.Expires != f.now.Add(account.DefaultTokenLifetime) {
		t.Fatalf("token info %+v (D23)", info)
	}
	if got := get(f.env, f.owner, account.Token{Tenant: f.acct, Token: rbac.Token(info.ID)}); len(got.Hash) != 0 || got.Last4 != info.Last4 || len(got.Grants) != 1 {
		t.Fatalf("Token = %+v", got)
	}
	tok, err := f.svc.Authenticate(f.ctx, secret)
	if err != nil || tok != rbac.Token(info.ID) {
		t.Fatalf("Authenticate = %v %v", tok, err)
	}
	if !f.allowed(tok, rbac.InboxCreate, f.proj) || f.allowed(tok, rbac.ProjectCreate, f.acct) {
		t.Fatal("the token's checks do not use its own grants (D24)")
	}
	// A token that may not manage tokens does not see them, itself included (D18).
	notFound(t, try(f.env, tok, account.SetPermissions{Tenant: f.acct, Holder: tok, Changes: change(f.inboxA, rbac.Admin)}))
	// D24: a token that manages tokens still cannot change its own grants.
	adm := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "admin", Grants: []account.GrantSpec{grant(f.acct, rbac.Admin)}})
	admTok := rbac.Token(adm.ID)
	denied(t, f.unchanged(nil, func() error {
		return try(f.env, admTok, account.SetPermissions{Tenant: f.acct, Holder: admTok, Changes: change(f.inboxA, rbac.Viewer)})
	}), rbac.RuleTokenSelf)
	// A token creating a token is the token's creator's (D22).
	child := do(f.env, admTok, account.CreateToken{Tenant: f.acct, Name: "child", Grants: []account.GrantSpec{grant(f.inboxB, rbac.Viewer)}})
	if child.CreatedBy != f.owner.ID {
		t.Fatalf("a token's token is attributed to %q, want the owner", child.CreatedBy)
	}
	for _, bad := range []string{secret[:len(secret)-1] + "x", "", "nodot", info.ID + ".00", strings.Repeat("a", 4000)} {
		if _, err := f.svc.Authenticate(f.ctx, bad); !errors.Is(err, account.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v", bad, err)
		}
	}
	// D23, D38: reset issues a new secret with the same grants; the old one keeps
	// working for the 12-hour grace period, then stops, and cannot be reset again.
	fresh := do(f.env, f.owner, account.ResetToken{Tenant: f.acct, Token: rbac.Token(info.ID)})
	secret2 := fresh.Secret
	if len(fresh.Grants) != 1 || fresh.Grants[0].Scope != f.proj {
		t.Fatalf("reset lost the grants: %+v", fresh.Grants)
	}
	f.now = f.now.Add(account.DefaultTokenResetGrace - time.Second)
	if h, err := f.svc.Authenticate(f.ctx, secret); err != nil || h != rbac.Token(info.ID) {
		t.Fatalf("within the grace period the old secret gives %v, %v", h, err)
	}
	f.now = f.now.Add(time.Second)
	if _, err := f.svc.Authenticate(f.ctx, secret); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatal("the old secret still works after the grace period")
	}
	if _, err := f.svc.Authenticate(f.ctx, secret2); err != nil {
		t.Fatal(err)
	}
	invalid(t, try(f.env, f.owner, account.ResetToken{Tenant: f.acct, Token: rbac.Token(info.ID)}), "token")
	// Expiry rules.
	for name, req := range map[string]account.CreateToken{
		"past":            {Tenant: f.acct, Name: "x", Expires: f.now.Add(-time.Hour)},
		"six years":       {Tenant: f.acct, Name: "x", Expires: f.now.Add(6 * 365 * 24 * time.Hour)},
		"never and a day": {Tenant: f.acct, Name: "x", Expires: f.now.Add(time.Hour), NeverExpires: true},
	} {
		t.Run(name, func(t *testing.T) { invalid(t, try(f.env, f.owner, req), "expires") })
	}
	never := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "forever", NeverExpires: true})
	f.now = f.now.Add(10 * 365 * 24 * time.Hour)
	if _, err := f.svc.Authenticate(f.ctx, never.Secret); err != nil || !never.Expires.IsZero() {
		t.Fatalf("a never-expiring token expired: %v", err)
	}
	if _, err := f.svc.Authenticate(f.ctx, secret2); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatal("an expired token authenticated")
	}
	// An expired token acts as nobody.
	if err := try(f.env, rbac.Token(fresh.ID), account.CreateResource{Parent: f.proj, Kind: rbac.KindInbox, Name: "X"}); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("an expired token acted: %v", err)
	}
	do(f.env, f.owner, account.DeleteToken{Tenant: f.acct, Token: rbac.Token(never.ID)})
	if _, err := f.svc.Authenticate(f.ctx, never.Secret); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatal("a deleted token authenticated")
	}
	notFound(t, try(f.env, f.owner, account.DeleteToken{Tenant: f.acct, Token: rbac.Token(never.ID)}))
}

func TestInvalidInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	u := f.join("u@acme.test")
	long := strings.Repeat("x", account.MaxNameLen+1)
	cases := map[string]struct {
		field string
		op    func() error
	}{
		"empty name": {"name", func() error { return try(f.env, f.owner, account.RenameAccount{Account: f.acct, Name: "  "}) }},
		"long name":  {"name", func() error { return try(f.env, f.owner, account.RenameResource{Resource: f.proj, Name: long}) }},
		"control chars": {"name", func() error {
			return try(f.env, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "a\x00b"})
		}},
		"bad id": {"member.id", func() error {
			return try(f.env, f.owner, account.RemoveMember{Tenant: f.acct, Member: rbac.User("a b")})
		}},
		"bad email": {"email", func() error {
			return try(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "Ann <ann@x.test>"})
		}},
		"no at": {"email", func() error { return try(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "ann"}) }},
		"level 55": {"changes[0].level", func() error {
			return try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: change(f.proj, 55)})
		}},
		"twice": {"changes[1].scope", func() error {
			return try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}, {Scope: f.proj, Level: rbac.Admin}}})
		}},
		"content on inbox": {"changes[0].view_content", func() error {
			return try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: []account.PermissionChange{{Scope: f.inboxA, Level: rbac.Viewer, ViewContent: true}}})
		}},
		"no changes":       {"changes", func() error { return try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u}) }},
		"unknown plan":     {"plan", func() error { return try(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "gold"}) }},
		"account as child": {"resource.kind", func() error { return try(f.env, f.owner, account.DeleteResource{Resource: f.acct}) }},
		"zero scope": {"changes[0].scope.kind", func() error {
			return try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: []account.PermissionChange{{Level: rbac.Viewer}}})
		}},
		"events limit": {"page.limit", func() error {
			return ask(f.env, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: -1}})
		}},
		"members limit": {"page.limit", func() error {
			return ask(f.env, f.owner, account.Members{Tenant: f.acct, Page: account.PageRequest{Limit: account.MaxPageSize + 1}})
		}},
		"members cursor": {"page.after", func() error {
			return ask(f.env, f.owner, account.Members{Tenant: f.acct, Page: account.PageRequest{After: "not a cursor!"}})
		}},
		"unknown kind hold": {"holder.kind", func() error {
			return try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: rbac.Holder{Kind: 9, ID: "x"}, Changes: change(f.proj, rbac.Viewer)})
		}},
		"project in a project": {"parent", func() error {
			return try(f.env, f.owner, account.CreateResource{Parent: f.proj, Kind: rbac.KindProject, Name: "X"})
		}},
		"billing created": {"kind", func() error {
			return try(f.env, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindBilling, Name: "X"})
		}},
		"tenant is a project": {"tenant", func() error {
			return try(f.env, f.owner, account.Invite{Tenant: f.proj, Email: "x@acme.test"})
		}},
		"team not a team": {"teams[0]", func() error {
			return try(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "x@acme.test", Teams: []rbac.Holder{u}})
		}},
		"remove a token as member": {"member.kind", func() error {
			return try(f.env, f.owner, account.RemoveMember{Tenant: f.acct, Member: rbac.Token("tok-1")})
		}},
		"remove from the account as resource": {"scope", func() error {
			return try(f.env, f.owner, account.RemoveFromResource{Scope: f.acct, Member: u})
		}},
		"accept a user": {"invitation", func() error {
			return try(f.env, u, account.AcceptInvitation{Invitation: u})
		}},
		"token name": {"name", func() error { return try(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: ""}) }},
		"team member not a user": {"member", func() error {
			return try(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: rbac.Team("team-x"), Member: rbac.Token("t")})
		}},
		"token on billing": {"grants[0].scope", func() error {
			return try(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "x", Grants: []account.GrantSpec{grant(rbac.Billing(f.acct.ID), rbac.Viewer)}})
		}},
		"too many grants": {"changes", func() error {
			ch := make([]account.PermissionChange, account.MaxGrants+1)
			return try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: u, Changes: ch})
		}},
		"register as a user": {"actor", func() error {
			return try(f.env, f.owner, profile.Register{Email: "new@acme.test"})
		}},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := f.unchanged([]rbac.Holder{u, f.owner}, c.op)
			var ie *account.InvalidError
			if !errors.Is(err, account.ErrInvalid) || !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("err = %v, want an *InvalidError naming %q", err, c.field)
			}
		})
	}
}

func TestAuditOneEventPerChangeInOrder(t *testing.T) {
	f := newFixture(t)
	evs := get(f.env, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: 100}}).Items
	// Registering (the account's first event), the plan, then a project, two inboxes
	// and a domain.
	want := []string{"profile.register", "plan.set", "resource.create", "resource.create", "resource.create", "resource.create"}
	var got []string
	for i, e := range evs {
		got = append(got, e.Action)
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Fatal("events out of order")
		}
		if e.Actor != f.owner || e.Tenant != f.acct || !e.Time.Equal(f.now) {
			t.Fatalf("event %+v", e)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	if evs[2].Target != f.proj.String() || evs[2].After != f.acct.String() || evs[3].After != f.proj.String() {
		t.Fatalf("resource.create events name the resource and its parent: %+v", evs[2:4])
	}
	// A refused operation writes nothing (D31).
	v := f.join("v@acme.test", grant(f.acct, rbac.Viewer))
	count := func() int {
		n := 0
		for _, err := range account.All(f.ctx, f.svc, f.owner, account.Events{Tenant: f.acct}) {
			f.must(err)
			n++
		}
		return n
	}
	n := count()
	denied(t, try(f.env, v, account.RenameAccount{Account: f.acct, Name: "X"}), rbac.RuleEffective)
	if count() != n {
		t.Fatal("a refused rename wrote an event")
	}
	// A cursor goes on from where its page ended.
	first := get(f.env, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: 2}})
	page := get(f.env, f.owner, account.Events{Tenant: f.acct, Page: account.PageRequest{After: first.Next, Limit: 2}})
	if len(first.Items) != 2 || len(page.Items) != 2 || page.Items[0].Seq != evs[2].Seq || page.Next == "" {
		t.Fatalf("cursor page = %+v after %+v", page, first)
	}
	denied(t, ask(f.env, v, account.Events{Tenant: f.acct, Page: account.PageRequest{Limit: 10}}), rbac.RuleAudit)
}

func TestOrganizationsReachSubAccounts(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("o@group.test")
	org := do(e, owner, account.CreateOrganization{Name: "Group", Plan: "business"})
	if err := try(e, owner, account.CreateOrganization{Name: "G2", Plan: "team"}); !errors.Is(err, account.ErrPlan) {
		t.Fatalf("organization on the team plan: %v (D21)", err)
	}
	subA := do(e, owner, account.CreateSubAccount{Org: org.Ref, Name: "Client A"})
	viewer := e.joinTo(owner, org.Ref, "v@group.test", grant(org.Ref, rbac.Viewer))
	// D3: current and future sub-accounts.
	subB := do(e, owner, account.CreateSubAccount{Org: org.Ref, Name: "Client B"})
	p := do(e, owner, account.CreateResource{Parent: subB.Ref, Kind: rbac.KindProject, Name: "Web"})
	for _, s := range []rbac.Ref{subA.Ref, subB.Ref} {
		if !e.allowed(viewer, rbac.AccountView, s) || e.allowed(viewer, rbac.AccountRename, s) {
			t.Fatalf("org viewer on %v: wrong access (D3)", s)
		}
	}
	if !e.allowed(viewer, rbac.ProjectView, p.Ref) {
		t.Fatal("org viewer cannot see a sub-account's project")
	}
	subs, err := all(e, viewer, account.SubAccounts{Org: org.Ref})
	if err != nil || len(subs) != 2 {
		t.Fatalf("SubAccounts = %v %v", subs, err)
	}
	if page := get(e, viewer, account.SubAccounts{Org: org.Ref, Page: account.PageRequest{Limit: 1}}); len(page.Items) != 1 || page.Next == "" {
		t.Fatalf("a page of one sub-account: %+v", page)
	}
	// D18: organization users see every member of sub-accounts.
	if err := ask(e, viewer, account.Members{Tenant: subB.Ref}); err != nil {
		t.Fatalf("org viewer cannot list sub-account members: %v", err)
	}
	// C4: a sub-account's ownership does not move alone.
	denied(t, try(e, owner, account.TransferOwnership{Account: subA.Ref, To: viewer}), rbac.RuleSubOwnership)
	// D20: the seat pool is shared; a user counts once.
	if seats := get(e, owner, account.Seats{Tenant: subA.Ref}); seats.Used != 2 || seats.Limit != 100 {
		t.Fatalf("seats = %+v, want 2 of 100 (owner and viewer, once each)", seats)
	}
	// A sub-account is on its organization's plan.
	if err := try(e, owner, account.SetPlan{Account: subA.Ref, Plan: "enterprise"}); !errors.Is(err, account.ErrPlan) {
		t.Fatalf("a sub-account changed plan alone: %v", err)
	}
	do(e, owner, account.SetPlan{Account: org.Ref, Plan: "enterprise"})
	if a := get(e, owner, account.Account{Account: subB.Ref}); a.Plan != "enterprise" {
		t.Fatalf("the sub-account's plan did not follow its organization's: %q", a.Plan)
	}
	// Transferring the organization moves every sub-account with it.
	do(e, owner, account.TransferOwnership{Account: org.Ref, To: viewer})
	if !e.allowed(viewer, rbac.OrgDelete, org.Ref) {
		t.Fatal("the new owner does not own the organization")
	}
	for _, s := range []rbac.Ref{subA.Ref, subB.Ref} {
		a, err := account.Get(e.ctx, e.svc, viewer, account.Account{Account: s})
		if err != nil || a.Owner != viewer.ID || !e.allowed(viewer, rbac.AccountDelete, s) {
			t.Fatalf("the new organization owner does not own %v: %+v %v (C4)", s, a, err)
		}
	}
	do(e, viewer, account.DeleteAccount{Account: org.Ref})
	if _, err := e.svc.Check(e.ctx, viewer, rbac.AccountView, subA.Ref); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("sub-account survived its organization: %v", err)
	}
}

func TestResourceTreeAndFilters(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	iv := f.join("iv@acme.test", grant(f.inboxB, rbac.Viewer))
	tree := get(f.env, pa, account.Resources{Account: f.acct})
	if len(tree) != 1 || tree[0].Ref != f.proj || len(tree[0].Children) != 2 {
		t.Fatalf("project admin's tree = %+v", tree)
	}
	everything := get(f.env, f.owner, account.Resources{Account: f.acct})
	if len(everything) != 1 || everything[0].Ref != f.acct || everything[0].Level != rbac.Owner {
		t.Fatalf("owner's tree = %+v", everything)
	}
	if tree := get(f.env, iv, account.Resources{Account: f.acct}); len(tree) != 0 {
		t.Fatalf("viewer's tree = %+v", tree)
	}
	got, err := f.members(f.owner, f.acct, f.inboxB)
	want := []rbac.Holder{f.owner, pa, iv}
	slices.SortFunc(want, rbac.Holder.Compare)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("filtered by inbox B: %v %v, want %v", got, err, want)
	}
	// A filter on a scope of another account answers as a scope that does not exist.
	_, other := f.register("other@else.test")
	notFound(t, ask(f.env, f.owner, account.Members{Tenant: f.acct, Scopes: []rbac.Ref{rbac.Billing(other.Ref.ID)}}))
}

func TestExplainShowsWhatTheDecisionWeighed(t *testing.T) {
	f := newFixture(t)
	dev := f.join("dev@acme.test", grant(f.proj, rbac.Viewer))
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "QA"})
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: rbac.Team(team.ID), Changes: change(f.inboxA, rbac.Admin)})
	do(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: rbac.Team(team.ID), Member: dev})
	e, err := f.svc.Explain(f.ctx, dev, rbac.InboxRename, f.inboxA)
	f.must(err)
	d, err := f.svc.Check(f.ctx, dev, rbac.InboxRename, f.inboxA)
	f.must(err)
	if e.Decision != d || !d.Allowed || d.Grant.Holder != rbac.Team(team.ID) {
		t.Fatalf("Explain %+v, Check %+v", e.Decision, d)
	}
	if !slices.Equal(e.Path, rbac.Path{f.acct, f.proj, f.inboxA}) || len(e.Grants) != 2 {
		t.Fatalf("path %v grants %v", e.Path, e.Grants)
	}
	var reuse account.Explanation
	f.must(f.svc.ExplainTo(f.ctx, &reuse, dev, rbac.InboxRename, f.inboxA))
	if reuse.Decision != d || !slices.Equal(reuse.Path, e.Path) || !slices.Equal(reuse.Grants, e.Grants) {
		t.Fatalf("ExplainTo %+v, Explain %+v", reuse, e)
	}
	if _, err := f.svc.Explain(f.ctx, dev, rbac.InboxRead, rbac.Inbox("nope")); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Explain on a missing scope: %v", err)
	}
}

// Regression (state machine, 10,000-run search): an owner can hold a team place from
// before a transfer; deleting that team takes the place, and no access, from the
// owner (D9).
func TestRegression_DeleteTeamTheNewOwnerIsIn(t *testing.T) {
	f := newFixture(t)
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "Ops"})
	th := rbac.Team(team.ID)
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: th, Changes: change(f.proj, rbac.Viewer)})
	heir, _ := f.register("heir@acme.test")
	inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "heir@acme.test", Teams: []rbac.Holder{th}})
	do(f.env, heir, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	do(f.env, f.owner, account.TransferOwnership{Account: f.acct, To: heir})
	// The previous owner, now an admin, may delete the team: it targets the team.
	do(f.env, f.owner, account.DeleteTeam{Tenant: f.acct, Team: th})
	if !f.allowed(heir, rbac.AccountDelete, f.acct) || !f.allowed(heir, rbac.ProjectDelete, f.proj) || !f.allowed(heir, rbac.InboxRead, f.inboxA) {
		t.Fatal("the owner lost access with the team")
	}
	// But nobody may put the owner in a team or take the owner out of one (D9).
	t2 := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "Two"})
	denied(t, try(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: rbac.Team(t2.ID), Member: heir}), rbac.RuleOwnerImmutable)
}
