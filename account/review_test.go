package account_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// reviewRows returns every row of the review of tenant as actor.
func (e *env) reviewRows(actor rbac.Holder, tenant rbac.Ref) (*account.Review, []account.ReviewRow) {
	e.t.Helper()
	rv, err := e.svc.Review(e.ctx, actor, tenant)
	if err != nil {
		e.t.Fatalf("Review(%v, %v): %v", actor, tenant, err)
	}
	var rows []account.ReviewRow
	for row, err := range rv.Rows(e.ctx) {
		if err != nil {
			e.t.Fatalf("Review(%v, %v).Rows: %v", actor, tenant, err)
		}
		rows = append(rows, row)
	}
	return rv, rows
}

// anyLevelAction is an action of the policy table that applies to kind and needs
// only a level: Check's decision on it gives the effective level and its grant.
func anyLevelAction(k rbac.Kind) rbac.Action {
	for _, a := range rbac.Actions() {
		if a.Kinds().Has(k) && a != rbac.DomainContentView {
			return a
		}
	}
	panic("no action applies to " + k.String())
}

// checkRowsAgainstCheck asserts that every row says what Check and Explain say of
// its holder on its scope, and that rows come holder after holder, each with one row
// per scope in the order of rv.Scopes.
func (e *env) checkRowsAgainstCheck(rv *account.Review, rows []account.ReviewRow) {
	e.t.Helper()
	scopes := rv.Scopes()
	if len(rows)%len(scopes) != 0 {
		e.t.Fatalf("%d rows for %d scopes", len(rows), len(scopes))
	}
	seen := map[rbac.Holder]bool{}
	for i, row := range rows {
		if row.Scope != scopes[i%len(scopes)] {
			e.t.Fatalf("row %d: scope %v, want %v", i, row.Scope, scopes[i%len(scopes)])
		}
		if i%len(scopes) == 0 {
			if seen[row.Holder] {
				e.t.Fatalf("row %d: %v listed twice", i, row.Holder)
			}
			seen[row.Holder] = true
		} else if row.Holder != rows[i-1].Holder {
			e.t.Fatalf("row %d: %v among the rows of %v", i, row.Holder, rows[i-1].Holder)
		}
		a := anyLevelAction(row.Scope.Kind)
		d, err := e.svc.Check(e.ctx, row.Holder, a, row.Scope)
		if err != nil {
			e.t.Fatal(err)
		}
		if row.Level != d.Level || row.Via != d.Grant {
			e.t.Errorf("%v on %v: review says %v via %v, Check says %v via %v", row.Holder, row.Scope, row.Level, row.Via, d.Level, d.Grant)
		}
		x, err := e.svc.Explain(e.ctx, row.Holder, a, row.Scope)
		if err != nil {
			e.t.Fatal(err)
		}
		if row.Source != account.SourceNone && !slices.Contains(x.Grants, row.Via) {
			e.t.Errorf("%v on %v: the review's grant %v is not among Explain's %v", row.Holder, row.Scope, row.Via, x.Grants)
		}
		if (row.Source == account.SourceNone) != row.Via.Holder.IsZero() {
			e.t.Errorf("%v on %v: source %v with grant %v", row.Holder, row.Scope, row.Source, row.Via)
		}
		if row.Source != account.SourceNone && !x.Path.Contains(row.Via.Scope) {
			e.t.Errorf("%v on %v: the grant %v is not on the path %v", row.Holder, row.Scope, row.Via, x.Path)
		}
	}
}

// find returns the row of holder on scope.
func find(t testing.TB, rows []account.ReviewRow, h rbac.Holder, s rbac.Ref) account.ReviewRow {
	t.Helper()
	for _, r := range rows {
		if r.Holder == h && r.Scope == s {
			return r
		}
	}
	t.Fatalf("no row for %v on %v", h, s)
	return account.ReviewRow{}
}

// reviewFixture is the fixture with a holder of every kind and every source of
// access.
type reviewFixture struct {
	*fixture
	admin, viewer, inboxAdmin, member, carol rbac.Holder
	stranger                                 rbac.Holder
	team                                     rbac.Holder
	token                                    rbac.Holder
	invite, oldInvite                        rbac.Holder
}

