package memstore

import (
	"context"
	"maps"
	"slices"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

var _ store.Loader = (*Store)(nil)

// Load implements store.Loader: it inserts the store's authorization data into w in
// one read, users first, then every scope tree from its root, memberships, teams with
// their members, tokens, the grants of users, teams and tokens, and security
// policies, and returns the Seq of the last event. Updates wait until it returns.
func (s *Store) Load(ctx context.Context, w store.Writer) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	defer s.mu.RUnlock(s.mu.RLock())
	st := s.st
	for _, id := range slices.Sorted(maps.Keys(st.users)) {
		if err := w.InsertUser(ctx, copyUser(st.users[id])); err != nil {
			return 0, err
		}
	}
	var visit func(id uint32) error
	visit = func(id uint32) error {
		sc := &st.scopes[id]
		var err error
		if sc.acct != nil {
			err = w.InsertAccount(ctx, *sc.acct)
		} else {
			err = w.InsertResource(ctx, *sc.res)
		}
		if err != nil {
			return err
		}
		for _, c := range sc.children {
			if err := visit(c); err != nil {
				return err
			}
		}
		return nil
	}
	for id := range st.scopes {
		if sc := &st.scopes[id]; sc.parent == noID && (sc.acct != nil || sc.res != nil) {
			if err := visit(uint32(id)); err != nil {
				return 0, err
			}
		}
	}
	for _, ms := range st.members {
		for _, u := range ms.users {
			if err := w.InsertMember(ctx, copyMember(*ms.since[u])); err != nil {
				return 0, err
			}
		}
	}
	for _, t := range st.teams {
		if err := w.InsertTeam(ctx, t.rec); err != nil {
			return 0, err
		}
		for _, u := range t.members {
			if err := w.InsertTeamMember(ctx, t.rec.ID, u); err != nil {
				return 0, err
			}
		}
	}
	for _, t := range st.tokens {
		if err := w.InsertToken(ctx, copyToken(t)); err != nil {
			return 0, err
		}
	}
	for k, v := range st.grants {
		hid, sid := uint32(k>>32), uint32(k)
		switch st.holders[hid].h.Kind {
		case rbac.HolderUser, rbac.HolderTeam, rbac.HolderToken:
		default:
			continue
		}
		if err := w.PutGrant(ctx, st.storeGrant(hid, sid, v)); err != nil {
			return 0, err
		}
	}
	for _, p := range st.policies {
		if err := w.PutSecurityPolicy(ctx, copyPolicy(p)); err != nil {
			return 0, err
		}
	}
	return st.seq, nil
}
