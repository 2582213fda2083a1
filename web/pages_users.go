package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// pageFuncs are the templates' helpers.
var pageFuncs = template.FuncMap{
	"title": func(s string) string {
		if s == "" {
			return s
		}
		return strings.ToUpper(s[:1]) + s[1:]
	},
}

// tenantView is the account or organization a page is about.
type tenantView struct {
	Ref      rbac.Ref
	Name     string
	Kind     string // "account", "organization"
	Path     string // the pages' path of the tenant
	Owner    string // the owner's user ID
	IsOwner  bool   // the signed-in user owns it
	CanAudit bool   // the signed-in user may read its audit log
	// CanSecurity: the signed-in user may manage its security policy.
	CanSecurity bool
	// Notice is the viewer's notice that two-factor authentication becomes required.
	Notice      *noticeView
	viewsTenant bool     // the viewer may view the tenant itself
	org         string   // the organization's name, for a sub-account
	orgRef      rbac.Ref // the organization, for a sub-account
	plan        string   // the plan's name (the organization's, for a sub-account); "" when unknown
}

func (p *pages) tenantPath(ref rbac.Ref) string {
	seg := "accounts"
	if ref.Kind == rbac.KindOrganization {
		seg = "organizations"
	}
	return p.prefix + "/" + seg + "/" + url.PathEscape(ref.ID)
}

// tenant returns the tenant the user is on: ErrNotFound when they cannot see it.
func (p *pages) tenant(ctx context.Context, c *call, ref rbac.Ref) (*tenantView, error) {
	a, err := account.Get(ctx, p.svc, c.me, account.Account{Account: ref})
	if err != nil {
		return nil, err
	}
	_ = p.setLocation(ctx, c) // for the notice's date; UTC without it
	t := &tenantView{Ref: a.Ref, Name: a.Name, Kind: a.Ref.Kind.String(), Path: p.tenantPath(a.Ref), Owner: a.Owner, IsOwner: a.Owner == c.me.ID}
	d, err := p.svc.Check(ctx, c.me, rbac.AccountAuditView, a.Ref)
	t.CanAudit = err == nil && d.Allowed
	d, err = p.svc.Check(ctx, c.me, rbac.AccountSecurityManage, a.Ref)
	t.CanSecurity = err == nil && d.Allowed
	if d, err = p.svc.Check(ctx, c.me, viewAction[a.Ref.Kind], a.Ref); err == nil {
		t.viewsTenant, t.Notice = d.Allowed, c.notice(d, a.Name)
	}
	if a.Org == "" {
		t.plan = a.Plan
	} else if o, err := account.Get(ctx, p.svc, c.me, account.Account{Account: rbac.Org(a.Org)}); err == nil {
		t.org, t.orgRef, t.plan = o.Name, o.Ref, o.Plan
	}
	return t, nil
}

// nodeView is a scope of the resource tree, flattened with its depth.
type nodeView struct {
	Ref   rbac.Ref
	Key   string // the scope as "kind:id", the form's field suffix
	Name  string
	Kind  string
	Depth int
	Level rbac.Level // the signed-in user's
}

func flatten(nodes []account.Node, depth int, out []nodeView) []nodeView {
	for _, n := range nodes {
		out = append(out, nodeView{Ref: n.Ref, Key: n.Ref.String(), Name: n.Name, Kind: n.Ref.Kind.String(), Depth: min(depth, 4), Level: n.Level})
		out = flatten(n.Children, depth+1, out)
	}
	return out
}

// scopeNames names the scopes a page may mention.
type scopeNames map[rbac.Ref]string

func (n scopeNames) of(r rbac.Ref) string {
	if s, ok := n[r]; ok {
		return s
	}
	return r.String()
}

