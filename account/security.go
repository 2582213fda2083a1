package account

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// MaxAllowlist is the most CIDR ranges an IP allowlist holds.
const MaxAllowlist = 1000

// WithAuth returns a copy of ctx that carries how the actor of the request
// authenticated ([rbac.RuleRequire2FA], [rbac.RuleIPAllowlist]). Every check and
// operation run with the returned context decides the security policies of the
// accounts it touches on a: whether a second factor was passed, and the client's
// address. Without it, a policy that restricts anything refuses, since neither is
// known; a host that sets no policy needs none. Reading it allocates nothing.
func WithAuth(ctx context.Context, a rbac.Auth) context.Context { return store.WithAuth(ctx, a) }

// AuthFrom returns the Auth that WithAuth put in ctx, and whether there is one.
func AuthFrom(ctx context.Context) (rbac.Auth, bool) {
	if a := store.AuthFrom(ctx); a != nil {
		return *a, true
	}
	return rbac.Auth{}, false
}

// SetSecurityPolicy sets the security policy of the account or organization Tenant
// (admin: [rbac.AccountSecurityManage]); an organization's reaches every sub-account.
// The plan must include security policies ([rbac.RulePlan]).
//
// Require2FA, when not zero, requires two-factor authentication of every user from
// that time on ([rbac.RuleRequire2FA]): before it, checks allow with a notice. So that
// nobody locks themselves out, the actor must be a user with two-factor authentication
// on in their profile who passed a second factor in this request (WithAuth).
//
// IPAllowlist, when not empty, refuses requests of the account's users and tokens from
// any other address ([rbac.RuleIPAllowlist]); it must hold the address of this request,
// so that the admin saving it keeps access. It is stored normalized
// (rbac.NormalizeAllowlist).
type SetSecurityPolicy struct {
	Tenant      rbac.Ref
	Require2FA  time.Time
	IPAllowlist []netip.Prefix
}

// Op returns "account.security", its log name and audit action.
func (SetSecurityPolicy) Op() string { return "account.security" }

// Apply runs the operation; call it through Do or Run.
func (o SetSecurityPolicy) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.SecurityPolicy, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return store.SecurityPolicy{}, err
	}
	list, err := validAllowlist("ip_allowlist", o.IPAllowlist)
	if err != nil {
		return store.SecurityPolicy{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, o.Tenant); err != nil {
		return store.SecurityPolicy{}, err
	}
	if actor.Kind != rbac.HolderUser {
		return store.SecurityPolicy{}, invalid("actor", "a security policy is set by a person, not a token")
	}
	a, err := tx.r.Account(ctx, o.Tenant)
	if err != nil {
		return store.SecurityPolicy{}, err
	}
	root, err := tx.seatRoot(ctx, a)
	if err != nil {
		return store.SecurityPolicy{}, err
	}
	if p := tx.s.plans[root.Plan]; !p.SecurityPolicies {
		return store.SecurityPolicy{}, errorsJoinPlan("security policies", root.Plan)
	}
	auth := store.AuthFrom(ctx)
	if !o.Require2FA.IsZero() {
		u, err := tx.r.User(ctx, actor.ID)
		if err != nil {
			return store.SecurityPolicy{}, err
		}
		if !u.TwoFactor || auth == nil || !auth.SecondFactor {
			return store.SecurityPolicy{}, invalid("require_2fa", "turn two-factor authentication on and sign in with it before requiring it of others (D32)")
		}
	}
	if len(list) > 0 && (auth == nil || !rbac.Allows(list, auth.ClientIP)) {
		return store.SecurityPolicy{}, invalid("ip_allowlist", "it must include the address you save it from (D35)")
	}
	before, err := tx.r.SecurityPolicy(ctx, o.Tenant)
	if err != nil && !isNotFound(err) {
		return store.SecurityPolicy{}, err
	}
	p := store.SecurityPolicy{Tenant: o.Tenant, Require2FA: o.Require2FA, IPAllowlist: list, SSO: before.SSO, EnforceSSO: before.EnforceSSO, UpdatedBy: actor.ID, Updated: tx.Env.Now()}
	if err := tx.w.PutSecurityPolicy(ctx, p); err != nil {
		return store.SecurityPolicy{}, err
	}
	tenants, err := tx.withSubAccounts(ctx, o.Tenant)
	if err != nil {
		return store.SecurityPolicy{}, err
	}
	return p, tx.auditIn(ctx, o, tenants, actor, o.Tenant.String(), describePolicy(before), describePolicy(p))
}

