package account

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// MaxRoleMappings is the most entries an SSO connection's role mapping holds.
const MaxRoleMappings = 100

// CreateSSOConnection adds a single sign-on connection to the account or organization
// Tenant ([rbac.RuleSSO]; admin: [rbac.AccountSecurityManage]; the plan must include
// security policies). The protocol (SAML, OIDC) and its configuration are the host's;
// the library keeps what a sign-in through the connection grants. Mapping gives, on
// every sign-in (SSOSignIn), the grants of the identity provider's groups; each must be
// one the actor may give now ([rbac.RuleAdminChanges], [rbac.RuleNoEscalation]), on a
// scope of the tenant, and sign-ins apply it only within what the actor — its author —
// may give then. With Enforce, users whose address is in a domain the tenant verified
// must sign in through one of its connections.
type CreateSSOConnection struct {
	Tenant            rbac.Ref
	Name              string
	Enforce           bool
	NoPersonalAccount bool
	Mapping           []store.RoleMapping
}

// Op returns "sso.create", its log name and audit action.
func (CreateSSOConnection) Op() string { return "sso.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateSSOConnection) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.SSOConnection, error) {
	tx := open(t)
	c := store.SSOConnection{ID: "", Tenant: o.Tenant, Enforce: o.Enforce, NoPersonalAccount: o.NoPersonalAccount, Created: tx.Env.Now()}
	if err := tx.checkConnection(ctx, actor, &c, o.Name, o.Mapping); err != nil {
		return store.SSOConnection{}, err
	}
	c.ID = tx.Env.NewID("sso")
	if err := tx.w.PutSSOConnection(ctx, c); err != nil {
		return store.SSOConnection{}, err
	}
	if err := tx.refreshSSO(ctx, o.Tenant); err != nil {
		return store.SSOConnection{}, err
	}
	return c, tx.audit(ctx, o, o.Tenant, actor, "sso:"+c.ID, "", describeConnection(c))
}

// checkConnection validates a connection's name and mapping for the actor, who must
// manage the tenant's security, and fills c's Name, Mapping and CreatedBy.
func (tx *work) checkConnection(ctx context.Context, actor rbac.Holder, c *store.SSOConnection, name string, mapping []store.RoleMapping) error {
	if err := validTenant("tenant", c.Tenant); err != nil {
		return err
	}
	n, err := ValidName("name", name)
	if err != nil {
		return err
	}
	if len(mapping) > MaxRoleMappings {
		return invalid("mapping", "more than %d entries", MaxRoleMappings)
	}
	for i, m := range mapping {
		f := "mapping[" + strconv.Itoa(i) + "]"
		if strings.TrimSpace(m.Group) == "" || len(m.Group) > MaxNameLen {
			return invalid(f+".group", "empty or longer than %d bytes", MaxNameLen)
		}
		if err := validRef(f+".scope", m.Scope); err != nil {
			return err
		}
		if m.Level != rbac.Viewer && m.Level != rbac.Admin {
			return invalid(f+".level", "not viewer or admin")
		}
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, c.Tenant); err != nil {
		return err
	}
	if actor.Kind != rbac.HolderUser {
		return invalid("actor", "an SSO connection is set up by a person, not a token")
	}
	a, err := tx.r.Account(ctx, c.Tenant)
	if err != nil {
		return err
	}
	root, err := tx.seatRoot(ctx, a)
	if err != nil {
		return err
	}
	if p := tx.s.plans[root.Plan]; !p.SecurityPolicies {
		return errorsJoinPlan("single sign-on", root.Plan)
	}
	for _, m := range mapping {
		if _, _, err := tx.planChange(ctx, actor, c.Tenant, target{holder: rbac.Invite("sso")}, PermissionChange{Scope: m.Scope, Level: m.Level}); err != nil {
			return err
		}
	}
	c.Name, c.Mapping, c.CreatedBy = n, slices.Clone(mapping), actor.ID
	if len(c.Mapping) == 0 {
		c.Mapping = nil
	}
	return nil
}

// describeConnection is what the audit log says of a connection.
func describeConnection(c store.SSOConnection) string {
	var b strings.Builder
	b.WriteString(c.Name)
	if c.Enforce {
		b.WriteString(";enforced")
	}
	if c.NoPersonalAccount {
		b.WriteString(";no personal account")
	}
	for _, m := range c.Mapping {
		b.WriteString(";" + m.Group + "=" + m.Scope.String() + ":" + m.Level.String())
	}
	return b.String()
}