// tree returns the scopes the user administers in the tenant, flattened, with their
// names.
func (p *pages) tree(ctx context.Context, c *call, t *tenantView) ([]nodeView, scopeNames, error) {
	names := scopeNames{t.Ref: t.Name}
	if t.org != "" {
		names[t.orgRef] = t.org
	}
	nodes, err := account.Get(ctx, p.svc, c.me, account.Resources{Account: t.Ref})
	if err != nil && !refusedOrHidden(err) {
		return nil, nil, err
	}
	flat := flatten(nodes, 0, nil)
	for _, n := range flat {
		names[n.Ref] = n.Name
	}
	return flat, names, nil
}

// refusedOrHidden reports whether err is the library's refusal or not-found.
func refusedOrHidden(err error) bool {
	return errors.Is(err, rbac.ErrDenied) || errors.Is(err, account.ErrNotFound)
}

// grantView is a grant as a page lists it.
type grantView struct {
	Level string
	Scope string
	Kind  string
}

// personView is a member or a pending invitation.
type personView struct {
	Holder     string // "user:ID", "invite:ID"
	Email      string
	Name       string
	Owner      bool
	Invitation bool
	Role       string
	Grants     []grantView
	Teams      []string
	CanUpdate  bool
	CanDestroy bool
	CanLeave   bool
	IsMe       bool
	Path       string // the member's permissions page
	LastActive string // a user's last activity in the tenant: "3 days ago", "never"
	ID         string // an invitation's ID
	Expires    string // an invitation's expiry: "in 6 days (5 Dec 2026)"
	Expired    bool   // the invitation can no longer be accepted
}

func (p *pages) person(t *tenantView, c *call, a account.Access, names scopeNames, teams map[string]string) personView {
	v := personView{
		Holder: a.Holder.String(), Email: a.Email(), Name: a.User.Name, Owner: a.Owner,
		Invitation: a.Holder.Kind == rbac.HolderInvite,
		CanUpdate:  a.CanUpdate, CanDestroy: a.CanDestroy, CanLeave: a.CanLeave, IsMe: a.Holder == c.me,
		Path: t.Path + "/members/" + url.PathEscape(a.Holder.String()),
	}
	if v.Invitation {
		v.ID, v.Expired = a.Invitation.ID, a.Expired
		switch {
		case a.Invitation.Expires.IsZero():
			v.Expires = "never"
		case a.Expired:
			v.Expires = "expired " + c.date(a.Invitation.Expires)
		default:
			v.Expires = until(c.now(), a.Invitation.Expires) + " (" + c.date(a.Invitation.Expires) + ")"
		}
	} else {
		v.LastActive = ago(c.now(), a.LastActive, c.loc)
	}
	var acctLevel rbac.Level
	for _, g := range a.Grants {
		if g.Scope == t.Ref {
			acctLevel = g.Level
		}
		v.Grants = append(v.Grants, grantView{Level: g.Level.String(), Scope: names.of(g.Scope), Kind: g.Scope.Kind.String()})
	}
	for _, tm := range a.Teams {
		name, ok := teams[tm.ID]
		if !ok {
			name = tm.String()
		}
		v.Teams = append(v.Teams, name)
	}
	switch {
	case a.Owner:
		v.Role = "Owner"
	case acctLevel >= rbac.Admin:
		v.Role = title(t.Kind) + " admin"
	case acctLevel >= rbac.Viewer:
		v.Role = title(t.Kind) + " viewer"
	case len(a.Grants) > 0:
		v.Role = "Member"
	default:
		v.Role = "Member, no access"
	}
	return v
}

func title(s string) string { return pageFuncs["title"].(func(string) string)(s) }

// teamNames returns the tenant's teams by ID, when the user may list them.
func (p *pages) teamNames(ctx context.Context, c *call, t rbac.Ref) (map[string]string, []store.Team) {
	out := map[string]string{}
	var list []store.Team
	for tm, err := range account.All(ctx, p.svc, c.me, account.Teams{Tenant: t}) {
		if err != nil {
			break
		}
		out[tm.ID] = tm.Name
		list = append(list, tm)
	}
	return out, list
}

// option is an option of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// filterView is one filter of the people list.
type filterView struct {
	Name, Label string
	Options     []option
}