func newReviewFixture(t *testing.T) *reviewFixture {
	f := &reviewFixture{fixture: newFixture(t)}
	do(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "business"})
	f.admin = f.join("admin@acme.test", grant(f.acct, rbac.Admin))
	f.viewer = f.join("viewer@acme.test", grant(f.acct, rbac.Viewer))
	f.inboxAdmin = f.join("inbox@acme.test", grant(f.inboxA, rbac.Admin))
	f.member = f.join("member@acme.test", grant(f.proj, rbac.Viewer))
	f.carol = f.join("carol@acme.test", grant(f.acct, rbac.Admin))
	f.stranger, _ = f.register("stranger@else.test")
	// A team, viewer of the domain, with member in it.
	team := do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: "Support"})
	f.team = rbac.Team(team.ID)
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: f.team, Changes: change(f.domain, rbac.Viewer)})
	do(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: f.team, Member: f.member})
	// A token of carol's, admin of the project; carol then becomes a viewer of the
	// account, which caps the token.
	tok := do(f.env, f.carol, account.CreateToken{Tenant: f.acct, Name: "deploy", Grants: []account.GrantSpec{grant(f.proj, rbac.Admin)}})
	f.token = rbac.Token(tok.ID)
	do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: f.carol, Changes: change(f.acct, rbac.Viewer)})
	// An invitation that expires, and, a week later, a pending one.
	old := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "late@acme.test", Grants: []account.GrantSpec{grant(f.inboxA, rbac.Viewer)}, ExpiresIn: 2 * 24 * time.Hour})
	f.oldInvite = rbac.Invite(old.ID)
	f.now = f.now.Add(7 * 24 * time.Hour)
	inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: "frank@acme.test", Grants: []account.GrantSpec{grant(f.inboxB, rbac.Viewer)}})
	f.invite = rbac.Invite(inv.ID)
	// The admin turns two-factor authentication on and acts in the account.
	do(f.env, f.admin, profile.SetTwoFactor{On: true})
	f.now = f.now.Add(time.Hour)
	do(f.env, f.admin, account.RenameResource{Resource: f.domain, Name: "mail.acme.example"})
	return f
}

