// Package store is the persistence contract of Tenantry: what a storage engine must do
// so that the account and profile packages can enforce the policy on top of it.
//
// A Store runs closures in transactions. View gives a consistent read-only snapshot;
// Update gives a Writer whose changes are committed when the closure returns nil and
// rolled back when it returns an error or panics (the panic is re-raised after the
// rollback). The closure's error is returned unchanged. A store may run the closure of
// Update again after an internal ErrConflict (a serialization failure), so a closure
// must have no effects outside the transaction.
//
// Applications do not call Writer methods directly. The rules of the policy (one owner
// per account, no escalation, the audit log...) live in package account and package
// profile, which check them inside the same Update that makes the change; the store only
// keeps records, indexes, uniqueness and the cascades documented on each method.
//
// # Errors
//
// Methods return ErrNotFound when a record they need does not exist, ErrExists when a
// record would break a uniqueness rule, and ErrConflict when the transaction could not
// be serialized with a concurrent one. Stores may wrap these errors; callers test them
// with errors.Is. Errors from the context are returned as the context reports them.
//
// # Listings
//
// Listings return an iter.Seq2[T, error] (stopped early by breaking out of the range
// loop) or, where a list can be long, a page of at most limit records after a keyset
// cursor. A listing's order is stated on its method. A closure must not write to the
// store while it ranges over a listing of the same transaction.
//
// # Testing
//
// Every Store implementation should pass the conformance suite:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return mystore.New() })
//	}
//
// storetest.Run checks the storage contract of this package and runs a property-based
// state machine that drives the account and profile operations on the store under test
// (package account/accounttest). storetest.Check runs the contract's clauses without a
// *testing.T and returns an error naming each clause the store breaks.
//
// Applications do not use this package's Reader and Writer: they call the operations
// of package account, which check the policy and write the audit log.
package store

import (
	"context"
	"errors"
	"iter"
	"net/netip"
	"time"

	"github.com/tenantry/tenantry/rbac"
)

// Sentinel errors. Stores may wrap them; test with errors.Is.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrExists: the record, or a unique value of it, already exists.
	ErrExists = errors.New("store: already exists")
	// ErrConflict: the transaction conflicted with a concurrent one and was rolled
	// back; running it again may succeed.
	ErrConflict = errors.New("store: transaction conflict")
)

// Store is a transactional storage engine for Tenantry's records. A closure given to
// View or Update must not call the same Store's methods: it uses the Reader or Writer
// it was given.
//
// Concurrency: a Store's methods (View, Update, and Checker's methods when it has
// them) must be safe for concurrent use by many goroutines, and concurrent
// transactions must be serializable: every outcome equals some order of running them
// one at a time. A Reader or Writer, and the listings it returns, belongs to one
// closure on one goroutine: it need not be safe for concurrent use and must not be
// used after its closure has returned.
type Store interface {
	// View runs fn with a consistent, read-only view of the store.
	View(ctx context.Context, fn func(ctx context.Context, r Reader) error) error
	// Update runs fn in a read-write transaction. It commits when fn returns nil and
	// rolls back when fn returns an error or panics. fn may be run more than once
	// when the store retries after a conflict; when retries run out Update returns an
	// error matching ErrConflict.
	Update(ctx context.Context, fn func(ctx context.Context, w Writer) error) error
}

// Checker is the one optional fast-check interface of a Store: it answers the check
// path outside any transaction, each call one consistent read, without the cost of a
// View. Package account uses it for Check, Authorize and Explain when the store (or a
// store it wraps, see Unwrapper) has it, and falls back to the functions Check and
// Sees of this package, over a Reader in a View, otherwise. A Checker's answers must
// equal theirs.
type Checker interface {
	// Reach answers as Reader.Reach does inside a transaction.
	Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error)
	// Check decides whether holder may do action on scope at time now, as the
	// function Check does: a store that decides without handing buffers across an
	// interface lets a check allocate nothing.
	Check(ctx context.Context, holder rbac.Holder, action rbac.Action, scope rbac.Ref, now time.Time) (rbac.Decision, error)
	// Sees reports whether holder can see scope although no grant reaches it, as the
	// function Sees does: what tells a stranger's request from a member's.
	Sees(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (bool, error)
}

// Unwrapper is implemented by a Store that wraps another one (to log, count or trace
// its transactions, say). CheckerOf follows Unwrap to find the wrapped store's
// Checker, so that a wrapper keeps the fast check path without re-implementing it;
// FeedOf does the same for the change feed (Feed). Checks and reads of the feed then
// go to the wrapped store directly, bypassing the wrapper.
type Unwrapper interface {
	Unwrap() Store
}

