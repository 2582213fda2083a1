package account

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Review is an access review of an account or organization: for every holder of the
// tenant — member, pending invitation, API token and team — its effective access on
// every scope of the tenant's tree, where that access comes from, the last change to
// the holder in the audit log, its last activity, two-factor status and expiry. Get
// one from Service.Review (as an actor) or Service.HostReview (the host's own), then
// range over Rows, or write it with WriteCSV or WriteJSON.
//
// # What it covers
//
// The holders are those of each tenant of Tenants, in that order: users who are
// members (each user once, under the first tenant it is a member of), then the teams,
// tokens and invitations made in the tenant, each kind by ID. Tenants is the tenant;
// for an organization, also its sub-accounts; for a sub-account, also its
// organization, whose members reach the sub-account through organization grants. The
// scopes are the tenant and every scope below it (depth first, children by kind and
// ID; for an organization, its sub-accounts with their trees after its own resources).
// Every holder has a row for every scope, level none included.
//
// A row's level is what Check decides for the holder on the scope ([rbac.RuleEffective]):
// the strongest grant on the scope or above it, of the holder itself, of a team it is
// in, or the owner level of the account's or organization's owner; for a token, capped
// by its creator's access now ([rbac.RuleTokenCreator]), and none once it has expired
// or was reset ([rbac.RuleTokenSecret]). Security policies ([rbac.RuleRequire2FA],
// [rbac.RuleIPAllowlist]) judge requests, not grants, and do not lower a level: the
// two-factor column says whom a requirement would refuse.
//
// # Authorization
//
// Service.Review is for who may read the tenant's audit log
// ([rbac.AccountAuditView]: an admin or the owner of the account or organization).
// Anyone else is refused, resource admins included: a review shows every member, more
// than a resource admin may see ([rbac.RuleVisibility]). An actor that cannot see the
// tenant gets ErrNotFound, as for a tenant that does not exist; one that can see it
// but may not review it, an *rbac.DeniedError. A sub-account's organization, and an
// organization's sub-accounts, are in Tenants only when the actor may review them
// too. These answers come from Service.Review itself, before anything is written, so
// that a host can answer 404 or 403 before it starts a response.
//
// # Memory and transactions
//
// The review is read in pages, each in a read transaction of its own, and each page's
// rows are handed on before the next page is read: memory is bounded by a page (about
// 2,048 rows) and the holders of a chunk (10,000), whatever the number of members, and
// a slow consumer never holds a transaction open (on the in-memory store, an open read
// transaction holds writers back). The actor's permission is checked again in every
// page's transaction: an export stops with the refusal when the actor loses it.
// Holders are read by keyset, so none appears twice, but one added or removed while
// the review runs may or may not appear, and pages read later see later changes: each
// row is true of the moment its page was read.
//
// The last change of each holder comes from one pass over the audit logs of Tenants
// for every chunk of 10,000 holders (one pass for most accounts), not from a query per
// holder: the log is read in batches, and only the last event naming each of the
// chunk's holders is kept.
type Review struct {
	// Tenant is the account or organization reviewed.
	Tenant rbac.Ref
	// Name is the tenant's name.
	Name string
	// Tenants are the tenants whose holders the review lists, Tenant first.
	Tenants []rbac.Ref
	// Generated is when the review started.
	Generated time.Time

	s       *Service
	actor   rbac.Holder
	host    bool          // the host's own review: no actor to authorize
	scopes  []reviewScope // the scopes reviewed, in row order
	ownable []rbac.Ref    // every account and organization on the scopes' paths
}

// reviewScope is a scope of a review with its name and path.
type reviewScope struct {
	ref  rbac.Ref
	name string
	path rbac.Path
}

// Limits of a review's memory.
const (
	// reviewPageRows is about the most rows a page holds: a page holds
	// reviewPageRows / len(scopes) holders, at least one.
	reviewPageRows = 2048
	// reviewChunk is the most holders whose last change one pass over the audit
	// log looks for.
	reviewChunk = 10000
	// reviewBatch is the most holders or audit events read in one transaction when
	// listing.
	reviewBatch = 1000
)

// ReviewSource says where a review row's level comes from.
type ReviewSource uint8

// The sources of a level.
const (
	SourceNone  ReviewSource = iota // no grant reaches the scope: level none
	SourceGrant                     // the holder's own grant, on the scope or above it
	SourceTeam                      // the grant of a team the user is in
	SourceOwner                     // the owner level of the account's or organization's owner
)

var sourceNames = [...]string{SourceNone: "none", SourceGrant: "grant", SourceTeam: "team", SourceOwner: "owner"}

