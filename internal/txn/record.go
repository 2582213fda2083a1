package txn

import (
	"context"
	"errors"
	"slices"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Recorder is a store.Writer that records, as store.Changes, the facts about access
// each write changes, for the next audit event to carry (Tx.Audit): the writes of
// an operation come before its event. It reads what it needs to know before a write
// (a grant's level before PutGrant, an account's owner before UpdateAccount, a user's
// address before UpdateUser) from
// the same transaction; cascades (DeleteAccount, DeleteMember...) are recorded as the
// one call that makes them, which a reader of the log replays with the Writer's
// documented cascade.
type Recorder struct {
	store.Writer
	pending []store.Change
}

// Record returns w recording its changes; a Recorder already is one.
func Record(w store.Writer) *Recorder {
	if r, ok := w.(*Recorder); ok {
		return r
	}
	return &Recorder{Writer: w}
}

// Take returns the changes recorded since the last Take and forgets them.
func (r *Recorder) Take() []store.Change {
	cs := r.pending
	r.pending = nil
	return cs
}

// Pending reports how many changes wait for an audit event.
func (r *Recorder) Pending() int { return len(r.pending) }

func (r *Recorder) add(c store.Change) { r.pending = append(r.pending, c) }

func ownerOf(a store.Account) rbac.Holder {
	if a.Owner == "" {
		return rbac.Holder{}
	}
	return rbac.User(a.Owner)
}

// InsertAccount implements store.Writer.
func (r *Recorder) InsertAccount(ctx context.Context, a store.Account) error {
	if err := r.Writer.InsertAccount(ctx, a); err != nil {
		return err
	}
	c := store.Change{Kind: store.ChangeScope, Holder: ownerOf(a), Scope: a.Ref}
	if a.Org != "" {
		c.Parent = rbac.Org(a.Org)
	}
	r.add(c)
	return nil
}

// UpdateAccount implements store.Writer.
func (r *Recorder) UpdateAccount(ctx context.Context, a store.Account) error {
	old, err := r.Writer.Account(ctx, a.Ref)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := r.Writer.UpdateAccount(ctx, a); err != nil {
		return err
	}
	if old.Owner != a.Owner {
		r.add(store.Change{Kind: store.ChangeOwner, Holder: ownerOf(a), Scope: a.Ref})
	}
	return nil
}

// DeleteAccount implements store.Writer.
func (r *Recorder) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	if err := r.Writer.DeleteAccount(ctx, ref); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeScope, Scope: ref, Removed: true})
	return nil
}

// InsertResource implements store.Writer.
func (r *Recorder) InsertResource(ctx context.Context, res store.Resource) error {
	if err := r.Writer.InsertResource(ctx, res); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeScope, Scope: res.Ref, Parent: res.Parent})
	return nil
}

// DeleteResource implements store.Writer.
func (r *Recorder) DeleteResource(ctx context.Context, ref rbac.Ref) error {
	if err := r.Writer.DeleteResource(ctx, ref); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeScope, Scope: ref, Removed: true})
	return nil
}

// DeleteUser implements store.Writer.
func (r *Recorder) DeleteUser(ctx context.Context, id string) error {
	if err := r.Writer.DeleteUser(ctx, id); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeUser, Holder: rbac.User(id), Removed: true})
	return nil
}

// UpdateUser implements store.Writer. A change of address is recorded: single
// sign-on enforcement decides on it.
func (r *Recorder) UpdateUser(ctx context.Context, u store.User) error {
	old, err := r.Writer.User(ctx, u.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := r.Writer.UpdateUser(ctx, u); err != nil {
		return err
	}
	if old.Email != u.Email {
		r.add(store.Change{Kind: store.ChangeUser, Holder: rbac.User(u.ID)})
	}
	return nil
}

// PutSecurityPolicy implements store.Writer.
func (r *Recorder) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	if err := r.Writer.PutSecurityPolicy(ctx, p); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangePolicy, Scope: p.Tenant})
	return nil
}

// InsertMember implements store.Writer.
func (r *Recorder) InsertMember(ctx context.Context, m store.Member) error {
	if err := r.Writer.InsertMember(ctx, m); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeMember, Holder: rbac.User(m.User), Scope: m.Tenant})
	return nil
}