// CheckerOf returns s's Checker: s itself when it implements Checker, else the
// Checker of the store s unwraps to, and so on down the chain.
func CheckerOf(s Store) (Checker, bool) { return find[Checker](s) }

// find returns the first store of the chain from s down through Unwrap that
// implements T.
func find[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		u, ok := s.(Unwrapper)
		if !ok {
			break
		}
		s = u.Unwrap()
	}
	var zero T
	return zero, false
}

// Account is an account or an organization: a tenant, the root of a tree of scopes,
// with one owner (D4) and a plan. Its Ref's kind is rbac.KindAccount or
// rbac.KindOrganization.
type Account struct {
	Ref     rbac.Ref
	Org     string // for a sub-account, the ID of its organization; else empty
	Name    string
	Owner   string // the owner's user ID
	Plan    string // the plan's name
	Created time.Time
}

// Resource is a scope inside an account: a project, inbox, domain, billing, templates
// or campaigns scope.
type Resource struct {
	Ref     rbac.Ref
	Parent  rbac.Ref // the scope directly above: an account, or a project for an inbox
	Account string   // the ID of the account the resource belongs to
	Name    string
	Created time.Time
}

// User is a user's profile. Email is stored as given (already normalised by the
// caller) and is unique without regard to case.
type User struct {
	ID        string
	Email     string
	Name      string
	TimeZone  string      // an IANA time zone name, or empty
	TwoFactor bool        // whether the host reports two-factor authentication on
	OAuth     []OAuthLink // linked OAuth identities; each unique across all users
	Created   time.Time
}

// OAuthLink is an identity at an OAuth provider linked to a user.
type OAuthLink struct {
	Provider string
	Subject  string
}

// Member is a user's presence in an account or organization (its Tenant). A member
// counts to seats whatever its grants (D20).
type Member struct {
	Tenant  rbac.Ref
	User    string
	Created time.Time
	// LastActive is when the user last acted in the tenant, as recorded by
	// TouchMember (at most about a minute old); zero when never recorded.
	LastActive time.Time
	// Mapped are the grants an SSO role mapping gave the member (D33), by scope.
	Mapped []MappedGrant
}

// Grant is a stored grant: rbac.Grant plus the tenant (account, or organization for
// organization-level grants) that its scope belongs to. A holder has at most one grant
// per scope.
type Grant struct {
	rbac.Grant
	Tenant rbac.Ref
}

// Team is a named group of users inside an account or organization. Its grants apply
// to its members.
type Team struct {
	ID      string
	Tenant  rbac.Ref
	Name    string // unique within the tenant, ignoring case
	Created time.Time
}

// Invitation is a pending invitation of an email address into a tenant (D19). Its
// grants are stored as grants held by rbac.Invite(ID), possibly in several tenants
// (an organization and some of its sub-accounts).
type Invitation struct {
	ID        string
	Tenant    rbac.Ref // where the invitation was made
	Email     string   // normalised; unique per tenant ignoring case
	InvitedBy rbac.Holder
	Teams     []string // teams the invitee joins on acceptance
	Hash      []byte   // a hash of the invitation's secret, which its addressee accepts with
	Created   time.Time
	Expires   time.Time // from then on it cannot be accepted and holds no seat; zero: never
}

// Expired reports whether the invitation has expired at now.
func (inv Invitation) Expired(now time.Time) bool {
	return !inv.Expires.IsZero() && !now.Before(inv.Expires)
}

// InviteLink is a reusable invite link of a tenant (D37): a signed-in user who holds its
// secret joins Tenant with Level on each of Scopes, as an accepted invitation would,
// while the link is enabled and its creator may still give that access. Only a hash of
// the secret is stored.
type InviteLink struct {
	ID        string
	Tenant    rbac.Ref
	Level     rbac.Level // viewer or admin
	Scopes    []rbac.Ref // the tenant, or scopes within it; in order, without duplicates
	CreatedBy string     // the creator's user ID
	Hash      []byte
	Created   time.Time
	Disabled  bool
	Joined    int // how many users joined through the link
}

