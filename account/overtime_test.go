package account_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

const day = 24 * time.Hour

// D36: an invitation expires after 7 days (or the inviter's choice within bounds);
// expired, it cannot be accepted, is listed as expired, holds no seat, and is not in
// its invitee's pending list; resending renews it with a new secret.
func TestInvitationExpiry(t *testing.T) {
	f := newFixture(t)
	bob, _ := f.register("bob@acme.test")
	seats := func() int { return get(f.env, f.owner, account.Seats{Tenant: f.acct}).Used }
	before := seats()
	inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "bob@acme.test", Grants: []account.GrantSpec{grant(f.proj, rbac.Viewer)}})
	if want := f.now.Add(account.DefaultInvitationTTL); !inv.Expires.Equal(want) {
		t.Fatalf("expires %v, want %v", inv.Expires, want)
	}
	if seats() != before+1 {
		t.Fatal("a pending invitation holds no seat (C3)")
	}
	if got := get(f.env, bob, account.MyInvitations{}).Items; len(got) != 1 || got[0].ID != inv.ID || len(got[0].Hash) != 0 {
		t.Fatalf("MyInvitations = %+v", got)
	}
	for _, bad := range []time.Duration{time.Minute, account.DefaultMaxInvitationTTL + time.Hour} {
		invalid(t, try(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "cy@acme.test", ExpiresIn: bad}), "expires_in")
	}

	f.now = inv.Expires
	listed := get(f.env, f.owner, account.Members{Tenant: f.acct}).Items
	i := slices.IndexFunc(listed, func(a account.Access) bool { return a.Holder == rbac.Invite(inv.ID) })
	if i < 0 || !listed[i].Expired {
		t.Fatalf("the expired invitation is not listed as expired: %+v", listed)
	}
	if seats() != before {
		t.Fatal("an expired invitation still holds a seat (D36)")
	}
	if got := get(f.env, bob, account.MyInvitations{}).Items; len(got) != 0 {
		t.Fatalf("MyInvitations lists an expired invitation: %+v", got)
	}
	err := f.unchangedIn([]rbac.Holder{bob, f.owner}, []rbac.Ref{f.acct}, func() error {
		return try(f.env, bob, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	})
	if !errors.Is(err, account.ErrExpired) {
		t.Fatalf("accepting an expired invitation: %v, want ErrExpired", err)
	}
	if !errors.Is(try(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "bob@acme.test"}), account.ErrExists) {
		t.Fatal("inviting the address of an expired invitation should ask for a resend")
	}

	// Resend: a new secret, a new expiry; the old secret no longer works.
	again := do(f.env, f.owner, account.ResendInvitation{Tenant: f.acct, Invitation: rbac.Invite(inv.ID), ExpiresIn: 2 * day})
	if again.Secret == inv.Secret || !again.Expires.Equal(f.now.Add(2*day)) {
		t.Fatalf("resend gave secret %q expiring %v", again.Secret, again.Expires)
	}
	notFound(t, try(f.env, bob, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))
	do(f.env, bob, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: again.Secret})
	if !f.allowed(bob, rbac.ProjectView, f.proj) {
		t.Fatal("the accepted invitation's grant is missing")
	}
}

// D36: the invitee declines with the secret; anyone else, or without it, is told the
// invitation does not exist.
func TestDeclineInvitation(t *testing.T) {
	f := newFixture(t)
	cy, _ := f.register("cy@acme.test")
	mallory, _ := f.register("mallory@acme.test")
	inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "cy@acme.test"})
	for _, c := range []struct {
		who    rbac.Holder
		secret string
	}{{mallory, inv.Secret}, {cy, ""}, {cy, inv.ID + ".00"}, {f.owner, inv.Secret}} {
		notFound(t, f.unchangedIn([]rbac.Holder{cy, f.owner}, []rbac.Ref{f.acct}, func() error {
			return try(f.env, c.who, account.DeclineInvitation{Invitation: rbac.Invite(inv.ID), Secret: c.secret})
		}))
	}
	do(f.env, cy, account.DeclineInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	notFound(t, try(f.env, cy, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}))
	evs := get(f.env, f.owner, account.Events{Tenant: f.acct}).Items
	if last := evs[len(evs)-1]; last.Action != "invitation.decline" || last.Actor != cy {
		t.Fatalf("last event %+v, want the decline by %v", last, cy)
	}
}

