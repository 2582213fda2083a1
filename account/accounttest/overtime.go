package accounttest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"pgregory.net/rapid"
)

// advance moves the service's clock forward, across the throttle of activity (D39),
// invitations' expiry (D36), tokens' grace period and expiry, and the sweep's 90 days
// (D38).
func (w *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{
		30 * time.Second, 2 * time.Minute, time.Hour, 13 * time.Hour, 8 * 24 * time.Hour, 31 * 24 * time.Hour, 100 * 24 * time.Hour,
	}).Draw(t, "advance")
	w.now = w.now.Add(d)
}

// invitationAdmin reports whether actor may resend or revoke invitation id made in
// tenant: a live admin of it.
func (w *machine) invitationAdmin(actor rbac.Holder, tenant rbac.Ref, id string) bool {
	inv := w.m.invites[id]
	return w.m.live(actor) && inv != nil && inv.tenant == tenant && w.m.actorLevel(actor, inv.tenant) >= rbac.Admin
}

// resend renews an invitation (D36): a new secret, a new expiry; an expired one must
// fit in the plan's pending invitations and the seats again.
func (w *machine) resend(t *rapid.T) {
	id := w.drawInvite(t)
	inv := w.m.invites[id]
	var tenant rbac.Ref
	if inv != nil {
		tenant = inv.tenant
	}
	actor := w.drawActorIn(t, tenant)
	if tenant.IsZero() || rapid.IntRange(0, 7).Draw(t, "otherTenant?") == 0 {
		tenant = w.drawTenant(t)
	}
	ttl := drawInviteTTL(t)
	life, ttlOK := inviteTTLValid(ttl)
	want := ttlOK && w.invitationAdmin(actor, tenant, id)
	if want && w.m.expired(inv) {
		pending := 0
		for _, other := range w.m.invites {
			if other.tenant == tenant && !w.m.expired(other) {
				pending++
			}
		}
		pool, limit := w.seatPool(tenant)
		want = planOf(w.rootPlan(tenant)).UserManagement &&
			w.m.within(tenant, func(p account.Plan) int { return p.Invitations }, func() int { return pending }) &&
			(pool[inv.email] || limit == 0 || len(pool)+1 <= limit)
	}
	touched := []rbac.Ref{tenant}
	if inv != nil {
		touched = append(touched, w.m.grantTenants(rbac.Invite(id))...)
	}
	var out account.NewInvitation
	if w.doIn(t, "Resend", want, touched, nil, func() error {
		var err error
		out, err = account.Do(w.ctx, w.svc, actor, account.ResendInvitation{Tenant: tenant, Invitation: rbac.Invite(id), ExpiresIn: ttl})
		return err
	}) {
		old := w.secrets[id]
		inv.expires = w.now.Add(life)
		w.secrets[id] = out.Secret
		if old == out.Secret {
			t.Fatalf("Resend kept the secret of %s", id)
		}
	}
}

// decline: the invitee, holding the secret, removes the invitation (D36).
func (w *machine) decline(t *rapid.T) {
	id := w.drawInvite(t)
	inv := w.m.invites[id]
	actor := w.drawActor(t)
	if inv != nil && rapid.IntRange(0, 3).Draw(t, "invitee?") > 0 {
		if u, ok := w.m.userByEmail(inv.email); ok {
			actor = rbac.User(u)
		}
	}
	secret := w.secrets[id]
	if rapid.IntRange(0, 5).Draw(t, "wrongSecret?") == 0 {
		secret = ""
	}
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && inv != nil && w.m.users[actor.ID] == inv.email && secret != ""
	touched := []rbac.Ref{{}}
	if inv != nil {
		touched = append([]rbac.Ref{inv.tenant}, w.m.grantTenants(rbac.Invite(id))...)
	}
	if w.doIn(t, "Decline", want, touched, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.DeclineInvitation{Invitation: rbac.Invite(id), Secret: secret}))
	}) {
		w.m.dropGrantsOf(rbac.Invite(id))
		delete(w.m.invites, id)
	}
}

