package memstore

import (
	"context"
	"iter"
	"slices"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// reader is the store.Reader of a transaction. The transaction's lock is held while
// it is open.
type reader struct {
	st     *state
	closed bool
}

// errNoScope is Reach's answer for a scope that does not exist: one value, so that the
// check path allocates nothing for it.
var errNoScope error = notFound("scope")

func notFound(what string) error { return &storeError{what: what, err: store.ErrNotFound} }
func exists(what string) error   { return &storeError{what: what, err: store.ErrExists} }

// notFoundRef is notFound(what + ref.String()), its text made only when it is read:
// a look-up that finds nothing, as most policy look-ups do, costs one allocation.
func notFoundRef(what string, ref rbac.Ref) error {
	return &storeError{what: what, ref: ref, err: store.ErrNotFound}
}

// storeError is "memstore: WHAT: " followed by err, which it wraps. WHAT is what,
// then holder's String, then what2, then ref's String, then what3, each of the
// two when not zero: its text is made only when it is read.
type storeError struct {
	what   string
	holder rbac.Holder
	what2  string
	ref    rbac.Ref
	what3  string
	err    error
}

func (e *storeError) Error() string {
	what := e.what
	if !e.holder.IsZero() {
		what += e.holder.String()
	}
	what += e.what2
	if !e.ref.IsZero() {
		what += e.ref.String()
	}
	return "memstore: " + what + e.what3 + ": " + e.err.Error()
}

func (e *storeError) Unwrap() error { return e.err }

// check returns the error a method must return before doing anything.
func (r *reader) check(ctx context.Context) error {
	if r.closed {
		return errClosed
	}
	return ctx.Err()
}

// list returns a listing of the values that items computes when the range starts.
func list[T any](r *reader, ctx context.Context, items func() []T) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		if err := r.check(ctx); err != nil {
			var zero T
			yield(zero, err)
			return
		}
		for _, v := range items() {
			if !yield(v, nil) {
				return
			}
		}
	}
}

func copyUser(u *store.User) store.User {
	c := *u
	c.OAuth = slices.Clone(u.OAuth)
	return c
}

func copyInvite(inv *store.Invitation) store.Invitation {
	c := *inv
	c.Teams = slices.Clone(inv.Teams)
	c.Hash = slices.Clone(inv.Hash)
	return c
}

func copyLink(l *store.InviteLink) store.InviteLink {
	c := *l
	c.Scopes = nil
	if len(l.Scopes) > 0 {
		c.Scopes = slices.Clone(l.Scopes)
	}
	c.Hash = slices.Clone(l.Hash)
	return c
}

func copyToken(t *store.Token) store.Token {
	c := *t
	c.Hash = slices.Clone(t.Hash)
	c.IPAllowlist = clonePrefixes(t.IPAllowlist)
	return c
}

// Account implements store.Reader.
func (r *reader) Account(ctx context.Context, ref rbac.Ref) (store.Account, error) {
	if err := r.check(ctx); err != nil {
		return store.Account{}, err
	}
	if id, ok := r.st.lookupScope(ref); ok && r.st.scopes[id].acct != nil {
		return *r.st.scopes[id].acct, nil
	}
	return store.Account{}, notFound(ref.String())
}

// SubAccounts implements store.Reader.
func (r *reader) SubAccounts(ctx context.Context, orgID string) iter.Seq2[store.Account, error] {
	return list(r, ctx, func() []store.Account {
		id, ok := r.st.lookupScope(rbac.Org(orgID))
		if !ok {
			return nil
		}
		var out []store.Account
		for _, c := range r.st.scopes[id].children {
			if a := r.st.scopes[c].acct; a != nil {
				out = append(out, *a)
			}
		}
		slices.SortFunc(out, func(a, b store.Account) int { return a.Ref.Compare(b.Ref) })
		return out
	})
}

// Resource implements store.Reader.
func (r *reader) Resource(ctx context.Context, ref rbac.Ref) (store.Resource, error) {
	if err := r.check(ctx); err != nil {
		return store.Resource{}, err
	}
	if id, ok := r.st.lookupScope(ref); ok && r.st.scopes[id].res != nil {
		return *r.st.scopes[id].res, nil
	}
	return store.Resource{}, notFound(ref.String())
}

