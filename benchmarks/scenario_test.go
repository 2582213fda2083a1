// Package benchmarks compares Tenantry's check with casbin's on one scenario.
//
// The scenario: n accounts, each with an owner, an admin and three viewers (granted
// on the account), two projects of two inboxes each, and a sending domain. Owners
// and admins may read and write everything in their account, viewers may only read,
// and nobody reaches another account.
package benchmarks

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// Roles of the scenario, as casbin role names.
const (
	roleOwner  = "owner"
	roleAdmin  = "admin"
	roleViewer = "viewer"
)

// Acts of the scenario, as casbin actions.
const (
	actRead  = "read"
	actWrite = "write"
)

// member is a user of an account with its role there.
type member struct {
	user string
	role string
}

// scope is a scope of an account with the Tenantry actions that read and write it.
type scope struct {
	ref    rbac.Ref
	parent rbac.Ref // zero for the account
	read   rbac.Action
	write  rbac.Action
}

// scenario is the data of n accounts, from which every engine is loaded.
type scenario struct {
	n int
}

func acctID(i int) string { return "a" + strconv.Itoa(i) }

// members returns the users of account i.
func (scenario) members(i int) []member {
	a := acctID(i)
	return []member{
		{a + "-owner", roleOwner},
		{a + "-admin", roleAdmin},
		{a + "-viewer0", roleViewer},
		{a + "-viewer1", roleViewer},
		{a + "-viewer2", roleViewer},
	}
}

// scopes returns the scopes of account i, the account first, parents before
// children.
func (scenario) scopes(i int) []scope {
	a := rbac.Account(acctID(i))
	out := []scope{
		{ref: a, read: rbac.AccountView, write: rbac.AccountRename},
		{ref: rbac.Domain(a.ID + "-d"), parent: a, read: rbac.DomainView, write: rbac.DomainSettingsManage},
	}
	for p := range 2 {
		proj := rbac.Project(a.ID + "-p" + strconv.Itoa(p))
		out = append(out, scope{ref: proj, parent: a, read: rbac.ProjectView, write: rbac.ProjectRename})
		for k := range 2 {
			in := rbac.Inbox(proj.ID + "-i" + strconv.Itoa(k))
			out = append(out, scope{ref: in, parent: proj, read: rbac.InboxRead, write: rbac.InboxSettingsManage})
		}
	}
	return out
}

// request is one check of the benchmarks.
type request struct {
	user   string
	dom    string // the account the object belongs to
	obj    string
	scope  rbac.Ref
	act    string
	action rbac.Action
}

// viewerRequests returns the benchmarked checks: a viewer of the middle account,
// granted on the account, reads an inbox two levels below (allowed) and tries to
// change its settings (denied).
func (s scenario) viewerRequests() (allow, deny request) {
	i := s.n / 2
	sc := s.scopes(i)
	in := sc[len(sc)-1]
	user := s.members(i)[3].user
	allow = request{user: user, dom: acctID(i), obj: in.ref.ID, scope: in.ref, act: actRead, action: in.read}
	deny = allow
	deny.act, deny.action = actWrite, in.write
	return allow, deny
}

var loadTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// tenantry loads the scenario into a memstore through store.Writer: the owner as
// the account's owner, the admin and the viewers as grants on the account.
func (s scenario) tenantry(ctx context.Context) (*account.Service, int, error) {
	st := memstore.New()
	grants := 0
	err := st.Update(ctx, func(ctx context.Context, w store.Writer) error {
		for i := range s.n {
			a := rbac.Account(acctID(i))
			ms := s.members(i)
			for _, m := range ms {
				if err := w.InsertUser(ctx, store.User{ID: m.user, Email: m.user + "@bench.test", Created: loadTime}); err != nil {
					return err
				}
			}
			if err := w.InsertAccount(ctx, store.Account{Ref: a, Name: a.ID, Owner: ms[0].user, Plan: "enterprise", Created: loadTime}); err != nil {
				return err
			}
			for _, sc := range s.scopes(i)[1:] {
				if err := w.InsertResource(ctx, store.Resource{Ref: sc.ref, Parent: sc.parent, Account: a.ID, Name: sc.ref.ID, Created: loadTime}); err != nil {
					return err
				}
			}
			for _, m := range ms {
				if err := w.InsertMember(ctx, store.Member{Tenant: a, User: m.user, Created: loadTime}); err != nil {
					return err
				}
				level := rbac.Viewer
				switch m.role {
				case roleOwner:
					continue
				case roleAdmin:
					level = rbac.Admin
				}
				if err := w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: rbac.User(m.user), Scope: a, Level: level}, Tenant: a}); err != nil {
					return err
				}
				grants++
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return account.New(st, account.Options{}), grants, nil
}

// casbinModel is one way of writing the scenario for casbin.
type casbinModel struct {
	name string
	conf string
	// load returns the policy lines ("p") and the named grouping lines ("g", "g2").
	load func(s scenario) (p [][]string, g map[string][][]string)
}

// casbinDomains is the RBAC-with-domains model of casbin's documentation, with a
// resource tree: a permission line per account and role, role links per account, and
// a link from every resource to its parent.
var casbinDomains = casbinModel{
	name: "casbin-domains",
	conf: `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act

[role_definition]
g = _, _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && g2(r.obj, p.obj) && r.act == p.act
`,
	load: func(s scenario) ([][]string, map[string][][]string) {
		var p, g, g2 [][]string
		for i := range s.n {
			a := acctID(i)
			p = append(p,
				[]string{roleOwner, a, a, actRead}, []string{roleOwner, a, a, actWrite},
				[]string{roleAdmin, a, a, actRead}, []string{roleAdmin, a, a, actWrite},
				[]string{roleViewer, a, a, actRead})
			for _, m := range s.members(i) {
				g = append(g, []string{m.user, m.role, a})
			}
			for _, sc := range s.scopes(i)[1:] {
				g2 = append(g2, []string{sc.ref.ID, sc.parent.ID})
			}
		}
		return p, map[string][][]string{"g": g, "g2": g2}
	},
}

// casbinTuned is the fastest model found for the scenario: three global permission
// lines, so that an enforcement evaluates the matcher three times whatever the
// number of accounts; the user's role in the request's account through the domain
// role manager; the owner role linked to admin in each account; every resource
// linked straight to its account, one hop, checked against the request's account.
var casbinTuned = casbinModel{
	name: "casbin-tuned",
	conf: `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, act

[role_definition]
g = _, _, _
g2 = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = r.act == p.act && g2(r.obj, r.dom) && g(r.sub, p.sub, r.dom)
`,
	load: func(s scenario) ([][]string, map[string][][]string) {
		p := [][]string{{roleAdmin, actRead}, {roleAdmin, actWrite}, {roleViewer, actRead}}
		var g, g2 [][]string
		for i := range s.n {
			a := acctID(i)
			g = append(g, []string{roleOwner, roleAdmin, a})
			for _, m := range s.members(i) {
				g = append(g, []string{m.user, m.role, a})
			}
			for _, sc := range s.scopes(i)[1:] {
				g2 = append(g2, []string{sc.ref.ID, a})
			}
		}
		return p, map[string][][]string{"g": g, "g2": g2}
	},
}

var casbinModels = []casbinModel{casbinDomains, casbinTuned}

// enforcer builds an in-memory casbin enforcer of the model loaded with the
// scenario, and returns it with its number of policy lines.
func (c casbinModel) enforcer(s scenario) (*casbin.Enforcer, int, error) {
	m, err := model.NewModelFromString(c.conf)
	if err != nil {
		return nil, 0, err
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		return nil, 0, err
	}
	p, gs := c.load(s)
	lines := len(p)
	if _, err := e.AddPolicies(p); err != nil {
		return nil, 0, err
	}
	for _, ptype := range []string{"g", "g2"} {
		if _, err := e.AddNamedGroupingPolicies(ptype, gs[ptype]); err != nil {
			return nil, 0, err
		}
		lines += len(gs[ptype])
	}
	if err := e.BuildRoleLinks(); err != nil {
		return nil, 0, err
	}
	return e, lines, nil
}

// sizes are the benchmarked scenario sizes: n is chosen so that the documented
// casbin model has about 1k and 100k policy lines (17 per account).
var sizes = []struct {
	name string
	n    int
}{
	{"1k", 60},
	{"100k", 5900},
}

// check asks an enforcer the request.
func enforce(e *casbin.Enforcer, r request) (bool, error) {
	return e.Enforce(r.user, r.dom, r.obj, r.act)
}

func (r request) String() string {
	return fmt.Sprintf("%s %s %s (in %s)", r.user, r.act, r.obj, r.dom)
}