// usersData is the User Management page.
type usersData struct {
	People      []personView
	Invitations []personView
	Seats       *account.SeatCount
	Filters     []filterView
	Filtered    bool
	Next        string
	Tree        []nodeView
	Teams       []store.Team
	CanInvite   bool
	InviteNote  string
	InviteTTLs  []option // the invitation's expiry choices
	// Inactive is the number of days of the inactive members' view (?inactive=),
	// 0 for the people list; Idle are its members.
	Inactive     int
	InactiveDays []option
	Idle         []idleView
	// Links are the invite links, for who may manage them (Links non-nil).
	Links      *linksView
	LinkLevels []option
}

// idleView is a member of the inactive members' view.
type idleView struct {
	Email, Name string
	Owner, IsMe bool
	Joined      string
	LastActive  string
	Path        string
	CanDestroy  bool
}

// inviteTTLs are the expiry choices of the invitation form, in days (0: the
// service's default).
var inviteTTLs = []int{0, 1, 3, 14, 30}

// inactiveDays are the choices of the inactive members' view, in days.
var inactiveDays = []int{30, 60, 90, 180, 365}

// maxInactiveDays is the longest period the inactive members' view takes.
const maxInactiveDays = 3650

// filterKinds are the people list's filters, by query parameter.
var filterKinds = []struct {
	param, label string
	kind         rbac.Kind
}{{"project", "Project", rbac.KindProject}, {"inbox", "Inbox", rbac.KindInbox}, {"domain", "Domain", rbac.KindDomain}}

func (p *pages) usersPage(r *http.Request, c *call, kind rbac.Kind) (string, any, error) {
	ctx := r.Context()
	ref, err := tenantRef(r, kind)
	if err != nil {
		return "", nil, err
	}
	t, err := p.tenant(ctx, c, ref)
	if err != nil {
		return "", nil, err
	}
	if err := p.setLocation(ctx, c); err != nil {
		return "", nil, err
	}
	flat, names, err := p.tree(ctx, c, t)
	if err != nil {
		return "", nil, err
	}
	p.tenantNotice(ctx, c, t, flat)
	q := r.URL.Query()
	var scopes []rbac.Ref
	d := &usersData{Tree: flat}
	keep := url.Values{}
	for _, f := range filterKinds {
		fv := filterView{Name: f.param, Label: f.label, Options: []option{{Value: "", Label: "Any"}}}
		want := q.Get(f.param)
		if want != "" {
			if account.ValidID(f.param, want) != nil {
				return "", nil, account.ErrNotFound
			}
			scopes = append(scopes, rbac.Ref{Kind: f.kind, ID: want})
			keep.Set(f.param, want)
		}
		for _, n := range flat {
			if n.Ref.Kind == f.kind {
				fv.Options = append(fv.Options, option{Value: n.Ref.ID, Label: n.Name, Selected: n.Ref.ID == want})
			}
		}
		d.Filters = append(d.Filters, fv)
	}
	d.Filtered = len(scopes) > 0
	if s := q.Get("inactive"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxInactiveDays {
			return "", nil, Invalid("inactive", "not a number of days from 1 to %d", maxInactiveDays)
		}
		d.Inactive = n
	}
	for _, n := range inactiveDays {
		d.InactiveDays = append(d.InactiveDays, option{Value: strconv.Itoa(n), Label: plural(n, "day"), Selected: n == d.Inactive})
	}
	for _, n := range inviteTTLs {
		o := option{Value: strconv.Itoa(n), Label: plural(n, "day")}
		if n == 0 {
			o = option{Value: "", Label: "default", Selected: true}
		}
		d.InviteTTLs = append(d.InviteTTLs, o)
	}
	var page account.Page[account.Access]
	if d.Inactive > 0 {
		if err := p.idle(ctx, c, t, d, q.Get("cursor")); err != nil {
			return "", nil, err
		}
	} else if page, err = account.Get(ctx, p.svc, c.me, account.Members{Tenant: t.Ref, Scopes: scopes, Page: account.PageRequest{After: q.Get("cursor")}}); err != nil {
		return "", nil, err
	}
	// Seats are shown to who may list every member: not to a resource's admin.
	if seats, err := account.Get(ctx, p.svc, c.me, account.Seats{Tenant: t.Ref}); err == nil {
		d.Seats = &seats
	} else if !refusedOrHidden(err) {
		return "", nil, err
	}
	teams, list := p.teamNames(ctx, c, t.Ref)
	d.Teams = list
	for _, a := range page.Items {
		v := p.person(t, c, a, names, teams)
		if v.Invitation {
			d.Invitations = append(d.Invitations, v)
		} else {
			d.People = append(d.People, v)
		}
	}
	if page.Next != "" {
		keep.Set("cursor", page.Next)
		d.Next = t.Path + "/users?" + keep.Encode()
	}
	dec, err := p.svc.Check(ctx, c.me, rbac.AccountMembersInvite, t.Ref)
	if err != nil {
		return "", nil, err
	}
	d.CanInvite = dec.Allowed
	if !dec.Allowed {
		d.InviteNote = dec.Reason()
	}
	if d.Links, err = p.links(ctx, c, t, names); err != nil {
		return "", nil, err
	}
	for _, l := range []rbac.Level{rbac.Viewer, rbac.Admin} {
		d.LinkLevels = append(d.LinkLevels, option{Value: l.String(), Label: l.String()})
	}
	return "users", &pageData{Title: "Users · " + t.Name, Tenant: t, Tab: "users", Page: d}, nil
}