func TestReviewRows(t *testing.T) {
	f := newReviewFixture(t)
	rv, rows := f.reviewRows(f.owner, f.acct)
	f.checkRowsAgainstCheck(rv, rows)

	wantScopes := []rbac.Ref{f.acct, f.proj, f.inboxA, f.inboxB, f.domain, rbac.Billing(f.acct.ID), rbac.Templates(f.acct.ID), rbac.Campaigns(f.acct.ID)}
	if got := rv.Scopes(); !slices.Equal(got, wantScopes) {
		t.Fatalf("scopes %v, want %v (depth first, by kind and ID)", got, wantScopes)
	}
	if !slices.Equal(rv.Tenants, []rbac.Ref{f.acct}) || rv.Tenant != f.acct || rv.Name == "" || !rv.Generated.Equal(f.now) {
		t.Fatalf("review of %v: %+v", f.acct, rv)
	}
	var holders []rbac.Holder
	for i := 0; i < len(rows); i += len(wantScopes) {
		holders = append(holders, rows[i].Holder)
	}
	users := []rbac.Holder{f.owner, f.admin, f.viewer, f.inboxAdmin, f.member, f.carol}
	slices.SortFunc(users, rbac.Holder.Compare)
	want := append(users, f.team, f.token, f.invite, f.oldInvite)
	slices.SortFunc(want[len(users):], rbac.Holder.Compare)
	if !slices.Equal(holders, want) {
		t.Fatalf("holders %v, want %v (users, teams, tokens, invitations, each by ID)", holders, want)
	}

	// Every source of access.
	for _, tc := range []struct {
		h         rbac.Holder
		s         rbac.Ref
		level     rbac.Level
		source    account.ReviewSource
		inherited bool
	}{
		{f.owner, f.inboxB, rbac.Owner, account.SourceOwner, true},
		{f.admin, f.acct, rbac.Admin, account.SourceGrant, false},
		{f.admin, f.inboxA, rbac.Admin, account.SourceGrant, true},
		{f.inboxAdmin, f.inboxA, rbac.Admin, account.SourceGrant, false},
		{f.inboxAdmin, f.inboxB, rbac.None, account.SourceNone, false},
		{f.member, f.domain, rbac.Viewer, account.SourceTeam, false},
		{f.member, f.inboxB, rbac.Viewer, account.SourceGrant, true},
		{f.team, f.domain, rbac.Viewer, account.SourceGrant, false},
		{f.invite, f.inboxB, rbac.Viewer, account.SourceGrant, false},
		{f.token, f.inboxA, rbac.Viewer, account.SourceGrant, true},
	} {
		r := find(t, rows, tc.h, tc.s)
		if r.Level != tc.level || r.Source != tc.source || r.Inherited() != tc.inherited {
			t.Errorf("%v on %v: %v from %v (inherited %v), want %v from %v (inherited %v)", tc.h, tc.s, r.Level, r.Source, r.Inherited(), tc.level, tc.source, tc.inherited)
		}
	}
	// The token: admin by its grant, viewer as capped by carol.
	tr := find(t, rows, f.token, f.proj)
	if tr.Via.Level != rbac.Admin || tr.Level != rbac.Viewer || tr.CappedBy != f.carol || tr.Expired || tr.Expires.IsZero() {
		t.Errorf("the capped token on the project: %+v", tr)
	}
	if r := find(t, rows, f.token, f.acct); !r.CappedBy.IsZero() || r.Level != rbac.None {
		t.Errorf("the token on the account, where it has no grant: %+v", r)
	}
	// Invitations: expiry.
	if r := find(t, rows, f.invite, f.acct); r.Expired || r.Expires.IsZero() || r.Name != "frank@acme.test" || r.LastChange.Action != "member.invite" {
		t.Errorf("the pending invitation: %+v", r)
	}
	if r := find(t, rows, f.oldInvite, f.acct); !r.Expired {
		t.Errorf("the expired invitation: %+v", r)
	}
	// Two-factor status, last activity, membership.
	if r := find(t, rows, f.admin, f.acct); !r.TwoFactor || !r.LastActive.Equal(f.now) || !slices.Equal(r.MemberOf, []rbac.Ref{f.acct}) {
		t.Errorf("the admin: %+v", r)
	}
	if r := find(t, rows, f.viewer, f.acct); r.TwoFactor || r.LastActive.IsZero() || !r.LastActive.Before(f.now) {
		t.Errorf("the viewer: %+v", r)
	}
	// Last changes: grants set, a team place, an invitation accepted.
	for _, tc := range []struct {
		h      rbac.Holder
		action string
		by     rbac.Holder
	}{
		{f.carol, "permissions.set", f.owner},
		{f.member, "team.add_member", f.owner},
		{f.team, "team.add_member", f.owner},
		{f.viewer, "invitation.accept", f.viewer},
		{f.token, "token.create", f.carol},
	} {
		c := find(t, rows, tc.h, f.acct).LastChange
		if c.Action != tc.action || c.Actor != tc.by || c.Seq == 0 || c.Time.IsZero() {
			t.Errorf("last change of %v: %+v, want %s by %v", tc.h, c, tc.action, tc.by)
		}
	}
}

// The owner's last change is the registration that made it owner, until another
// event names it; plan.set names the account, not its owner.
func TestReviewLastChangeOfOwner(t *testing.T) {
	f := newFixture(t)
	_, rows := f.reviewRows(f.owner, f.acct)
	if c := find(t, rows, f.owner, f.acct).LastChange; c.Action != "account.create" && c.Action != "profile.register" {
		t.Fatalf("owner's last change %+v", c)
	}
}