// refreshSSO keeps tenant's security policy in step with its connections and domains:
// the connections' IDs, and the verified domains when one connection enforces SSO.
func (tx *work) refreshSSO(ctx context.Context, tenant rbac.Ref) error {
	p, err := tx.r.SecurityPolicy(ctx, tenant)
	if err != nil && !isNotFound(err) {
		return err
	}
	p.Tenant = tenant
	var ids []string
	enforce := false
	for c, err := range tx.r.SSOConnections(ctx, tenant) {
		if err != nil {
			return err
		}
		ids = append(ids, c.ID)
		enforce = enforce || c.Enforce
	}
	var domains []string
	if enforce {
		for d, err := range tx.r.Domains(ctx, tenant) {
			if err != nil {
				return err
			}
			domains = append(domains, d.Name)
		}
	}
	if slices.Equal(p.SSO, ids) && slices.Equal(p.EnforceSSO, domains) && err == nil {
		return nil
	}
	p.SSO, p.EnforceSSO = ids, domains
	return tx.w.PutSecurityPolicy(ctx, p)
}

// managedConnection loads a connection of tenant the actor may manage.
func (tx *work) managedConnection(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, id string) (store.SSOConnection, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return store.SSOConnection{}, err
	}
	if err := ValidID("connection", id); err != nil {
		return store.SSOConnection{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, tenant); err != nil {
		return store.SSOConnection{}, err
	}
	c, err := tx.r.SSOConnection(ctx, id)
	if isNotFound(err) || err == nil && c.Tenant != tenant {
		return store.SSOConnection{}, notFound(ssoRef(id))
	}
	return c, err
}

// ssoRef names a connection in errors: "sso:ID".
type ssoRef string

func (s ssoRef) String() string { return "sso:" + string(s) }

// UpdateSSOConnection replaces the name, options and role mapping of a connection of
// the account or organization Tenant, as CreateSSOConnection checks them; the actor
// becomes the mapping's author.
type UpdateSSOConnection struct {
	Tenant            rbac.Ref
	Connection        string
	Name              string
	Enforce           bool
	NoPersonalAccount bool
	Mapping           []store.RoleMapping
}

// Op returns "sso.update", its log name and audit action.
func (UpdateSSOConnection) Op() string { return "sso.update" }

// Apply runs the operation; call it through Do or Run.
func (o UpdateSSOConnection) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.SSOConnection, error) {
	tx := open(t)
	old, err := tx.managedConnection(ctx, actor, o.Tenant, o.Connection)
	if err != nil {
		return store.SSOConnection{}, err
	}
	c := old
	c.Enforce, c.NoPersonalAccount = o.Enforce, o.NoPersonalAccount
	if err := tx.checkConnection(ctx, actor, &c, o.Name, o.Mapping); err != nil {
		return store.SSOConnection{}, err
	}
	if err := tx.w.PutSSOConnection(ctx, c); err != nil {
		return store.SSOConnection{}, err
	}
	if err := tx.refreshSSO(ctx, o.Tenant); err != nil {
		return store.SSOConnection{}, err
	}
	return c, tx.audit(ctx, o, o.Tenant, actor, "sso:"+c.ID, describeConnection(old), describeConnection(c))
}

// DeleteSSOConnection deletes a connection of the account or organization Tenant
// (admin). Grants its mapping gave stay, as grants given by hand.
type DeleteSSOConnection struct {
	Tenant     rbac.Ref
	Connection string
}

// Op returns "sso.delete", its log name and audit action.
func (DeleteSSOConnection) Op() string { return "sso.delete" }

// Apply runs the operation; call it through Do or Run.
func (o DeleteSSOConnection) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	c, err := tx.managedConnection(ctx, actor, o.Tenant, o.Connection)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteSSOConnection(ctx, c.ID); err != nil {
		return struct{}{}, err
	}
	if err := tx.refreshSSO(ctx, o.Tenant); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, o.Tenant, actor, "sso:"+c.ID, describeConnection(c), "")
}