// Token is an API token (D22, D23). Only a hash of its secret is stored.
type Token struct {
	ID        string
	Tenant    rbac.Ref
	Name      string
	Hash      []byte
	Last4     string
	CreatedBy string // the creator's user ID
	Created   time.Time
	Expires   time.Time // zero: never expires
	ResetTo   string    // set when the token was reset: the ID of its successor
	LastUsed  time.Time // when the token last authenticated (at most about a minute old); zero: never
	// IPAllowlist is the token's own IP allowlist (D35), normalized by
	// rbac.NormalizeAllowlist; empty: no restriction of its own.
	IPAllowlist []netip.Prefix
}

// SecurityPolicy is the security policy of an account or organization (D32, D35): what
// every request of its users and tokens must satisfy, and of its sub-accounts' for an
// organization.
type SecurityPolicy struct {
	Tenant rbac.Ref
	// Require2FA is when two-factor authentication becomes required of users; zero:
	// never.
	Require2FA time.Time
	// IPAllowlist restricts the addresses of requests, normalized by
	// rbac.NormalizeAllowlist; empty: no restriction.
	IPAllowlist []netip.Prefix
	// SSO are the IDs of the tenant's single sign-on connections, and EnforceSSO the
	// verified domains whose users must sign in through one of them (D33), in order:
	// what the operations on connections and domains keep here, so that a check reads
	// one record.
	SSO        []string
	EnforceSSO []string
	UpdatedBy  string // the user who last set it
	Updated    time.Time
}

// Policy returns what p requires, as rbac decides it.
func (p SecurityPolicy) Policy() rbac.Policy {
	return rbac.Policy{Require2FA: p.Require2FA, IPAllowlist: p.IPAllowlist, SSO: p.SSO, EnforceSSO: p.EnforceSSO}
}

// SSOConnection is a single sign-on connection of an account or organization (D33).
// The protocol (SAML, OIDC) is the host's; the library keeps what a sign-in through
// it grants.
type SSOConnection struct {
	ID     string
	Tenant rbac.Ref
	Name   string
	// Enforce: users whose address is in one of the tenant's verified domains must
	// sign in through one of its connections.
	Enforce bool
	// NoPersonalAccount: a user created by a first sign-in gets no personal free
	// account.
	NoPersonalAccount bool
	// Mapping is applied on every sign-in: the grants of the groups the identity
	// provider names.
	Mapping   []RoleMapping
	CreatedBy string // the user the mapping acts for: it gives nothing above what they may give
	Created   time.Time
}

// RoleMapping maps an identity-provider group (or attribute value) to a grant.
type RoleMapping struct {
	Group string
	Scope rbac.Ref
	Level rbac.Level
}

// MappedGrant is a grant that an SSO role mapping gave a member: the sign-in that
// applies the mapping again removes it when the mapping no longer gives it, and
// leaves every other grant alone.
type MappedGrant struct {
	Scope rbac.Ref
	Level rbac.Level
}

// Domain is an email domain that a tenant verified (D33, D34). A domain belongs to one
// tenant at most.
type Domain struct {
	Name       string // lower case
	Tenant     rbac.Ref
	VerifiedBy string
	Verified   time.Time
	// Capture is the level on the tenant that users of the domain get by joining on
	// their own (D34); rbac.None: they may not.
	Capture rbac.Level
}

// Event is an audit event (D31). Seq is assigned by the store, increasing in commit
// order across the whole store.
type Event struct {
	Seq    uint64
	Time   time.Time
	Tenant rbac.Ref // the account or organization the change happened in; zero for a profile change
	Actor  rbac.Holder
	// Auth and ClientIP are how the actor signed in and where it came from, when the
	// host said so (AuthFrom): rbac.AuthUnknown and the zero Addr otherwise.
	Auth     rbac.AuthMethod
	ClientIP netip.Addr
	Action   string
	Target   string
	Before   string // what the target was, for people to read
	After    string // what it became, for people to read
	// Changes are the facts about access the operation changed, in the order it
	// changed them (see Change); none for a change that gave or took no access.
	Changes []Change
}

// Reader reads records: the role interfaces below, composed. All methods honour ctx.
type Reader interface {
	AccountReader
	ScopeReader
	UserReader
	MemberReader
	GrantReader
	TeamReader
	InvitationReader
	InviteLinkReader
	TokenReader
	PolicyReader
	SSOReader
	EventReader
}

// AccountReader reads accounts and organizations.
type AccountReader interface {
	// Account returns the account or organization ref, or ErrNotFound.
	Account(ctx context.Context, ref rbac.Ref) (Account, error)
	// SubAccounts lists the sub-accounts of organization orgID, by ID.
	SubAccounts(ctx context.Context, orgID string) iter.Seq2[Account, error]
}