func TestReviewTokenAfterReset(t *testing.T) {
	f := newFixture(t)
	tok := do(f.env, f.owner, account.CreateToken{Tenant: f.acct, Name: "ci", Grants: []account.GrantSpec{grant(f.proj, rbac.Viewer)}})
	reset := do(f.env, f.owner, account.ResetToken{Tenant: f.acct, Token: rbac.Token(tok.ID)})
	f.now = f.now.Add(13 * time.Hour) // past the old secret's grace
	rv, rows := f.reviewRows(f.owner, f.acct)
	f.checkRowsAgainstCheck(rv, rows)
	old, cur := find(t, rows, rbac.Token(tok.ID), f.proj), find(t, rows, rbac.Token(reset.ID), f.proj)
	if !old.Expired || old.Level != rbac.None || old.LastChange.Action != "token.reset" {
		t.Errorf("the reset token: %+v", old)
	}
	if cur.Expired || cur.Level != rbac.Viewer || cur.LastChange.Action != "token.reset" {
		t.Errorf("its successor: %+v", cur)
	}
}

func TestReviewOrganization(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.register("owner@group.test")
	org := do(e, owner, account.CreateOrganization{Name: "Group", Plan: "business"})
	subA := do(e, owner, account.CreateSubAccount{Org: org.Ref, Name: "Client A"})
	subB := do(e, owner, account.CreateSubAccount{Org: org.Ref, Name: "Client B"})
	projA := do(e, owner, account.CreateResource{Parent: subA.Ref, Kind: rbac.KindProject, Name: "A web"}).Ref
	projB := do(e, owner, account.CreateResource{Parent: subB.Ref, Kind: rbac.KindProject, Name: "B web"}).Ref
	inboxB := do(e, owner, account.CreateResource{Parent: projB, Kind: rbac.KindInbox, Name: "B inbox"}).Ref
	orgAdmin := e.joinTo(owner, org.Ref, "oa@group.test", grant(org.Ref, rbac.Admin))
	aAdmin := e.joinTo(owner, subA.Ref, "aa@group.test", grant(subA.Ref, rbac.Admin))
	both := e.joinTo(owner, org.Ref, "both@group.test", grant(org.Ref, rbac.Viewer))
	inv := do(e, aAdmin, account.Invite{Tenant: subA.Ref, Email: "both@group.test", Grants: []account.GrantSpec{grant(projA, rbac.Admin)}})
	do(e, both, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	_ = do(e, owner, account.Invite{Tenant: subA.Ref, Email: "new@group.test", Grants: []account.GrantSpec{grant(projA, rbac.Viewer)}})

	rv, rows := e.reviewRows(orgAdmin, org.Ref)
	e.checkRowsAgainstCheck(rv, rows)
	if !slices.Equal(rv.Tenants, []rbac.Ref{org.Ref, subA.Ref, subB.Ref}) {
		t.Fatalf("the organization's review covers %v", rv.Tenants)
	}
	if !slices.Contains(rv.Scopes(), projA) || !slices.Contains(rv.Scopes(), inboxB) {
		t.Fatalf("the organization's review lacks the sub-accounts' scopes: %v", rv.Scopes())
	}
	// both is a member of the organization and of sub-account A: listed once, under
	// the organization.
	n := 0
	for _, r := range rows {
		if r.Holder == both && r.Scope == org.Ref {
			n++
			if !slices.Equal(r.MemberOf, []rbac.Ref{org.Ref, subA.Ref}) {
				t.Errorf("both is a member of %v", r.MemberOf)
			}
		}
	}
	if n != 1 {
		t.Fatalf("both is listed %d times", n)
	}
	if r := find(t, rows, orgAdmin, inboxB); r.Level != rbac.Admin || !r.Inherited() || r.Via.Scope != org.Ref {
		t.Errorf("the organization admin on B's inbox: %+v", r)
	}

	// Sub-account A reviewed by its own admin: its holders only; by the owner: the
	// organization's too.
	rv, rows = e.reviewRows(aAdmin, subA.Ref)
	e.checkRowsAgainstCheck(rv, rows)
	if !slices.Equal(rv.Tenants, []rbac.Ref{subA.Ref}) {
		t.Fatalf("A's admin's review covers %v", rv.Tenants)
	}
	for _, r := range rows {
		if r.Holder == orgAdmin {
			t.Fatalf("A's admin sees the organization's admin: %+v", r)
		}
	}
	if r := find(t, rows, both, projA); r.Level != rbac.Admin || !slices.Equal(r.MemberOf, []rbac.Ref{subA.Ref}) {
		t.Errorf("both on A's project, as A's admin sees it: %+v", r)
	}
	rv, rows = e.reviewRows(owner, subA.Ref)
	e.checkRowsAgainstCheck(rv, rows)
	if !slices.Equal(rv.Tenants, []rbac.Ref{subA.Ref, org.Ref}) {
		t.Fatalf("the owner's review of A covers %v", rv.Tenants)
	}
	if r := find(t, rows, orgAdmin, projA); r.Level != rbac.Admin || r.Via.Scope != org.Ref {
		t.Errorf("the organization admin on A's project: %+v", r)
	}
}

func TestReviewVisibility(t *testing.T) {
	f := newReviewFixture(t)
	_, err := f.svc.Review(f.ctx, f.stranger, f.acct)
	notFound(t, err)
	_, err = f.svc.Review(f.ctx, f.admin, rbac.Account("nope"))
	notFound(t, err)
	_, err = f.svc.Review(f.ctx, f.viewer, f.acct)
	denied(t, err, rbac.RuleAudit)
	// A resource admin sees some members in Members (D18), but no review.
	_, err = f.svc.Review(f.ctx, f.inboxAdmin, f.acct)
	denied(t, err, rbac.RuleAudit)
	// A token acts as what it may do: this one is capped to viewer of the project.
	_, err = f.svc.Review(f.ctx, f.token, f.acct)
	denied(t, err, rbac.RuleAudit)
	_, err = f.svc.Review(f.ctx, f.owner, f.proj)
	invalid(t, err, "tenant")
	_, err = f.svc.Review(f.ctx, rbac.User("ghost"), f.acct)
	if !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("a user that does not exist: %v", err)
	}
	if _, err := f.svc.Review(f.ctx, f.admin, f.acct); err != nil {
		t.Fatalf("an account admin: %v", err)
	}
	if _, err := f.svc.HostReview(f.ctx, rbac.Account("nope")); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("the host's review of nothing: %v", err)
	}
}