// inviteMany invites a few addresses at once, all or nothing, the seats counted for
// the batch (D20).
func (w *machine) inviteMany(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	emails := rapid.SliceOfNDistinct(rapid.SampledFrom(opsEmails), 1, 3, rapid.ID[string]).Draw(t, "emails")
	tn := w.m.tenants[tenant]
	want := w.m.live(actor) && tn != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin && planOf(w.rootPlan(tenant)).UserManagement
	if want {
		pool, limit := w.seatPool(tenant)
		pending := 0
		for _, inv := range w.m.invites {
			if inv.tenant == tenant && !w.m.expired(inv) {
				pending++
			}
		}
		for _, e := range emails {
			if u, ok := w.m.userByEmail(e); ok && w.m.isMember(tenant, u) {
				want = false
			}
			for _, inv := range w.m.invites {
				if inv.tenant == tenant && inv.email == e {
					want = false
				}
			}
			if !w.m.within(tenant, func(p account.Plan) int { return p.Invitations }, func() int { return pending }) {
				want = false
			}
			pending++
			if !pool[e] && limit > 0 && len(pool)+1 > limit {
				want = false
			}
			pool[e] = true
		}
	}
	var out []account.NewInvitation
	each := make([]rbac.Ref, len(emails))
	for i := range each {
		each[i] = tenant
	}
	if !w.doEach(t, "InviteMany", want, each, func() error {
		var err error
		out, err = account.Do(w.ctx, w.svc, actor, account.InviteMany{Tenant: tenant, Emails: emails})
		var be *account.BatchError
		if err != nil && !errors.As(err, &be) && !errors.Is(err, account.ErrInvalid) && !errors.Is(err, account.ErrNotFound) {
			return fmt.Errorf("InviteMany's refusal %w is not a *BatchError", err)
		}
		return err
	}) {
		return
	}
	if len(out) != len(emails) {
		t.Fatalf("InviteMany made %d invitations for %d addresses", len(out), len(emails))
	}
	for i, inv := range out {
		w.m.invites[inv.ID] = &mInvite{tenant: tenant, email: emails[i], expires: w.now.Add(account.DefaultInvitationTTL)}
		w.secrets[inv.ID] = inv.Secret
		w.m.everInvites = append(w.m.everInvites, inv.ID)
	}
}

// creatorMayGive reports whether user may give level on scope to a newcomer: admin
// there and at least level (D11, D12).
func (w *machine) creatorMayGive(user string, scope rbac.Ref, level rbac.Level) bool {
	l := w.m.level(rbac.User(user), scope)
	return l >= rbac.Admin && l >= level
}

// createLink: an admin creates an invite link for one level on some scopes of the
// tenant, never above what it holds (D37).
func (w *machine) createLink(t *rapid.T) {
	tenant := w.drawTenant(t)
	actor := w.drawActorIn(t, tenant)
	level := rapid.SampledFrom([]rbac.Level{rbac.Viewer, rbac.Admin}).Draw(t, "level")
	var scopes []rbac.Ref
	if w.m.tenants[tenant] != nil {
		scopes = rapid.SliceOfNDistinct(rapid.SampledFrom(w.m.scopesOf(tenant)), 1, 2, rbac.Ref.String).Draw(t, "scopes")
	} else {
		scopes = []rbac.Ref{tenant}
	}
	want := w.m.live(actor) && w.m.tenants[tenant] != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin && planOf(w.rootPlan(tenant)).UserManagement
	for _, s := range scopes {
		want = want && w.m.exists(s) && w.m.tenantOf(s) == tenant && w.m.actorLevel(actor, s) >= level
	}
	var out account.NewInviteLink
	if !w.do(t, "CreateLink", want, tenant, nil, func() error {
		var err error
		out, err = account.Do(w.ctx, w.svc, actor, account.CreateInviteLink{Tenant: tenant, Level: level, Scopes: scopes})
		return err
	}) {
		return
	}
	creator := actor.ID
	if actor.Kind == rbac.HolderToken {
		creator = w.m.tokens[actor.ID].creator
	}
	w.m.links[out.ID] = &mLink{tenant: tenant, level: level, scopes: slices.SortedFunc(slices.Values(scopes), rbac.Ref.Compare), creator: creator, secret: out.Secret}
	w.m.everLinks = append(w.m.everLinks, out.ID)
	w.linkSecrets[out.ID] = out.Secret
}

func (w *machine) drawLink(t *rapid.T) string {
	if len(w.m.everLinks) == 0 {
		return "link-none"
	}
	return rapid.SampledFrom(w.m.everLinks).Draw(t, "link")
}

