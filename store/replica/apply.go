package replica

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// checked reports whether the copy holds the grants of holders of kind k: users,
// teams and tokens, whose checks it answers.
func checked(k rbac.HolderKind) bool {
	return k == rbac.HolderUser || k == rbac.HolderTeam || k == rbac.HolderToken
}

// copyWriter is the copy's writer as the copy keeps records: only what a check
// reads. A team is named by its ID (names are not checked, and renames are not in the
// feed); a user keeps its ID and address; accounts, resources and tokens lose their
// names, a token its hash; there are no grants of holders whose checks go to the
// backing store.
type copyWriter struct{ store.Writer }

func (w copyWriter) InsertAccount(ctx context.Context, a store.Account) error {
	a.Name = ""
	return w.Writer.InsertAccount(ctx, a)
}

func (w copyWriter) UpdateAccount(ctx context.Context, a store.Account) error {
	a.Name = ""
	return w.Writer.UpdateAccount(ctx, a)
}

func (w copyWriter) InsertResource(ctx context.Context, r store.Resource) error {
	r.Name = ""
	return w.Writer.InsertResource(ctx, r)
}

func (w copyWriter) InsertMember(ctx context.Context, m store.Member) error {
	m.Mapped, m.LastActive = nil, time.Time{}
	return w.Writer.InsertMember(ctx, m)
}

func (w copyWriter) InsertTeam(ctx context.Context, t store.Team) error {
	t.Name = t.ID
	return w.Writer.InsertTeam(ctx, t)
}

func (w copyWriter) InsertToken(ctx context.Context, t store.Token) error {
	return w.Writer.InsertToken(ctx, bareToken(t))
}

func (w copyWriter) UpdateToken(ctx context.Context, t store.Token) error {
	return w.Writer.UpdateToken(ctx, bareToken(t))
}

// bareToken is what the copy keeps of t.
func bareToken(t store.Token) store.Token {
	return store.Token{ID: t.ID, Tenant: t.Tenant, CreatedBy: t.CreatedBy, Expires: t.Expires, IPAllowlist: t.IPAllowlist}
}

func (w copyWriter) InsertUser(ctx context.Context, u store.User) error {
	u = store.User{ID: u.ID, Email: u.Email}
	if err := freeEmail(ctx, w.Writer, u); err != nil {
		return err
	}
	return w.Writer.InsertUser(ctx, u)
}

func (w copyWriter) UpdateUser(ctx context.Context, u store.User) error {
	u = store.User{ID: u.ID, Email: u.Email}
	if err := freeEmail(ctx, w.Writer, u); err != nil {
		return err
	}
	return w.Writer.UpdateUser(ctx, u)
}

func (w copyWriter) PutGrant(ctx context.Context, g store.Grant) error {
	if !checked(g.Holder.Kind) {
		return nil
	}
	return w.Writer.PutGrant(ctx, g)
}

func (w copyWriter) DeleteGrant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) error {
	if !checked(holder.Kind) {
		return nil
	}
	return w.Writer.DeleteGrant(ctx, holder, scope)
}

// placeholder is the address a user of the copy holds while its own is taken by
// another user whose change the copy has applied first: no address compares equal to
// it, and the user's own change (a ChangeUser) brings its new address.
func placeholder(id string) string { return "\x00" + id }

// freeEmail gives any other user of the copy holding u's address a placeholder.
func freeEmail(ctx context.Context, w store.Writer, u store.User) error {
	other, err := w.UserByEmail(ctx, u.Email)
	if errors.Is(err, store.ErrNotFound) || err == nil && other.ID == u.ID {
		return nil
	} else if err != nil {
		return err
	}
	other.Email = placeholder(other.ID)
	return w.UpdateUser(ctx, other)
}

// op is a write an Update made without an audit event, replayed on the copy.
type op func(ctx context.Context, w store.Writer) error

// recorder is the writer of an Update through the replica: it notes the Seq of the
// events it appends and keeps the writes that change what the copy holds, for
// Update to replay on the copy when no event carries them.
type recorder struct {
	store.Writer
	seq uint64
	ops []op
}

func (r *recorder) add(o op) { r.ops = append(r.ops, o) }

func (r *recorder) AppendEvent(ctx context.Context, e store.Event) (store.Event, error) {
	e, err := r.Writer.AppendEvent(ctx, e)
	if err == nil {
		r.seq = max(r.seq, e.Seq)
	}
	return e, err
}