// Children implements store.Reader.
func (r *reader) Children(ctx context.Context, parent rbac.Ref) iter.Seq2[store.Resource, error] {
	return list(r, ctx, func() []store.Resource {
		id, ok := r.st.lookupScope(parent)
		if !ok {
			return nil
		}
		var out []store.Resource
		for _, c := range r.st.scopes[id].children {
			if res := r.st.scopes[c].res; res != nil {
				out = append(out, *res)
			}
		}
		slices.SortFunc(out, func(a, b store.Resource) int { return a.Ref.Compare(b.Ref) })
		return out
	})
}

// Path implements store.Reader.
func (r *reader) Path(ctx context.Context, scope rbac.Ref, buf rbac.Path) (rbac.Path, error) {
	buf = buf[:0]
	if err := r.check(ctx); err != nil {
		return buf, err
	}
	id, ok := r.st.lookupScope(scope)
	if !ok {
		return buf, notFound(scope.String())
	}
	for ; id != noID; id = r.st.scopes[id].parent {
		buf = append(buf, r.st.scopes[id].ref)
	}
	slices.Reverse(buf)
	return buf, nil
}

// Reach implements store.Reader.
func (r *reader) Reach(ctx context.Context, holder rbac.Holder, scope rbac.Ref, path rbac.Path, grants []rbac.Grant) (rbac.Path, []rbac.Grant, error) {
	if err := r.check(ctx); err != nil {
		return path[:0], grants[:0], err
	}
	return r.st.reach(holder, scope, path, grants)
}

// User implements store.Reader.
func (r *reader) User(ctx context.Context, id string) (store.User, error) {
	if err := r.check(ctx); err != nil {
		return store.User{}, err
	}
	if u, ok := r.st.users[id]; ok {
		return copyUser(u), nil
	}
	return store.User{}, notFound("user " + id)
}

// UserByEmail implements store.Reader.
func (r *reader) UserByEmail(ctx context.Context, email string) (store.User, error) {
	if err := r.check(ctx); err != nil {
		return store.User{}, err
	}
	if id, ok := r.st.emails[store.FoldKey(email)]; ok {
		return copyUser(r.st.users[id]), nil
	}
	return store.User{}, &storeError{what: "user with email ", what3: email, err: store.ErrNotFound}
}

// UserByOAuth implements store.Reader.
func (r *reader) UserByOAuth(ctx context.Context, provider, subject string) (store.User, error) {
	if err := r.check(ctx); err != nil {
		return store.User{}, err
	}
	if id, ok := r.st.oauth[store.OAuthLink{Provider: provider, Subject: subject}]; ok {
		return copyUser(r.st.users[id]), nil
	}
	return store.User{}, notFound("user linked to " + provider + " " + subject)
}

// Member implements store.Reader.
func (r *reader) Member(ctx context.Context, tenant rbac.Ref, user string) (store.Member, error) {
	if err := r.check(ctx); err != nil {
		return store.Member{}, err
	}
	if ms := r.st.members[tenant]; ms != nil {
		if m, ok := ms.since[user]; ok {
			return copyMember(*m), nil
		}
	}
	return store.Member{}, notFound("member " + user + " of " + tenant.String())
}

// Members implements store.Reader. A limit of zero or less returns no members.
func (r *reader) Members(ctx context.Context, tenant rbac.Ref, after string, limit int) ([]store.Member, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	ms := r.st.members[tenant]
	if ms == nil || limit <= 0 {
		return nil, nil
	}
	i, found := slices.BinarySearch(ms.users, after)
	if found {
		i++
	}
	page := ms.users[i:min(len(ms.users), i+limit)]
	out := make([]store.Member, len(page))
	for j, u := range page {
		out[j] = copyMember(*ms.since[u])
	}
	return out, nil
}

// CountMembers implements store.Reader.
func (r *reader) CountMembers(ctx context.Context, tenant rbac.Ref) (int, error) {
	if err := r.check(ctx); err != nil {
		return 0, err
	}
	if ms := r.st.members[tenant]; ms != nil {
		return len(ms.users), nil
	}
	return 0, nil
}

