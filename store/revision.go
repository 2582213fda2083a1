package store

import "context"

type revisionKey struct{}

// WithRevision returns a copy of ctx asking every check made with it to answer at
// least as fresh as rev: a Seq of the change feed (see Feed), such as the revision a
// write returned (account.DoRevision). A store that answers checks from a copy
// of another store's data (a replica) waits until its copy has applied rev, or
// answers from the store it copies; a store that answers from its own data is always
// fresh and ignores it. A rev of zero asks for nothing.
func WithRevision(ctx context.Context, rev uint64) context.Context {
	if rev == 0 {
		return ctx
	}
	return context.WithValue(ctx, revisionKey{}, rev)
}

// RevisionFrom returns the revision WithRevision put in ctx, or zero when there is
// none. It allocates nothing.
func RevisionFrom(ctx context.Context) uint64 {
	rev, _ := ctx.Value(revisionKey{}).(uint64)
	return rev
}
