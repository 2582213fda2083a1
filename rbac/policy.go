package rbac

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// AuthMethod is how a holder signed in for a request.
type AuthMethod uint8

// The ways to sign in.
const (
	AuthUnknown  AuthMethod = iota // not said
	AuthPassword                   // an email address and a password
	AuthOAuth                      // an OAuth provider (Auth.Provider names it)
	AuthSSO                        // a single sign-on connection (Auth.Provider names it)
	AuthToken                      // an API token
)

var authMethodNames = [...]string{"unknown", "password", "oauth", "sso", "token"}

// String returns the method's name: "password", "oauth", "sso", "token" or "unknown".
func (m AuthMethod) String() string {
	if int(m) < len(authMethodNames) {
		return authMethodNames[m]
	}
	return "unknown"
}

// Auth is how the actor of a request authenticated, as the host says: what an
// account's security policy is decided on ([RuleRequire2FA], [RuleIPAllowlist]). The
// host keeps the protocols (passwords, TOTP, OAuth, SAML); the library decides on
// these facts.
type Auth struct {
	Method       AuthMethod
	Provider     string     // the OAuth provider or SSO connection, when Method says one
	SecondFactor bool       // a second factor was passed in this sign-in
	ClientIP     netip.Addr // the client's address; the zero Addr when unknown
	At           time.Time  // when the actor signed in
}

// Policy is what an account's (or organization's) security settings require of every
// request made in it.
type Policy struct {
	// Require2FA is when two-factor authentication becomes required of users; zero:
	// never. Before it, requests are allowed with a notice.
	Require2FA time.Time
	// IPAllowlist restricts the addresses users and tokens may come from; empty: no
	// restriction.
	IPAllowlist []netip.Prefix
	// SSO are the IDs of the account's single sign-on connections: a user who signed
	// in through one of them is not asked for a second factor ([RuleSSO]).
	SSO []string
	// EnforceSSO are the verified email domains whose users must sign in through one
	// of SSO ([RuleSSO]); lower case.
	EnforceSSO []string
}

// IsZero reports whether p requires nothing.
func (p Policy) IsZero() bool {
	return p.Require2FA.IsZero() && len(p.IPAllowlist) == 0 && len(p.EnforceSSO) == 0
}

// signedInThrough reports whether auth signed in through one of connections.
func signedInThrough(auth *Auth, connections []string) bool {
	return auth != nil && auth.Method == AuthSSO && auth.Provider != "" && slices.Contains(connections, auth.Provider)
}

// EmailDomain returns the domain of an email address, lower case; empty when there
// is none.
func EmailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	d := email[at+1:]
	for i := 0; i < len(d); i++ {
		if c := d[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(d)
		}
	}
	return d
}

// Allows reports whether addr is in the allowlist list, which must be normalized by
// NormalizeAllowlist (operations store it so): always for an empty list, never for an
// unknown (invalid) address otherwise. It is a binary search.
func Allows(list []netip.Prefix, addr netip.Addr) bool {
	if len(list) == 0 {
		return true
	}
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	// The last prefix starting at or before addr is the only one that may hold it.
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if list[m].Addr().Compare(addr) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo > 0 && list[lo-1].Contains(addr)
}

// NormalizeAllowlist returns list as Allows needs it: every prefix masked (IPv4-mapped
// IPv6 ranges as IPv4), sorted by address, and those inside another dropped, so that
// no two overlap. It returns nil for an empty list and leaves list unchanged.
func NormalizeAllowlist(list []netip.Prefix) []netip.Prefix {
	if len(list) == 0 {
		return nil
	}
	out := make([]netip.Prefix, 0, len(list))
	for _, p := range list {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if c := a.Addr().Compare(b.Addr()); c != 0 {
			return c
		}
		return a.Bits() - b.Bits()
	})
	n := 0
	for _, p := range out {
		if n > 0 && out[n-1].Overlaps(p) {
			continue // sorted: the earlier one is the wider, and holds p
		}
		out[n] = p
		n++
	}
	return out[:n]
}

// ApplyPolicy is ApplyPolicyTo without the user's email address: for policies that
// enforce single sign-on on some domains, a user is then refused, since whether the
// user's address is in them is unknown.
func ApplyPolicy(d Decision, holder Holder, auth *Auth, now time.Time, tokenIPs []netip.Prefix, policies ...Policy) Decision {
	return ApplyPolicyTo(d, holder, "", auth, now, tokenIPs, policies...)
}

// ApplyPolicyTo decides, for a decision d that allowed holder (a user, whose address is
// email, or a token) on a scope, what the security policies that apply there say of
// the request described by auth (nil: the host gave none) at now: d as it is when they
// all allow it — with Notice set to RuleRequire2FA when two-factor authentication
// becomes required at a date still ahead — or a refusal citing [RuleIPAllowlist],
// [RuleSSO] or [RuleRequire2FA]. policies are the account's and its organization's;
// tokenIPs is a token's own allowlist. Single sign-on and two-factor requirements apply
// to users only, and a user who signed in through one of a policy's SSO connections is
// not asked for a second factor by it. A decision that refuses already, and a holder
// that is neither a user nor a token, are returned as they are.
func ApplyPolicyTo(d Decision, holder Holder, email string, auth *Auth, now time.Time, tokenIPs []netip.Prefix, policies ...Policy) Decision {
	if !d.Allowed || holder.Kind != HolderUser && holder.Kind != HolderToken {
		return d
	}
	var ip netip.Addr
	if auth != nil {
		ip = auth.ClientIP
	}
	deny := func(r Rule) Decision {
		d.Allowed, d.Rule, d.Notice, d.NoticeAt = false, r, "", time.Time{}
		return d
	}
	if holder.Kind == HolderToken && !Allows(tokenIPs, ip) {
		return deny(RuleIPAllowlist)
	}
	for _, p := range policies {
		if !Allows(p.IPAllowlist, ip) {
			return deny(RuleIPAllowlist)
		}
	}
	if holder.Kind != HolderUser {
		return d
	}
	for _, p := range policies {
		if len(p.EnforceSSO) == 0 {
			continue
		}
		if dom := EmailDomain(email); (dom == "" || slices.Contains(p.EnforceSSO, dom)) && !signedInThrough(auth, p.SSO) {
			return deny(RuleSSO)
		}
	}
	for _, p := range policies {
		switch {
		case p.Require2FA.IsZero(), auth != nil && auth.SecondFactor, signedInThrough(auth, p.SSO):
		case now.Before(p.Require2FA):
			if d.Notice == "" || p.Require2FA.Before(d.NoticeAt) {
				d.Notice, d.NoticeAt = RuleRequire2FA, p.Require2FA
			}
		default:
			return deny(RuleRequire2FA)
		}
	}
	return d
}