// addMembers adds n users to tenant straight through the store, each with an audit
// event naming it, every third a viewer of scope: a large account in seconds.
func addMembers(t testing.TB, st store.Store, tenant, scope rbac.Ref, n int, at time.Time) {
	t.Helper()
	ctx := context.Background()
	for lo := 0; lo < n; lo += 5000 {
		err := st.Update(ctx, func(ctx context.Context, w store.Writer) error {
			for i := lo; i < min(n, lo+5000); i++ {
				id := fmt.Sprintf("m%07d", i)
				if err := w.InsertUser(ctx, store.User{ID: id, Email: id + "@big.test", Created: at}); err != nil {
					return err
				}
				if err := w.InsertMember(ctx, store.Member{Tenant: tenant, User: id, Created: at}); err != nil {
					return err
				}
				if i%3 == 0 {
					if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User(id), Scope: scope, Level: rbac.Viewer}, Tenant: tenant}); err != nil {
						return err
					}
				}
				if _, err := w.AppendEvent(ctx, store.Event{Time: at, Tenant: tenant, Action: "member.invite", Target: rbac.User(id).String()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// A review is read in pages, each in a transaction of its own: writes go on while it
// is read, and an actor who loses the right to review mid-way is stopped.
func TestReviewPagesAndRevocation(t *testing.T) {
	f := newReviewFixture(t)
	addMembers(t, f.st, f.acct, f.proj, 3000, f.now)
	rv, err := f.svc.Review(f.ctx, f.admin, f.acct)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var stop error
	for row, err := range rv.Rows(f.ctx) {
		if err != nil {
			stop = err
			break
		}
		if n == 0 {
			// No transaction is held between pages: this write does not wait.
			do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: f.admin, Changes: change(f.acct, rbac.Viewer)})
		}
		n++
		_ = row
	}
	denied(t, stop, rbac.RuleAudit)
	if total := 3000 * len(rv.Scopes()); n == 0 || n >= total {
		t.Fatalf("%d rows before the refusal, of %d", n, total)
	}

	// The owner's review of the whole: every member once, each with its invitation as
	// last change.
	rv, rows := f.reviewRows(f.owner, f.acct)
	seen := map[rbac.Holder]int{}
	for _, r := range rows {
		seen[r.Holder]++
		if strings.HasPrefix(r.Holder.ID, "m") && r.Holder.Kind == rbac.HolderUser && r.LastChange.Action != "member.invite" {
			t.Fatalf("%v: last change %+v", r.Holder, r.LastChange)
		}
	}
	for h, c := range seen {
		if c != len(rv.Scopes()) {
			t.Fatalf("%v has %d rows", h, c)
		}
	}
	if len(seen) != 3000+10 {
		t.Fatalf("%d holders, want 3010", len(seen))
	}
}

func TestReviewCSVAndJSON(t *testing.T) {
	f := newReviewFixture(t)
	rv, rows := f.reviewRows(f.owner, f.acct)

	var cb bytes.Buffer
	if err := rv.WriteCSV(f.ctx, &cb); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v", err)
	}
	if !slices.Equal(recs[0], account.ReviewColumns) {
		t.Fatalf("header %q", recs[0])
	}
	if len(recs)-1 != len(rows) {
		t.Fatalf("%d CSV rows, %d rows", len(recs)-1, len(rows))
	}
	col := func(rec []string, name string) string { return rec[slices.Index(account.ReviewColumns, name)] }
	for i, rec := range recs[1:] {
		r := rows[i]
		if col(rec, "holder") != r.Holder.String() || col(rec, "scope") != r.Scope.String() || col(rec, "level") != r.Level.String() || col(rec, "source") != r.Source.String() {
			t.Fatalf("CSV row %d %q, row %+v", i, rec, r)
		}
		if via := col(rec, "via_holder"); via != "" && via != r.Via.Holder.String() || via == "" && r.Source != account.SourceNone {
			t.Fatalf("CSV row %d %q: via %v", i, rec, r.Via)
		}
		if s := col(rec, "last_change_seq"); s != strconv.FormatUint(r.LastChange.Seq, 10) && !(s == "" && r.LastChange.Seq == 0) {
			t.Fatalf("CSV row %d %q: last change %+v", i, rec, r.LastChange)
		}
	}
	tr := recs[1+slices.IndexFunc(rows, func(r account.ReviewRow) bool { return r.Holder == f.token && r.Scope == f.proj })]
	if col(tr, "capped_by") != f.carol.String() || col(tr, "via_level") != "admin" || col(tr, "level") != "viewer" || col(tr, "expired") != "false" || col(tr, "two_factor") != "" {
		t.Fatalf("the capped token in CSV: %q", tr)
	}

	var jb bytes.Buffer
	if err := rv.WriteJSON(f.ctx, &jb); err != nil {
		t.Fatal(err)
	}
	var doc account.ReviewDocument
	dec := json.NewDecoder(bytes.NewReader(jb.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("the JSON does not parse: %v\n%s", err, jb.String())
	}
	if doc.Version != account.ReviewVersion || doc.Tenant != f.acct.String() || !doc.Generated.Equal(rv.Generated) || !slices.Equal(doc.Columns, account.ReviewColumns) || !slices.Equal(doc.Tenants, []string{f.acct.String()}) {
		t.Fatalf("the JSON head: %+v", doc)
	}
	if len(doc.Rows) != len(rows) {
		t.Fatalf("%d JSON rows, %d rows", len(doc.Rows), len(rows))
	}
	for i, jr := range doc.Rows {
		got, _ := json.Marshal(jr)
		want, _ := json.Marshal(rows[i].JSONRow())
		if !bytes.Equal(got, want) {
			t.Fatalf("JSON row %d:\n%s\nwant\n%s", i, got, want)
		}
	}
	// Every key is present in every row, null where not applicable.
	var raw struct{ Rows []map[string]json.RawMessage }
	if err := json.Unmarshal(jb.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, r := range raw.Rows {
		if len(r) != 15 {
			t.Fatalf("a JSON row with %d keys: %v", len(r), r)
		}
	}
	// One row per line, as streamed.
	if lines := strings.Count(jb.String(), "\n"); lines != len(rows)+2 {
		t.Fatalf("%d lines for %d rows", lines, len(rows))
	}
}

// A review that fails mid-way leaves a document that does not parse.
func TestReviewJSONTruncated(t *testing.T) {
	f := newReviewFixture(t)
	addMembers(t, f.st, f.acct, f.proj, 1000, f.now)
	rv, err := f.svc.Review(f.ctx, f.admin, f.acct)
	if err != nil {
		t.Fatal(err)
	}
	w := &revokingWriter{fn: func() {
		do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: f.admin, Changes: change(f.acct, rbac.Viewer)})
	}}
	err = rv.WriteJSON(f.ctx, w)
	denied(t, err, rbac.RuleAudit)
	var doc account.ReviewDocument
	if json.Unmarshal(w.buf.Bytes(), &doc) == nil {
		t.Fatal("a truncated review parses as a whole one")
	}
}

// revokingWriter calls fn on its first write.
type revokingWriter struct {
	buf bytes.Buffer
	fn  func()
}

func (w *revokingWriter) Write(p []byte) (int, error) {
	if w.fn != nil {
		w.fn()
		w.fn = nil
	}
	return w.buf.Write(p)
}

// The law: whatever the grants, teams, tokens and invitations, the review's level and
// grant for every holder and scope are Check's, every holder of the account is listed
// once, and nobody else.
func TestReviewProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		f := newFixture(t)
		do(f.env, f.owner, account.SetPlan{Account: f.acct, Plan: "business"})
		scopes := []rbac.Ref{f.acct, f.proj, f.inboxA, f.inboxB, f.domain, rbac.Billing(f.acct.ID), rbac.Templates(f.acct.ID), rbac.Campaigns(f.acct.ID)}
		levels := []rbac.Level{rbac.None, rbac.Viewer, rbac.Admin}
		pickScope := rapid.SampledFrom(scopes)
		pickTokenScope := rapid.SampledFrom(scopes[:5]) // tokens hold no grants on billing, templates, campaigns
		var users []rbac.Holder
		for i := range rapid.IntRange(1, 4).Draw(rt, "users") {
			users = append(users, f.join(fmt.Sprintf("u%d@acme.test", i), grant(pickScope.Draw(rt, "scope"), rapid.SampledFrom(levels[1:]).Draw(rt, "level"))))
		}
		pickUser := rapid.SampledFrom(users)
		var teams []rbac.Holder
		for i := range rapid.IntRange(0, 2).Draw(rt, "teams") {
			tm := rbac.Team(do(f.env, f.owner, account.CreateTeam{Tenant: f.acct, Name: fmt.Sprintf("T%d", i)}).ID)
			teams = append(teams, tm)
			do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: tm, Changes: change(pickScope.Draw(rt, "scope"), rapid.SampledFrom(levels[1:]).Draw(rt, "level"))})
			for _, u := range users {
				if rapid.Bool().Draw(rt, "in team") {
					do(f.env, f.owner, account.AddTeamMember{Tenant: f.acct, Team: tm, Member: u})
				}
			}
		}
		var tokens []rbac.Holder
		for i := range rapid.IntRange(0, 2).Draw(rt, "tokens") {
			creator := pickUser.Draw(rt, "creator")
			do(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: creator, Changes: change(f.acct, rbac.Admin)})
			tok := do(f.env, creator, account.CreateToken{Tenant: f.acct, Name: fmt.Sprintf("tok%d", i), Grants: []account.GrantSpec{grant(pickTokenScope.Draw(rt, "scope"), rapid.SampledFrom(levels[1:]).Draw(rt, "level"))}})
			tokens = append(tokens, rbac.Token(tok.ID))
		}
		for range rapid.IntRange(0, 8).Draw(rt, "changes") {
			h := pickUser.Draw(rt, "holder")
			if len(teams) > 0 && rapid.Bool().Draw(rt, "a team") {
				h = rapid.SampledFrom(teams).Draw(rt, "team")
			}
			_ = try(f.env, f.owner, account.SetPermissions{Tenant: f.acct, Holder: h, Changes: change(pickScope.Draw(rt, "scope"), rapid.SampledFrom(levels).Draw(rt, "level"))})
		}
		var invites []rbac.Holder
		for i := range rapid.IntRange(0, 2).Draw(rt, "invitations") {
			inv := do(f.env, f.owner, account.Invite{Tenant: f.acct, Email: fmt.Sprintf("i%d@acme.test", i), Grants: []account.GrantSpec{grant(pickScope.Draw(rt, "scope"), rbac.Viewer)}})
			invites = append(invites, rbac.Invite(inv.ID))
		}
		rv, rows := f.reviewRows(f.owner, f.acct)
		f.checkRowsAgainstCheck(rv, rows)
		want := append(append(append(append([]rbac.Holder{f.owner}, users...), teams...), tokens...), invites...)
		var got []rbac.Holder
		for i := 0; i < len(rows); i += len(scopes) {
			got = append(got, rows[i].Holder)
		}
		slices.SortFunc(want, rbac.Holder.Compare)
		slices.SortFunc(got, rbac.Holder.Compare)
		if !slices.Equal(got, want) {
			rt.Fatalf("holders %v, want %v", got, want)
		}
	})
}