// A bulk invite is all or nothing, and counts the seats for the whole batch.
func TestInviteMany(t *testing.T) {
	e := newEnvWith(t, account.Options{Plans: []account.Plan{{Name: "five", Seats: 5, UserManagement: true}}})
	owner, acct := e.register("owner@acme.test")
	emails := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, "u"+strconv.Itoa(i)+"@acme.test")
		}
		return out
	}
	// Owner + 5 would be 6 seats: the fifth address is refused, and nothing is made.
	err := e.unchangedIn([]rbac.Holder{owner}, []rbac.Ref{acct.Ref}, func() error {
		return try(e, owner, account.InviteMany{Tenant: acct.Ref, Emails: emails(5)})
	})
	var be *account.BatchError
	if !errors.As(err, &be) || be.Index != 4 || !errors.Is(err, account.ErrSeatLimit) {
		t.Fatalf("err = %v, want a *BatchError at index 4 matching ErrSeatLimit", err)
	}
	invalid(t, try(e, owner, account.InviteMany{Tenant: acct.Ref, Emails: []string{"a@acme.test", "A@acme.test"}}), "emails[1]")
	invalid(t, try(e, owner, account.InviteMany{Tenant: acct.Ref, Emails: make([]string, account.MaxBulkInvite+1)}), "emails")
	made := do(e, owner, account.InviteMany{Tenant: acct.Ref, Emails: emails(4)})
	if len(made) != 4 || get(e, owner, account.Seats{Tenant: acct.Ref}).Used != 5 {
		t.Fatalf("made %d invitations", len(made))
	}
	n := 0
	for _, ev := range get(e, owner, account.Events{Tenant: acct.Ref}).Items {
		if ev.Action == "member.invite_many" {
			n++
		}
	}
	if n != 4 {
		t.Fatalf("%d events for 4 invitations, want one each", n)
	}
}

// D37: an invite link lets a signed-in holder of its secret join at its level; it is
// disabled and rotated by admins; it works only while its creator may give its access.
func TestInviteLinks(t *testing.T) {
	f := newFixture(t)
	admin := f.join("admin@acme.test", grant(f.proj, rbac.Admin))
	// Nobody gives more than they hold, nor the owner level.
	denied(t, try(f.env, admin, account.CreateInviteLink{Tenant: f.acct, Level: rbac.Viewer, Scopes: []rbac.Ref{f.proj}}), rbac.RuleInvite)
	invalid(t, try(f.env, f.owner, account.CreateInviteLink{Tenant: f.acct, Level: rbac.Owner, Scopes: []rbac.Ref{f.acct}}), "level")
	link := do(f.env, f.owner, account.CreateInviteLink{Tenant: f.acct, Level: rbac.Viewer, Scopes: []rbac.Ref{f.inboxA, f.proj}})
	if len(link.Hash) != 0 || link.Secret == "" {
		t.Fatal("the link shows its hash or has no secret")
	}

	dee, _ := f.register("dee@acme.test")
	notFound(t, try(f.env, dee, account.JoinByLink{Link: link.ID, Secret: link.ID + ".00"}))
	do(f.env, dee, account.JoinByLink{Link: link.ID, Secret: link.Secret})
	if !f.allowed(dee, rbac.ProjectView, f.proj) || f.allowed(dee, rbac.ProjectView, f.domain) {
		t.Fatal("the link gave the wrong access")
	}
	if !errors.Is(try(f.env, dee, account.JoinByLink{Link: link.ID, Secret: link.Secret}), account.ErrExists) {
		t.Fatal("a member joined twice")
	}

	// Disabled, it answers as missing; rotated, the old secret is dead and the new works.
	do(f.env, f.owner, account.DisableInviteLink{Tenant: f.acct, Link: link.ID})
	eve, _ := f.register("eve@acme.test")
	notFound(t, try(f.env, eve, account.JoinByLink{Link: link.ID, Secret: link.Secret}))
	rot := do(f.env, f.owner, account.RotateInviteLink{Tenant: f.acct, Link: link.ID})
	notFound(t, try(f.env, eve, account.JoinByLink{Link: link.ID, Secret: link.Secret}))
	do(f.env, eve, account.JoinByLink{Link: link.ID, Secret: rot.Secret})
	got := get(f.env, f.owner, account.InviteLinks{Tenant: f.acct}).Items
	if len(got) != 1 || got[0].Joined != 2 || got[0].Disabled || len(got[0].Hash) != 0 {
		t.Fatalf("InviteLinks = %+v", got)
	}
	notFound(t, try(f.env, f.owner, account.DisableInviteLink{Tenant: f.acct, Link: "link-404"}))
	denied(t, try(f.env, admin, account.DisableInviteLink{Tenant: f.acct, Link: link.ID}), rbac.RuleInvite)

	// The admin's link stops working once the admin loses admin.
	boss := f.join("boss@acme.test", grant(f.acct, rbac.Admin))
	bl := do(f.env, boss, account.CreateInviteLink{Tenant: f.acct, Level: rbac.Admin, Scopes: []rbac.Ref{f.inboxB}})
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: boss, Changes: change(f.acct, rbac.Viewer)})
	gus, _ := f.register("gus@acme.test")
	denied(t, f.unchangedIn([]rbac.Holder{gus, boss}, []rbac.Ref{f.acct}, func() error {
		return try(f.env, gus, account.JoinByLink{Link: bl.ID, Secret: bl.Secret})
	}), rbac.RuleInviteLink)
}