// VerifyDomain records that the account or organization Tenant verified an email
// domain ([rbac.RuleSSO]; admin: [rbac.AccountSecurityManage]; the plan must include
// security policies): the verification itself (a DNS record, say) is the host's. A
// domain belongs to one tenant at most (ErrExists). Capture, when viewer or admin, lets
// the domain's users join the tenant on their own at that level (JoinByDomain,
// [rbac.RuleDomainCapture]); calling it again changes Capture.
type VerifyDomain struct {
	Tenant  rbac.Ref
	Domain  string
	Capture rbac.Level
}

// Op returns "domain.verify", its log name and audit action.
func (VerifyDomain) Op() string { return "domain.verify" }

// Apply runs the operation; call it through Do or Run.
func (o VerifyDomain) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Domain, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return store.Domain{}, err
	}
	name, err := validDomain(o.Domain)
	if err != nil {
		return store.Domain{}, err
	}
	if o.Capture != rbac.None && o.Capture != rbac.Viewer && o.Capture != rbac.Admin {
		return store.Domain{}, invalid("capture", "not none, viewer or admin")
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, o.Tenant); err != nil {
		return store.Domain{}, err
	}
	if actor.Kind != rbac.HolderUser {
		return store.Domain{}, invalid("actor", "a domain is verified by a person, not a token")
	}
	a, err := tx.r.Account(ctx, o.Tenant)
	if err != nil {
		return store.Domain{}, err
	}
	root, err := tx.seatRoot(ctx, a)
	if err != nil {
		return store.Domain{}, err
	}
	if p := tx.s.plans[root.Plan]; !p.SecurityPolicies {
		return store.Domain{}, errorsJoinPlan("verified domains", root.Plan)
	}
	before := ""
	old, err := tx.r.Domain(ctx, name)
	switch {
	case err == nil && old.Tenant != o.Tenant:
		return store.Domain{}, errorsExists("the domain %s is verified by another account", name)
	case err == nil:
		before = "capture=" + old.Capture.String()
	case !isNotFound(err):
		return store.Domain{}, err
	}
	d := store.Domain{Name: name, Tenant: o.Tenant, VerifiedBy: actor.ID, Verified: tx.Env.Now(), Capture: o.Capture}
	if err == nil {
		d.VerifiedBy, d.Verified = old.VerifiedBy, old.Verified
	}
	if err := tx.w.PutDomain(ctx, d); err != nil {
		return store.Domain{}, err
	}
	if err := tx.refreshSSO(ctx, o.Tenant); err != nil {
		return store.Domain{}, err
	}
	return d, tx.audit(ctx, o, o.Tenant, actor, "domain:"+name, before, "capture="+o.Capture.String())
}

// validDomain checks an email domain and returns it in lower case.
func validDomain(s string) (string, error) {
	d := strings.ToLower(strings.TrimSpace(s))
	if d == "" || len(d) > 253 || !strings.Contains(d, ".") || strings.ContainsAny(d, "@ \t/\\") {
		return "", invalid("domain", "not a domain name")
	}
	if _, err := NormalizeEmail("x@" + d); err != nil {
		return "", invalid("domain", "not a domain name")
	}
	return d, nil
}

// RemoveDomain removes a domain the account or organization Tenant verified (admin).
type RemoveDomain struct {
	Tenant rbac.Ref
	Domain string
}

// Op returns "domain.remove", its log name and audit action.
func (RemoveDomain) Op() string { return "domain.remove" }

// Apply runs the operation; call it through Do or Run.
func (o RemoveDomain) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return struct{}{}, err
	}
	name, err := validDomain(o.Domain)
	if err != nil {
		return struct{}{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, o.Tenant); err != nil {
		return struct{}{}, err
	}
	d, err := tx.r.Domain(ctx, name)
	if isNotFound(err) || err == nil && d.Tenant != o.Tenant {
		return struct{}{}, notFound(domainRef(name))
	} else if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteDomain(ctx, name); err != nil {
		return struct{}{}, err
	}
	if err := tx.refreshSSO(ctx, o.Tenant); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, o.Tenant, actor, "domain:"+name, "capture="+d.Capture.String(), "")
}

type domainRef string

func (d domainRef) String() string { return "domain:" + string(d) }

