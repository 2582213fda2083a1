package storetest

import (
	"context"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// errCase is one call that must fail with a sentinel error.
type errCase struct {
	call string
	fn   func(ctx context.Context, w store.Writer) error
}

// errorsClauses are the clauses of the Errors group.
var errorsClauses = []clause{
	{name: "NotFoundIsWrapped", fn: errNotFound},
	{name: "ExistsIsWrapped", fn: errExists},
}

// checkErrs runs every case in its own Update (which the failing call rolls back) and
// checks that its error matches target.
func (e *env) checkErrs(target error, clause string, cases []errCase) {
	for _, c := range cases {
		err := e.try(c.fn)
		e.wantErr(err, target, "store.go: %s: %s", clause, c.call)
	}
}

func errNotFound(e *env) {
	e.world()
	e.do("add a team", func(ctx context.Context, w store.Writer) error {
		return w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: a1, Name: "Ops", Created: t0})
	})
	var path rbac.Path
	var grants []rbac.Grant
	cases := []errCase{
		{"Reader.Account on a missing account", func(ctx context.Context, w store.Writer) error {
			_, err := w.Account(ctx, rbac.Account("nope"))
			return err
		}},
		{"Reader.Account on a resource", func(ctx context.Context, w store.Writer) error { _, err := w.Account(ctx, p1); return err }},
		{"Reader.Resource on a missing resource", func(ctx context.Context, w store.Writer) error {
			_, err := w.Resource(ctx, rbac.Project("nope"))
			return err
		}},
		{"Reader.Resource on an account", func(ctx context.Context, w store.Writer) error { _, err := w.Resource(ctx, a1); return err }},
		{"Reader.Path on a missing scope", func(ctx context.Context, w store.Writer) error {
			_, err := w.Path(ctx, rbac.Inbox("nope"), nil)
			return err
		}},
		{"Reader.Reach on a missing scope", func(ctx context.Context, w store.Writer) error {
			_, _, err := w.Reach(ctx, rbac.User(uAnn), rbac.Inbox("nope"), path, grants)
			return err
		}},
		{"Reader.User", func(ctx context.Context, w store.Writer) error { _, err := w.User(ctx, "nope"); return err }},
		{"Reader.UserByEmail", func(ctx context.Context, w store.Writer) error {
			_, err := w.UserByEmail(ctx, "nope@example.test")
			return err
		}},
		{"Reader.UserByOAuth", func(ctx context.Context, w store.Writer) error {
			_, err := w.UserByOAuth(ctx, "github", "nope")
			return err
		}},
		{"Reader.Member", func(ctx context.Context, w store.Writer) error { _, err := w.Member(ctx, a1, uBob); return err }},
		{"Reader.Grant", func(ctx context.Context, w store.Writer) error {
			_, err := w.Grant(ctx, rbac.User(uAnn), p1)
			return err
		}},
		{"Reader.Team", func(ctx context.Context, w store.Writer) error { _, err := w.Team(ctx, "nope"); return err }},
		{"Reader.Invitation", func(ctx context.Context, w store.Writer) error { _, err := w.Invitation(ctx, "nope"); return err }},
		{"Reader.Token", func(ctx context.Context, w store.Writer) error { _, err := w.Token(ctx, "nope"); return err }},
		{"Reader.InviteLink", func(ctx context.Context, w store.Writer) error { _, err := w.InviteLink(ctx, "nope"); return err }},
		{"Writer.InsertAccount with a missing organization", func(ctx context.Context, w store.Writer) error {
			return w.InsertAccount(ctx, newAccount(rbac.Account("a9"), "nope", uAnn))
		}},
		{"Writer.UpdateAccount", func(ctx context.Context, w store.Writer) error {
			return w.UpdateAccount(ctx, newAccount(rbac.Account("nope"), "", uAnn))
		}},
		{"Writer.DeleteAccount", func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, rbac.Account("nope")) }},
		{"Writer.InsertResource with a missing parent", func(ctx context.Context, w store.Writer) error {
			return w.InsertResource(ctx, newResource(rbac.Inbox("i9"), rbac.Project("nope"), "a1"))
		}},
		{"Writer.UpdateResource", func(ctx context.Context, w store.Writer) error {
			return w.UpdateResource(ctx, newResource(rbac.Project("nope"), a1, "a1"))
		}},
		{"Writer.DeleteResource", func(ctx context.Context, w store.Writer) error { return w.DeleteResource(ctx, rbac.Project("nope")) }},
		{"Writer.UpdateUser", func(ctx context.Context, w store.Writer) error {
			return w.UpdateUser(ctx, newUser("nope", "nope@example.test"))
		}},
		{"Writer.DeleteUser", func(ctx context.Context, w store.Writer) error { return w.DeleteUser(ctx, "nope") }},
		{"Writer.InsertMember with a missing tenant", func(ctx context.Context, w store.Writer) error {
			return w.InsertMember(ctx, store.Member{Tenant: rbac.Account("nope"), User: uAnn, Created: t0})
		}},
		{"Writer.InsertMember with a missing user", func(ctx context.Context, w store.Writer) error {
			return w.InsertMember(ctx, store.Member{Tenant: a1, User: "nope", Created: t0})
		}},
		{"Writer.DeleteMember", func(ctx context.Context, w store.Writer) error { return w.DeleteMember(ctx, a1, uBob) }},
		{"Writer.TouchMember", func(ctx context.Context, w store.Writer) error { return w.TouchMember(ctx, a1, uBob, t0) }},
		{"Writer.PutGrant on a missing scope", func(ctx context.Context, w store.Writer) error {
			return w.PutGrant(ctx, grant(rbac.User(uAnn), rbac.Project("nope"), a1, rbac.Admin))
		}},
		{"Writer.DeleteGrant", func(ctx context.Context, w store.Writer) error { return w.DeleteGrant(ctx, rbac.User(uAnn), p1) }},
		{"Writer.UpdateTeam", func(ctx context.Context, w store.Writer) error {
			return w.UpdateTeam(ctx, store.Team{ID: "nope", Tenant: a1, Name: "x"})
		}},
		{"Writer.DeleteTeam", func(ctx context.Context, w store.Writer) error { return w.DeleteTeam(ctx, "nope") }},
		{"Writer.InsertTeamMember with a missing team", func(ctx context.Context, w store.Writer) error { return w.InsertTeamMember(ctx, "nope", uAnn) }},
		{"Writer.InsertTeamMember with a missing user", func(ctx context.Context, w store.Writer) error { return w.InsertTeamMember(ctx, "t1", "nope") }},
		{"Writer.DeleteTeamMember", func(ctx context.Context, w store.Writer) error { return w.DeleteTeamMember(ctx, "t1", uAnn) }},
		{"Writer.UpdateInvitation", func(ctx context.Context, w store.Writer) error {
			return w.UpdateInvitation(ctx, store.Invitation{ID: "nope", Tenant: a1})
		}},
		{"Writer.DeleteInvitation", func(ctx context.Context, w store.Writer) error { return w.DeleteInvitation(ctx, "nope") }},
		{"Writer.InsertInviteLink with a missing tenant", func(ctx context.Context, w store.Writer) error {
			return w.InsertInviteLink(ctx, store.InviteLink{ID: "l9", Tenant: rbac.Account("nope"), CreatedBy: uAnn, Created: t0})
		}},
		{"Writer.UpdateInviteLink", func(ctx context.Context, w store.Writer) error {
			return w.UpdateInviteLink(ctx, store.InviteLink{ID: "nope", Tenant: a1})
		}},
		{"Writer.DeleteInviteLink", func(ctx context.Context, w store.Writer) error { return w.DeleteInviteLink(ctx, "nope") }},
		{"Writer.UpdateToken", func(ctx context.Context, w store.Writer) error {
			return w.UpdateToken(ctx, store.Token{ID: "nope", Tenant: a1})
		}},
		{"Writer.DeleteToken", func(ctx context.Context, w store.Writer) error { return w.DeleteToken(ctx, "nope") }},
		{"Reader.SecurityPolicy", func(ctx context.Context, w store.Writer) error { _, err := w.SecurityPolicy(ctx, a1); return err }},
		{"Writer.PutSecurityPolicy with a missing tenant", func(ctx context.Context, w store.Writer) error {
			return w.PutSecurityPolicy(ctx, store.SecurityPolicy{Tenant: rbac.Account("nope"), UpdatedBy: uAnn, Updated: t0})
		}},
	}
	e.checkErrs(store.ErrNotFound, "a missing record must give an error matching store.ErrNotFound", cases)
}

