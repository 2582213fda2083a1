package account_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

func TestTransferOwnership(t *testing.T) {
	f := newFixture(t)
	a := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	stranger, _ := f.register("x@other.test")
	denied(t, f.unchanged(nil, func() error { return f.svc.TransferOwnership(f.ctx, f.owner, f.acct, stranger.ID) }), rbac.RuleTransfer)
	f.must(f.svc.TransferOwnership(f.ctx, f.owner, f.acct, a.ID))
	if !f.allowed(a, rbac.AccountDelete, f.acct) {
		t.Fatal("the new owner cannot delete the account")
	}
	// C2: the previous owner stays as account admin.
	if !f.allowed(f.owner, rbac.AccountRename, f.acct) || f.allowed(f.owner, rbac.AccountDelete, f.acct) {
		t.Fatal("the previous owner is not exactly an admin")
	}
	// D9 now protects the new owner from the old one.
	denied(t, f.svc.SetPermissions(f.ctx, f.owner, f.acct, a, []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}}), rbac.RuleOwnerImmutable)
}

func TestOwnerMustTransferBeforeLeaving(t *testing.T) {
	f := newFixture(t)
	denied(t, f.unchanged(nil, func() error { return f.svc.Leave(f.ctx, f.owner, f.acct) }), rbac.RuleLeave)
}

func TestDeleteAccountCascades(t *testing.T) {
	f := newFixture(t)
	m := f.join("m@acme.test", grant(f.inboxA, rbac.Admin))
	team, err := f.svc.CreateTeam(f.ctx, f.owner, f.acct, "QA")
	f.must(err)
	f.must(f.svc.AddTeamMember(f.ctx, f.owner, team.ID, m.ID))
	_, _, err = f.svc.CreateToken(f.ctx, f.owner, f.acct, account.TokenRequest{Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Viewer)}})
	f.must(err)
	_, err = f.svc.Invite(f.ctx, f.owner, f.acct, account.InviteRequest{Email: "later@acme.test"})
	f.must(err)
	f.must(f.svc.Delete(f.ctx, f.owner, f.acct))
	snap := f.snapshot([]rbac.Holder{m}, f.acct)
	for _, gone := range []string{"grant", "team {", "token {", "invitation {", "proj-", "inbox-"} {
		if strings.Contains(snap, gone) {
			t.Fatalf("%q survived the account's deletion (D17):\n%s", gone, snap)
		}
	}
	if _, err := f.prof.Get(f.ctx, m); err != nil {
		t.Fatalf("users must stay (D17): %v", err)
	}
}

func TestNotFoundNeverForbiddenForWhatOneCannotSee(t *testing.T) {
	f := newFixture(t)
	outsider, other := f.register("out@other.test")
	for name, err := range map[string]error{
		"rename project": f.svc.RenameResource(f.ctx, outsider, f.proj, "X"),
		"delete account": f.svc.Delete(f.ctx, outsider, f.acct),
		"list members":   func() error { _, err := f.svc.Members(f.ctx, outsider, f.acct, account.MemberFilter{}); return err }(),
		"tokens":         func() error { _, err := f.svc.Tokens(f.ctx, outsider, f.acct); return err }(),
		"transfer":       f.svc.TransferOwnership(f.ctx, outsider, f.acct, outsider.ID),
	} {
		if !errors.Is(err, account.ErrNotFound) || errors.Is(err, rbac.ErrDenied) {
			t.Errorf("%s by an outsider: %v, want ErrNotFound (existence must not leak)", name, err)
		}
	}
	// An inbox viewer knows the project exists: a refusal there is a denial.
	iv := f.join("iv@acme.test", grant(f.inboxA, rbac.Viewer))
	if err := f.svc.RenameResource(f.ctx, iv, f.proj, "X"); !errors.Is(err, rbac.ErrDenied) {
		t.Errorf("inbox viewer renaming the project: %v, want denied", err)
	}
	_ = other
}

func TestNoEscalationThroughGrants(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	other := f.join("o@acme.test")
	// A project admin cannot grant on the account, nor give owner.
	denied(t, f.unchanged(nil, func() error {
		return f.svc.SetPermissions(f.ctx, pa, f.acct, other, []account.PermissionChange{{Scope: f.acct, Level: rbac.Viewer}})
	}), rbac.RuleAdminChanges)
	denied(t, f.unchanged(nil, func() error {
		return f.svc.SetPermissions(f.ctx, pa, f.acct, other, []account.PermissionChange{{Scope: f.proj, Level: rbac.Owner}})
	}), rbac.RuleOwnerNotGrant)
	// All or nothing: one refused entry refuses the whole bulk update.
	f.unchanged(nil, func() error {
		return f.svc.SetPermissions(f.ctx, pa, f.acct, other, []account.PermissionChange{
			{Scope: f.inboxA, Level: rbac.Admin}, {Scope: f.domain, Level: rbac.Viewer},
		})
	})
}

