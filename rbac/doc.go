// Package rbac is Tenantry's authorization algebra: access levels, the scope tree,
// actions, the policy table, Decide, and the rules on changing access. It does no I/O
// and depends on the standard library only.
//
// The policy is data: every action is a row of one table that says which kinds of
// scope it applies to and the least access level it needs (see POLICY.md, generated
// from that table). Decide evaluates an action on a scope against the grants that
// reach it and returns a Decision that explains itself: the grant and scope that
// allowed it, or the rule that refused it.
//
// Rule identifiers (D1, D12, C2...) are those of the domain specification; they appear
// in decisions, errors, tests and POLICY.md.
package rbac