// D38: tokens take the platform's lifetimes; the expiring listing finds them; the
// sweep deletes those expired for more than 90 days, as the service, audited.
func TestTokenLifetimesAndSweep(t *testing.T) {
	f := newFixture(t)
	for _, d := range account.TokenLifetimes {
		tok := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "t" + d.String(), ExpiresIn: d})
		if !tok.Expires.Equal(f.now.Add(d)) {
			t.Fatalf("ExpiresIn %v: expires %v", d, tok.Expires)
		}
	}
	invalid(t, try(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "x", ExpiresIn: 2 * day}), "expires_in")
	invalid(t, try(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "x", ExpiresIn: day, NeverExpires: true}), "expires")
	never := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "never", NeverExpires: true})

	var soon []string
	for tok, err := range f.svc.ExpiringTokens(f.ctx, f.now, f.now.Add(31*day)) {
		if err != nil {
			t.Fatal(err)
		}
		if len(tok.Hash) != 0 {
			t.Fatal("ExpiringTokens shows hashes")
		}
		soon = append(soon, tok.Name)
	}
	if want := []string{"t24h0m0s", "t168h0m0s", "t720h0m0s"}; !slices.Equal(soon, want) {
		t.Fatalf("expiring within 31 days: %v, want %v", soon, want)
	}

	invalid(t, try(f.env, f.owner, account.SweepTokens{}), "actor")
	f.now = f.now.Add(day + account.DefaultTokenRetention)
	if n := do(f.env, rbac.Holder{}, account.SweepTokens{}); n != 0 {
		t.Fatalf("swept %d tokens expired exactly 90 days ago", n)
	}
	f.now = f.now.Add(8 * day)
	if n := do(f.env, rbac.Holder{}, account.SweepTokens{}); n != 2 {
		t.Fatalf("swept %d tokens, want the 1- and 7-day ones", n)
	}
	left := get(f.env, f.owner, account.Tokens{Tenant: f.acct}).Items
	if len(left) != len(account.TokenLifetimes)-2+1 || !slices.ContainsFunc(left, func(i account.TokenInfo) bool { return i.ID == never.ID }) {
		t.Fatalf("after the sweep: %d tokens", len(left))
	}
	evs := get(f.env, f.owner, account.Events{Tenant: f.acct}).Items
	if last := evs[len(evs)-1]; last.Action != "token.sweep" || !last.Actor.IsZero() {
		t.Fatalf("last event %+v, want a sweep by the service", last)
	}
}