// SSOConnections lists the SSO connections of the account or organization Tenant
// (admin: [rbac.AccountSecurityManage]), by ID.
type SSOConnections struct {
	Tenant rbac.Ref
}

// Op returns "sso.list", its log name.
func (SSOConnections) Op() string { return "sso.list" }

// Answer answers the query; call it through Get or Read.
func (q SSOConnections) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) ([]store.SSOConnection, error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return nil, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, q.Tenant); err != nil {
		return nil, err
	}
	var out []store.SSOConnection
	for c, err := range tx.r.SSOConnections(ctx, q.Tenant) {
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Domains lists the domains the account or organization Tenant verified (admin), by
// name.
type Domains struct {
	Tenant rbac.Ref
}

// Op returns "domain.list", its log name.
func (Domains) Op() string { return "domain.list" }

// Answer answers the query; call it through Get or Read.
func (q Domains) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) ([]store.Domain, error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return nil, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, q.Tenant); err != nil {
		return nil, err
	}
	var out []store.Domain
	for d, err := range tx.r.Domains(ctx, q.Tenant) {
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// SSOSignIn reports a sign-in through an SSO connection that the host verified (the
// SAML or OIDC exchange is the host's), run as the service: the zero holder
// ([rbac.RuleSSO]). The address must be in a domain the connection's tenant verified.
// A first sign-in of an unknown address creates the user — with a personal free
// account unless the connection says NoPersonalAccount — and each sign-in makes the
// user a member of the tenant if it is not one (within the plan and the seats: a
// just-in-time member starts with no access but what the mapping gives). The
// connection's role mapping is then applied for Groups: grants it gave before and no
// longer gives are removed, the grants it gives are set, and grants given otherwise
// (by hand) are never touched; the owner's access is never touched, and nothing is
// given above what the mapping's author may give now ([rbac.RuleNoEscalation]). The
// host then starts a session with rbac.Auth{Method: rbac.AuthSSO, Provider:
// Connection}.
type SSOSignIn struct {
	Connection string
	Email      string
	Name       string   // for a user created by this sign-in
	Groups     []string // the identity provider's groups (or attribute values) of the user
}

// SSOSignedIn is the answer of SSOSignIn.
type SSOSignedIn struct {
	User    store.User
	Created bool     // the user was created by this sign-in
	Account rbac.Ref // the personal account created with the user, if any
	Joined  bool     // the user became a member of the connection's tenant
	Mapped  []store.MappedGrant
}

// Op returns "sso.signin", its log name and audit action.
func (SSOSignIn) Op() string { return "sso.signin" }

// Apply runs the operation; call it through Do or Run.
func (o SSOSignIn) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (SSOSignedIn, error) {
	tx := open(t)
	if !actor.IsZero() {
		return SSOSignedIn{}, invalid("actor", "a sign-in is reported by the service: run it as the zero holder")
	}
	if err := ValidID("connection", o.Connection); err != nil {
		return SSOSignedIn{}, err
	}
	email, err := NormalizeEmail(o.Email)
	if err != nil {
		return SSOSignedIn{}, err
	}
	if len(o.Groups) > MaxRoleMappings {
		return SSOSignedIn{}, invalid("groups", "more than %d", MaxRoleMappings)
	}
	c, err := tx.r.SSOConnection(ctx, o.Connection)
	if isNotFound(err) {
		return SSOSignedIn{}, notFound(ssoRef(o.Connection))
	} else if err != nil {
		return SSOSignedIn{}, err
	}
	d, err := tx.r.Domain(ctx, rbac.EmailDomain(email))
	if isNotFound(err) || err == nil && d.Tenant != c.Tenant {
		return SSOSignedIn{}, invalid("email", "not in a domain the connection's account verified (D33)")
	} else if err != nil {
		return SSOSignedIn{}, err
	}
	a, err := tx.r.Account(ctx, c.Tenant)
	if err != nil {
		return SSOSignedIn{}, err
	}
	var out SSOSignedIn
	tenants := []rbac.Ref{c.Tenant}
	u, err := tx.r.UserByEmail(ctx, email)
	switch {
	case isNotFound(err):
		name := ""
		if strings.TrimSpace(o.Name) != "" {
			if name, err = ValidName("name", o.Name); err != nil {
				return SSOSignedIn{}, err
			}
		}
		u = store.User{ID: tx.Env.NewID("user"), Email: email, Name: name, Created: tx.Env.Now()}
		if err := tx.w.InsertUser(ctx, u); err != nil {
			return SSOSignedIn{}, err
		}
		out.Created = true
		if !c.NoPersonalAccount {
			acctName := cmpOr(name, truncate(email, MaxNameLen))
			own, err := tx.InsertTenant(ctx, u.ID, rbac.KindAccount, acctName, tx.Env.FirstPlan, "")
			if err != nil {
				return SSOSignedIn{}, err
			}
			tenants, out.Account = append(tenants, own.Ref), own.Ref
		}
	case err != nil:
		return SSOSignedIn{}, err
	}
	out.User = u
	me := rbac.User(u.ID)
	m, err := tx.r.Member(ctx, c.Tenant, u.ID)
	switch {
	case isNotFound(err):
		root, err := tx.seatRoot(ctx, a)
		if err != nil {
			return SSOSignedIn{}, err
		}
		if p := tx.s.plans[root.Plan]; !p.UserManagement {
			return SSOSignedIn{}, errorsJoinPlan("user management", root.Plan)
		}
		pool, err := tx.seatPool(ctx, a)
		if err != nil {
			return SSOSignedIn{}, err
		}
		if _, counted := pool.emails[store.FoldKey(email)]; !counted && pool.limit > 0 && len(pool.emails)+1 > pool.limit {
			return SSOSignedIn{}, seatError(len(pool.emails), pool.limit)
		}
		m = store.Member{Tenant: c.Tenant, User: u.ID, Created: tx.Env.Now()}
		if err := tx.w.InsertMember(ctx, m); err != nil {
			return SSOSignedIn{}, err
		}
		out.Joined = true
	case err != nil:
		return SSOSignedIn{}, err
	}
	mapped, before, after, err := tx.applyMapping(ctx, c, a, me, m.Mapped, o.Groups)
	if err != nil {
		return SSOSignedIn{}, err
	}
	if !slices.Equal(mapped, m.Mapped) {
		if err := tx.w.SetMapped(ctx, c.Tenant, u.ID, mapped); err != nil {
			return SSOSignedIn{}, err
		}
	}
	out.Mapped = mapped
	return out, tx.auditIn(ctx, o, tenants, me, "sso:"+c.ID, before, after)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// applyMapping applies connection c's role mapping for groups to user me in account a,
// whose grants from the mapping were prev, and returns the grants the mapping holds
// now and the audit summaries before and after.
func (tx *work) applyMapping(ctx context.Context, c store.SSOConnection, a store.Account, me rbac.Holder, prev []store.MappedGrant, groups []string) ([]store.MappedGrant, string, string, error) {
	want := map[rbac.Ref]rbac.Level{}
	for _, m := range c.Mapping {
		if slices.Contains(groups, m.Group) && m.Level > want[m.Scope] {
			want[m.Scope] = m.Level
		}
	}
	if a.Owner == me.ID {
		return prev, "", "", nil // the owner's access is never touched
	}
	author := rbac.User(c.CreatedBy)
	var mapped []store.MappedGrant
	var before, after []string
	had := map[rbac.Ref]rbac.Level{}
	for _, p := range prev {
		had[p.Scope] = p.Level
	}
	// Scopes the mapping gave before or gives now, in order.
	scopes := make([]rbac.Ref, 0, len(want)+len(prev))
	for s := range want {
		scopes = append(scopes, s)
	}
	for _, p := range prev {
		if _, ok := want[p.Scope]; !ok {
			scopes = append(scopes, p.Scope)
		}
	}
	slices.SortFunc(scopes, rbac.Ref.Compare)
	for _, s := range scopes {
		cur, err := tx.r.Grant(ctx, me, s)
		curLevel := rbac.None
		if err == nil {
			curLevel = cur.Level
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, "", "", err
		}
		prevLevel, fromMapping := had[s]
		ours := fromMapping && curLevel == prevLevel // the grant is still the mapping's
		if curLevel != rbac.None && !ours {
			continue // given by hand: never touched, and no longer the mapping's
		}
		to := want[s]
		if to != rbac.None && c.CreatedBy != me.ID && tx.authorMayGive(ctx, author, s, to) {
			if to != curLevel {
				if err := tx.w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: me, Scope: s, Level: to}, Tenant: c.Tenant}); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						continue // the scope is gone
					}
					return nil, "", "", err
				}
				before = append(before, s.String()+"="+curLevel.String())
				after = append(after, s.String()+"="+to.String())
			}
			mapped = append(mapped, store.MappedGrant{Scope: s, Level: to})
			continue
		}
		if ours && curLevel != rbac.None {
			if err := tx.w.DeleteGrant(ctx, me, s); err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, "", "", err
			}
			before = append(before, s.String()+"="+curLevel.String())
			after = append(after, s.String()+"=none")
		}
	}
	return mapped, strings.Join(before, ","), strings.Join(after, ","), nil
}

