package storetest_test

import (
	"context"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// The Loader's broken stores, each with the clauses of the Loader group that must
// catch its defect; TestBrokenStores runs them with the others.
func init() {
	brokenCases = append(brokenCases,
		brokenCase{"loader-skips-team-grants", []string{"Loader/CopyAgrees"}, func() store.Store {
			return brokenLoader{Store: memstore.New(), wrap: func(w store.Writer) store.Writer { return noTeamGrants{w} }}
		}},
		brokenCase{"loader-seq-plus-one", []string{"Loader/CopyAgrees", "Loader/EmptyStore"}, func() store.Store {
			return brokenLoader{Store: memstore.New(), seq: func(s uint64) uint64 { return s + 1 }}
		}},
		brokenCase{"loader-seq-minus-one", []string{"Loader/CopyAgrees"}, func() store.Store {
			return brokenLoader{Store: memstore.New(), seq: func(s uint64) uint64 { return max(s, 1) - 1 }}
		}},
		brokenCase{"loader-sub-account-first", []string{"Loader/CopyAgrees"}, func() store.Store {
			return brokenLoader{Store: memstore.New(), wrap: func(w store.Writer) store.Writer { return &orgLate{Writer: w} }}
		}},
		brokenCase{"loader-drops-token-allowlists", []string{"Loader/CopyAgrees"}, func() store.Store {
			return brokenLoader{Store: memstore.New(), wrap: func(w store.Writer) store.Writer { return noAllowlist{w} }}
		}},
		brokenCase{"loader-drops-mapped-grants", []string{"Loader/CopyAgrees"}, func() store.Store {
			return brokenLoader{Store: memstore.New(), wrap: func(w store.Writer) store.Writer { return noMapped{w} }}
		}},
		brokenCase{"loader-goes-on-after-grant-errors", []string{"Loader/StopsAtWriterError"}, func() store.Store {
			return brokenLoader{Store: memstore.New(), wrap: func(w store.Writer) store.Writer { return grantErrorsIgnored{w} }}
		}},
	)
}

// brokenLoader is memstore with a Load that gives memstore's Load the Writer that
// wrap makes of the caller's, and returns the Seq that seq makes of memstore's.
type brokenLoader struct {
	*memstore.Store
	wrap func(store.Writer) store.Writer
	seq  func(uint64) uint64
}

func (b brokenLoader) Load(ctx context.Context, w store.Writer) (uint64, error) {
	if b.wrap != nil {
		w = b.wrap(w)
	}
	seq, err := b.Store.Load(ctx, w)
	if b.seq != nil {
		seq = b.seq(seq)
	}
	return seq, err
}

// noTeamGrants drops the grants of teams.
type noTeamGrants struct{ store.Writer }

func (w noTeamGrants) PutGrant(ctx context.Context, g store.Grant) error {
	if g.Holder.Kind == rbac.HolderTeam {
		return nil
	}
	return w.Writer.PutGrant(ctx, g)
}

// orgLate inserts each organization after the first sub-account that follows it.
type orgLate struct {
	store.Writer
	held []store.Account
}

func (w *orgLate) InsertAccount(ctx context.Context, a store.Account) error {
	if a.Ref.Kind == rbac.KindOrganization {
		w.held = append(w.held, a)
		return nil
	}
	if err := w.Writer.InsertAccount(ctx, a); err != nil {
		return err
	}
	for _, o := range w.held {
		if err := w.Writer.InsertAccount(ctx, o); err != nil {
			return err
		}
	}
	w.held = nil
	return nil
}

// noAllowlist drops the tokens' IP allowlists.
type noAllowlist struct{ store.Writer }

func (w noAllowlist) InsertToken(ctx context.Context, t store.Token) error {
	t.IPAllowlist = nil
	return w.Writer.InsertToken(ctx, t)
}

// noMapped drops the members' mapped grants.
type noMapped struct{ store.Writer }

func (w noMapped) InsertMember(ctx context.Context, m store.Member) error {
	m.Mapped = nil
	return w.Writer.InsertMember(ctx, m)
}

// grantErrorsIgnored ignores the errors of PutGrant, and goes on.
type grantErrorsIgnored struct{ store.Writer }

func (w grantErrorsIgnored) PutGrant(ctx context.Context, g store.Grant) error {
	_ = w.Writer.PutGrant(ctx, g)
	return nil
}