// sampler is a writer that records the live heap (after a collection) every few
// writes: the peak of the heap a review uses while it is written.
type sampler struct {
	every, n int
	peak     uint64
	bytes    int64
}

func (s *sampler) Write(p []byte) (int, error) {
	s.n++
	s.bytes += int64(len(p))
	if s.n%s.every == 0 {
		s.sample()
	}
	return len(p), nil
}

func (s *sampler) sample() {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	s.peak = max(s.peak, ms.HeapAlloc)
}

// reviewPeak exports the review of an account of n members to CSV and returns the
// growth of the live heap while it did, and the bytes written.
func reviewPeak(t *testing.T, n int) (growth uint64, written int64, took time.Duration) {
	f := newFixture(t)
	addMembers(t, f.st, f.acct, f.proj, n, f.now)
	rv, err := f.svc.Review(f.ctx, f.owner, f.acct)
	if err != nil {
		t.Fatal(err)
	}
	s := &sampler{every: 500}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	start := time.Now()
	if err := rv.WriteCSV(f.ctx, s); err != nil {
		t.Fatal(err)
	}
	took = time.Since(start)
	s.sample()
	runtime.KeepAlive(f)
	if s.peak < base {
		return 0, s.bytes, took
	}
	return s.peak - base, s.bytes, took
}