func TestTeamGrantsCountAndFollowTheRules(t *testing.T) {
	f := newFixture(t)
	dev := f.join("dev@acme.test")
	admin := f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	team, err := f.svc.CreateTeam(f.ctx, admin, f.acct, "Developers")
	f.must(err)
	f.must(f.svc.SetPermissions(f.ctx, admin, f.acct, rbac.Team(team.ID), []account.PermissionChange{{Scope: f.proj, Level: rbac.Admin}}))
	f.must(f.svc.AddTeamMember(f.ctx, admin, team.ID, dev.ID))
	if !f.allowed(dev, rbac.InboxCreate, f.proj) {
		t.Fatal("team grant does not count (D5)")
	}
	got, err := f.svc.Members(f.ctx, dev, f.acct, account.MemberFilter{})
	if err != nil || !slices.Contains(holders(got), dev) {
		t.Fatalf("a team-made project admin cannot list members: %v", err)
	}
	// D9: the owner cannot be put in a team; D10: nor can the actor add itself.
	denied(t, f.unchanged(nil, func() error { return f.svc.AddTeamMember(f.ctx, admin, team.ID, f.owner.ID) }), rbac.RuleOwnerImmutable)
	denied(t, f.unchanged(nil, func() error { return f.svc.AddTeamMember(f.ctx, admin, team.ID, admin.ID) }), rbac.RuleNoSelfChange)
	// D10: a team member cannot change the team's grants (their own access).
	f.must(f.svc.SetPermissions(f.ctx, f.owner, f.acct, dev, []account.PermissionChange{{Scope: f.acct, Level: rbac.Admin}}))
	denied(t, f.unchanged(nil, func() error {
		return f.svc.SetPermissions(f.ctx, dev, f.acct, rbac.Team(team.ID), []account.PermissionChange{{Scope: f.domain, Level: rbac.Admin}})
	}), rbac.RuleNoSelfChange)
	f.must(f.svc.DeleteTeam(f.ctx, admin, team.ID))
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	// D22/D12: a token never holds more than its creator.
	_, _, err := f.svc.CreateToken(f.ctx, f.owner, f.acct, account.TokenRequest{Name: "x", Grants: []account.GrantSpec{grant(f.acct, rbac.Owner)}})
	denied(t, err, rbac.RuleOwnerNotGrant)
	_, _, err = f.svc.CreateToken(f.ctx, pa, f.acct, account.TokenRequest{Name: "x"})
	if !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("a project admin created an account token: %v", err)
	}
	info, secret, err := f.svc.CreateToken(f.ctx, f.owner, f.acct, account.TokenRequest{Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Admin)}})
	f.must(err)
	if info.Last4 != secret[len(secret)-4:] || len(info.Hash) != 0 || info.Expires != f.now.Add(account.DefaultTokenLifetime) {
		t.Fatalf("token info %+v (D23)", info)
	}
	tok, err := f.svc.Authenticate(f.ctx, secret)
	if err != nil || tok != rbac.Token(info.ID) {
		t.Fatalf("Authenticate = %v %v", tok, err)
	}
	if !f.allowed(tok, rbac.InboxCreate, f.proj) || f.allowed(tok, rbac.ProjectCreate, f.acct) {
		t.Fatal("the token's checks do not use its own grants (D24)")
	}
	// D24: the token cannot change its own grants.
	denied(t, f.svc.SetPermissions(f.ctx, tok, f.acct, tok, []account.PermissionChange{{Scope: f.inboxA, Level: rbac.Admin}}), rbac.RuleTokenSelf)
	for _, bad := range []string{secret[:len(secret)-1] + "x", "", "nodot", info.ID + ".00", strings.Repeat("a", 4000)} {
		if _, err := f.svc.Authenticate(f.ctx, bad); !errors.Is(err, account.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v", bad, err)
		}
	}
	// D23: reset issues a new secret with the same grants; the old one stops working
	// and cannot be reset again.
	fresh, secret2, err := f.svc.ResetToken(f.ctx, f.owner, info.ID)
	f.must(err)
	if len(fresh.Grants) != 1 || fresh.Grants[0].Scope != f.proj {
		t.Fatalf("reset lost the grants: %+v", fresh.Grants)
	}
	if _, err := f.svc.Authenticate(f.ctx, secret); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatal("the old secret still works after reset")
	}
	if _, err := f.svc.Authenticate(f.ctx, secret2); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.svc.ResetToken(f.ctx, f.owner, info.ID); !errors.Is(err, account.ErrInvalid) {
		t.Fatalf("resetting a reset token: %v", err)
	}
	// Expiry rules.
	for name, req := range map[string]account.TokenRequest{
		"past":            {Name: "x", Expires: f.now.Add(-time.Hour)},
		"six years":       {Name: "x", Expires: f.now.Add(6 * 365 * 24 * time.Hour)},
		"never and a day": {Name: "x", Expires: f.now.Add(time.Hour), NeverExpires: true},
	} {
		if _, _, err := f.svc.CreateToken(f.ctx, f.owner, f.acct, req); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	never, s3, err := f.svc.CreateToken(f.ctx, f.owner, f.acct, account.TokenRequest{Name: "forever", NeverExpires: true})
	f.must(err)
	f.now = f.now.Add(10 * 365 * 24 * time.Hour)
	if _, err := f.svc.Authenticate(f.ctx, s3); err != nil || !never.Expires.IsZero() {
		t.Fatalf("a never-expiring token expired: %v", err)
	}
	if _, err := f.svc.Authenticate(f.ctx, secret2); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatal("an expired token authenticated")
	}
}

func TestInvalidInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	u := f.join("u@acme.test")
	long := strings.Repeat("x", account.MaxNameLen+1)
	cases := map[string]func() error{
		"empty name":    func() error { return f.svc.Rename(f.ctx, f.owner, f.acct, "  ") },
		"long name":     func() error { return f.svc.RenameResource(f.ctx, f.owner, f.proj, long) },
		"control chars": func() error { _, err := f.svc.CreateProject(f.ctx, f.owner, f.acct.ID, "a\x00b"); return err },
		"bad id":        func() error { return f.svc.RemoveMember(f.ctx, f.owner, f.acct, "a b") },
		"bad email": func() error {
			_, err := f.svc.Invite(f.ctx, f.owner, f.acct, account.InviteRequest{Email: "Ann <ann@x.test>"})
			return err
		},
		"no at": func() error {
			_, err := f.svc.Invite(f.ctx, f.owner, f.acct, account.InviteRequest{Email: "ann"})
			return err
		},
		"level 55": func() error {
			return f.svc.SetPermissions(f.ctx, f.owner, f.acct, u, []account.PermissionChange{{Scope: f.proj, Level: 55}})
		},
		"twice": func() error {
			return f.svc.SetPermissions(f.ctx, f.owner, f.acct, u, []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}, {Scope: f.proj, Level: rbac.Admin}})
		},
		"content on inbox": func() error {
			return f.svc.SetPermissions(f.ctx, f.owner, f.acct, u, []account.PermissionChange{{Scope: f.inboxA, Level: rbac.Viewer, ViewContent: true}})
		},
		"no changes":       func() error { return f.svc.SetPermissions(f.ctx, f.owner, f.acct, u, nil) },
		"unknown plan":     func() error { return f.svc.SetPlan(f.ctx, f.owner, f.acct, "gold") },
		"account as child": func() error { return f.svc.DeleteResource(f.ctx, f.owner, f.acct) },
		"zero scope": func() error {
			return f.svc.SetPermissions(f.ctx, f.owner, f.acct, u, []account.PermissionChange{{Level: rbac.Viewer}})
		},
		"events limit": func() error { _, err := f.svc.Events(f.ctx, f.owner, f.acct, 0, 0); return err },
		"unknown kind hold": func() error {
			return f.svc.SetPermissions(f.ctx, f.owner, f.acct, rbac.Holder{Kind: 9, ID: "x"}, []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}})
		},
	}
	for name, op := range cases {
		t.Run(name, func(t *testing.T) {
			err := f.unchanged([]rbac.Holder{u}, op)
			var ie *account.InvalidError
			if !errors.Is(err, account.ErrInvalid) || !errors.As(err, &ie) || ie.Field == "" {
				t.Fatalf("err = %v, want an *InvalidError naming the field", err)
			}
		})
	}
}