// manageLink disables, rotates or deletes a link (admin of its tenant).
func (w *machine) manageLink(t *rapid.T) {
	id := w.drawLink(t)
	l := w.m.links[id]
	var tenant rbac.Ref
	if l != nil {
		tenant = l.tenant
	}
	actor := w.drawActorIn(t, tenant)
	if tenant.IsZero() {
		tenant = w.drawTenant(t)
	}
	want := w.m.live(actor) && l != nil && w.m.tenants[tenant] != nil && w.m.actorLevel(actor, tenant) >= rbac.Admin
	switch rapid.IntRange(0, 2).Draw(t, "manage") {
	case 0:
		want = want && !l.disabled
		if w.do(t, "DisableLink", want, tenant, nil, func() error {
			return errOf(account.Do(w.ctx, w.svc, actor, account.DisableInviteLink{Tenant: tenant, Link: id}))
		}) {
			l.disabled = true
		}
	case 1:
		var out account.NewInviteLink
		if w.do(t, "RotateLink", want, tenant, nil, func() error {
			var err error
			out, err = account.Do(w.ctx, w.svc, actor, account.RotateInviteLink{Tenant: tenant, Link: id})
			return err
		}) {
			l.disabled = false
			w.linkSecrets[id] = out.Secret
		}
	default:
		if w.do(t, "DeleteLink", want, tenant, nil, func() error {
			return errOf(account.Do(w.ctx, w.svc, actor, account.DeleteInviteLink{Tenant: tenant, Link: id}))
		}) {
			delete(w.m.links, id)
		}
	}
}

// joinLink: a signed-in user joins through a link, within the plan, the seats and the
// tenant's security policies, while the link is enabled and its creator may still
// give its access (D37).
func (w *machine) joinLink(t *rapid.T) {
	id := w.drawLink(t)
	l := w.m.links[id]
	actor := w.drawActor(t)
	if l != nil && rapid.IntRange(0, 3).Draw(t, "newcomer?") > 0 {
		var newcomers []string
		for _, u := range slices.Sorted(maps.Keys(w.m.users)) {
			if !w.m.isMember(l.tenant, u) {
				newcomers = append(newcomers, u)
			}
		}
		if len(newcomers) > 0 {
			actor = rbac.User(rapid.SampledFrom(newcomers).Draw(t, "newcomer"))
		}
	}
	secret := w.linkSecrets[id]
	if rapid.IntRange(0, 7).Draw(t, "wrongSecret?") == 0 {
		secret = id + ".00"
	}
	want := actor.Kind == rbac.HolderUser && w.m.live(actor) && l != nil && !l.disabled && secret == w.linkSecrets[id]
	var tenant rbac.Ref
	if l != nil {
		tenant = l.tenant
	}
	var grants []rbac.Ref
	if want {
		want = planOf(w.rootPlan(tenant)).UserManagement && !w.m.isMember(tenant, actor.ID) &&
			w.m.live(rbac.User(l.creator)) && w.m.level(rbac.User(l.creator), tenant) >= rbac.Admin &&
			!w.m.blocked(actor, tenant) // the tenant's security policies, as for a member (D32, D35)
	}
	if want {
		for _, s := range l.scopes {
			if !w.m.exists(s) {
				continue
			}
			want = want && w.creatorMayGive(l.creator, s, l.level)
			grants = append(grants, s)
		}
		pool, limit := w.seatPool(tenant)
		if e := w.m.users[actor.ID]; !pool[e] && limit > 0 && len(pool)+1 > limit {
			want = false
		}
	}
	if !w.do(t, "JoinLink", want, tenant, nil, func() error {
		return errOf(account.Do(w.ctx, w.svc, actor, account.JoinByLink{Link: id, Secret: secret}))
	}) {
		return
	}
	w.m.members[tenant][actor.ID] = true
	for _, s := range grants {
		w.m.grants[gkey{actor, s}] = mGrant{level: l.level, granter: w.m.level(rbac.User(l.creator), s)}
	}
	l.joined++
}

// authenticate presents a token's secret, as its holder would: it authenticates
// exactly while the token lives, a reset token's old secret through the grace
// period and not after it (D23, D38), and records the token's use at most once a
// minute (D39), which the next check compares.
func (w *machine) authenticate(t *rapid.T) {
	if len(w.m.everTokens) == 0 {
		return
	}
	id := rapid.SampledFrom(w.m.everTokens).Draw(t, "token")
	want := w.m.alive(w.m.tokens[id])
	h, err := w.svc.Authenticate(w.ctx, w.tokenSecrets[id])
	switch {
	case want && (err != nil || h != rbac.Token(id)):
		t.Fatalf("Authenticate(secret of live %s) = %v, %v", id, h, err)
	case !want && !errors.Is(err, account.ErrUnauthenticated):
		t.Fatalf("Authenticate(secret of expired, reset past its grace or deleted %s) = %v, %v; want ErrUnauthenticated (D38)", id, h, err)
	}
	if evs := w.newEvents(t, rbac.Ref{}); len(evs) != 0 {
		t.Fatalf("Authenticate wrote events in %v", evs)
	}
	if want {
		w.m.touch(rbac.Token(id), rbac.Ref{})
	}
}