// Memberships implements store.Reader.
func (r *reader) Memberships(ctx context.Context, user string) iter.Seq2[store.Member, error] {
	return list(r, ctx, func() []store.Member {
		tenants := r.st.memberships[user]
		out := make([]store.Member, len(tenants))
		for i, t := range tenants {
			out[i] = copyMember(*r.st.members[t].since[user])
		}
		slices.SortFunc(out, func(a, b store.Member) int { return a.Tenant.Compare(b.Tenant) })
		return out
	})
}

// Grant implements store.Reader.
func (r *reader) Grant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (store.Grant, error) {
	if err := r.check(ctx); err != nil {
		return store.Grant{}, err
	}
	if sid, ok := r.st.lookupScope(scope); ok {
		if v, ok := r.st.grant(holder, sid); ok {
			return r.st.storeGrant(r.st.hidOf(holder), sid, v), nil
		}
	}
	return store.Grant{}, &storeError{what: "grant of ", holder: holder, what2: " on ", ref: scope, err: store.ErrNotFound}
}

// HolderGrants implements store.Reader.
//
// It is read once per member by the member listing: the listing is one closure, and
// the grants of a holder with few in the tenant are sorted on the stack.
func (r *reader) HolderGrants(ctx context.Context, holder rbac.Holder, tenant rbac.Ref) iter.Seq2[store.Grant, error] {
	return func(yield func(store.Grant, error) bool) {
		if err := r.check(ctx); err != nil {
			yield(store.Grant{}, err)
			return
		}
		hid, ok := r.st.lookupHolder(holder)
		tid, ok2 := r.st.lookupScope(tenant)
		if !ok || !ok2 {
			return
		}
		sids := r.st.holderTenant[gkey(hid, tid)]
		var buf [8]store.Grant
		out := buf[:0]
		for _, sid := range sids {
			out = append(out, r.st.storeGrant(hid, sid, r.st.grants[gkey(hid, sid)]))
		}
		if len(out) > 1 {
			slices.SortFunc(out, func(a, b store.Grant) int { return a.Scope.Compare(b.Scope) })
		}
		for _, g := range out {
			if !yield(g, nil) {
				return
			}
		}
	}
}

// ScopeGrants implements store.Reader.
func (r *reader) ScopeGrants(ctx context.Context, scope rbac.Ref, subtree bool) iter.Seq2[store.Grant, error] {
	return list(r, ctx, func() []store.Grant {
		sid, ok := r.st.lookupScope(scope)
		if !ok {
			return nil
		}
		var out []store.Grant
		todo := []uint32{sid}
		for len(todo) > 0 {
			id := todo[len(todo)-1]
			todo = todo[:len(todo)-1]
			for _, hid := range r.st.scopes[id].holders {
				out = append(out, r.st.storeGrant(hid, id, r.st.grants[gkey(hid, id)]))
			}
			if subtree {
				todo = append(todo, r.st.scopes[id].children...)
			}
		}
		slices.SortFunc(out, cmpGrant)
		return out
	})
}

// Team implements store.Reader.
func (r *reader) Team(ctx context.Context, id string) (store.Team, error) {
	if err := r.check(ctx); err != nil {
		return store.Team{}, err
	}
	if t, ok := r.st.teams[id]; ok {
		return t.rec, nil
	}
	return store.Team{}, notFound("team " + id)
}

// Teams implements store.Reader.
//
// Each team is copied as it is yielded: a range that stops at the first one, as the
// member listing's does to learn whether the tenant has teams, costs one.
func (r *reader) Teams(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Team, error] {
	return func(yield func(store.Team, error) bool) {
		if err := r.check(ctx); err != nil {
			yield(store.Team{}, err)
			return
		}
		for _, id := range r.st.tenantTeams[tenant] {
			if !yield(r.st.teams[id].rec, nil) {
				return
			}
		}
	}
}

func (r *reader) teamList(ids []string) []store.Team {
	out := make([]store.Team, len(ids))
	for i, id := range ids {
		out[i] = r.st.teams[id].rec
	}
	return out
}

// TeamMembers implements store.Reader. Members come by user ID.
func (r *reader) TeamMembers(ctx context.Context, team string) iter.Seq2[string, error] {
	return list(r, ctx, func() []string {
		if t, ok := r.st.teams[team]; ok {
			return slices.Clone(t.members)
		}
		return nil
	})
}

