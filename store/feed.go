package store

import (
	"context"
	"time"
)

// Feed is the optional change-feed interface of a Store: every audit event of every
// tenant, in commit order, from a cursor. A consumer keeps the Seq of the last event it
// has handled as its cursor, reads the events after it with Changes, and, when there
// are none, waits for more with Wait.
//
// Because Seq increases in commit order across the whole store (see Event), an event
// committed after a call to Changes has a greater Seq than every event that call
// returned: a consumer that reads on from its last Seq sees every committed event
// exactly once, in order, whatever the writers do concurrently, and the cursor, a
// number, survives the consumer's and the store's restarts. The events of a
// transaction that rolled back are never returned.
//
// A Store that wraps another one finds the wrapped store's Feed through FeedOf.
type Feed interface {
	// Changes returns up to limit events of every tenant (and profile changes, whose
	// Tenant is zero) with Seq greater than after, in Seq order: every committed
	// event after the cursor, none of a transaction that rolled back. A limit of zero
	// or less returns no events.
	Changes(ctx context.Context, after uint64, limit int) ([]Event, error)
	// Wait returns nil when an event with Seq greater than after has been committed
	// (at once when one already has), or ctx's error when ctx is done first. It
	// returns ctx's error whenever ctx is done when it is called.
	Wait(ctx context.Context, after uint64) error
}

// FeedOf returns s's Feed: s itself when it implements Feed, else the Feed of the
// store s unwraps to (see Unwrapper), and so on down the chain.
func FeedOf(s Store) (Feed, bool) { return find[Feed](s) }

// ChangeLog is the optional interface of a Store that reads the access changes of its
// audit log (Event.Changes) on their own, without the rest of each event: what an
// access history replays. Package account reads them from the Feed when the store has
// no ChangeLog.
type ChangeLog interface {
	// ReadChanges calls fn with the Seq, Time and Changes of every committed event
	// that has Changes and whose Time is not after at, in Seq order, in one
	// consistent read. cs is the store's own: fn must neither keep nor modify it,
	// nor call the store. It returns ctx's error when ctx is done before the end.
	ReadChanges(ctx context.Context, at time.Time, fn func(seq uint64, t time.Time, cs []Change)) error
}

// ChangeLogOf returns s's ChangeLog: s itself when it implements ChangeLog, else the
// ChangeLog of the store s unwraps to (see Unwrapper), and so on down the chain.
func ChangeLogOf(s Store) (ChangeLog, bool) { return find[ChangeLog](s) }

// Loader is the optional interface of a Store whose authorization data a replica can
// copy: everything a check reads, streamed in one consistent read together with the
// feed's position at that read.
type Loader interface {
	// Load inserts into w, in one consistent read of the store, every account and
	// organization (InsertAccount, an organization before its sub-accounts), resource
	// (InsertResource, a parent before its children), user (InsertUser), membership
	// (InsertMember), team (InsertTeam) with its members (InsertTeamMember), API
	// token (InsertToken), grant held by a user, a team or a token (PutGrant) and
	// security policy (PutSecurityPolicy), each record before those that name it. It
	// returns the Seq of the last event committed as of that read (zero when there is
	// none): the events after it are the changes the copy has not seen. Load stops at
	// w's first error and returns it; it holds no more than a bounded number of
	// records in memory at a time.
	Load(ctx context.Context, w Writer) (uint64, error)
}

// LoaderOf returns s's Loader: s itself when it implements Loader, else the Loader
// of the store s unwraps to (see Unwrapper), and so on down the chain.
func LoaderOf(s Store) (Loader, bool) { return find[Loader](s) }