// ScopeReader reads resources and the scope tree, and answers the check path.
type ScopeReader interface {
	// Resource returns the resource ref, or ErrNotFound. It does not return accounts.
	Resource(ctx context.Context, ref rbac.Ref) (Resource, error)
	// Children lists the resources directly below parent (an account or a resource),
	// by kind and then ID.
	Children(ctx context.Context, parent rbac.Ref) iter.Seq2[Resource, error]
	// Path appends to buf[:0] the path from the root to scope (an organization,
	// account or resource), root first, and returns it; ErrNotFound when scope does
	// not exist.
	Path(ctx context.Context, scope rbac.Ref, buf rbac.Path) (rbac.Path, error)
	// Reach returns the path to scope (appended to path[:0]) and every grant that
	// reaches scope for holder (appended to grants[:0]): holder's grants on any scope
	// of the path; when holder is a user, the grants of every team the user belongs
	// to in a tenant on the path (the account, or its organization) on any scope of
	// the path; and an Owner-level grant on each account or
	// organization of the path that holder owns. ErrNotFound when scope does not
	// exist. This is the check path: stores make it O(depth + teams) look-ups.
	Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error)
}

// UserReader reads users.
type UserReader interface {
	// User returns the user with the given ID, or ErrNotFound.
	User(ctx context.Context, id string) (User, error)
	// UserByEmail returns the user whose email equals email ignoring case, or
	// ErrNotFound.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByOAuth returns the user linked to the OAuth identity, or ErrNotFound.
	UserByOAuth(ctx context.Context, provider, subject string) (User, error)
}

// MemberReader reads memberships.
type MemberReader interface {
	// Member returns user's membership of tenant, or ErrNotFound.
	Member(ctx context.Context, tenant rbac.Ref, user string) (Member, error)
	// Members returns up to limit members of tenant whose user ID is greater than
	// after, by user ID.
	Members(ctx context.Context, tenant rbac.Ref, after string, limit int) ([]Member, error)
	// CountMembers returns the number of members of tenant.
	CountMembers(ctx context.Context, tenant rbac.Ref) (int, error)
	// Memberships lists every tenant user is a member of, by tenant kind and ID.
	Memberships(ctx context.Context, user string) iter.Seq2[Member, error]
}

// GrantReader reads grants.
type GrantReader interface {
	// Grant returns holder's grant on scope, or ErrNotFound.
	Grant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (Grant, error)
	// HolderGrants lists holder's grants in tenant, by scope kind and ID.
	HolderGrants(ctx context.Context, holder rbac.Holder, tenant rbac.Ref) iter.Seq2[Grant, error]
	// ScopeGrants lists the grants on scope, and with subtree also those on every
	// scope below it (for an organization, its sub-accounts and what they hold), by
	// scope and then holder.
	ScopeGrants(ctx context.Context, scope rbac.Ref, subtree bool) iter.Seq2[Grant, error]
}

// TeamReader reads teams and their members.
type TeamReader interface {
	// Team returns the team with the given ID, or ErrNotFound.
	Team(ctx context.Context, id string) (Team, error)
	// Teams lists the teams of tenant, by ID.
	Teams(ctx context.Context, tenant rbac.Ref) iter.Seq2[Team, error]
	// TeamMembers lists the user IDs of the team's members, in order.
	TeamMembers(ctx context.Context, team string) iter.Seq2[string, error]
	// UserTeams lists the teams of tenant that user belongs to, by ID.
	UserTeams(ctx context.Context, user string, tenant rbac.Ref) iter.Seq2[Team, error]
}

// InvitationReader reads pending invitations.
type InvitationReader interface {
	// Invitation returns the invitation with the given ID, or ErrNotFound.
	Invitation(ctx context.Context, id string) (Invitation, error)
	// Invitations lists the invitations made in tenant, by ID.
	Invitations(ctx context.Context, tenant rbac.Ref) iter.Seq2[Invitation, error]
	// InvitationsByEmail lists the invitations of email (ignoring case), by ID.
	InvitationsByEmail(ctx context.Context, email string) iter.Seq2[Invitation, error]
}

// InviteLinkReader reads invite links.
type InviteLinkReader interface {
	// InviteLink returns the invite link with the given ID, or ErrNotFound.
	InviteLink(ctx context.Context, id string) (InviteLink, error)
	// InviteLinks lists the invite links of tenant, by ID.
	InviteLinks(ctx context.Context, tenant rbac.Ref) iter.Seq2[InviteLink, error]
}