// authorMayGive reports whether the mapping's author may give level on scope now:
// admin there and at least level, on a scope that exists.
func (tx *work) authorMayGive(ctx context.Context, author rbac.Holder, scope rbac.Ref, level rbac.Level) bool {
	if _, err := tx.r.User(ctx, author.ID); err != nil {
		return false
	}
	_, _, g, err := tx.reachLevel(ctx, author, scope)
	return err == nil && g >= rbac.Admin && g >= level
}

// reachLevel is levelOn without the security policies: the author of a mapping is not
// the one acting.
func (tx *work) reachLevel(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (rbac.Path, []rbac.Grant, rbac.Level, error) {
	p, g, err := tx.reach(ctx, holder, scope)
	if err != nil {
		return nil, nil, rbac.None, err
	}
	return p, g, rbac.EffectiveLevel(p, g), nil
}

// JoinByDomain makes the acting user a member of the account or organization Tenant at
// the level its verified domain captures ([rbac.RuleDomainCapture]): the user's address
// must be in a domain Tenant verified with a capture level; otherwise, as for a tenant
// that does not exist, ErrNotFound. The plan and the seats apply; a member gets
// ErrExists.
type JoinByDomain struct {
	Tenant rbac.Ref
}

// Op returns "domain.join", its log name and audit action.
func (JoinByDomain) Op() string { return "domain.join" }

// Apply runs the operation; call it through Do or Run.
func (o JoinByDomain) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Member, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return store.Member{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Member{}, err
	}
	if actor.Kind != rbac.HolderUser {
		return store.Member{}, notFound(o.Tenant)
	}
	u, err := tx.r.User(ctx, actor.ID)
	if err != nil {
		return store.Member{}, err
	}
	d, err := tx.r.Domain(ctx, rbac.EmailDomain(u.Email))
	if isNotFound(err) || err == nil && (d.Tenant != o.Tenant || d.Capture == rbac.None) {
		return store.Member{}, notFound(o.Tenant)
	} else if err != nil {
		return store.Member{}, err
	}
	a, err := tx.r.Account(ctx, o.Tenant)
	if err != nil {
		return store.Member{}, err
	}
	if m, err := tx.isMember(ctx, actor, o.Tenant); err != nil {
		return store.Member{}, err
	} else if m {
		return store.Member{}, errorsExists("%v is already a member of %v", actor, o.Tenant)
	}
	root, err := tx.seatRoot(ctx, a)
	if err != nil {
		return store.Member{}, err
	}
	if p := tx.s.plans[root.Plan]; !p.UserManagement {
		return store.Member{}, errorsJoinPlan("user management", root.Plan)
	}
	pool, err := tx.seatPool(ctx, a)
	if err != nil {
		return store.Member{}, err
	}
	if _, counted := pool.emails[store.FoldKey(u.Email)]; !counted && pool.limit > 0 && len(pool.emails)+1 > pool.limit {
		return store.Member{}, seatError(len(pool.emails), pool.limit)
	}
	m := store.Member{Tenant: o.Tenant, User: u.ID, Created: tx.Env.Now()}
	if err := tx.w.InsertMember(ctx, m); err != nil {
		return store.Member{}, err
	}
	if err := tx.w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: actor, Scope: o.Tenant, Level: d.Capture}, Tenant: o.Tenant}); err != nil {
		return store.Member{}, err
	}
	return m, tx.audit(ctx, o, o.Tenant, actor, "domain:"+d.Name, "", actor.String()+" "+o.Tenant.String()+"="+d.Capture.String())
}