// DeleteMember implements store.Writer.
func (r *Recorder) DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error {
	if err := r.Writer.DeleteMember(ctx, tenant, user); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeMember, Holder: rbac.User(user), Scope: tenant, Removed: true})
	return nil
}

// grantBefore returns holder's grant on scope, the zero Grant for none.
func (r *Recorder) grantBefore(ctx context.Context, holder rbac.Holder, scope rbac.Ref) (store.Grant, error) {
	g, err := r.Writer.Grant(ctx, holder, scope)
	if errors.Is(err, store.ErrNotFound) {
		return store.Grant{}, nil
	}
	return g, err
}

// PutGrant implements store.Writer.
func (r *Recorder) PutGrant(ctx context.Context, g store.Grant) error {
	old, err := r.grantBefore(ctx, g.Holder, g.Scope)
	if err != nil {
		return err
	}
	if err := r.Writer.PutGrant(ctx, g); err != nil {
		return err
	}
	if old.Level != g.Level || old.ViewContent != g.ViewContent {
		r.add(store.Change{Kind: store.ChangeGrant, Holder: g.Holder, Scope: g.Scope, Before: old.Level, After: g.Level, ViewContent: g.ViewContent})
	}
	return nil
}

// DeleteGrant implements store.Writer.
func (r *Recorder) DeleteGrant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) error {
	old, err := r.grantBefore(ctx, holder, scope)
	if err != nil {
		return err
	}
	if err := r.Writer.DeleteGrant(ctx, holder, scope); err != nil {
		return err
	}
	if old.Level != rbac.None || old.ViewContent {
		r.add(store.Change{Kind: store.ChangeGrant, Holder: holder, Scope: scope, Before: old.Level})
	}
	return nil
}

// InsertTeam implements store.Writer.
func (r *Recorder) InsertTeam(ctx context.Context, t store.Team) error {
	if err := r.Writer.InsertTeam(ctx, t); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeTeam, Team: t.ID, Scope: t.Tenant})
	return nil
}

// DeleteTeam implements store.Writer.
func (r *Recorder) DeleteTeam(ctx context.Context, id string) error {
	t, err := r.Writer.Team(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := r.Writer.DeleteTeam(ctx, id); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeTeam, Team: id, Scope: t.Tenant, Removed: true})
	return nil
}

// InsertTeamMember implements store.Writer.
func (r *Recorder) InsertTeamMember(ctx context.Context, team, user string) error {
	if err := r.Writer.InsertTeamMember(ctx, team, user); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeTeamMember, Holder: rbac.User(user), Team: team})
	return nil
}

// DeleteTeamMember implements store.Writer.
func (r *Recorder) DeleteTeamMember(ctx context.Context, team, user string) error {
	if err := r.Writer.DeleteTeamMember(ctx, team, user); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeTeamMember, Holder: rbac.User(user), Team: team, Removed: true})
	return nil
}

func tokenChange(t store.Token) store.Change {
	return store.Change{Kind: store.ChangeToken, Holder: rbac.Token(t.ID), Scope: t.Tenant, Creator: t.CreatedBy, Expires: t.Expires}
}

// InsertToken implements store.Writer.
func (r *Recorder) InsertToken(ctx context.Context, t store.Token) error {
	if err := r.Writer.InsertToken(ctx, t); err != nil {
		return err
	}
	r.add(tokenChange(t))
	return nil
}

// UpdateToken implements store.Writer.
func (r *Recorder) UpdateToken(ctx context.Context, t store.Token) error {
	old, err := r.Writer.Token(ctx, t.ID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := r.Writer.UpdateToken(ctx, t); err != nil {
		return err
	}
	if old.CreatedBy != t.CreatedBy || !old.Expires.Equal(t.Expires) || !slices.Equal(old.IPAllowlist, t.IPAllowlist) {
		c := tokenChange(t)
		c.Scope = old.Tenant
		r.add(c)
	}
	return nil
}

// DeleteToken implements store.Writer.
func (r *Recorder) DeleteToken(ctx context.Context, id string) error {
	t, err := r.Writer.Token(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := r.Writer.DeleteToken(ctx, id); err != nil {
		return err
	}
	r.add(store.Change{Kind: store.ChangeToken, Holder: rbac.Token(id), Scope: t.Tenant, Removed: true})
	return nil
}
