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
	svc            *account.Service
	owner, member  rbac.Holder
	acct           rbac.Ref
	project, inbox rbac.Ref
}

func newOpsWorld(b *testing.B) opsWorld {
	s := openStore(b, pgstore.Options{})
	ctx := b.Context()
	svc := account.New(s, account.Options{})
	prof := profile.New(svc)
	u, a, err := prof.Register(ctx, "owner@bench.test", "Bench")
	must(b, err)
	w := opsWorld{svc: svc, owner: rbac.User(u.ID), acct: a.Ref}
	must(b, svc.SetPlan(ctx, w.owner, a.Ref, "enterprise"))
	p, err := svc.CreateProject(ctx, w.owner, a.Ref.ID, "Web")
	must(b, err)
	in, err := svc.CreateInbox(ctx, w.owner, p.Ref.ID, "QA")
	must(b, err)
	w.project, w.inbox = p.Ref, in.Ref
	m, _, err := prof.Register(ctx, "member@bench.test", "")
	must(b, err)
	inv, err := svc.Invite(ctx, w.owner, a.Ref, account.InviteRequest{Email: "member@bench.test", Grants: []account.GrantSpec{{Scope: p.Ref, Level: rbac.Viewer}}})
	must(b, err)
	w.member = rbac.User(m.ID)
	must(b, svc.AcceptInvitation(ctx, w.member, inv.ID))
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
		_, err := w.svc.Invite(ctx, w.owner, w.acct, account.InviteRequest{
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
		err := w.svc.SetPermissions(ctx, w.owner, w.acct, w.member, []account.PermissionChange{
			{Scope: w.project, Level: levels[i%2]},
			{Scope: w.inbox, Level: levels[(i+1)%2]},
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