// describePolicy is what the audit log says of a policy: "2fa=…;ips=…".
func describePolicy(p store.SecurityPolicy) string {
	ips := make([]string, len(p.IPAllowlist))
	for i, pr := range p.IPAllowlist {
		ips[i] = pr.String()
	}
	tfa := "off"
	if !p.Require2FA.IsZero() {
		tfa = stamp(p.Require2FA)
	}
	return "2fa=" + tfa + ";ips=" + strings.Join(ips, ",")
}

// validAllowlist checks an IP allowlist and returns it normalized.
func validAllowlist(field string, list []netip.Prefix) ([]netip.Prefix, error) {
	if len(list) > MaxAllowlist {
		return nil, invalid(field, "more than %d ranges", MaxAllowlist)
	}
	for i, p := range list {
		if !p.IsValid() {
			return nil, invalid(field+"["+strconv.Itoa(i)+"]", "not a CIDR range")
		}
	}
	return rbac.NormalizeAllowlist(list), nil
}

// SecurityPolicy returns the security policy of the account or organization Tenant
// (admin: [rbac.AccountSecurityManage]); the zero policy, naming Tenant, when none was
// set. A sub-account is also subject to its organization's.
type SecurityPolicy struct {
	Tenant rbac.Ref
}

// Op returns "account.security.get", its log name.
func (SecurityPolicy) Op() string { return "account.security.get" }

// Answer answers the query; call it through Get or Read.
func (q SecurityPolicy) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.SecurityPolicy, error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return store.SecurityPolicy{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountSecurityManage, q.Tenant); err != nil {
		return store.SecurityPolicy{}, err
	}
	p, err := tx.r.SecurityPolicy(ctx, q.Tenant)
	if isNotFound(err) {
		return store.SecurityPolicy{Tenant: q.Tenant}, nil
	}
	return p, err
}

// SetTokenAllowlist sets the IP allowlist of a token of the account or organization
// Tenant (admin, [rbac.RuleIPAllowlist]): the token is refused from any other address,
// on top of the account's own list. An empty list lifts the token's own restriction.
type SetTokenAllowlist struct {
	Tenant      rbac.Ref
	Token       rbac.Holder
	IPAllowlist []netip.Prefix
}

// Op returns "token.allowlist", its log name and audit action.
func (SetTokenAllowlist) Op() string { return "token.allowlist" }

// Apply runs the operation; call it through Do or Run.
func (o SetTokenAllowlist) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (TokenInfo, error) {
	tx := open(t)
	list, err := validAllowlist("ip_allowlist", o.IPAllowlist)
	if err != nil {
		return TokenInfo{}, err
	}
	tok, err := tx.managedToken(ctx, actor, o.Tenant, o.Token)
	if err != nil {
		return TokenInfo{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTokensManage, o.Tenant); err != nil {
		return TokenInfo{}, err
	}
	before := store.SecurityPolicy{IPAllowlist: tok.IPAllowlist}
	tok.IPAllowlist = list
	if err := tx.w.UpdateToken(ctx, tok); err != nil {
		return TokenInfo{}, err
	}
	info, err := tx.tokenInfo(ctx, tok)
	if err != nil {
		return TokenInfo{}, err
	}
	return info, tx.audit(ctx, o, tok.Tenant, actor, o.Token.String(), describeIPs(before.IPAllowlist), describeIPs(list))
}

func describeIPs(list []netip.Prefix) string {
	return strings.TrimPrefix(describePolicy(store.SecurityPolicy{IPAllowlist: list}), "2fa=off;")
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