func (r *recorder) InsertAccount(ctx context.Context, a store.Account) error {
	if err := r.Writer.InsertAccount(ctx, a); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.InsertAccount(ctx, a) })
	return nil
}

func (r *recorder) UpdateAccount(ctx context.Context, a store.Account) error {
	if err := r.Writer.UpdateAccount(ctx, a); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.UpdateAccount(ctx, a) })
	return nil
}

func (r *recorder) DeleteAccount(ctx context.Context, ref rbac.Ref) error {
	if err := r.Writer.DeleteAccount(ctx, ref); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteAccount(ctx, ref) })
	return nil
}

func (r *recorder) InsertResource(ctx context.Context, res store.Resource) error {
	if err := r.Writer.InsertResource(ctx, res); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.InsertResource(ctx, res) })
	return nil
}

func (r *recorder) DeleteResource(ctx context.Context, ref rbac.Ref) error {
	if err := r.Writer.DeleteResource(ctx, ref); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteResource(ctx, ref) })
	return nil
}

func (r *recorder) InsertUser(ctx context.Context, u store.User) error {
	if err := r.Writer.InsertUser(ctx, u); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.InsertUser(ctx, u) })
	return nil
}

func (r *recorder) UpdateUser(ctx context.Context, u store.User) error {
	if err := r.Writer.UpdateUser(ctx, u); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.UpdateUser(ctx, u) })
	return nil
}

func (r *recorder) DeleteUser(ctx context.Context, id string) error {
	if err := r.Writer.DeleteUser(ctx, id); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteUser(ctx, id) })
	return nil
}

func (r *recorder) InsertMember(ctx context.Context, m store.Member) error {
	if err := r.Writer.InsertMember(ctx, m); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.InsertMember(ctx, m) })
	return nil
}

func (r *recorder) DeleteMember(ctx context.Context, tenant rbac.Ref, user string) error {
	if err := r.Writer.DeleteMember(ctx, tenant, user); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteMember(ctx, tenant, user) })
	return nil
}

func (r *recorder) PutGrant(ctx context.Context, g store.Grant) error {
	if err := r.Writer.PutGrant(ctx, g); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.PutGrant(ctx, g) })
	return nil
}

func (r *recorder) DeleteGrant(ctx context.Context, holder rbac.Holder, scope rbac.Ref) error {
	if err := r.Writer.DeleteGrant(ctx, holder, scope); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteGrant(ctx, holder, scope) })
	return nil
}

func (r *recorder) InsertTeam(ctx context.Context, t store.Team) error {
	if err := r.Writer.InsertTeam(ctx, t); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.InsertTeam(ctx, t) })
	return nil
}

func (r *recorder) DeleteTeam(ctx context.Context, id string) error {
	if err := r.Writer.DeleteTeam(ctx, id); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteTeam(ctx, id) })
	return nil
}

func (r *recorder) InsertTeamMember(ctx context.Context, team, user string) error {
	if err := r.Writer.InsertTeamMember(ctx, team, user); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.InsertTeamMember(ctx, team, user) })
	return nil
}

func (r *recorder) DeleteTeamMember(ctx context.Context, team, user string) error {
	if err := r.Writer.DeleteTeamMember(ctx, team, user); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteTeamMember(ctx, team, user) })
	return nil
}

func (r *recorder) InsertToken(ctx context.Context, t store.Token) error {
	if err := r.Writer.InsertToken(ctx, t); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.InsertToken(ctx, t) })
	return nil
}

func (r *recorder) UpdateToken(ctx context.Context, t store.Token) error {
	if err := r.Writer.UpdateToken(ctx, t); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.UpdateToken(ctx, t) })
	return nil
}

func (r *recorder) DeleteToken(ctx context.Context, id string) error {
	if err := r.Writer.DeleteToken(ctx, id); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.DeleteToken(ctx, id) })
	return nil
}

func (r *recorder) PutSecurityPolicy(ctx context.Context, p store.SecurityPolicy) error {
	if err := r.Writer.PutSecurityPolicy(ctx, p); err != nil {
		return err
	}
	r.add(func(ctx context.Context, w store.Writer) error { return w.PutSecurityPolicy(ctx, p) })
	return nil
}