func TestAuditOneEventPerChangeInOrder(t *testing.T) {
	f := newFixture(t)
	evs, err := f.svc.Events(f.ctx, f.owner, f.acct, 0, 100)
	f.must(err)
	// account.create, plan.set, project.create, 2 × inbox.create, domain.create
	want := []string{"account.create", "plan.set", "project.create", "inbox.create", "inbox.create", "domain.create"}
	var got []string
	for i, e := range evs {
		got = append(got, e.Action)
		if i > 0 && e.Seq <= evs[i-1].Seq {
			t.Fatal("events out of order")
		}
		if e.Actor != f.owner || e.Tenant != f.acct {
			t.Fatalf("event %+v", e)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	// A refused operation writes nothing (D31).
	v := f.join("v@acme.test", grant(f.acct, rbac.Viewer))
	last := evs[len(evs)-1].Seq
	after, _ := f.svc.Events(f.ctx, f.owner, f.acct, last, 100)
	_ = f.svc.Rename(f.ctx, v, f.acct, "X")
	again, _ := f.svc.Events(f.ctx, f.owner, f.acct, last, 100)
	if len(again) != len(after) {
		t.Fatal("a refused rename wrote an event")
	}
	page, _ := f.svc.Events(f.ctx, f.owner, f.acct, evs[1].Seq, 2)
	if len(page) != 2 || page[0].Seq != evs[2].Seq {
		t.Fatalf("cursor page = %+v", page)
	}
	if _, err := f.svc.Events(f.ctx, v, f.acct, 0, 10); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("a viewer read the audit log: %v", err)
	}
}

func TestOrganizationsReachSubAccounts(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("o@group.test")
	org, err := e.svc.CreateOrganization(e.ctx, owner, "Group", "business")
	e.must(err)
	if _, err := e.svc.CreateOrganization(e.ctx, owner, "G2", "team"); !errors.Is(err, account.ErrPlan) {
		t.Fatalf("organization on the team plan: %v (D21)", err)
	}
	subA, err := e.svc.CreateSubAccount(e.ctx, owner, org.Ref.ID, "Client A")
	e.must(err)
	viewer, _ := e.register("v@group.test")
	inv, err := e.svc.Invite(e.ctx, owner, org.Ref, account.InviteRequest{Email: "v@group.test", Grants: []account.GrantSpec{grant(org.Ref, rbac.Viewer)}})
	e.must(err)
	e.must(e.svc.AcceptInvitation(e.ctx, viewer, inv.ID))
	// D3: current and future sub-accounts.
	subB, err := e.svc.CreateSubAccount(e.ctx, owner, org.Ref.ID, "Client B")
	e.must(err)
	p, err := e.svc.CreateProject(e.ctx, owner, subB.Ref.ID, "Web")
	e.must(err)
	for _, s := range []rbac.Ref{subA.Ref, subB.Ref} {
		if !e.allowed(viewer, rbac.AccountView, s) || e.allowed(viewer, rbac.AccountRename, s) {
			t.Fatalf("org viewer on %v: wrong access (D3)", s)
		}
	}
	if !e.allowed(viewer, rbac.ProjectView, p.Ref) {
		t.Fatal("org viewer cannot see a sub-account's project")
	}
	subs, err := e.svc.SubAccounts(e.ctx, viewer, org.Ref.ID)
	if err != nil || len(subs) != 2 {
		t.Fatalf("SubAccounts = %v %v", subs, err)
	}
	// D18: organization users see every member of sub-accounts.
	if _, err := e.svc.Members(e.ctx, viewer, subB.Ref, account.MemberFilter{}); err != nil {
		t.Fatalf("org viewer cannot list sub-account members: %v", err)
	}
	// C4: a sub-account's ownership does not move alone.
	denied(t, e.svc.TransferOwnership(e.ctx, owner, subA.Ref, viewer.ID), rbac.RuleSubOwnership)
	// D20: the seat pool is shared; a user counts once.
	used, _, err := e.svc.Seats(e.ctx, owner, subA.Ref)
	if err != nil || used != 2 {
		t.Fatalf("seats = %d %v, want 2 (owner and viewer, once each)", used, err)
	}
	// Transferring the organization moves every sub-account with it.
	e.must(e.svc.TransferOwnership(e.ctx, owner, org.Ref, viewer.ID))
	if !e.allowed(viewer, rbac.OrgDelete, org.Ref) {
		t.Fatal("the new owner does not own the organization")
	}
	for _, s := range []rbac.Ref{subA.Ref, subB.Ref} {
		a, err := e.svc.Get(e.ctx, viewer, s)
		if err != nil || a.Owner != viewer.ID || !e.allowed(viewer, rbac.AccountDelete, s) {
			t.Fatalf("the new organization owner does not own %v: %+v %v (C4)", s, a, err)
		}
	}
	e.must(e.svc.Delete(e.ctx, viewer, org.Ref))
	if _, err := e.svc.Check(e.ctx, viewer, rbac.AccountView, subA.Ref); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("sub-account survived its organization: %v", err)
	}
}