// UserTeams implements store.Reader.
//
// It is read once per member by the member listing: the listing is one closure, and
// costs nothing more for a user in no team.
func (r *reader) UserTeams(ctx context.Context, user string, tenant rbac.Ref) iter.Seq2[store.Team, error] {
	return func(yield func(store.Team, error) bool) {
		if err := r.check(ctx); err != nil {
			yield(store.Team{}, err)
			return
		}
		ids := r.st.userTeams[userTenant{user, tenant}]
		if len(ids) == 0 {
			return
		}
		for _, t := range r.teamList(ids) {
			if !yield(t, nil) {
				return
			}
		}
	}
}

// Invitation implements store.Reader.
func (r *reader) Invitation(ctx context.Context, id string) (store.Invitation, error) {
	if err := r.check(ctx); err != nil {
		return store.Invitation{}, err
	}
	if inv, ok := r.st.invites[id]; ok {
		return copyInvite(inv), nil
	}
	return store.Invitation{}, notFound("invitation " + id)
}

func (r *reader) inviteList(ids []string) []store.Invitation {
	out := make([]store.Invitation, len(ids))
	for i, id := range ids {
		out[i] = copyInvite(r.st.invites[id])
	}
	return out
}

// Invitations implements store.Reader.
//
// Each invitation is copied as it is yielded, as Invite counts the pending ones.
func (r *reader) Invitations(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Invitation, error] {
	return func(yield func(store.Invitation, error) bool) {
		if err := r.check(ctx); err != nil {
			yield(store.Invitation{}, err)
			return
		}
		for _, id := range r.st.tenantInvites[tenant] {
			if !yield(copyInvite(r.st.invites[id]), nil) {
				return
			}
		}
	}
}

// InvitationsByEmail implements store.Reader.
func (r *reader) InvitationsByEmail(ctx context.Context, email string) iter.Seq2[store.Invitation, error] {
	return list(r, ctx, func() []store.Invitation { return r.inviteList(r.st.emailInvites[store.FoldKey(email)]) })
}

// Token implements store.Reader.
func (r *reader) Token(ctx context.Context, id string) (store.Token, error) {
	if err := r.check(ctx); err != nil {
		return store.Token{}, err
	}
	if t, ok := r.st.tokens[id]; ok {
		return copyToken(t), nil
	}
	return store.Token{}, errNoToken
}

// errNoToken is Token's answer for an ID that is not a token's: one value, so that
// looking up an unknown token costs what looking up a known one does, and timing
// does not tell which IDs exist.
var errNoToken error = notFound("token")

// Tokens implements store.Reader.
func (r *reader) Tokens(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Token, error] {
	return list(r, ctx, func() []store.Token {
		ids := r.st.tenantTokens[tenant]
		out := make([]store.Token, len(ids))
		for i, id := range ids {
			out[i] = copyToken(r.st.tokens[id])
		}
		return out
	})
}

// TokensExpiring implements store.Reader.
func (r *reader) TokensExpiring(ctx context.Context, from, to time.Time) iter.Seq2[store.Token, error] {
	return list(r, ctx, func() []store.Token {
		ids := r.st.expiringBetween(from, to)
		out := make([]store.Token, len(ids))
		for i, id := range ids {
			out[i] = copyToken(r.st.tokens[id])
		}
		return out
	})
}

// InviteLink implements store.Reader.
func (r *reader) InviteLink(ctx context.Context, id string) (store.InviteLink, error) {
	if err := r.check(ctx); err != nil {
		return store.InviteLink{}, err
	}
	if l, ok := r.st.links[id]; ok {
		return copyLink(l), nil
	}
	return store.InviteLink{}, notFound("invite link " + id)
}

// InviteLinks implements store.Reader.
func (r *reader) InviteLinks(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.InviteLink, error] {
	return list(r, ctx, func() []store.InviteLink {
		ids := r.st.tenantLinks[tenant]
		out := make([]store.InviteLink, len(ids))
		for i, id := range ids {
			out[i] = copyLink(r.st.links[id])
		}
		return out
	})
}

// Events implements store.Reader. A limit of zero or less returns no events.
func (r *reader) Events(ctx context.Context, tenant rbac.Ref, after uint64, limit int) ([]store.Event, error) {
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	return r.st.events[tenant].after(after, limit), nil
}
