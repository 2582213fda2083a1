package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// The IDs of the demo world, which seedDemo checks it made.
const (
	demoOwner      = "user-1" // ann@acme.test
	demoAdmin      = "user-2" // carol@acme.test, account admin
	demoInboxAdmin = "user-3" // dave@acme.test, admin of Staging
	demoViewer     = "user-4" // erin@acme.test, viewer of Web
	demoAccount    = "acct-1"
	demoProject    = "proj-1"  // Web
	demoStaging    = "inbox-1" // Staging
	demoProduction = "inbox-2" // Production
	demoDomain     = "dom-1"   // mail.acme.test
	demoTeam       = "team-1"  // Support
	demoToken      = "tok-1"   // deploy
	demoInvitation = "inv-4"   // frank@acme.test
)

// demoWorld is what seedDemo made.
type demoWorld struct {
	Owner, Admin, InboxAdmin, Viewer     rbac.Holder
	Account                              rbac.Ref
	Project, Staging, Production, Domain rbac.Ref
	Team, Token, Invitation              rbac.Holder
}

// counter numbers IDs per kind ("user-1", "user-2", "acct-1"...), so that the demo
// world has the same IDs on every run.
type counter map[string]int

func (c counter) next(kind string) string {
	c[kind]++
	return kind + "-" + strconv.Itoa(c[kind])
}

// demoPresent reports whether st holds the demo world: its owner with the demo's ID,
// and its account.
func demoPresent(ctx context.Context, st store.Store) (bool, error) {
	present := false
	err := st.View(ctx, func(ctx context.Context, r store.Reader) error {
		u, err := r.UserByEmail(ctx, "ann@acme.test")
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.ID != demoOwner) {
			return nil
		}
		if err != nil {
			return err
		}
		a, err := r.Account(ctx, rbac.Account(demoAccount))
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		present = err == nil && a.Owner == demoOwner
		return err
	})
	return present, err
}

// seedDemo builds the demo world in st through the operations of packages account and
// profile, in one transaction: an owner and her account on the team plan, a project
// with two inboxes, a domain, an account admin, an inbox admin, a project viewer in a
// team that views the domain, an API token and a pending invitation.
func seedDemo(ctx context.Context, st store.Store) (demoWorld, error) {
	ids := counter{}
	svc := account.New(st, account.Options{NewID: ids.next})
	var w demoWorld
	err := svc.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		clear(ids) // a store may run the closure again: the IDs start over with it
		reg, err := account.Run(ctx, tx, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"})
		if err != nil {
			return err
		}
		ann, acct := rbac.User(reg.User.ID), reg.Account.Ref
		w.Owner, w.Account = ann, acct
		if _, err := account.Run(ctx, tx, ann, account.RenameAccount{Account: acct, Name: "Acme"}); err != nil {
			return err
		}
		if _, err := account.Run(ctx, tx, ann, account.SetPlan{Account: acct, Plan: "team"}); err != nil {
			return err
		}
		create := func(parent rbac.Ref, kind rbac.Kind, name string) (rbac.Ref, error) {
			r, err := account.Run(ctx, tx, ann, account.CreateResource{Parent: parent, Kind: kind, Name: name})
			return r.Ref, err
		}
		if w.Project, err = create(acct, rbac.KindProject, "Web"); err != nil {
			return err
		}
		if w.Staging, err = create(w.Project, rbac.KindInbox, "Staging"); err != nil {
			return err
		}
		if w.Production, err = create(w.Project, rbac.KindInbox, "Production"); err != nil {
			return err
		}
		if w.Domain, err = create(acct, rbac.KindDomain, "mail.acme.test"); err != nil {
			return err
		}
		join := func(name string, scope rbac.Ref, level rbac.Level) (rbac.Holder, error) {
			email := name + "@acme.test"
			reg, err := account.Run(ctx, tx, rbac.Holder{}, profile.Register{Email: email, Name: name})
			if err != nil {
				return rbac.Holder{}, err
			}
			inv, err := account.Run(ctx, tx, ann, account.Invite{Tenant: acct, Email: email, Grants: []account.GrantSpec{{Scope: scope, Level: level}}})
			if err != nil {
				return rbac.Holder{}, err
			}
			user := rbac.User(reg.User.ID)
			_, err = account.Run(ctx, tx, user, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
			return user, err
		}
		if w.Admin, err = join("carol", acct, rbac.Admin); err != nil {
			return err
		}
		if w.InboxAdmin, err = join("dave", w.Staging, rbac.Admin); err != nil {
			return err
		}
		if w.Viewer, err = join("erin", w.Project, rbac.Viewer); err != nil {
			return err
		}
		team, err := account.Run(ctx, tx, ann, account.CreateTeam{Tenant: acct, Name: "Support"})
		if err != nil {
			return err
		}
		w.Team = rbac.Team(team.ID)
		if _, err := account.Run(ctx, tx, ann, account.SetPermissions{
			Tenant: acct, Holder: w.Team,
			Changes: []account.PermissionChange{{Scope: w.Domain, Level: rbac.Viewer}},
		}); err != nil {
			return err
		}
		if _, err := account.Run(ctx, tx, ann, account.AddTeamMember{Tenant: acct, Team: w.Team, Member: w.Viewer}); err != nil {
			return err
		}
		tok, err := account.Run(ctx, tx, w.Admin, account.CreateToken{
			Tenant: acct, Name: "deploy", NeverExpires: true,
			Grants: []account.GrantSpec{{Scope: w.Project, Level: rbac.Admin}},
		})
		if err != nil {
			return err
		}
		w.Token = rbac.Token(tok.ID)
		inv, err := account.Run(ctx, tx, ann, account.Invite{
			Tenant: acct, Email: "frank@acme.test",
			Grants: []account.GrantSpec{{Scope: w.Production, Level: rbac.Viewer}},
		})
		if err != nil {
			return err
		}
		w.Invitation = rbac.Invite(inv.ID)
		return nil
	})
	if err != nil {
		return demoWorld{}, err
	}
	want := demoWorld{
		Owner: rbac.User(demoOwner), Admin: rbac.User(demoAdmin), InboxAdmin: rbac.User(demoInboxAdmin), Viewer: rbac.User(demoViewer),
		Account: rbac.Account(demoAccount), Project: rbac.Project(demoProject),
		Staging: rbac.Inbox(demoStaging), Production: rbac.Inbox(demoProduction), Domain: rbac.Domain(demoDomain),
		Team: rbac.Team(demoTeam), Token: rbac.Token(demoToken), Invitation: rbac.Invite(demoInvitation),
	}
	if w != want {
		return w, fmt.Errorf("the demo world got other IDs than documented: %+v", w)
	}
	return w, nil
}