// idle fills the inactive members' view: the members not active in the tenant for
// d.Inactive days (account.Inactive), one page after cursor.
func (p *pages) idle(ctx context.Context, c *call, t *tenantView, d *usersData, cursor string) error {
	since := c.now().Add(-time.Duration(d.Inactive) * 24 * time.Hour)
	page, err := account.Get(ctx, p.svc, c.me, account.Inactive{Tenant: t.Ref, Since: since, Page: account.PageRequest{After: cursor}})
	if err != nil {
		return err
	}
	// Who may be removed is the member listing's answer.
	removable := map[string]bool{}
	if len(page.Items) > 0 {
		for a, err := range account.All(ctx, p.svc, c.me, account.Members{Tenant: t.Ref}) {
			if err != nil {
				return err
			}
			if a.Holder.Kind != rbac.HolderUser {
				break // invitations come after the users
			}
			removable[a.Holder.ID] = a.CanDestroy
		}
	}
	d.Idle = []idleView{}
	for _, m := range page.Items {
		h := rbac.User(m.User.ID)
		d.Idle = append(d.Idle, idleView{
			Email: m.User.Email, Name: m.User.Name, Owner: m.Owner, IsMe: h == c.me,
			Joined: c.date(m.Joined), LastActive: ago(c.now(), m.LastActive, c.loc),
			Path: t.Path + "/members/" + url.PathEscape(h.String()), CanDestroy: removable[m.User.ID],
		})
	}
	if page.Next != "" {
		d.Next = t.Path + "/users?" + url.Values{"inactive": {strconv.Itoa(d.Inactive)}, "cursor": {page.Next}}.Encode()
	}
	return nil
}

// permRow is one scope of a member's permissions.
type permRow struct {
	Node          nodeView
	Own           string // the member's own grant there: "", "viewer", "admin"
	OwnContent    bool
	Effective     string
	From          string
	Domain        bool
	Options       []option
	CanRemoveFrom bool
}

// memberData is a member's permissions page.
type memberData struct {
	Person      personView
	Rows        []permRow
	Editable    bool
	CanTransfer bool
	SelfNote    string
}

// viewAction is the viewer-level action of each kind, whose explanation gives a
// holder's effective level there and the grant it comes from.
var viewAction = map[rbac.Kind]rbac.Action{
	rbac.KindOrganization: rbac.OrgView, rbac.KindAccount: rbac.AccountView, rbac.KindProject: rbac.ProjectView,
	rbac.KindInbox: rbac.InboxRead, rbac.KindDomain: rbac.DomainView, rbac.KindBilling: rbac.BillingView,
	rbac.KindTemplates: rbac.TemplatesView, rbac.KindCampaigns: rbac.CampaignsView,
}