// D39: operations record the actor's activity, at most once a minute; Authenticate
// records a token's use; a check records nothing; the report lists who has been
// idle since a date.
func TestLastActivity(t *testing.T) {
	f := newFixture(t)
	ann := f.join("ann@acme.test", grant(f.acct, rbac.Admin))
	joined := f.now
	tok := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci"})
	lastActive := func(u rbac.Holder) time.Time {
		for _, a := range get(f.env, f.owner, account.Members{Tenant: f.acct}).Items {
			if a.Holder == u {
				return a.LastActive
			}
		}
		t.Fatalf("%v not listed", u)
		return time.Time{}
	}
	f.now = f.now.Add(time.Hour)
	do(f.env, ann, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "Ann's"})
	if got := lastActive(ann); !got.Equal(f.now) {
		t.Fatalf("ann last active %v, want %v", got, f.now)
	}
	at := f.now
	f.now = f.now.Add(30 * time.Second)
	do(f.env, ann, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "Ann's 2"})
	if got := lastActive(ann); !got.Equal(at) {
		t.Fatal("activity recorded again within a minute")
	}
	f.now = f.now.Add(time.Hour)
	if !f.allowed(ann, rbac.ProjectView, f.proj) {
		t.Fatal("ann cannot view")
	}
	if got := lastActive(ann); !got.Equal(at) {
		t.Fatal("a check recorded activity")
	}
	if _, err := f.svc.Authenticate(f.ctx, tok.Secret); err != nil {
		t.Fatal(err)
	}
	if got := get(f.env, f.owner, account.Token{Tenant: f.acct, Token: rbac.Token(tok.ID)}); !got.LastUsed.Equal(f.now) {
		t.Fatalf("token last used %v, want %v", got.LastUsed, f.now)
	}

	idle := func(since time.Time) []string {
		var out []string
		for m, err := range account.All[account.InactiveMember](f.ctx, f.svc, f.owner, account.Inactive{Tenant: f.acct, Since: since, Page: account.PageRequest{Limit: 1}}) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, m.User.Email)
		}
		return out
	}
	// The owner acted when setting up (at the fixture's time); ann an hour later.
	if got := idle(joined.Add(time.Minute)); !slices.Equal(got, []string{"owner@acme.test"}) {
		t.Fatalf("idle since just after setup: %v", got)
	}
	if got := idle(f.now); len(got) != 2 {
		t.Fatalf("idle since now: %v, want both", got)
	}
	invalid(t, errOfGet(f, account.Inactive{Tenant: f.acct}), "since")
}

func errOfGet[R any](f *fixture, q account.Query[R]) error {
	_, err := account.Get(f.ctx, f.svc, f.owner, q)
	return err
}

// An operation that fails inside Update poisons the transaction: Update rolls back
// even when its function swallows the error, so a half-written change never commits.
func TestUpdateRollsBackAfterAFailedOperation(t *testing.T) {
	f := newFixture(t)
	before := f.snapshot([]rbac.Holder{f.owner}, f.acct)
	err := f.svc.Update(f.ctx, func(ctx context.Context, tx *account.Tx) error {
		if _, err := account.Run(ctx, tx, f.owner, account.CreateResource{Parent: f.acct, Kind: rbac.KindProject, Name: "Kept?"}); err != nil {
			return err
		}
		// Invite inserts the invitation before it finds the scope missing.
		_, err := account.Run(ctx, tx, f.owner, account.Invite{Tenant: f.acct, Email: "x@acme.test", Grants: []account.GrantSpec{grant(rbac.Project("nope"), rbac.Viewer)}})
		if !errors.Is(err, account.ErrNotFound) {
			t.Fatalf("Invite: %v", err)
		}
		return nil // swallowed
	})
	if !errors.Is(err, account.ErrFailedOp) || !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("Update = %v, want ErrFailedOp wrapping the operation's error", err)
	}
	if after := f.snapshot([]rbac.Holder{f.owner}, f.acct); after != before {
		t.Fatalf("the store changed:\nbefore %s\nafter  %s", before, after)
	}
}

// The addressee, and only the addressee with the secret, reads an invitation, and sees
// that it expired.
func TestAddressedInvitation(t *testing.T) {
	f := newFixture(t)
	bob, _ := f.register("bob@acme.test")
	inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "bob@acme.test"})
	got := get(f.env, bob, account.AddressedInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	if got.ID != inv.ID || got.Expired || len(got.Hash) != 0 {
		t.Fatalf("%+v", got)
	}
	for _, c := range []struct {
		who    rbac.Holder
		secret string
	}{{bob, ""}, {f.owner, inv.Secret}} {
		_, err := account.Get(f.ctx, f.svc, c.who, account.AddressedInvitation{Invitation: rbac.Invite(inv.ID), Secret: c.secret})
		notFound(t, err)
	}
	f.now = inv.Expires
	if got := get(f.env, bob, account.AddressedInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); !got.Expired {
		t.Fatal("not reported expired")
	}
}