// TokenReader reads API tokens.
type TokenReader interface {
	// Token returns the token with the given ID, or ErrNotFound.
	Token(ctx context.Context, id string) (Token, error)
	// Tokens lists the tokens of tenant, by ID.
	Tokens(ctx context.Context, tenant rbac.Ref) iter.Seq2[Token, error]
	// TokensExpiring lists the tokens of every tenant whose Expires is at or after
	// from and before to, by Expires and then ID. Tokens that never expire are never
	// listed.
	TokensExpiring(ctx context.Context, from, to time.Time) iter.Seq2[Token, error]
}

// PolicyReader reads security policies.
type PolicyReader interface {
	// SecurityPolicy returns the security policy of tenant, or ErrNotFound when none
	// was set.
	SecurityPolicy(ctx context.Context, tenant rbac.Ref) (SecurityPolicy, error)
}

// SSOReader reads single sign-on connections and verified domains.
type SSOReader interface {
	// SSOConnection returns the connection with the given ID, or ErrNotFound.
	SSOConnection(ctx context.Context, id string) (SSOConnection, error)
	// SSOConnections lists the connections of tenant, by ID.
	SSOConnections(ctx context.Context, tenant rbac.Ref) iter.Seq2[SSOConnection, error]
	// Domain returns the verified domain name (lower case), or ErrNotFound.
	Domain(ctx context.Context, name string) (Domain, error)
	// Domains lists the domains tenant verified, by name.
	Domains(ctx context.Context, tenant rbac.Ref) iter.Seq2[Domain, error]
}

// EventReader reads the audit log.
type EventReader interface {
	// Events returns up to limit audit events of tenant with Seq greater than after,
	// in Seq order.
	Events(ctx context.Context, tenant rbac.Ref, after uint64, limit int) ([]Event, error)
}

// Writer reads and writes records inside an Update. Insert methods return ErrExists
// when the record (or one of its unique values) exists; Update and Delete methods
// return ErrNotFound when it does not.
type Writer interface {
	Reader
	AccountWriter
	ScopeWriter
	UserWriter
	MemberWriter
	GrantWriter
	TeamWriter
	InvitationWriter
	InviteLinkWriter
	TokenWriter
	PolicyWriter
	SSOWriter
	EventWriter
}

// AccountWriter adds, changes and removes accounts and organizations.
type AccountWriter interface {
	// InsertAccount adds an account or organization. ErrNotFound when a.Org names
	// no organization.
	InsertAccount(ctx context.Context, a Account) error
	// UpdateAccount replaces the account's Name, Owner and Plan.
	UpdateAccount(ctx context.Context, a Account) error
	// DeleteAccount removes the account or organization and everything in it: for an
	// organization its sub-accounts first; its resources, the grants on its scopes,
	// its memberships, teams (with their members and grants), invitations made in it
	// (with all their grants), invite links, tokens (with their grants), its
	// security policy, SSO connections and verified domains. Users and events stay.
	DeleteAccount(ctx context.Context, ref rbac.Ref) error
}

// ScopeWriter adds, renames and removes resources.
type ScopeWriter interface {
	// InsertResource adds a resource. ErrNotFound when its parent does not exist.
	InsertResource(ctx context.Context, r Resource) error
	// UpdateResource replaces the resource's Name.
	UpdateResource(ctx context.Context, r Resource) error
	// DeleteResource removes the resource, every resource below it, and every grant
	// on any of them.
	DeleteResource(ctx context.Context, ref rbac.Ref) error
}

// UserWriter adds, changes and removes users.
type UserWriter interface {
	// InsertUser adds a user. ErrExists when the ID, the email (ignoring case) or one
	// of its OAuth links is taken.
	InsertUser(ctx context.Context, u User) error
	// UpdateUser replaces the user's fields but ID and Created. ErrExists when the
	// new email or an OAuth link belongs to another user.
	UpdateUser(ctx context.Context, u User) error
	// DeleteUser removes the user with its memberships, team places, grants and the
	// invite links it created. Accounts the user owns are not touched.
	DeleteUser(ctx context.Context, id string) error
}