// A review's memory does not grow with the number of members: the live heap while a
// 100,000-member account is written is about that of a 10,000-member one.
func TestReviewBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 100,000-member account")
	}
	small, smallBytes, smallTook := reviewPeak(t, 10_000)
	big, bigBytes, bigTook := reviewPeak(t, 100_000)
	t.Logf("10k members: %d bytes of CSV in %v, peak live heap growth %.2f MiB", smallBytes, smallTook, float64(small)/(1<<20))
	t.Logf("100k members: %d bytes of CSV in %v, peak live heap growth %.2f MiB", bigBytes, bigTook, float64(big)/(1<<20))
	if big > 2*small+4<<20 {
		t.Fatalf("the heap grows with the members: %d bytes at 10k, %d at 100k", small, big)
	}
}

// BenchmarkReview writes the review of a 10,000-member account to CSV; peak-live-B is
// the growth of the live heap while it is written.
func BenchmarkReview(b *testing.B) {
	f := newFixture(b)
	addMembers(b, f.st, f.acct, f.proj, 10_000, f.now)
	rv, err := f.svc.Review(f.ctx, f.owner, f.acct)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	var written int64
	for b.Loop() {
		c := &countWriter{}
		if err := rv.WriteCSV(f.ctx, c); err != nil {
			b.Fatal(err)
		}
		written = c.n
	}
	b.SetBytes(written)
	s := &sampler{every: 200}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if err := rv.WriteCSV(f.ctx, s); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(s.peak)-float64(ms.HeapAlloc), "peak-live-B")
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }
