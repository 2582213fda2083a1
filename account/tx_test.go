package account_test

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

func TestAuthorize(t *testing.T) {
	f := newFixture(t)
	iv := f.join("iv@acme.test", grant(f.inboxA, rbac.Viewer))
	zero := f.join("zero@acme.test")
	stranger, _ := f.register("x@else.test")
	tok := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Admin)}})

	// Allowed: nil.
	for _, c := range []struct {
		h rbac.Holder
		a rbac.Action
		s rbac.Ref
	}{
		{f.owner, rbac.AccountDelete, f.acct},
		{iv, rbac.InboxRead, f.inboxA},
		{rbac.Token(tok.ID), rbac.InboxCreate, f.proj},
	} {
		if err := f.svc.Authorize(f.ctx, c.h, c.a, c.s); err != nil {
			t.Errorf("Authorize(%v, %v, %v) = %v, want nil", c.h, c.a, c.s, err)
		}
	}
	// An action on the wrong kind of scope is refused as such.
	var wrong *rbac.DeniedError
	if err := f.svc.Authorize(f.ctx, f.owner, rbac.OrgView, f.acct); !errors.As(err, &wrong) || wrong.Decision.Rule != rbac.RuleWrongKind {
		t.Errorf("Authorize(org.view on an account) = %v, want a denial by %s", err, rbac.RuleWrongKind)
	}
	// Seen but not allowed: the decision, as Check makes it.
	for _, c := range []struct {
		h rbac.Holder
		a rbac.Action
		s rbac.Ref
	}{
		{iv, rbac.InboxRename, f.inboxA},                 // viewer
		{iv, rbac.ProjectRename, f.proj},                 // knows the project from its inbox
		{iv, rbac.AccountRename, f.acct},                 // knows the account
		{zero, rbac.AccountView, f.acct},                 // a member without any access
		{rbac.Token(tok.ID), rbac.AccountRename, f.acct}, // the token knows its account
	} {
		err := f.svc.Authorize(f.ctx, c.h, c.a, c.s)
		var de *rbac.DeniedError
		if !errors.As(err, &de) || !errors.Is(err, rbac.ErrDenied) || errors.Is(err, account.ErrNotFound) {
			t.Errorf("Authorize(%v, %v, %v) = %v, want *rbac.DeniedError", c.h, c.a, c.s, err)
			continue
		}
		d, cerr := f.svc.Check(f.ctx, c.h, c.a, c.s)
		if cerr != nil || d != de.Decision {
			t.Errorf("Authorize's decision %+v, Check's %+v %v", de.Decision, d, cerr)
		}
	}
	// Unseen and missing answer alike: ErrNotFound with the same text, whatever was
	// asked.
	var texts []string
	for _, c := range []struct {
		h rbac.Holder
		a rbac.Action
		s rbac.Ref
	}{
		{stranger, rbac.InboxRead, f.inboxA},
		{stranger, rbac.AccountView, f.acct},
		{iv, rbac.InboxRead, f.inboxB}, // a sibling of its inbox
		{iv, rbac.DomainView, f.domain},
		{rbac.Token(tok.ID), rbac.DomainView, f.domain},
		{stranger, rbac.InboxRead, rbac.Inbox("no-such-inbox")},
		{f.owner, rbac.InboxRead, rbac.Inbox("no-such-inbox")},
		{f.owner, rbac.AccountView, rbac.Account("no-such-account")},
	} {
		err := f.svc.Authorize(f.ctx, c.h, c.a, c.s)
		if !errors.Is(err, account.ErrNotFound) || errors.Is(err, rbac.ErrDenied) {
			t.Errorf("Authorize(%v, %v, %v) = %v, want ErrNotFound", c.h, c.a, c.s, err)
			continue
		}
		texts = append(texts, err.Error())
	}
	if len(texts) == 0 || len(slices.Compact(slices.Clone(texts))) != 1 {
		t.Errorf("not-found answers differ: %q", texts)
	}
	// After removal, the removed member is a stranger again.
	do(f.env, f.owner, account.RemoveMember{Tenant: f.acct, Member: zero})
	notFound(t, f.svc.Authorize(f.ctx, zero, rbac.AccountView, f.acct))
}