// parseHolder reads a member's holder from the path: a user or an invitation.
func parseHolder(s string) (rbac.Holder, error) {
	kind, id, _ := strings.Cut(s, ":")
	if account.ValidID("holder", id) != nil {
		return rbac.Holder{}, account.ErrNotFound
	}
	switch kind {
	case "user":
		return rbac.User(id), nil
	case "invite":
		return rbac.Invite(id), nil
	}
	return rbac.Holder{}, account.ErrNotFound
}

// parseScope reads a scope written "kind:id".
func parseScope(field, s string) (rbac.Ref, error) {
	k, id, ok := strings.Cut(s, ":")
	kind, err := rbac.ParseKind(k)
	if !ok || err != nil {
		return rbac.Ref{}, Invalid(field, "not a scope")
	}
	if err := account.ValidID(field, id); err != nil {
		return rbac.Ref{}, err
	}
	return rbac.Ref{Kind: kind, ID: id}, nil
}

// findMember returns a member or invitation of the tenant that the user can see:
// ErrNotFound otherwise.
func (p *pages) findMember(ctx context.Context, c *call, t rbac.Ref, h rbac.Holder) (account.Access, error) {
	for a, err := range account.All(ctx, p.svc, c.me, account.Members{Tenant: t}) {
		if err != nil {
			return account.Access{}, err
		}
		if a.Holder == h {
			return a, nil
		}
	}
	return account.Access{}, account.ErrNotFound
}

func (p *pages) memberPage(r *http.Request, c *call, kind rbac.Kind) (string, any, error) {
	ctx := r.Context()
	ref, err := tenantRef(r, kind)
	if err != nil {
		return "", nil, err
	}
	h, err := parseHolder(r.PathValue("holder"))
	if err != nil {
		return "", nil, err
	}
	t, err := p.tenant(ctx, c, ref)
	if err != nil {
		return "", nil, err
	}
	a, err := p.findMember(ctx, c, t.Ref, h)
	if err != nil {
		return "", nil, err
	}
	flat, names, err := p.tree(ctx, c, t)
	if err != nil {
		return "", nil, err
	}
	p.tenantNotice(ctx, c, t, flat)
	teams, _ := p.teamNames(ctx, c, t.Ref)
	d := &memberData{Person: p.person(t, c, a, names, teams), Editable: a.CanUpdate}
	d.CanTransfer = t.IsOwner && h.Kind == rbac.HolderUser && !a.Owner && h != c.me
	if h == c.me {
		d.SelfNote = "Nobody changes their own access (" + string(rbac.RuleNoSelfChange) + ": " + rbac.RuleNoSelfChange.Text() + ")."
	}
	own := map[rbac.Ref]store.Grant{}
	for _, g := range a.Grants {
		own[g.Scope] = g
	}
	for _, n := range flat {
		row := permRow{Node: n, Domain: n.Ref.Kind == rbac.KindDomain}
		g, has := own[n.Ref]
		if has {
			row.Own, row.OwnContent = g.Level.String(), g.ViewContent
		}
		e, err := p.svc.Explain(ctx, h, viewAction[n.Ref.Kind], n.Ref)
		if err != nil {
			return "", nil, err
		}
		row.Effective, row.From = explainSource(e, h, n.Ref, names, teams)
		for _, l := range []rbac.Level{rbac.None, rbac.Viewer, rbac.Admin} {
			label := l.String()
			if l == rbac.None {
				label = "no own grant"
			}
			row.Options = append(row.Options, option{Value: l.String(), Label: label, Selected: (has && g.Level == l) || (!has && l == rbac.None)})
		}
		row.CanRemoveFrom = has && a.CanUpdate && n.Ref.Kind != rbac.KindAccount && n.Ref.Kind != rbac.KindOrganization
		d.Rows = append(d.Rows, row)
	}
	who := d.Person.Email
	return "member", &pageData{Title: "Permissions of " + who + " · " + t.Name, Tenant: t, Tab: "users", Page: d}, nil
}

