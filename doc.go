// Package tenantry is the access-control core of a multi-tenant product whose
// customers are teams: users who belong to many accounts, accounts (and organizations
// with sub-accounts) holding projects, inboxes, sending domains, billing, templates and
// campaigns, and viewer, admin and owner access granted on any of them and inherited
// down the tree — with the rules that keep it sound: one owner per account whom nobody
// can alter, nobody changes their own access, nobody grants more than they hold.
//
// The library is split in layers:
//
//   - [github.com/tenantry/tenantry/rbac]: the pure policy — levels, the scope tree,
//     the policy table, Decide and the rules on changing access. No I/O.
//   - [github.com/tenantry/tenantry/store]: the persistence contract, with the
//     in-memory reference store in store/memstore and PostgreSQL in store/pgstore.
//   - [github.com/tenantry/tenantry/account] and [github.com/tenantry/tenantry/profile]:
//     the operations a service calls (invite, set permissions, transfer ownership,
//     register, delete a profile...), each one transaction that checks the policy,
//     changes the store and writes one audit event.
//   - [github.com/tenantry/tenantry/storetest]: the conformance suite a store must pass.
//
// The policy as a table is in POLICY.md, generated from package rbac.
package tenantry

//go:generate go run ./internal/policygen -o POLICY.md