// sweep deletes the tokens expired for more than 90 days, as the service (D38).
func (w *machine) sweep(t *rapid.T) {
	cutoff := w.now.Add(-account.DefaultTokenRetention)
	var doomed []string
	var tenants []rbac.Ref
	for _, id := range slices.Sorted(maps.Keys(w.m.tokens)) {
		if tok := w.m.tokens[id]; !tok.expires.IsZero() && tok.expires.Before(cutoff) {
			doomed = append(doomed, id)
			tenants = append(tenants, tok.tenant)
		}
	}
	actor := rbac.Holder{}
	if rapid.IntRange(0, 5).Draw(t, "userSweeps?") == 0 {
		actor = w.drawActor(t)
	}
	want := actor.IsZero()
	if !want || len(doomed) == 0 {
		tenants = []rbac.Ref{{}}
	}
	var n int
	run := func() error {
		var err error
		n, err = account.Do(w.ctx, w.svc, actor, account.SweepTokens{})
		return err
	}
	if want && len(doomed) == 0 {
		// Nothing to sweep: a success that changes nothing and writes nothing.
		if err := run(); err != nil || n != 0 {
			t.Fatalf("SweepTokens with nothing expired = %d, %v", n, err)
		}
		if evs := w.newEvents(t, rbac.Ref{}); len(evs) != 0 {
			t.Fatalf("SweepTokens with nothing to do wrote events in %v", evs)
		}
		return
	}
	if !w.doEach(t, "Sweep", want, tenants, run) {
		return
	}
	if n != len(doomed) {
		t.Fatalf("SweepTokens deleted %d tokens, want %d", n, len(doomed))
	}
	for _, id := range doomed {
		w.m.deleteToken(id)
	}
}

// inactive: the inactivity report lists exactly the visible members whose last
// activity, or joining, is before the date (D39). Joining is not modelled, so a
// member never active is checked only to be listed when the date is now or later.
func (w *machine) inactive(t *rapid.T) {
	tenant := w.drawTenant(t)
	tn := w.m.tenants[tenant]
	if tn == nil {
		return
	}
	actor := rbac.User(tn.owner)
	since := w.now.Add(-rapid.SampledFrom([]time.Duration{0, time.Minute, time.Hour, 10 * 24 * time.Hour}).Draw(t, "ago"))
	if w.m.blocked(actor, tenant) {
		_, err := account.Get(w.ctx, w.svc, actor, account.Inactive{Tenant: tenant, Since: since})
		if !errors.Is(err, rbac.ErrDenied) {
			t.Fatalf("Inactive(%v) by %v, refused by the security policy: %v", tenant, actor, err)
		}
		return
	}
	listed := map[string]bool{}
	for m, err := range account.All[account.InactiveMember](w.ctx, w.svc, actor, account.Inactive{Tenant: tenant, Since: since, Page: account.PageRequest{Limit: 2}}) {
		if err != nil {
			t.Fatalf("Inactive(%v): %v", tenant, err)
		}
		if listed[m.User.ID] {
			t.Fatalf("Inactive lists %s twice", m.User.ID)
		}
		listed[m.User.ID] = true
		if want := w.m.active[mkey{tenant, m.User.ID}]; !m.LastActive.Equal(want) {
			t.Fatalf("Inactive lists %s last active %v, want %v", m.User.ID, m.LastActive, want)
		}
	}
	for u := range w.m.members[tenant] {
		last, ok := w.m.active[mkey{tenant, u}]
		switch {
		case ok && last.Before(since) != listed[u]:
			t.Fatalf("Inactive since %v: %s (last active %v) listed=%v", since, u, last, listed[u])
		case !ok && since.Equal(w.now) && !listed[u]:
			t.Fatalf("Inactive since now: %s, never active, is not listed", u)
		}
	}
	for u := range listed {
		if !w.m.isMember(tenant, u) {
			t.Fatalf("Inactive lists %s, not a member of %v", u, tenant)
		}
	}
}

// compareLinks checks the invite links against the model, both ways (D37), then the
// security policies.
func (w *machine) compareLinks(ctx context.Context, r store.Reader) error {
	if err := w.comparePolicies(ctx, r); err != nil {
		return err
	}
	for _, id := range w.m.everLinks {
		l, err := r.InviteLink(ctx, id)
		ml := w.m.links[id]
		if (err == nil) != (ml != nil) {
			return fmt.Errorf("invite link %s: store err %v, model exists %v", id, err, ml != nil)
		}
		if ml == nil {
			continue
		}
		if l.Tenant != ml.tenant || l.Level != ml.level || l.CreatedBy != ml.creator || l.Disabled != ml.disabled || l.Joined != ml.joined || !slices.Equal(l.Scopes, ml.scopes) {
			return fmt.Errorf("invite link %s: %+v, model %+v", id, l, *ml)
		}
		if len(l.Hash) == 0 {
			return fmt.Errorf("invite link %s has no hash", id)
		}
	}
	return nil
}