// explainSource says a holder's effective level on a scope and where it comes from.
func explainSource(e account.Explanation, h rbac.Holder, scope rbac.Ref, names scopeNames, teams map[string]string) (string, string) {
	if e.Level == rbac.None {
		return "none", ""
	}
	var best rbac.Grant
	for _, g := range e.Grants {
		if g.Level > best.Level || (g.Level == best.Level && g.Scope == scope) {
			best = g
		}
	}
	var from string
	switch {
	case best.Level == rbac.Owner:
		from = "owner of " + names.of(best.Scope)
	case best.Holder.Kind == rbac.HolderTeam:
		name, ok := teams[best.Holder.ID]
		if !ok {
			name = best.Holder.String()
		}
		from = "team " + name
		if best.Scope != scope {
			from += ", on " + names.of(best.Scope)
		}
	case best.Scope == scope && best.Holder == h:
		from = "own grant"
	default:
		from = "inherited from " + names.of(best.Scope) + " (" + best.Scope.Kind.String() + ")"
	}
	return e.Level.String(), from
}

type auditRow struct {
	Seq                   uint64
	Time                  string
	Actor, Action, Target string
	Before, After         string
}

type auditData struct {
	Rows     []auditRow
	Next     string
	First    string
	TimeZone string
}

func (p *pages) auditPage(r *http.Request, c *call, kind rbac.Kind) (string, any, error) {
	ctx := r.Context()
	ref, err := tenantRef(r, kind)
	if err != nil {
		return "", nil, err
	}
	t, err := p.tenant(ctx, c, ref)
	if err != nil {
		return "", nil, err
	}
	cursor := r.URL.Query().Get("cursor")
	page, err := account.Get(ctx, p.svc, c.me, account.Events{Tenant: t.Ref, Page: account.PageRequest{After: cursor, Limit: 50}})
	if err != nil {
		return "", nil, err
	}
	loc := time.UTC
	me, err := account.Get(ctx, p.svc, c.me, profile.Get{})
	if err != nil {
		return "", nil, err
	}
	if me.TimeZone != "" {
		if l, err := time.LoadLocation(me.TimeZone); err == nil {
			loc = l
		}
	}
	emails := map[rbac.Holder]string{}
	n := 0
	for a, err := range account.All(ctx, p.svc, c.me, account.Members{Tenant: t.Ref}) {
		if err != nil || n > 1000 {
			break
		}
		emails[a.Holder] = a.Email()
		n++
	}
	d := &auditData{TimeZone: loc.String()}
	for _, e := range page.Items {
		actor := e.Actor.String()
		if s, ok := emails[e.Actor]; ok {
			actor = s
		}
		d.Rows = append(d.Rows, auditRow{Seq: e.Seq, Time: e.Time.In(loc).Format("2006-01-02 15:04:05"), Actor: actor, Action: e.Action, Target: e.Target, Before: e.Before, After: e.After})
	}
	if page.Next != "" {
		d.Next = t.Path + "/audit?cursor=" + url.QueryEscape(page.Next)
	}
	if cursor != "" {
		d.First = t.Path + "/audit"
	}
	return "audit", &pageData{Title: "Audit log · " + t.Name, Tenant: t, Tab: "audit", Page: d}, nil
}

// grantsFromForm reads the level fields ("lvl_kind:id") and view-content boxes
// ("vc_kind:id") of a form.
func grantsFromForm(form url.Values) (map[rbac.Ref]account.GrantSpec, error) {
	out := map[rbac.Ref]account.GrantSpec{}
	for key, vals := range form {
		s, ok := strings.CutPrefix(key, "lvl_")
		if !ok || len(vals) == 0 {
			continue
		}
		ref, err := parseScope(key, s)
		if err != nil {
			return nil, err
		}
		l := rbac.None
		if vals[0] != "" {
			if l, err = rbac.ParseLevel(vals[0]); err != nil {
				return nil, Invalid(key, "not a level")
			}
		}
		out[ref] = account.GrantSpec{Scope: ref, Level: l, ViewContent: form.Get("vc_"+s) != ""}
	}
	return out, nil
}