// String returns "none", "grant", "team" or "owner".
func (s ReviewSource) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "ReviewSource(" + strconv.Itoa(int(s)) + ")"
}

// MarshalText returns the source's name.
func (s ReviewSource) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// ReviewChange is the last audit event that names a holder: as its target
// (permissions set, invited, removed from a resource, a token reset or reassigned...),
// as the member added to or removed from a team ("team:T/user:U"), as the new or
// former owner of the account ("owner=ID"), or as the user who accepted an invitation
// or joined by an invite link, or the token a reset issued. The zero ReviewChange
// (Seq 0) means that no event of the logs read names the holder.
type ReviewChange struct {
	Seq    uint64
	Time   time.Time
	Action string      // the event's action: "permissions.set", "member.invite"...
	Actor  rbac.Holder // who made the change; zero for the service's own
}

// ReviewRow is one row of an access review: a holder's access on one scope. The
// holder's own fields (Name to Expired) are the same in each of its rows.
type ReviewRow struct {
	Holder rbac.Holder
	// Name is a user's or an invitation's email address, a team's or a token's
	// name.
	Name string
	// MemberOf are, for a user, the tenants of the review it is a member of; for a
	// team, token or invitation, the tenant it was made in.
	MemberOf []rbac.Ref

	Scope     rbac.Ref
	ScopeName string
	// Level is the holder's effective level on Scope, as Check decides it.
	Level rbac.Level
	// Source says where Level comes from, and Via is that grant: the holder's own,
	// a team's, or the owner grant; zero when no grant reaches Scope. Via.Scope is
	// Scope or an ancestor: when it is an ancestor, the level is inherited. For a
	// token, Via is its own grant, and Level may be lower (CappedBy).
	Source ReviewSource
	Via    rbac.Grant
	// CappedBy is, for a live token whose creator's access now is below Via.Level on
	// Scope, the creator; zero otherwise.
	CappedBy rbac.Holder

	// LastChange is the last audit event naming the holder; zero when none.
	LastChange ReviewChange
	// LastActive is, for a user, the latest last activity recorded among its
	// memberships of the review's tenants; for a token, its last use; zero when
	// none is recorded or the holder has none (teams, invitations).
	LastActive time.Time
	// TwoFactor reports, for a user, whether the host reports two-factor
	// authentication on; false for other holders.
	TwoFactor bool
	// Expires is when an invitation or a token expires; zero when it does not or
	// for other holders.
	Expires time.Time
	// Expired reports an invitation that can no longer be accepted, or a token
	// that no longer acts (expired, or reset and past its grace); false for users
	// and teams.
	Expired bool
}

// Inherited reports whether the row's level comes from a grant on an ancestor of
// Scope.
func (r ReviewRow) Inherited() bool { return !r.Via.Holder.IsZero() && r.Via.Scope != r.Scope }

// Review prepares the access review of the account or organization tenant as actor,
// who must be allowed to read its audit log ([rbac.AccountAuditView]): see type
// Review. It returns ErrNotFound when actor cannot see tenant or it does not exist, an
// *rbac.DeniedError when actor may not review it, an *InvalidError for a ref that is
// not an account or organization, ErrUnauthenticated for an actor that is not a live
// user or token. Nothing is listed yet: range over Rows, or call WriteCSV or
// WriteJSON.
func (s *Service) Review(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) (*Review, error) {
	return s.review(ctx, actor, false, tenant)
}

// HostReview is Review as the host itself, without an actor and without checking
// any permission: for the host's own tools, such as an operators' command with
// access to the store. Tenants holds every tenant, and the organization of a
// sub-account.
func (s *Service) HostReview(ctx context.Context, tenant rbac.Ref) (*Review, error) {
	return s.review(ctx, rbac.Holder{}, true, tenant)
}