func errExists(e *env) {
	e.world()
	e.do("add a team, an invitation, an invite link and a token", func(ctx context.Context, w store.Writer) error {
		if err := w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: a1, Name: "Ops", Created: t0}); err != nil {
			return err
		}
		if err := w.InsertTeamMember(ctx, "t1", uCy); err != nil {
			return err
		}
		if err := w.InsertInvitation(ctx, store.Invitation{ID: "v1", Tenant: a1, Email: "new@example.test", InvitedBy: rbac.User(uAnn), Created: t0}); err != nil {
			return err
		}
		if err := w.InsertInviteLink(ctx, store.InviteLink{ID: "l1", Tenant: a1, CreatedBy: uAnn, Created: t0}); err != nil {
			return err
		}
		return w.InsertToken(ctx, store.Token{ID: "k1", Tenant: a1, Name: "ci", CreatedBy: uAnn, Created: t0})
	})
	cases := []errCase{
		{"Writer.InsertAccount with a taken ref", func(ctx context.Context, w store.Writer) error { return w.InsertAccount(ctx, newAccount(a2, "", uBob)) }},
		{"Writer.InsertAccount with a taken organization ref", func(ctx context.Context, w store.Writer) error { return w.InsertAccount(ctx, newAccount(o1, "", uBob)) }},
		{"Writer.InsertResource with a taken ref", func(ctx context.Context, w store.Writer) error {
			return w.InsertResource(ctx, newResource(p1, a1, "a1"))
		}},
		{"Writer.InsertUser with a taken ID", func(ctx context.Context, w store.Writer) error {
			return w.InsertUser(ctx, newUser(uAnn, "other@example.test"))
		}},
		{"Writer.InsertMember of a member", func(ctx context.Context, w store.Writer) error {
			return w.InsertMember(ctx, store.Member{Tenant: a1, User: uCy, Created: t0})
		}},
		{"Writer.InsertTeam with a taken ID", func(ctx context.Context, w store.Writer) error {
			return w.InsertTeam(ctx, store.Team{ID: "t1", Tenant: a2, Name: "Other", Created: t0})
		}},
		{"Writer.InsertTeamMember of a team member", func(ctx context.Context, w store.Writer) error { return w.InsertTeamMember(ctx, "t1", uCy) }},
		{"Writer.InsertInvitation with a taken ID", func(ctx context.Context, w store.Writer) error {
			return w.InsertInvitation(ctx, store.Invitation{ID: "v1", Tenant: a2, Email: "other@example.test", Created: t0})
		}},
		{"Writer.InsertInviteLink with a taken ID", func(ctx context.Context, w store.Writer) error {
			return w.InsertInviteLink(ctx, store.InviteLink{ID: "l1", Tenant: a2, CreatedBy: uBob, Created: t0})
		}},
		{"Writer.InsertToken with a taken ID", func(ctx context.Context, w store.Writer) error {
			return w.InsertToken(ctx, store.Token{ID: "k1", Tenant: a2, Name: "other", Created: t0})
		}},
	}
	e.checkErrs(store.ErrExists, "a record that exists must give an error matching store.ErrExists", cases)
}