func TestViewIsReadOnly(t *testing.T) {
	f := newFixture(t)
	before := f.snapshot([]rbac.Holder{f.owner}, f.acct)
	var read store.Account
	err := f.svc.View(f.ctx, func(ctx context.Context, tx *account.Tx) error {
		var err error
		read, err = account.Read(ctx, tx, f.owner, account.Account{Account: f.acct})
		if err != nil {
			return err
		}
		if _, err := account.Run(ctx, tx, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "X"}); !errors.Is(err, account.ErrReadOnly) {
			t.Errorf("Run in a View: %v, want ErrReadOnly", err)
		}
		if _, err := account.Run(ctx, tx, f.owner, account.RenameAccount{Account: f.acct, Name: "X"}); !errors.Is(err, account.ErrReadOnly) {
			t.Errorf("Run in a View: %v, want ErrReadOnly", err)
		}
		if _, err := account.Run(ctx, tx, rbac.Holder{}, profile.Register{Email: "x@acme.test"}); !errors.Is(err, account.ErrReadOnly) {
			t.Errorf("Register in a View: %v, want ErrReadOnly", err)
		}
		// Queries still answer after a refused change.
		_, err = account.Read(ctx, tx, f.owner, account.Resource{Resource: f.proj})
		return err
	})
	f.must(err)
	if read.Ref != f.acct || read.Owner != f.owner.ID {
		t.Fatalf("Read in a View: %+v", read)
	}
	if after := f.snapshot([]rbac.Holder{f.owner}, f.acct); after != before {
		t.Fatalf("a View changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestUpdateCommitsTogetherOrNotAtAll(t *testing.T) {
	f := newFixture(t)
	before := f.snapshot([]rbac.Holder{f.owner}, f.acct)
	boom := errors.New("boom")
	err := f.svc.Update(f.ctx, func(ctx context.Context, tx *account.Tx) error {
		p, err := account.Run(ctx, tx, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "API"})
		if err != nil {
			return err
		}
		// Reads inside the transaction see its own writes.
		r, err := account.Read(ctx, tx, f.owner, account.Resource{Resource: p.Ref})
		if err != nil || r.Name != "API" {
			t.Errorf("Read of an uncommitted resource: %+v %v", r, err)
		}
		if _, err := account.Run(ctx, tx, f.owner, account.RenameAccount{Account: f.acct, Name: "Renamed"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the closure's error", err)
	}
	if after := f.snapshot([]rbac.Holder{f.owner}, f.acct); after != before {
		t.Fatalf("a failed Update changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// A refused operation fails the whole transaction when its error is returned.
	v := f.join("v@acme.test", grant(f.acct, rbac.Viewer))
	before = f.snapshot([]rbac.Holder{f.owner, v}, f.acct)
	err = f.svc.Update(f.ctx, func(ctx context.Context, tx *account.Tx) error {
		if _, err := account.Run(ctx, tx, f.owner, account.RenameAccount{Account: f.acct, Name: "Renamed"}); err != nil {
			return err
		}
		_, err := account.Run(ctx, tx, v, account.RenameAccount{Account: f.acct, Name: "Again"})
		return err
	})
	denied(t, err, rbac.RuleEffective)
	if after := f.snapshot([]rbac.Holder{f.owner, v}, f.acct); after != before {
		t.Fatalf("a refused Update changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	// And both commit together.
	var p store.Resource
	err = f.svc.Update(f.ctx, func(ctx context.Context, tx *account.Tx) error {
		var err error
		if p, err = account.Run(ctx, tx, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "API"}); err != nil {
			return err
		}
		_, err = account.Run(ctx, tx, f.owner, account.SetPermissions{Tenant: f.acct, Holder: v, Changes: change(p.Ref, rbac.Admin)})
		return err
	})
	f.must(err)
	if !f.allowed(v, rbac.InboxCreate, p.Ref) {
		t.Fatal("the second operation of a committed Update is missing")
	}
	evs, err := all(f.env, f.owner, account.Events{Tenant: f.acct})
	f.must(err)
	if n := len(evs); evs[n-2].Action != "resource.create" || evs[n-1].Action != "permissions.set" {
		t.Fatalf("the last events: %+v", evs[n-2:])
	}
}

func TestJoinRunsInTheHostsTransaction(t *testing.T) {
	f := newFixture(t)
	users := []rbac.Holder{f.owner, rbac.User("host-user")}
	before := f.snapshot(users, f.acct)
	boom := errors.New("host failed")
	// The host writes its own records (here, a user of its own) in the same
	// transaction; when it fails, the operation's changes go too.
	err := f.st.Update(f.ctx, func(ctx context.Context, w store.Writer) error {
		tx := f.svc.Join(w)
		if _, err := account.Run(ctx, tx, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindDomain, Name: "d.acme.test"}); err != nil {
			return err
		}
		if err := w.InsertUser(ctx, store.User{ID: "host-user", Email: "host@acme.test", Created: f.now}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("host Update = %v", err)
	}
	if after := f.snapshot(users, f.acct); after != before {
		t.Fatalf("a rolled-back host transaction left changes:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	var d store.Resource
	err = f.st.Update(f.ctx, func(ctx context.Context, w store.Writer) error {
		tx := f.svc.Join(w)
		var err error
		if d, err = account.Run(ctx, tx, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindDomain, Name: "d.acme.test"}); err != nil {
			return err
		}
		// Read sees the operation's write before the host commits.
		if _, err := account.Read(ctx, tx, f.owner, account.Resource{Resource: d.Ref}); err != nil {
			return err
		}
		return w.InsertUser(ctx, store.User{ID: "host-user", Email: "host@acme.test", Created: f.now})
	})
	f.must(err)
	if r := get(f.env, f.owner, account.Resource{Resource: d.Ref}); r.Name != "d.acme.test" {
		t.Fatalf("the joined operation did not commit: %+v", r)
	}
	err = f.st.View(f.ctx, func(ctx context.Context, r store.Reader) error {
		_, err := r.User(ctx, "host-user")
		return err
	})
	if err != nil {
		t.Fatalf("the host's own write did not commit: %v", err)
	}
}

// Every operation's Op is the Action of the one audit event it writes (D31): each
// operation below succeeds and adds exactly one event, with its name.
func TestOpIsTheAuditAction(t *testing.T) {
	e := newEnv(t)
	var tenants []rbac.Ref // every log written to, the profile log (zero) first
	tenants = append(tenants, rbac.Ref{})
	lastEvent := func() (store.Event, int) {
		t.Helper()
		var last store.Event
		n := 0
		err := e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
			for _, tn := range tenants {
				evs, err := r.Events(ctx, tn, 0, account.MaxPageSize)
				if err != nil {
					return err
				}
				n += len(evs)
				for _, ev := range evs {
					if ev.Seq > last.Seq {
						last = ev
					}
				}
			}
			return nil
		})
		e.must(err)
		return last, n
	}

	var (
		owner, admin, member, leaver, heir rbac.Holder
		acct, org, sub                     rbac.Ref
		proj, inbox                        store.Resource
		team                               store.Team
		tok                                account.NewToken
		inv, gone                          account.NewInvitation
		many                               []account.NewInvitation
		link                               account.NewInviteLink
	)
	reg := func(email string, who *rbac.Holder) func() (string, error) {
		return func() (string, error) {
			op := profile.Register{Email: email}
			r, err := account.Do(e.ctx, e.svc, rbac.Holder{}, op)
			*who = rbac.User(r.User.ID)
			if err == nil && email == "owner@acme.test" {
				acct = r.Account.Ref
			}
			tenants = append(tenants, r.Account.Ref)
			return op.Op(), err
		}
	}
	steps := []func() (string, error){
		reg("owner@acme.test", &owner),
		reg("admin@acme.test", &admin),
		reg("member@acme.test", &member),
		reg("leaver@acme.test", &leaver),
		reg("heir@acme.test", &heir),
		func() (string, error) { return step(e, owner, account.SetPlan{Account: acct, Plan: "business"}, nil) },
		func() (string, error) { return step(e, owner, account.RenameAccount{Account: acct, Name: "Acme"}, nil) },
		func() (string, error) {
			return step(e, owner, account.CreateResource{Parent: acct, Kind: rbac.KindProject, Name: "Web"}, &proj)
		},
		func() (string, error) {
			return step(e, owner, account.CreateResource{Parent: proj.Ref, Kind: rbac.KindInbox, Name: "A"}, &inbox)
		},
		func() (string, error) {
			return step(e, owner, account.RenameResource{Resource: inbox.Ref, Name: "B"}, nil)
		},
		func() (string, error) {
			return step(e, owner, account.Invite{Tenant: acct, Email: "admin@acme.test", Grants: []account.GrantSpec{grant(acct, rbac.Admin)}}, &inv)
		},
		func() (string, error) {
			return step(e, admin, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}, nil)
		},
		func() (string, error) {
			return step(e, owner, account.Invite{Tenant: acct, Email: "member@acme.test"}, &inv)
		},
		func() (string, error) {
			return step(e, member, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}, nil)
		},
		func() (string, error) {
			return step(e, owner, account.Invite{Tenant: acct, Email: "leaver@acme.test"}, &inv)
		},
		func() (string, error) {
			return step(e, leaver, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}, nil)
		},
		func() (string, error) { return step(e, leaver, account.Leave{Account: acct}, nil) },
		func() (string, error) {
			return step(e, owner, account.Invite{Tenant: acct, Email: "heir@acme.test"}, &inv)
		},
		func() (string, error) {
			return step(e, heir, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.Invite{Tenant: acct, Email: "nobody@acme.test"}, &gone)
		},
		func() (string, error) {
			return step(e, admin, account.RevokeInvitation{Tenant: acct, Invitation: rbac.Invite(gone.ID)}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.InviteMany{Tenant: acct, Emails: []string{"x@acme.test", "joiner@acme.test"}}, &many)
		},
		func() (string, error) {
			return step(e, admin, account.ResendInvitation{Tenant: acct, Invitation: rbac.Invite(many[0].ID)}, nil)
		},
		func() (string, error) {
			var u profile.Registered
			if _, err := step(e, rbac.Holder{}, profile.Register{Email: "joiner@acme.test"}, &u); err != nil {
				return "", err
			}
			tenants = append(tenants, u.Account.Ref)
			return step(e, rbac.User(u.User.ID), account.DeclineInvitation{Invitation: rbac.Invite(many[1].ID), Secret: many[1].Secret}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.CreateInviteLink{Tenant: acct, Level: rbac.Viewer, Scopes: []rbac.Ref{proj.Ref}}, &link)
		},
		func() (string, error) {
			return step(e, admin, account.RotateInviteLink{Tenant: acct, Link: link.ID}, &link)
		},
		func() (string, error) {
			var u profile.Registered
			if _, err := step(e, rbac.Holder{}, profile.Register{Email: "linked@acme.test"}, &u); err != nil {
				return "", err
			}
			tenants = append(tenants, u.Account.Ref)
			return step(e, rbac.User(u.User.ID), account.JoinByLink{Link: link.ID, Secret: link.Secret}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.DisableInviteLink{Tenant: acct, Link: link.ID}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.DeleteInviteLink{Tenant: acct, Link: link.ID}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.SetPermissions{Tenant: acct, Holder: member, Changes: change(proj.Ref, rbac.Admin)}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.RemoveFromResource{Scope: proj.Ref, Member: member}, nil)
		},
		func() (string, error) { return step(e, admin, account.CreateTeam{Tenant: acct, Name: "QA"}, &team) },
		func() (string, error) {
			return step(e, admin, account.RenameTeam{Tenant: acct, Team: rbac.Team(team.ID), Name: "Quality"}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.AddTeamMember{Tenant: acct, Team: rbac.Team(team.ID), Member: member}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.RemoveTeamMember{Tenant: acct, Team: rbac.Team(team.ID), Member: member}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.DeleteTeam{Tenant: acct, Team: rbac.Team(team.ID)}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.CreateToken{Tenant: acct, Name: "ci", Grants: []account.GrantSpec{grant(proj.Ref, rbac.Viewer)}}, &tok)
		},
		func() (string, error) {
			return step(e, admin, account.SetTokenAllowlist{Tenant: acct, Token: rbac.Token(tok.ID), IPAllowlist: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.ResetToken{Tenant: acct, Token: rbac.Token(tok.ID)}, &tok)
		},
		func() (string, error) {
			return step(e, owner, account.ReassignToken{Tenant: acct, Token: rbac.Token(tok.ID)}, nil)
		},
		func() (string, error) {
			return step(e, admin, account.DeleteToken{Tenant: acct, Token: rbac.Token(tok.ID)}, nil)
		},
		func() (string, error) {
			e.now = e.now.Add(400 * 24 * time.Hour) // the old token's grace ended; a year and more passed
			var n int
			return step(e, rbac.Holder{}, account.SweepTokens{}, &n)
		},
		func() (string, error) {
			do(e, owner, profile.SetTwoFactor{On: true})
			ctx := account.WithAuth(e.ctx, rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("10.1.1.1")})
			op := account.SetSecurityPolicy{Tenant: acct, Require2FA: e.now.Add(time.Hour)}
			_, err := account.Do(ctx, e.svc, owner, op)
			return op.Op(), err
		},
		func() (string, error) { return step(e, admin, account.DeleteResource{Resource: inbox.Ref}, nil) },
		func() (string, error) { return step(e, admin, account.RemoveMember{Tenant: acct, Member: member}, nil) },
		func() (string, error) {
			var a store.Account
			name, err := step(e, owner, account.CreateOrganization{Name: "Group", Plan: "business"}, &a)
			org = a.Ref
			tenants = append(tenants, org)
			return name, err
		},
		func() (string, error) {
			var a store.Account
			name, err := step(e, owner, account.CreateSubAccount{Org: org, Name: "Client"}, &a)
			sub = a.Ref
			tenants = append(tenants, sub)
			return name, err
		},
		func() (string, error) {
			return step(e, owner, account.RenameAccount{Account: org, Name: "Group Inc"}, nil)
		},
		func() (string, error) {
			var a store.Account
			name, err := step(e, member, account.CreateAccount{Name: "Mine"}, &a)
			tenants = append(tenants, a.Ref)
			return name, err
		},
		func() (string, error) { return step(e, owner, account.TransferOwnership{Account: acct, To: heir}, nil) },
		func() (string, error) { return step(e, owner, account.DeleteAccount{Account: org}, nil) },
		func() (string, error) { return step(e, member, profile.Rename{Name: "M"}, nil) },
		func() (string, error) { return step(e, member, profile.ChangeEmail{Email: "m2@acme.test"}, nil) },
		func() (string, error) { return step(e, member, profile.SetTimeZone{TimeZone: "Europe/Riga"}, nil) },
		func() (string, error) {
			return step(e, member, profile.LinkOAuth{Provider: "github", Subject: "1"}, nil)
		},
		func() (string, error) {
			return step(e, member, profile.UnlinkOAuth{Provider: "github", Subject: "1"}, nil)
		},
		func() (string, error) { return step(e, member, profile.SetTwoFactor{On: true}, nil) },
		func() (string, error) { return step(e, member, profile.Delete{Confirm: "m2@acme.test"}, nil) },
	}
	done := map[string]bool{}
	_, n := lastEvent()
	for i, s := range steps {
		name, err := s()
		if err != nil {
			t.Fatalf("step %d (%s): %v", i, name, err)
		}
		last, m := lastEvent()
		if m < n+1 {
			t.Fatalf("step %d (%s) wrote %d events, want one in each account it changed", i, name, m-n)
		}
		n = m
		if last.Action != name {
			t.Fatalf("step %d: the event of %s is %q (%+v)", i, name, last.Action, last)
		}
		done[name] = true
	}
	// Every operation type was run.
	for _, op := range []interface{ Op() string }{
		account.CreateAccount{}, account.CreateOrganization{}, account.CreateSubAccount{}, account.RenameAccount{},
		account.DeleteAccount{}, account.TransferOwnership{}, account.Leave{}, account.SetPlan{},
		account.Invite{}, account.AcceptInvitation{}, account.RevokeInvitation{},
		account.SetPermissions{}, account.RemoveFromResource{}, account.RemoveMember{},
		account.CreateResource{}, account.RenameResource{}, account.DeleteResource{},
		account.CreateTeam{}, account.RenameTeam{}, account.DeleteTeam{}, account.AddTeamMember{}, account.RemoveTeamMember{},
		account.CreateToken{}, account.ResetToken{}, account.ReassignToken{}, account.DeleteToken{},
		account.InviteMany{}, account.ResendInvitation{}, account.DeclineInvitation{},
		account.CreateInviteLink{}, account.RotateInviteLink{}, account.DisableInviteLink{}, account.DeleteInviteLink{},
		account.JoinByLink{}, account.SweepTokens{}, account.SetTokenAllowlist{}, account.SetSecurityPolicy{},
		profile.Register{}, profile.Rename{}, profile.ChangeEmail{}, profile.SetTimeZone{}, profile.LinkOAuth{},
		profile.UnlinkOAuth{}, profile.SetTwoFactor{}, profile.Delete{},
	} {
		if !done[op.Op()] {
			t.Errorf("%T (%s) was not run", op, op.Op())
		}
	}
}

// step runs op as actor, stores its result in out when given, and returns op's name.
func step[R any](e *env, actor rbac.Holder, op account.Op[R], out *R) (string, error) {
	r, err := account.Do(e.ctx, e.svc, actor, op)
	if out != nil && err == nil {
		*out = r
	}
	return op.Op(), err
}
