package pgstore

import "strings"

// WithoutFeedNotify makes s append events as the store did before it served the change
// feed: the same lock and insert, without notifying the feed's channel. It is for
// BenchmarkFeedWrite's comparison only; Wait on such a store waits for nothing.
func WithoutFeedNotify(s *Store) {
	q := `WITH l AS MATERIALIZED (
		SELECT pg_advisory_xact_lock((x'54454e54'::bigint << 32) | '$schema.events'::regclass::oid::bigint)
	)
	INSERT INTO $schema.events (time, tenant_kind, tenant_id, actor_kind, actor_id, action, target, before, after)
	SELECT coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8, $9 FROM l
	RETURNING seq, time`
	lit := "'" + strings.ReplaceAll(s.prefix+"events", "'", "''") + "'"
	q = strings.ReplaceAll(q, "'$schema.events'", lit)
	s.sql[qAppendEvent] = strings.ReplaceAll(q, "$schema.", s.prefix)
}

// FeedChannel returns the channel s's change feed listens on.
func FeedChannel(s *Store) string { return feedChannel(s.schema) }