// applyOps replays, on the copy, writes an Update made without an event. A write the
// copy refuses (it differs from the backing store, which a later reload mends) is
// skipped.
func (s *Store) applyOps(ops []op) {
	_ = s.copy.Load().Update(context.Background(), func(ctx context.Context, w store.Writer) error {
		cw := copyWriter{w}
		for _, o := range ops {
			if err := o(ctx, cw); err != nil {
				s.opts.Logger.Debug("tenantry replica: a write without an event not applied to the copy", "err", err)
			}
		}
		return nil
	})
}

// fetched is what applying a batch of events reads from the backing store first:
// users, tokens and policies, whose changes the feed names without their values.
type fetched struct {
	users    map[string]*store.User // nil: no longer in the backing store
	tokens   map[string]*store.Token
	policies map[rbac.Ref]*store.SecurityPolicy
}

// fetch reads from the backing store, in one read, what applying evs needs beyond
// the events: the users a membership or team place names that the copy lacks, and
// those whose address changed; the tokens made or changed; the policies set.
func (s *Store) fetch(ctx context.Context, evs []store.Event) (*fetched, error) {
	f := &fetched{}
	var users []string
	var tokens []string
	var policies []rbac.Ref
	cp := s.copy.Load()
	err := cp.View(ctx, func(ctx context.Context, r store.Reader) error {
		for _, e := range evs {
			for _, c := range e.Changes {
				switch c.Kind {
				case store.ChangeMember, store.ChangeTeamMember:
					if c.Removed {
						continue
					}
					if _, err := r.User(ctx, c.Holder.ID); errors.Is(err, store.ErrNotFound) {
						users = append(users, c.Holder.ID)
					}
				case store.ChangeUser:
					if !c.Removed {
						users = append(users, c.Holder.ID)
					}
				case store.ChangeToken:
					if !c.Removed {
						tokens = append(tokens, c.Holder.ID)
					}
				case store.ChangePolicy:
					policies = append(policies, c.Scope)
				}
			}
		}
		return nil
	})
	if err != nil || len(users)+len(tokens)+len(policies) == 0 {
		return f, err
	}
	err = s.backing.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		if f.users, err = readAll(ctx, users, r.User); err != nil {
			return err
		}
		if f.tokens, err = readAll(ctx, tokens, r.Token); err != nil {
			return err
		}
		f.policies, err = readAll(ctx, policies, r.SecurityPolicy)
		return err
	})
	return f, err
}

// readAll reads each of keys with read, nil for one that is not found.
func readAll[K comparable, V any](ctx context.Context, keys []K, read func(context.Context, K) (V, error)) (map[K]*V, error) {
	out := make(map[K]*V, len(keys))
	for _, k := range keys {
		if _, ok := out[k]; ok {
			continue
		}
		v, err := read(ctx, k)
		if errors.Is(err, store.ErrNotFound) {
			out[k] = nil
			continue
		} else if err != nil {
			return nil, err
		}
		out[k] = &v
	}
	return out, nil
}

// apply applies the changes of evs to the copy, in one transaction of the copy.
func (s *Store) apply(ctx context.Context, evs []store.Event) error {
	f, err := s.fetch(ctx, evs)
	if err != nil {
		return err
	}
	return s.copy.Load().Update(ctx, func(ctx context.Context, w store.Writer) error {
		cw := copyWriter{w}
		for _, e := range evs {
			for _, c := range e.Changes {
				if err := applyChange(ctx, cw, f, e, c); err != nil {
					return &applyError{seq: e.Seq, err: err}
				}
			}
		}
		return nil
	})
}

// ignore returns nil for the error a change already in the copy gives (target when
// it was added, store.ErrNotFound when it was removed).
func ignore(err, target error) error {
	if errors.Is(err, target) {
		return nil
	}
	return err
}

// applyChange applies one change, as of event e, to the copy.
func applyChange(ctx context.Context, w copyWriter, f *fetched, e store.Event, c store.Change) error {
	switch c.Kind {
	case store.ChangeGrant:
		if c.After == rbac.None && !c.ViewContent {
			return ignore(w.DeleteGrant(ctx, c.Holder, c.Scope), store.ErrNotFound)
		}
		return w.PutGrant(ctx, store.Grant{Grant: rbac.Grant{Holder: c.Holder, Scope: c.Scope, Level: c.After, ViewContent: c.ViewContent}})
	case store.ChangeScope:
		if c.Removed {
			if c.Scope.Kind.Ownable() {
				return ignore(w.DeleteAccount(ctx, c.Scope), store.ErrNotFound)
			}
			return ignore(w.DeleteResource(ctx, c.Scope), store.ErrNotFound)
		}
		if c.Scope.Kind.Ownable() {
			a := store.Account{Ref: c.Scope, Org: c.Parent.ID, Owner: c.Holder.ID, Created: e.Time}
			return ignore(w.InsertAccount(ctx, a), store.ErrExists)
		}
		p, err := w.Path(ctx, c.Parent, nil)
		if err != nil {
			return err
		}
		r := store.Resource{Ref: c.Scope, Parent: c.Parent, Account: p.Tenant().ID, Created: e.Time}
		return ignore(w.InsertResource(ctx, r), store.ErrExists)
	case store.ChangeOwner:
		a, err := w.Account(ctx, c.Scope)
		if err != nil {
			return err
		}
		a.Owner = c.Holder.ID
		return w.UpdateAccount(ctx, a)
	case store.ChangeMember:
		if c.Removed {
			return ignore(w.DeleteMember(ctx, c.Scope, c.Holder.ID), store.ErrNotFound)
		}
		if err := ensureUser(ctx, w, f, c.Holder.ID); err != nil {
			return err
		}
		return ignore(w.InsertMember(ctx, store.Member{Tenant: c.Scope, User: c.Holder.ID, Created: e.Time}), store.ErrExists)
	case store.ChangeTeam:
		if c.Removed {
			return ignore(w.DeleteTeam(ctx, c.Team), store.ErrNotFound)
		}
		return ignore(w.InsertTeam(ctx, store.Team{ID: c.Team, Tenant: c.Scope, Created: e.Time}), store.ErrExists)
	case store.ChangeTeamMember:
		if c.Removed {
			return ignore(w.DeleteTeamMember(ctx, c.Team, c.Holder.ID), store.ErrNotFound)
		}
		if err := ensureUser(ctx, w, f, c.Holder.ID); err != nil {
			return err
		}
		return ignore(w.InsertTeamMember(ctx, c.Team, c.Holder.ID), store.ErrExists)
	case store.ChangeToken:
		if c.Removed {
			return ignore(w.DeleteToken(ctx, c.Holder.ID), store.ErrNotFound)
		}
		t := store.Token{ID: c.Holder.ID, Tenant: c.Scope, CreatedBy: c.Creator, Expires: c.Expires}
		if now := f.tokens[c.Holder.ID]; now != nil {
			t = *now
		}
		old, err := w.Token(ctx, t.ID)
		if errors.Is(err, store.ErrNotFound) {
			if t.Tenant.IsZero() {
				return err
			}
			return w.InsertToken(ctx, t)
		} else if err != nil {
			return err
		}
		if f.tokens[c.Holder.ID] == nil {
			t.IPAllowlist = slices.Clone(old.IPAllowlist)
			if t.Tenant.IsZero() {
				t.Tenant = old.Tenant
			}
		}
		return w.UpdateToken(ctx, t)
	case store.ChangeUser:
		if c.Removed {
			return ignore(w.DeleteUser(ctx, c.Holder.ID), store.ErrNotFound)
		}
		u := f.users[c.Holder.ID]
		if u == nil {
			return nil // removed since: its own change removes it
		}
		if _, err := w.User(ctx, u.ID); errors.Is(err, store.ErrNotFound) {
			return nil // not in the copy: a membership brings it
		}
		return w.UpdateUser(ctx, *u)
	case store.ChangePolicy:
		if p := f.policies[c.Scope]; p != nil {
			return w.PutSecurityPolicy(ctx, *p)
		}
		return nil
	}
	return nil
}

// ensureUser inserts user id into the copy unless it is there: as the backing store
// holds it now, or, when it has been removed since (its own change will remove it
// from the copy), with a placeholder address.
func ensureUser(ctx context.Context, w copyWriter, f *fetched, id string) error {
	if _, err := w.User(ctx, id); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	u := store.User{ID: id, Email: placeholder(id)}
	if now := f.users[id]; now != nil {
		u = *now
	}
	return w.InsertUser(ctx, u)
}