// MemberWriter adds and removes memberships.
type MemberWriter interface {
	// InsertMember adds a membership. ErrNotFound when the tenant or user does not
	// exist.
	InsertMember(ctx context.Context, m Member) error
	// DeleteMember removes user's membership of tenant, with the user's grants on
	// the tenant's scopes and places in the tenant's teams.
	DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error
	// TouchMember sets the LastActive of user's membership of tenant to at.
	// ErrNotFound when there is no such membership.
	TouchMember(ctx context.Context, tenant rbac.Ref, user string, at time.Time) error
	// SetMapped sets the Mapped grants of user's membership of tenant. ErrNotFound
	// when there is no such membership.
	SetMapped(ctx context.Context, tenant rbac.Ref, user string, mapped []MappedGrant) error
}

// GrantWriter puts and removes grants.
type GrantWriter interface {
	// PutGrant adds the grant or replaces holder's grant on that scope. g.Tenant
	// must be the tenant of g.Scope (a store may derive it instead). ErrNotFound
	// when the scope does not exist.
	PutGrant(ctx context.Context, g Grant) error
	// DeleteGrant removes holder's grant on scope.
	DeleteGrant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) error
}

// TeamWriter adds, changes and removes teams and their members.
type TeamWriter interface {
	// InsertTeam adds a team. ErrExists when the name is taken in its tenant.
	InsertTeam(ctx context.Context, t Team) error
	// UpdateTeam replaces the team's Name.
	UpdateTeam(ctx context.Context, t Team) error
	// DeleteTeam removes the team, its memberships and its grants.
	DeleteTeam(ctx context.Context, id string) error
	// InsertTeamMember adds user to the team. ErrNotFound when either is missing.
	InsertTeamMember(ctx context.Context, team, user string) error
	// DeleteTeamMember removes user from the team.
	DeleteTeamMember(ctx context.Context, team, user string) error
}

// InvitationWriter adds and removes invitations.
type InvitationWriter interface {
	// InsertInvitation adds an invitation. ErrExists when the email already has an
	// invitation in that tenant.
	InsertInvitation(ctx context.Context, inv Invitation) error
	// UpdateInvitation replaces the invitation's Hash and Expires.
	UpdateInvitation(ctx context.Context, inv Invitation) error
	// DeleteInvitation removes the invitation and all its grants.
	DeleteInvitation(ctx context.Context, id string) error
}

// InviteLinkWriter adds, changes and removes invite links.
type InviteLinkWriter interface {
	// InsertInviteLink adds an invite link. ErrNotFound when its tenant does not
	// exist.
	InsertInviteLink(ctx context.Context, l InviteLink) error
	// UpdateInviteLink replaces the link's Hash, Disabled and Joined.
	UpdateInviteLink(ctx context.Context, l InviteLink) error
	// DeleteInviteLink removes the invite link.
	DeleteInviteLink(ctx context.Context, id string) error
}

// TokenWriter adds, changes and removes API tokens.
type TokenWriter interface {
	// InsertToken adds a token.
	InsertToken(ctx context.Context, t Token) error
	// UpdateToken replaces the token's Name, Hash, Last4, CreatedBy, Expires,
	// ResetTo, LastUsed and IPAllowlist.
	UpdateToken(ctx context.Context, t Token) error
	// DeleteToken removes the token and its grants.
	DeleteToken(ctx context.Context, id string) error
}

// PolicyWriter sets security policies.
type PolicyWriter interface {
	// PutSecurityPolicy sets the security policy of p.Tenant, replacing any. ErrNotFound
	// when the tenant does not exist. DeleteAccount removes it with the tenant.
	PutSecurityPolicy(ctx context.Context, p SecurityPolicy) error
}

// SSOWriter adds, changes and removes single sign-on connections and verified domains.
// DeleteAccount removes the tenant's.
type SSOWriter interface {
	// PutSSOConnection adds the connection or replaces the one with its ID (whose
	// Tenant stays). ErrNotFound when the tenant does not exist.
	PutSSOConnection(ctx context.Context, c SSOConnection) error
	// DeleteSSOConnection removes the connection.
	DeleteSSOConnection(ctx context.Context, id string) error
	// PutDomain adds the domain or replaces it. ErrExists when another tenant has
	// it; ErrNotFound when the tenant does not exist.
	PutDomain(ctx context.Context, d Domain) error
	// DeleteDomain removes the domain.
	DeleteDomain(ctx context.Context, name string) error
}

// EventWriter appends to the audit log.
type EventWriter interface {
	// AppendEvent appends an audit event, assigning its Seq (e.Seq is ignored), and
	// returns the event as stored.
	AppendEvent(ctx context.Context, e Event) (Event, error)
}
