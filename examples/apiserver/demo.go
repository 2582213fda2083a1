package main

import (
	"context"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Fixture is what -demo creates, as -demo-out writes it: the IDs a client needs (JSON
// numbers, as the API serves them), the secrets of the demo's tokens (shown nowhere
// else) and a session for each user (the cookie "session").
type Fixture struct {
	Organization Named       `json:"organization"`
	Accounts     []DemoAcct  `json:"accounts"`
	Users        []DemoUser  `json:"users"`
	Invitations  []DemoUser  `json:"invitations"`
	Tokens       []DemoToken `json:"tokens"`
}

// Named is anything with an ID and a name.
type Named struct {
	ID   api.ID `json:"id"`
	Name string `json:"name"`
}

// DemoAcct is a sub-account of the demo organization and what it holds.
type DemoAcct struct {
	Named
	Projects []DemoProject `json:"projects"`
	Domains  []Named       `json:"domains"`
}

// DemoProject is a project with its inboxes.
type DemoProject struct {
	Named
	Inboxes []Named `json:"inboxes"`
}

// DemoUser is a user of the demo (or a pending invitation), with what they were
// given.
type DemoUser struct {
	ID      api.ID `json:"id"`
	Email   string `json:"email"`
	Access  string `json:"access"`
	Session string `json:"session,omitempty"`
}

// DemoToken is an API token of the demo with its secret.
type DemoToken struct {
	ID        api.ID `json:"id"`
	Name      string `json:"name"`
	AccountID api.ID `json:"account_id"`
	Access    string `json:"access"`
	Secret    string `json:"secret"`
}

// buildDemo creates, through the library, an organization on the business plan
// with two sub-accounts (each with a project of two inboxes and a domain), users at
// several levels, a pending invitation and tokens for each kind of caller; each user
// gets a session from sessions (nil: none).
func buildDemo(ctx context.Context, svc *account.Service, sessions *api.Sessions) (Fixture, error) {
	session := func(id string) string {
		if sessions == nil {
			return ""
		}
		return sessions.Start(id)
	}
	var fx Fixture
	olivia, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "olivia@demo.test", Name: "Olivia"})
	if err != nil {
		return fx, err
	}
	owner := rbac.User(olivia.User.ID)
	fx.Users = append(fx.Users, DemoUser{api.ID(olivia.User.ID), olivia.User.Email, "owner of the organization", session(olivia.User.ID)})
	org, err := account.Do(ctx, svc, owner, account.CreateOrganization{Name: "Demo Group", Plan: "business"})
	if err != nil {
		return fx, err
	}
	fx.Organization = Named{api.ID(org.Ref.ID), org.Name}

	type tree struct {
		acct              store.Account
		web, staging, dom store.Resource
	}
	var trees []tree
	for _, region := range []string{"EU", "US"} {
		var tr tree
		if tr.acct, err = account.Do(ctx, svc, owner, account.CreateSubAccount{Org: org.Ref, Name: "Demo " + region}); err != nil {
			return fx, err
		}
		if tr.web, err = account.Do(ctx, svc, owner, account.CreateResource{Parent: tr.acct.Ref, Kind: rbac.KindProject, Name: "Web"}); err != nil {
			return fx, err
		}
		da := DemoAcct{Named: Named{api.ID(tr.acct.Ref.ID), tr.acct.Name}}
		dp := DemoProject{Named: Named{api.ID(tr.web.Ref.ID), tr.web.Name}}
		for _, name := range []string{"Staging", "Production"} {
			in, err := account.Do(ctx, svc, owner, account.CreateResource{Parent: tr.web.Ref, Kind: rbac.KindInbox, Name: name})
			if err != nil {
				return fx, err
			}
			if name == "Staging" {
				tr.staging = in
			}
			dp.Inboxes = append(dp.Inboxes, Named{api.ID(in.Ref.ID), in.Name})
		}
		if tr.dom, err = account.Do(ctx, svc, owner, account.CreateResource{Parent: tr.acct.Ref, Kind: rbac.KindDomain, Name: region + ".demo.test"}); err != nil {
			return fx, err
		}
		da.Projects = []DemoProject{dp}
		da.Domains = []Named{{api.ID(tr.dom.Ref.ID), tr.dom.Name}}
		fx.Accounts = append(fx.Accounts, da)
		trees = append(trees, tr)
	}
	eu, us := trees[0], trees[1]

	invite := func(tenant rbac.Ref, email string, scope rbac.Ref, level rbac.Level, access string, accept bool) error {
		var u profile.Registered
		if accept {
			var err error
			if u, err = account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email}); err != nil {
				return err
			}
		}
		inv, err := account.Do(ctx, svc, owner, account.Invite{Tenant: tenant, Email: email, Grants: []account.GrantSpec{{Scope: scope, Level: level}}})
		if err != nil {
			return err
		}
		if !accept {
			fx.Invitations = append(fx.Invitations, DemoUser{ID: api.ID(inv.ID), Email: email, Access: access})
			return nil
		}
		if _, err := account.Do(ctx, svc, rbac.User(u.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
			return err
		}
		fx.Users = append(fx.Users, DemoUser{api.ID(u.User.ID), email, access, session(u.User.ID)})
		return nil
	}
	for _, i := range []struct {
		tenant rbac.Ref
		email  string
		scope  rbac.Ref
		level  rbac.Level
		access string
		accept bool
	}{
		{eu.acct.Ref, "adam@demo.test", eu.acct.Ref, rbac.Admin, "admin of Demo EU", true},
		{eu.acct.Ref, "ines@demo.test", eu.staging.Ref, rbac.Admin, "admin of inbox Staging in Demo EU", true},
		{eu.acct.Ref, "pia@demo.test", eu.web.Ref, rbac.Viewer, "viewer of project Web in Demo EU", true},
		{us.acct.Ref, "dora@demo.test", us.dom.Ref, rbac.Viewer, "viewer of domain us.demo.test", true},
		{us.acct.Ref, "nina@demo.test", us.web.Ref, rbac.Viewer, "viewer of project Web in Demo US (pending)", false},
	} {
		if err := invite(i.tenant, i.email, i.scope, i.level, i.access, i.accept); err != nil {
			return fx, err
		}
	}

	for _, t := range []struct {
		tenant rbac.Ref
		name   string
		scope  rbac.Ref
		level  rbac.Level
		access string
	}{
		{eu.acct.Ref, "EU admin", eu.acct.Ref, rbac.Admin, "admin of Demo EU"},
		{eu.acct.Ref, "EU staging admin", eu.staging.Ref, rbac.Admin, "admin of inbox Staging in Demo EU"},
		{eu.acct.Ref, "EU viewer", eu.acct.Ref, rbac.Viewer, "viewer of Demo EU"},
		{us.acct.Ref, "US admin", us.acct.Ref, rbac.Admin, "admin of Demo US"},
		{org.Ref, "organization admin", org.Ref, rbac.Admin, "admin of the organization: lists and creates sub-accounts"},
	} {
		tok, err := account.Do(ctx, svc, owner, account.CreateToken{
			Tenant: t.tenant, Name: t.name, Grants: []account.GrantSpec{{Scope: t.scope, Level: t.level}},
		})
		if err != nil {
			return fx, err
		}
		fx.Tokens = append(fx.Tokens, DemoToken{api.ID(tok.ID), tok.Name, api.ID(t.tenant.ID), t.access, tok.Secret})
	}
	return fx, nil
}