// D36, D38: the service's options set an invitation's default and longest lifetime,
// a reset token's grace period (none when negative) and how long the sweep keeps an
// expired token.
func TestOvertimeOptions(t *testing.T) {
	plans := []account.Plan{{Name: "team", Seats: 10, UserManagement: true}}
	e := newEnvWith(t, account.Options{Plans: plans, InvitationTTL: 2 * day, MaxInvitationTTL: 3 * day, TokenResetGrace: time.Hour, TokenRetention: 10 * day})
	owner, acct := e.register("owner@acme.test")
	inv := do(e, owner, account.Invite{Tenant: acct.Ref, Email: "bob@acme.test"})
	if want := e.now.Add(2 * day); !inv.Expires.Equal(want) {
		t.Errorf("the default lifetime: expires %v, want %v", inv.Expires, want)
	}
	if got := do(e, owner, account.Invite{Tenant: acct.Ref, Email: "cy@acme.test", ExpiresIn: 3 * day}); !got.Expires.Equal(e.now.Add(3 * day)) {
		t.Errorf("the longest lifetime: expires %v", got.Expires)
	}
	invalid(t, try(e, owner, account.Invite{Tenant: acct.Ref, Email: "dee@acme.test", ExpiresIn: 3*day + time.Minute}), "expires_in")
	invalid(t, try(e, owner, account.ResendInvitation{Tenant: acct.Ref, Invitation: rbac.Invite(inv.ID), ExpiresIn: 4 * day}), "expires_in")
	if got := do(e, owner, account.ResendInvitation{Tenant: acct.Ref, Invitation: rbac.Invite(inv.ID)}); !got.Expires.Equal(e.now.Add(2 * day)) {
		t.Errorf("resent with the default lifetime: expires %v", got.Expires)
	}
	evs := get(e, owner, account.Events{Tenant: acct.Ref}).Items
	if last := evs[len(evs)-1]; last.Action != "invitation.resend" || last.Actor != owner || last.Target != rbac.Invite(inv.ID).String() {
		t.Errorf("the resend's event: %+v", last)
	}

	// The old secret of a reset token works for the configured hour, then not.
	tok := do(e, owner, account.CreateToken{Tenant: acct.Ref, Name: "ci", ExpiresIn: day})
	fresh := do(e, owner, account.ResetToken{Tenant: acct.Ref, Token: rbac.Token(tok.ID)})
	e.now = e.now.Add(time.Hour - time.Second)
	if _, err := e.svc.Authenticate(e.ctx, tok.Secret); err != nil {
		t.Fatalf("the old secret within the configured grace: %v", err)
	}
	e.now = e.now.Add(time.Second)
	if _, err := e.svc.Authenticate(e.ctx, tok.Secret); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("the old secret after the configured grace: %v", err)
	}
	if _, err := e.svc.Authenticate(e.ctx, fresh.Secret); err != nil {
		t.Fatal(err)
	}

	// The sweep keeps expired tokens for the configured 10 days.
	e.now = fresh.Expires.Add(10 * day)
	if n := do(e, rbac.Holder{}, account.SweepTokens{}); n != 1 {
		t.Fatalf("10 days after the new token's expiry the sweep deleted %d, want the old token alone", n)
	}
	e.now = e.now.Add(time.Second)
	if n := do(e, rbac.Holder{}, account.SweepTokens{}); n != 1 {
		t.Fatalf("past 10 days the sweep deleted %d, want the new token", n)
	}

	// A negative grace ends the old secret at the reset.
	e2 := newEnvWith(t, account.Options{Plans: plans, TokenResetGrace: -1})
	owner2, acct2 := e2.register("owner@acme.test")
	tok2 := do(e2, owner2, account.CreateToken{Tenant: acct2.Ref, Name: "ci"})
	do(e2, owner2, account.ResetToken{Tenant: acct2.Ref, Token: rbac.Token(tok2.ID)})
	if _, err := e2.svc.Authenticate(e2.ctx, tok2.Secret); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("the old secret with no grace: %v", err)
	}
}