func TestResourceTreeAndFilters(t *testing.T) {
	f := newFixture(t)
	pa := f.join("pa@acme.test", grant(f.proj, rbac.Admin))
	iv := f.join("iv@acme.test", grant(f.inboxB, rbac.Viewer))
	tree, err := f.svc.Resources(f.ctx, pa, f.acct.ID)
	if err != nil || len(tree) != 1 || tree[0].Ref != f.proj || len(tree[0].Children) != 2 {
		t.Fatalf("project admin's tree = %+v %v", tree, err)
	}
	all, err := f.svc.Resources(f.ctx, f.owner, f.acct.ID)
	if err != nil || len(all) != 1 || all[0].Ref != f.acct || all[0].Level != rbac.Owner {
		t.Fatalf("owner's tree = %+v %v", all, err)
	}
	if tree, err := f.svc.Resources(f.ctx, iv, f.acct.ID); err != nil || len(tree) != 0 {
		t.Fatalf("viewer's tree = %+v %v", tree, err)
	}
	got, err := f.svc.Members(f.ctx, f.owner, f.acct, account.MemberFilter{Scopes: []rbac.Ref{f.inboxB}})
	want := []rbac.Holder{f.owner, pa, iv}
	slices.SortFunc(want, rbac.Holder.Compare)
	if err != nil || !slices.Equal(holders(got), want) {
		t.Fatalf("filtered by inbox B: %v %v, want %v", holders(got), err, want)
	}
}

func TestExplainShowsWhatTheDecisionWeighed(t *testing.T) {
	f := newFixture(t)
	dev := f.join("dev@acme.test", grant(f.proj, rbac.Viewer))
	team, err := f.svc.CreateTeam(f.ctx, f.owner, f.acct, "QA")
	f.must(err)
	f.must(f.svc.SetPermissions(f.ctx, f.owner, f.acct, rbac.Team(team.ID), []account.PermissionChange{{Scope: f.inboxA, Level: rbac.Admin}}))
	f.must(f.svc.AddTeamMember(f.ctx, f.owner, team.ID, dev.ID))
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
	if _, err := f.svc.Explain(f.ctx, dev, rbac.InboxRead, rbac.Inbox("nope")); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Explain on a missing scope: %v", err)
	}
}

// Regression (state machine, 10,000-run search): an owner can hold a team place from
// before a transfer; deleting that team takes the place, and no access, from the
// owner (D9).
func TestRegression_DeleteTeamTheNewOwnerIsIn(t *testing.T) {
	f := newFixture(t)
	team, err := f.svc.CreateTeam(f.ctx, f.owner, f.acct, "Ops")
	f.must(err)
	f.must(f.svc.SetPermissions(f.ctx, f.owner, f.acct, rbac.Team(team.ID), []account.PermissionChange{{Scope: f.proj, Level: rbac.Viewer}}))
	heir, _ := f.register("heir@acme.test")
	inv, err := f.svc.Invite(f.ctx, f.owner, f.acct, account.InviteRequest{Email: "heir@acme.test", Teams: []string{team.ID}})
	f.must(err)
	f.must(f.svc.AcceptInvitation(f.ctx, heir, inv.ID))
	f.must(f.svc.TransferOwnership(f.ctx, f.owner, f.acct, heir.ID))
	// The previous owner, now an admin, may delete the team: it targets the team.
	f.must(f.svc.DeleteTeam(f.ctx, f.owner, team.ID))
	if !f.allowed(heir, rbac.AccountDelete, f.acct) || !f.allowed(heir, rbac.ProjectDelete, f.proj) || !f.allowed(heir, rbac.InboxRead, f.inboxA) {
		t.Fatal("the owner lost access with the team")
	}
	// But nobody may put the owner in a team or take the owner out of one (D9).
	t2, err := f.svc.CreateTeam(f.ctx, f.owner, f.acct, "Two")
	f.must(err)
	denied(t, f.svc.AddTeamMember(f.ctx, f.owner, t2.ID, heir.ID), rbac.RuleOwnerImmutable)
}
