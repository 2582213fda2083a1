package pgstore_test

import (
	"fmt"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/pgstore"
)

// opsWorld is an account on PostgreSQL with a project, an inbox and a member who is a
// viewer of the project.
type opsWorld struct {
	store          *pgstore.Store
	svc            *account.Service
	owner, member  rbac.Holder
	acct           rbac.Ref
	project, inbox rbac.Ref
}

func newOpsWorld(b *testing.B) opsWorld {
	s := openStore(b, pgstore.Options{})
	ctx := b.Context()
	svc := account.New(s, account.Options{})
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "owner@bench.test", Name: "Bench"})
	must(b, err)
	a := reg.Account
	w := opsWorld{store: s, svc: svc, owner: rbac.User(reg.User.ID), acct: a.Ref}
	_, err = account.Do(ctx, svc, w.owner, account.SetPlan{Account: a.Ref, Plan: "enterprise"})
	must(b, err)
	p, err := account.Do(ctx, svc, w.owner, account.CreateResource{Parent: a.Ref, Kind: rbac.KindProject, Name: "Web"})
	must(b, err)
	in, err := account.Do(ctx, svc, w.owner, account.CreateResource{Parent: p.Ref, Kind: rbac.KindInbox, Name: "QA"})
	must(b, err)
	w.project, w.inbox = p.Ref, in.Ref
	m, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "member@bench.test"})
	must(b, err)
	inv, err := account.Do(ctx, svc, w.owner, account.Invite{Tenant: a.Ref, Email: "member@bench.test", Grants: []account.GrantSpec{{Scope: p.Ref, Level: rbac.Viewer}}})
	must(b, err)
	w.member = rbac.User(m.User.ID)
	_, err = account.Do(ctx, svc, w.member, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	must(b, err)
	return w
}

// BenchmarkCheck measures account.Service.Check on PostgreSQL: one round trip.
func BenchmarkCheck(b *testing.B) {
	w := newOpsWorld(b)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		d, err := w.svc.Check(ctx, w.member, rbac.InboxRead, w.inbox)
		if err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}

// BenchmarkInvite measures an invitation with a grant, in one serializable
// transaction with its checks and its audit event.
func BenchmarkInvite(b *testing.B) {
	w := newOpsWorld(b)
	ctx := b.Context()
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		_, err := account.Do(ctx, w.svc, w.owner, account.Invite{
			Tenant: w.acct,
			Email:  fmt.Sprintf("guest%d@bench.test", i),
			Grants: []account.GrantSpec{{Scope: w.inbox, Level: rbac.Viewer}},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSetPermissions measures a bulk permission update of two entries, switching
// between two states so that every iteration changes something.
func BenchmarkSetPermissions(b *testing.B) {
	w := newOpsWorld(b)
	ctx := b.Context()
	levels := [2]rbac.Level{rbac.Admin, rbac.Viewer}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		_, err := account.Do(ctx, w.svc, w.owner, account.SetPermissions{Tenant: w.acct, Holder: w.member, Changes: []account.PermissionChange{
			{Scope: w.project, Level: levels[i%2]},
			{Scope: w.inbox, Level: levels[(i+1)%2]},
		}})
		if err != nil {
			b.Fatal(err)
		}
	}
}