func (s *Service) review(ctx context.Context, actor rbac.Holder, host bool, tenant rbac.Ref) (*Review, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return nil, err
	}
	rv := &Review{Tenant: tenant, s: s, actor: actor, host: host, Generated: s.env.Now()}
	err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		tx := open(&txn.Tx{R: r, Env: &s.env, Actor: actor})
		may := func(t rbac.Ref) (bool, error) {
			if host {
				return true, nil
			}
			_, _, err := tx.authorize(ctx, actor, rbac.AccountAuditView, t)
			var de *rbac.DeniedError
			if errors.Is(err, ErrNotFound) || errors.As(err, &de) {
				return false, nil
			}
			return err == nil, err
		}
		if !host {
			if _, _, err := tx.authorize(ctx, actor, rbac.AccountAuditView, tenant); err != nil {
				return err
			}
		}
		a, err := r.Account(ctx, tenant)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(tenant)
		} else if err != nil {
			return err
		}
		rv.Name = a.Name
		rv.Tenants = []rbac.Ref{tenant}
		path, err := r.Path(ctx, tenant, nil)
		if err != nil {
			return err
		}
		if a.Org != "" {
			if ok, err := may(rbac.Org(a.Org)); err != nil {
				return err
			} else if ok {
				rv.Tenants = append(rv.Tenants, rbac.Org(a.Org))
			}
		}
		var subs []store.Account
		if tenant.Kind == rbac.KindOrganization {
			for sub, err := range txn.Collect(r.SubAccounts(ctx, tenant.ID)) {
				if err != nil {
					return err
				}
				if ok, err := may(sub.Ref); err != nil {
					return err
				} else if ok {
					rv.Tenants = append(rv.Tenants, sub.Ref)
					subs = append(subs, sub)
				}
			}
		}
		for _, ref := range path {
			if ref.Kind.Ownable() {
				rv.ownable = append(rv.ownable, ref)
			}
		}
		rv.scopes = append(rv.scopes, reviewScope{ref: tenant, name: a.Name, path: path})
		if err := rv.walk(ctx, r, path); err != nil {
			return err
		}
		for _, sub := range subs {
			p := append(path[:len(path):len(path)], sub.Ref)
			rv.ownable = append(rv.ownable, sub.Ref)
			rv.scopes = append(rv.scopes, reviewScope{ref: sub.Ref, name: sub.Name, path: p})
			if err := rv.walk(ctx, r, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rv, nil
}

// walk adds the scopes below the last scope of path, depth first, children by kind
// and ID.
func (rv *Review) walk(ctx context.Context, r store.Reader, path rbac.Path) error {
	var kids []store.Resource
	for c, err := range r.Children(ctx, path.Leaf()) {
		if err != nil {
			return err
		}
		kids = append(kids, c)
	}
	for _, c := range kids {
		p := append(path[:len(path):len(path)], c.Ref)
		rv.scopes = append(rv.scopes, reviewScope{ref: c.Ref, name: c.Name, path: p})
		if err := rv.walk(ctx, r, p); err != nil {
			return err
		}
	}
	return nil
}

// Scopes returns the scopes reviewed, in the order of each holder's rows.
func (rv *Review) Scopes() []rbac.Ref {
	out := make([]rbac.Ref, len(rv.scopes))
	for i, s := range rv.scopes {
		out[i] = s.ref
	}
	return out
}

// Rows ranges over the review's rows, holder after holder, each holder's rows in
// the order of Scopes. The first error ends the sequence: ErrNotFound or an
// *rbac.DeniedError when the actor lost the right to review the tenant, an error of
// the store or of ctx.
func (rv *Review) Rows(ctx context.Context) iter.Seq2[ReviewRow, error] {
	return func(yield func(ReviewRow, error) bool) {
		stopped := errors.New("stopped")
		err := rv.pages(ctx, func(rows []ReviewRow) error {
			for _, row := range rows {
				if !yield(row, nil) {
					return stopped
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, stopped) {
			yield(ReviewRow{}, err)
		}
	}
}

// reviewKey is a holder listed by a review, with the index in Tenants of the tenant
// it was listed under.
type reviewKey struct {
	h      rbac.Holder
	tenant int
}

// reviewCursor is where the listing of a review's holders has got to.
type reviewCursor struct {
	tenant int             // the index in Tenants
	kind   rbac.HolderKind // the kind being listed
	after  string          // the last ID listed of that kind
}

// reviewKinds are the kinds of holders, in the order a review lists them.
var reviewKinds = []rbac.HolderKind{rbac.HolderUser, rbac.HolderTeam, rbac.HolderToken, rbac.HolderInvite}

// pages calls fn with the rows of each page in turn, until the review's end or an
// error (fn's included).
func (rv *Review) pages(ctx context.Context, fn func([]ReviewRow) error) error {
	perPage := max(1, reviewPageRows/len(rv.scopes))
	cur := reviewCursor{kind: rbac.HolderUser}
	for {
		keys, next, done, err := rv.listHolders(ctx, cur, reviewChunk)
		if err != nil {
			return err
		}
		changes, err := rv.lastChanges(ctx, keys)
		if err != nil {
			return err
		}
		for i := 0; i < len(keys); i += perPage {
			rows, err := rv.page(ctx, keys[i:min(len(keys), i+perPage)], changes)
			if err != nil {
				return err
			}
			if err := fn(rows); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
		cur = next
	}
}

// authorize checks again, inside a page's transaction, that the actor may review
// every tenant of the review.
func (rv *Review) authorize(ctx context.Context, tx *work) error {
	if rv.host {
		return nil
	}
	for _, t := range rv.Tenants {
		if _, _, err := tx.authorize(ctx, rv.actor, rbac.AccountAuditView, t); err != nil {
			return err
		}
	}
	return nil
}

func (rv *Review) work(r store.Reader) *work {
	return open(&txn.Tx{R: r, Env: &rv.s.env, Actor: rv.actor})
}

// listHolders lists up to limit holders from cur on, in batches of reviewBatch each
// read in a transaction of its own; done reports the end of the listing, and next is
// where the following call goes on.
func (rv *Review) listHolders(ctx context.Context, cur reviewCursor, limit int) (keys []reviewKey, next reviewCursor, done bool, err error) {
	for len(keys) < limit {
		n := min(reviewBatch, limit-len(keys))
		err := rv.s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
			tx := rv.work(r)
			if err := rv.authorize(ctx, tx); err != nil {
				return err
			}
			var err error
			keys, cur, done, err = rv.listBatch(ctx, r, cur, keys, n)
			return err
		})
		if err != nil {
			return nil, cur, false, err
		}
		if done {
			return keys, cur, true, nil
		}
	}
	return keys, cur, false, nil
}

// listBatch appends up to n holders from cur on to keys.
func (rv *Review) listBatch(ctx context.Context, r store.Reader, cur reviewCursor, keys []reviewKey, n int) ([]reviewKey, reviewCursor, bool, error) {
	want := len(keys) + n
	for cur.tenant < len(rv.Tenants) {
		t := rv.Tenants[cur.tenant]
		add := func(h rbac.Holder) bool {
			keys = append(keys, reviewKey{h: h, tenant: cur.tenant})
			cur.after = h.ID
			return len(keys) < want
		}
		full := false
		switch cur.kind {
		case rbac.HolderUser:
			for !full {
				need := want - len(keys)
				page, err := r.Members(ctx, t, cur.after, need)
				if err != nil {
					return nil, cur, false, err
				}
				for _, m := range page {
					earlier, err := rv.memberBefore(ctx, r, m.User, cur.tenant)
					if err != nil {
						return nil, cur, false, err
					}
					if earlier {
						cur.after = m.User // listed under an earlier tenant
						continue
					}
					add(rbac.User(m.User))
				}
				full = len(keys) == want
				if len(page) < need {
					break
				}
			}
		case rbac.HolderTeam:
			for tm, err := range r.Teams(ctx, t) {
				if err != nil {
					return nil, cur, false, err
				}
				if tm.ID > cur.after && !add(rbac.Team(tm.ID)) {
					full = true
					break
				}
			}
		case rbac.HolderToken:
			for tok, err := range r.Tokens(ctx, t) {
				if err != nil {
					return nil, cur, false, err
				}
				if tok.ID > cur.after && !add(rbac.Token(tok.ID)) {
					full = true
					break
				}
			}
		case rbac.HolderInvite:
			for inv, err := range r.Invitations(ctx, t) {
				if err != nil {
					return nil, cur, false, err
				}
				if inv.ID > cur.after && !add(rbac.Invite(inv.ID)) {
					full = true
					break
				}
			}
		}
		if full {
			return keys, cur, false, nil
		}
		// This kind is done in this tenant: the next kind, or the next tenant.
		cur.after = ""
		if cur.kind == reviewKinds[len(reviewKinds)-1] {
			cur.tenant++
			cur.kind = reviewKinds[0]
		} else {
			cur.kind++
		}
	}
	return keys, cur, true, nil
}

// memberBefore reports whether user is a member of a tenant listed before Tenants[i],
// under which the review lists it.
func (rv *Review) memberBefore(ctx context.Context, r store.Reader, user string, i int) (bool, error) {
	for _, t := range rv.Tenants[:i] {
		_, err := r.Member(ctx, t, user)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
	}
	return false, nil
}

// lastChanges reads the audit logs of Tenants once and returns the last change of
// each of keys' holders that an event names.
func (rv *Review) lastChanges(ctx context.Context, keys []reviewKey) (map[rbac.Holder]ReviewChange, error) {
	out := make(map[rbac.Holder]ReviewChange, len(keys))
	for _, k := range keys {
		out[k.h] = ReviewChange{}
	}
	note := func(h rbac.Holder, e *store.Event) {
		if c, ok := out[h]; ok && e.Seq > c.Seq {
			out[h] = ReviewChange{Seq: e.Seq, Time: e.Time, Action: e.Action, Actor: e.Actor}
		}
	}
	for _, t := range rv.Tenants {
		var after uint64
		for {
			var evs []store.Event
			err := rv.s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
				if err := rv.authorize(ctx, rv.work(r)); err != nil {
					return err
				}
				var err error
				evs, err = r.Events(ctx, t, after, reviewBatch)
				return err
			})
			if err != nil {
				return nil, err
			}
			for i := range evs {
				e := &evs[i]
				for _, h := range eventHolders(e) {
					if !h.IsZero() {
						note(h, e)
					}
				}
			}
			if len(evs) < reviewBatch {
				break
			}
			after = evs[len(evs)-1].Seq
		}
	}
	return out, nil
}

// eventHolders returns the holders an audit event names as ReviewChange says; zero
// holders where it names fewer.
func eventHolders(e *store.Event) [3]rbac.Holder {
	var out [3]rbac.Holder
	target := e.Target
	if team, member, ok := strings.Cut(target, "/"); ok {
		out[0], out[1] = parseHolder(team), parseHolder(member)
	} else {
		out[0] = parseHolder(target)
	}
	switch {
	case strings.HasPrefix(e.After, "owner="):
		out[1] = rbac.User(e.After[len("owner="):])
		if id, ok := strings.CutPrefix(e.Before, "owner="); ok {
			out[2] = rbac.User(id)
		}
	case e.Action == AcceptInvitation{}.Op(), e.Action == JoinByLink{}.Op(), e.Action == ResetToken{}.Op():
		first, _, _ := strings.Cut(e.After, " ")
		out[2] = parseHolder(first)
	}
	return out
}

// parseHolder parses "kind:id" as rbac.Holder.String writes it; the zero holder when
// s is not one.
func parseHolder(s string) rbac.Holder {
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return rbac.Holder{}
	}
	for _, k := range reviewKinds {
		if k.String() == kind {
			return rbac.Holder{Kind: k, ID: id}
		}
	}
	return rbac.Holder{}
}

// reviewGrants are the grants that may reach a review's scopes for one user or
// holder: its own, its teams' (with each team's tenant) and its owner grants.
type reviewGrants struct {
	own   []rbac.Grant
	teams []teamGrants
}

type teamGrants struct {
	tenant rbac.Ref
	grants []rbac.Grant
}

// page computes the rows of keys' holders in one read transaction.
func (rv *Review) page(ctx context.Context, keys []reviewKey, changes map[rbac.Holder]ReviewChange) ([]ReviewRow, error) {
	var out []ReviewRow
	err := rv.s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		tx := rv.work(r)
		if err := rv.authorize(ctx, tx); err != nil {
			return err
		}
		out = make([]ReviewRow, 0, len(keys)*len(rv.scopes))
		pg := &reviewPage{rv: rv, r: r, teams: map[string]teamGrants{}, users: map[string]*reviewGrants{}, now: tx.Env.Now()}
		for _, ref := range rv.ownable {
			a, err := r.Account(ctx, ref)
			if errors.Is(err, store.ErrNotFound) {
				continue // deleted while the review ran: it has no owner now
			} else if err != nil {
				return err
			}
			pg.accts = append(pg.accts, a)
		}
		for _, k := range keys {
			var err error
			if out, err = pg.holderRows(ctx, out, k, changes[k.h]); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// reviewPage is the state of one page's transaction: the grants of teams and of
// tokens' creators read so far.
type reviewPage struct {
	rv    *Review
	r     store.Reader
	now   time.Time
	accts []store.Account // the accounts and organizations of rv.ownable, for their owners
	teams map[string]teamGrants
	users map[string]*reviewGrants
	buf   []rbac.Grant
	cbuf  []rbac.Grant
}

// holderGrants appends h's own grants on every account and organization of the
// review's paths.
func (pg *reviewPage) holderGrants(ctx context.Context, h rbac.Holder, dst []rbac.Grant) ([]rbac.Grant, error) {
	for _, t := range pg.rv.ownable {
		for g, err := range pg.r.HolderGrants(ctx, h, t) {
			if err != nil {
				return nil, err
			}
			dst = append(dst, g.Grant)
		}
	}
	return dst, nil
}

// userGrants returns what reaches the review's scopes for user, as store.Reader.Reach
// gathers it: the user's grants, those of its teams in the tenants of the paths, and
// the owner grant of each account or organization it owns.
func (pg *reviewPage) userGrants(ctx context.Context, user string) (*reviewGrants, error) {
	if g, ok := pg.users[user]; ok {
		return g, nil
	}
	h := rbac.User(user)
	g := &reviewGrants{}
	var err error
	if g.own, err = pg.holderGrants(ctx, h, nil); err != nil {
		return nil, err
	}
	for _, a := range pg.accts {
		if a.Owner == user {
			g.own = append(g.own, rbac.Grant{Holder: h, Scope: a.Ref, Level: rbac.Owner})
		}
	}
	for _, t := range pg.rv.ownable {
		for tm, err := range txn.Collect(pg.r.UserTeams(ctx, user, t)) {
			if err != nil {
				return nil, err
			}
			tg, ok := pg.teams[tm.ID]
			if !ok {
				tg.tenant = tm.Tenant
				if tg.grants, err = pg.holderGrants(ctx, rbac.Team(tm.ID), nil); err != nil {
					return nil, err
				}
				pg.teams[tm.ID] = tg
			}
			g.teams = append(g.teams, tg)
		}
	}
	pg.users[user] = g
	return g, nil
}

// on appends to dst[:0] the grants of g that may reach a scope with path p.
func (g *reviewGrants) on(p rbac.Path, dst []rbac.Grant) []rbac.Grant {
	dst = append(dst[:0], g.own...)
	for _, t := range g.teams {
		if p.Contains(t.tenant) {
			dst = append(dst, t.grants...)
		}
	}
	return dst
}

// holderRows appends the rows of one holder; none when it is gone.
func (pg *reviewPage) holderRows(ctx context.Context, out []ReviewRow, k reviewKey, change ReviewChange) ([]ReviewRow, error) {
	rv, r, h := pg.rv, pg.r, k.h
	base := ReviewRow{Holder: h, LastChange: change}
	var grants *reviewGrants
	var tok store.Token
	var creator *reviewGrants
	gone := func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	switch h.Kind {
	case rbac.HolderUser:
		u, err := r.User(ctx, h.ID)
		if gone(err) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		base.Name, base.TwoFactor = u.Email, u.TwoFactor
		for _, t := range rv.Tenants {
			m, err := r.Member(ctx, t, h.ID)
			if gone(err) {
				continue
			} else if err != nil {
				return nil, err
			}
			base.MemberOf = append(base.MemberOf, t)
			if m.LastActive.After(base.LastActive) {
				base.LastActive = m.LastActive
			}
		}
		if len(base.MemberOf) == 0 {
			return out, nil // left while the review ran
		}
		if grants, err = pg.userGrants(ctx, h.ID); err != nil {
			return nil, err
		}
	case rbac.HolderTeam:
		tm, err := r.Team(ctx, h.ID)
		if gone(err) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		base.Name, base.MemberOf = tm.Name, []rbac.Ref{tm.Tenant}
	case rbac.HolderToken:
		var err error
		tok, err = r.Token(ctx, h.ID)
		if gone(err) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		base.Name, base.MemberOf = tok.Name, []rbac.Ref{tok.Tenant}
		base.LastActive, base.Expires, base.Expired = tok.LastUsed, tok.Expires, !store.TokenLive(tok, pg.now)
		if !base.Expired {
			if creator, err = pg.userGrants(ctx, tok.CreatedBy); err != nil {
				return nil, err
			}
		}
	case rbac.HolderInvite:
		inv, err := r.Invitation(ctx, h.ID)
		if gone(err) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		base.Name, base.MemberOf = inv.Email, []rbac.Ref{inv.Tenant}
		base.Expires, base.Expired = inv.Expires, inv.Expired(pg.now)
	}
	if grants == nil {
		own, err := pg.holderGrants(ctx, h, nil)
		if err != nil {
			return nil, err
		}
		grants = &reviewGrants{own: own}
	}
	for _, s := range rv.scopes {
		row := base
		row.Scope, row.ScopeName = s.ref, s.name
		action := levelAction(s.ref.Kind)
		pg.buf = grants.on(s.path, pg.buf)
		var d rbac.Decision
		if h.Kind == rbac.HolderToken {
			pg.cbuf = pg.cbuf[:0]
			if creator != nil {
				pg.cbuf = creator.on(s.path, pg.cbuf)
			}
			d = rbac.DecideToken(action, s.path, pg.buf, pg.cbuf, !base.Expired)
			if !base.Expired && d.Level < d.Grant.Level {
				row.CappedBy = rbac.User(tok.CreatedBy)
			}
		} else {
			d = rbac.Decide(action, s.path, pg.buf)
		}
		row.Level, row.Via = d.Level, d.Grant
		switch {
		case d.Grant.Holder.IsZero():
			row.Source = SourceNone
		case d.Grant.Holder.Kind == rbac.HolderTeam && h.Kind != rbac.HolderTeam:
			row.Source = SourceTeam
		case d.Grant.Level == rbac.Owner:
			row.Source = SourceOwner
		default:
			row.Source = SourceGrant
		}
		out = append(out, row)
	}
	return out, nil
}

// levelAction is an action of the policy table that applies to scopes of kind k and
// needs nothing beyond a level: deciding it gives a holder's effective level on such
// a scope and the grant it comes from.
func levelAction(k rbac.Kind) rbac.Action {
	if rbac.AccessManage.Kinds().Has(k) {
		return rbac.AccessManage
	}
	for _, a := range rbac.Actions() {
		if a.Kinds().Has(k) && a != rbac.DomainContentView {
			return a
		}
	}
	return rbac.AccessManage
}

// ReviewColumns are the columns of a review's CSV form, in order:
//
//	holder              user:ID, team:ID, token:ID or invite:ID
//	name                a user's or invitation's email, a team's or token's name
//	member_of           the tenants it belongs to (ReviewRow.MemberOf), separated by spaces
//	scope, scope_name   the scope (kind:ID) and its name
//	level               none, viewer, admin or owner: the effective level on the scope
//	source              none, grant, team or owner (ReviewSource)
//	via_holder, via_scope, via_level
//	                    the grant the level comes from; empty when none reaches the scope
//	inherited           true when that grant is on an ancestor; empty without one
//	capped_by           a token's creator whose access caps it (user:ID); else empty
//	last_change_seq, last_change_at, last_change_action, last_change_by
//	                    the last audit event naming the holder; empty when none
//	last_active         a user's last activity, a token's last use; empty when unknown
//	two_factor          true or false for a user; empty for other holders
//	expires             an invitation's or a token's expiry; empty when none
//	expired             true or false for an invitation or a token; empty for others
//
// Times are RFC 3339 in UTC.
var ReviewColumns = []string{
	"holder", "name", "member_of", "scope", "scope_name", "level", "source",
	"via_holder", "via_scope", "via_level", "inherited", "capped_by",
	"last_change_seq", "last_change_at", "last_change_action", "last_change_by",
	"last_active", "two_factor", "expires", "expired",
}

// ReviewVersion is the version of the review's JSON document, and of its CSV
// columns: it changes when a field changes meaning or is removed, not when one is
// added.
const ReviewVersion = 1

// WriteCSV writes the review to w as CSV (RFC 4180): a header row of ReviewColumns,
// then one row per holder and scope, in the order of Rows. Rows are flushed to w after
// each page, as they are read. On error w holds the rows written until then: a host
// streaming a response should end it so that the truncation shows (close the
// connection, or a trailer), not as a complete review.
func (rv *Review) WriteCSV(ctx context.Context, w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ReviewColumns); err != nil {
		return err
	}
	rec := make([]string, len(ReviewColumns))
	err := rv.pages(ctx, func(rows []ReviewRow) error {
		for i := range rows {
			csvRecord(&rows[i], rec)
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// csvRecord fills rec with row's columns.
func csvRecord(row *ReviewRow, rec []string) {
	clear(rec)
	rec[0], rec[1], rec[2] = row.Holder.String(), row.Name, joinRefs(row.MemberOf)
	rec[3], rec[4], rec[5], rec[6] = row.Scope.String(), row.ScopeName, row.Level.String(), row.Source.String()
	if !row.Via.Holder.IsZero() {
		rec[7], rec[8], rec[9] = row.Via.Holder.String(), row.Via.Scope.String(), row.Via.Level.String()
		rec[10] = strconv.FormatBool(row.Inherited())
	}
	if !row.CappedBy.IsZero() {
		rec[11] = row.CappedBy.String()
	}
	if c := row.LastChange; c.Seq != 0 {
		rec[12], rec[13], rec[14] = strconv.FormatUint(c.Seq, 10), stampOrEmpty(c.Time), c.Action
		if !c.Actor.IsZero() {
			rec[15] = c.Actor.String()
		}
	}
	rec[16] = stampOrEmpty(row.LastActive)
	switch row.Holder.Kind {
	case rbac.HolderUser:
		rec[17] = strconv.FormatBool(row.TwoFactor)
	case rbac.HolderToken, rbac.HolderInvite:
		rec[18], rec[19] = stampOrEmpty(row.Expires), strconv.FormatBool(row.Expired)
	}
}

func joinRefs(rs []rbac.Ref) string {
	var b strings.Builder
	for i, r := range rs {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// stampOrEmpty formats t as RFC 3339 in UTC; "" for the zero time.
func stampOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// ReviewDocument is the head of a review's JSON document; its rows follow in
// "rows". See WriteJSON.
type ReviewDocument struct {
	Version    int             `json:"version"`
	Tenant     string          `json:"tenant"`
	TenantName string          `json:"tenant_name"`
	Tenants    []string        `json:"tenants"`
	Generated  time.Time       `json:"generated"`
	Columns    []string        `json:"columns"`
	Rows       []ReviewJSONRow `json:"rows"`
}

// ReviewJSONRow is a row of a review's JSON document: the columns of the CSV form
// (ReviewColumns) with JSON types. Every key is always present, null where the CSV
// cell is empty (not applicable or unknown).
type ReviewJSONRow struct {
	Holder     string            `json:"holder"`
	Name       string            `json:"name"`
	MemberOf   []string          `json:"member_of"`
	Scope      string            `json:"scope"`
	ScopeName  string            `json:"scope_name"`
	Level      string            `json:"level"`
	Source     string            `json:"source"`
	Via        *ReviewJSONGrant  `json:"via"`
	Inherited  *bool             `json:"inherited"`
	CappedBy   *string           `json:"capped_by"`
	LastChange *ReviewJSONChange `json:"last_change"`
	LastActive *time.Time        `json:"last_active"`
	TwoFactor  *bool             `json:"two_factor"`
	Expires    *time.Time        `json:"expires"`
	Expired    *bool             `json:"expired"`
}

// ReviewJSONGrant is a grant in a review's JSON document.
type ReviewJSONGrant struct {
	Holder string `json:"holder"`
	Scope  string `json:"scope"`
	Level  string `json:"level"`
}

// ReviewJSONChange is the last change of a holder in a review's JSON document; by is
// null for a change the service made itself.
type ReviewJSONChange struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	By     *string   `json:"by"`
}

// JSONRow returns the row in the form of the JSON document.
func (r ReviewRow) JSONRow() ReviewJSONRow {
	j := ReviewJSONRow{
		Holder: r.Holder.String(), Name: r.Name, MemberOf: make([]string, len(r.MemberOf)),
		Scope: r.Scope.String(), ScopeName: r.ScopeName, Level: r.Level.String(), Source: r.Source.String(),
	}
	for i, t := range r.MemberOf {
		j.MemberOf[i] = t.String()
	}
	if !r.Via.Holder.IsZero() {
		j.Via = &ReviewJSONGrant{Holder: r.Via.Holder.String(), Scope: r.Via.Scope.String(), Level: r.Via.Level.String()}
		j.Inherited = ptr(r.Inherited())
	}
	if !r.CappedBy.IsZero() {
		j.CappedBy = ptr(r.CappedBy.String())
	}
	if c := r.LastChange; c.Seq != 0 {
		j.LastChange = &ReviewJSONChange{Seq: c.Seq, At: c.Time.UTC(), Action: c.Action}
		if !c.Actor.IsZero() {
			j.LastChange.By = ptr(c.Actor.String())
		}
	}
	j.LastActive = timePtr(r.LastActive)
	switch r.Holder.Kind {
	case rbac.HolderUser:
		j.TwoFactor = ptr(r.TwoFactor)
	case rbac.HolderToken, rbac.HolderInvite:
		j.Expires, j.Expired = timePtr(r.Expires), ptr(r.Expired)
	}
	return j
}

func ptr[T any](v T) *T { return &v }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return ptr(t.UTC())
}

// WriteJSON writes the review to w as one JSON document, a ReviewDocument:
//
//	{"version":1,"tenant":"account:…","tenant_name":"…","tenants":["account:…"],
//	 "generated":"2026-03-01T12:00:00Z","columns":[…],"rows":[
//	{"holder":"user:…","name":"…",…},
//	…
//	]}
//
// with one ReviewJSONRow per line, in the order of Rows, flushed to w after each page
// as it is read. The document is complete only when WriteJSON returns nil: on error
// the array and the object are left open, so that a truncated review does not parse.
func (rv *Review) WriteJSON(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	head := ReviewDocument{
		Version: ReviewVersion, Tenant: rv.Tenant.String(), TenantName: rv.Name,
		Tenants: make([]string, len(rv.Tenants)), Generated: rv.Generated.UTC(), Columns: ReviewColumns,
	}
	for i, t := range rv.Tenants {
		head.Tenants[i] = t.String()
	}
	b, err := json.Marshal(head)
	if err != nil {
		return err
	}
	// The head ends with "rows":null}: open the array there instead.
	b = bytes.TrimSuffix(b, []byte(`null}`))
	bw.Write(b)
	bw.WriteString("[")
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	first := true
	err = rv.pages(ctx, func(rows []ReviewRow) error {
		for i := range rows {
			buf.Reset()
			if err := enc.Encode(rows[i].JSONRow()); err != nil {
				return err
			}
			if first {
				bw.WriteString("\n")
				first = false
			} else {
				bw.WriteString(",\n")
			}
			bw.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
		}
		return bw.Flush()
	})
	if err != nil {
		bw.Flush()
		return err
	}
	if !first {
		bw.WriteString("\n")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}
