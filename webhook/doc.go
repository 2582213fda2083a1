// Package webhook delivers Tenantry's change feed to HTTP endpoints: every audit event
// of the store, as the host's subscriptions select them, POSTed as JSON, signed, in
// order, at least once, resuming after a restart from a cursor the host keeps.
//
// A host mounts it beside its service:
//
//	d, err := webhook.New(svc, []webhook.Subscription{{
//		ID:      "billing-sync",
//		URL:     "https://billing.example.com/hooks/tenantry",
//		Secret:  secret,                    // shared with the receiver
//		Actions: []string{"plan.", "account."}, // action prefixes; none: every action
//	}}, webhook.Options{Cursors: cursors})  // e.g. webhook.NewFileCursors(path)
//	go d.Run(ctx)
//
// # Delivery
//
// Each subscription follows the feed (account.Service.Follow) from its cursor, the Seq
// of the last event it has handled, which Options.Cursors keeps (MemoryCursors, or
// FileCursors for a cursor that survives a restart, or the host's own CursorStore in
// its database). For each event that its filter selects, it POSTs the payload below and
// waits for a 2xx answer; anything else (another status, a timeout, a connection
// error) is retried with exponential backoff and full jitter, between
// Options.MinBackoff and Options.MaxBackoff, for as long as it takes: a delivery is
// never skipped, so the events of a subscription arrive in Seq order, and a
// subscription whose receiver fails holds back only itself. The cursor is saved after
// each 2xx answer (and, for the events the filter passes over, every so often); after a
// restart, delivery resumes after it. An event whose answer was lost may be delivered
// again: delivery is at least once, and the receiver makes it exactly once by
// remembering the idempotency keys it has handled.
//
// # The request
//
//	POST <URL>
//	Content-Type: application/json
//	Idempotency-Key: <seq>                   the event's Seq, the same on every retry
//	Tenantry-Event: <action>                 e.g. member.invite
//	Tenantry-Signature: t=<unix>,v1=<hex>
//
// The signature is HMAC-SHA256, keyed by the subscription's Secret, of the decimal
// Unix time t, a dot, and the raw body: hex(HMAC(secret, t + "." + body)). t is the
// time of the attempt, so a retry carries a fresh one. A receiver checks it with
// Verify (or in any language, by the same computation and a constant-time comparison)
// and refuses a t too far from its clock, which defeats replays.
//
// # The payload
//
// The body is the event in a stable, versioned JSON form (Payload):
//
//	{
//	  "version": 1,
//	  "seq": 42,
//	  "time": "2026-03-01T12:00:00Z",
//	  "tenant": {"kind": "account", "id": "acct_1"},
//	  "actor": {"kind": "user", "id": "user_1"},
//	  "action": "member.invite",
//	  "target": "invite:inv_7",
//	  "before": "",
//	  "after": "viewer"
//	}
//
// version is 1; a change of the form that a receiver must know about gets a new
// version. seq is the event's position in the store's feed (increasing in commit
// order; numbers may be skipped). time is RFC 3339 in UTC. tenant is the account or
// organization the change happened in, null for a change of a user's own profile;
// actor is the holder who made the change (kind "user" or "token"), null when there is
// none (as when someone registers). The kinds are the names of package rbac
// ("organization", "account", "project", "inbox", "domain"..., and "user", "team",
// "token", "invite"). action is the name of the operation (an account.Op's Op():
// "resource.create", "invitation.accept", "plan.set"...); target, before and after are
// the operation's audit strings. Erased profiles appear as their opaque IDs only, as
// in every audit event.
package webhook