// splitEmails reads the invitation form's addresses: separated by commas,
// semicolons or new lines.
func splitEmails(s string) []string {
	var out []string
	for _, e := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' }) {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// expiresIn reads a form's choice of days ("" for the default).
func expiresIn(form url.Values, field string) (time.Duration, error) {
	s := form.Get(field)
	if s == "" || s == "0" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxInactiveDays {
		return 0, Invalid(field, "not a number of days")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// invitationLink is the link that an invitee accepts an invitation with.
func (p *pages) invitationLink(n account.NewInvitation) string {
	if p.opts.InvitationURL != nil {
		return p.opts.InvitationURL(n)
	}
	return p.prefix + "/invitations/" + url.PathEscape(n.ID) + "?code=" + url.QueryEscape(n.Secret)
}

func (p *pages) invite(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	specs, err := grantsFromForm(r.PostForm)
	if err != nil {
		return back, flash{}, err
	}
	ttl, err := expiresIn(r.PostForm, "expires_in")
	if err != nil {
		return back, flash{}, err
	}
	emails := splitEmails(r.PostForm.Get("email"))
	inv := account.Invite{Tenant: t, ExpiresIn: ttl}
	if len(emails) == 1 {
		inv.Email = emails[0]
	}
	for _, g := range specs {
		if g.Level != rbac.None {
			inv.Grants = append(inv.Grants, g)
		}
	}
	slices.SortFunc(inv.Grants, func(a, b account.GrantSpec) int { return a.Scope.Compare(b.Scope) })
	for _, id := range r.PostForm["team"] {
		inv.Teams = append(inv.Teams, rbac.Team(id))
	}
	if len(emails) > 1 {
		return p.inviteMany(r, c, back, emails, inv)
	}
	n, err := account.Do(r.Context(), p.svc, c.me, inv)
	if err != nil {
		return back, flash{}, err
	}
	return back, flash{
		Text:   fmt.Sprintf("Invitation created for %s. Send them this link: it is shown only now.", n.Email),
		Secret: n.Secret, SecretLabel: "Invitation code", Link: p.invitationLink(n),
	}, nil
}

// inviteMany invites several addresses with the same access, all or nothing: a
// refusal names the address refused.
func (p *pages) inviteMany(r *http.Request, c *call, back string, emails []string, inv account.Invite) (string, flash, error) {
	op := account.InviteMany{Tenant: inv.Tenant, Emails: emails, Grants: inv.Grants, Teams: inv.Teams, ExpiresIn: inv.ExpiresIn}
	made, err := account.Do(r.Context(), p.svc, c.me, op)
	if err != nil {
		refused := ""
		var be *account.BatchError
		var ie *account.InvalidError
		if errors.As(err, &be) {
			refused = be.Email
			err = be.Err
		} else if errors.As(err, &ie) {
			var i int
			if _, e := fmt.Sscanf(ie.Field, "emails[%d]", &i); e == nil && i >= 0 && i < len(emails) {
				refused = emails[i]
			}
		}
		if refused == "" {
			return back, flash{}, err
		}
		f := p.errorFlash(r, err)
		f.Text = fmt.Sprintf("No invitation was sent: %s was refused. %s", refused, f.Text)
		return back, f, nil
	}
	f := flash{Text: fmt.Sprintf("%d invitations created. Send each its link: they are shown only now.", len(made))}
	for _, n := range made {
		f.Links = append(f.Links, flashLink{Email: n.Email, Link: p.invitationLink(n)})
	}
	return back, f, nil
}

func (p *pages) resendInvitation(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	id := r.PathValue("invitation")
	if account.ValidID("invitation", id) != nil {
		return back, flash{}, account.ErrNotFound
	}
	n, err := account.Do(r.Context(), p.svc, c.me, account.ResendInvitation{Tenant: t, Invitation: rbac.Invite(id)})
	if err != nil {
		return back, flash{}, err
	}
	_ = p.setLocation(r.Context(), c) // for the date in the message; UTC without it
	return back, flash{
		Text:   fmt.Sprintf("Invitation of %s renewed until %s; its earlier link no longer works. Send them this one: it is shown only now.", n.Email, c.date(n.Expires)),
		Secret: n.Secret, SecretLabel: "Invitation code", Link: p.invitationLink(n),
	}, nil
}

func (p *pages) revokeInvitation(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	id := r.PathValue("invitation")
	if account.ValidID("invitation", id) != nil {
		return back, flash{}, account.ErrNotFound
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.RevokeInvitation{Tenant: t, Invitation: rbac.Invite(id)}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Invitation revoked."}, nil
}

func (p *pages) setPermissions(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	ctx := r.Context()
	h, err := parseHolder(r.PathValue("holder"))
	if err != nil {
		return p.tenantPath(t) + "/users", flash{}, err
	}
	back := p.tenantPath(t) + "/members/" + url.PathEscape(h.String())
	a, err := p.findMember(ctx, c, t, h)
	if err != nil {
		return back, flash{}, err
	}
	want, err := grantsFromForm(r.PostForm)
	if err != nil {
		return back, flash{}, err
	}
	own := map[rbac.Ref]store.Grant{}
	for _, g := range a.Grants {
		own[g.Scope] = g
	}
	var changes []account.PermissionChange
	for ref, w := range want {
		g, has := own[ref]
		switch {
		case w.Level == rbac.None && has:
			changes = append(changes, account.PermissionChange{Scope: ref, Destroy: true})
		case w.Level == rbac.None:
		case !has || g.Level != w.Level || g.ViewContent != w.ViewContent:
			changes = append(changes, account.PermissionChange{Scope: ref, Level: w.Level, ViewContent: w.ViewContent})
		}
	}
	if len(changes) == 0 {
		return back, flash{Text: "Nothing to change."}, nil
	}
	slices.SortFunc(changes, func(a, b account.PermissionChange) int { return a.Scope.Compare(b.Scope) })
	if _, err := account.Do(ctx, p.svc, c.me, account.SetPermissions{Tenant: t, Holder: h, Changes: changes}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: fmt.Sprintf("Permissions of %s saved.", a.Email())}, nil
}

func (p *pages) removeMember(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	h, err := parseHolder(r.PathValue("holder"))
	if err != nil {
		return back, flash{}, err
	}
	if h.Kind == rbac.HolderInvite {
		return p.revokeInvitationOf(r, c, t, h)
	}
	a, err := p.findMember(r.Context(), c, t, h)
	if err != nil {
		return back, flash{}, err
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.RemoveMember{Tenant: t, Member: h}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: fmt.Sprintf("%s was removed from the %s; they keep their profile.", a.Email(), t.Kind)}, nil
}

func (p *pages) revokeInvitationOf(r *http.Request, c *call, t rbac.Ref, h rbac.Holder) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	if _, err := account.Do(r.Context(), p.svc, c.me, account.RevokeInvitation{Tenant: t, Invitation: h}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Invitation revoked."}, nil
}

func (p *pages) removeFromResource(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	h, err := parseHolder(r.PathValue("holder"))
	if err != nil {
		return p.tenantPath(t) + "/users", flash{}, err
	}
	back := p.tenantPath(t) + "/members/" + url.PathEscape(h.String())
	scope, err := parseScope("scope", r.PostForm.Get("scope"))
	if err != nil {
		return back, flash{}, err
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.RemoveFromResource{Scope: scope, Member: h}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Removed from the " + scope.Kind.String() + "; still a member of the " + t.Kind.String() + "."}, nil
}

func (p *pages) transfer(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	h, err := parseHolder(r.PostForm.Get("to"))
	if err != nil {
		return back, flash{}, err
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.TransferOwnership{Account: t, To: h}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Ownership transferred; you stay as an admin."}, nil
}
