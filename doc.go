// Package tenantry is the access-control and user-management core of a multi-tenant
// product whose customers are teams: users who belong to many accounts, accounts (and
// organizations with sub-accounts) holding projects, inboxes, sending domains,
// billing, templates and campaigns, and viewer, admin and owner access granted on any
// of them and inherited down the tree — with the rules that keep it sound: one owner
// per account whom nobody can alter, nobody changes their own access, nobody grants
// more than they hold, and what you cannot see does not exist for you.
//
// # The front door
//
// A service calls package account, and nothing else, to change anything:
//
//	svc := account.New(memstore.New(), account.Options{})
//	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test"})
//	ann := rbac.User(reg.User.ID)
//	web, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: reg.Account.Ref, Kind: rbac.KindProject, Name: "Web"})
//	err = svc.Authorize(ctx, ann, rbac.InboxCreate, web.Ref) // on every request
//
// Every operation is a request type (account.Invite, account.SetPermissions,
// profile.Delete…) run by account.Do in one transaction that checks the policy,
// changes the store and appends one audit event; every read is a query run by
// account.Get. The policy as a table is POLICY.md, generated from package rbac.
//
// # Layers and what may import what
//
//   - [github.com/tenantry/tenantry/rbac]: the pure policy — levels, the scope tree,
//     the policy table, Decide and every rule on changing access. No I/O; imports
//     nothing of this module.
//   - [github.com/tenantry/tenantry/store]: the persistence contract for store
//     implementers (imports rbac); [github.com/tenantry/tenantry/store/memstore] is the
//     in-memory reference store, [github.com/tenantry/tenantry/store/pgstore]
//     PostgreSQL (pgx), store/sqlitestore SQLite. Stores import store and rbac only (the
//     SQL stores also internal/sqlmigrate, which reads their goose migration files).
//   - [github.com/tenantry/tenantry/store/replica]: answers the checks of a
//     database-backed store from an in-memory copy kept current by its change feed,
//     with revisions for read-your-writes across instances (imports store, rbac and
//     memstore, the one library package that may).
//   - [github.com/tenantry/tenantry/account] and [github.com/tenantry/tenantry/profile]:
//     the operations and queries (import rbac, store and internal/txn; profile also
//     imports account). What both share that must stay privileged — the raw
//     transaction — is in internal/txn, which the compiler keeps inside this module, so
//     no importer can write to the store except through an operation.
//   - [github.com/tenantry/tenantry/account/accounttest]: the state machine and model
//     that prove account and profile on any store (imports account, profile, store,
//     rbac and rapid).
//   - [github.com/tenantry/tenantry/storetest]: the conformance suite a store must pass
//     (imports store, rbac, account, profile, accounttest and rapid).
//   - [github.com/tenantry/tenantry/web]: the HTTP layer a service mounts (net/http):
//     authentication, the actor in the request context, route authorization, the error
//     to status mapping and rate limits; and the User Management, My Profile and audit
//     log pages (Pages: html/template and embedded assets, no build step). Imports
//     account, profile, rbac and store, and nothing outside the standard library.
//   - [github.com/tenantry/tenantry/webhook]: delivers the change feed (the audit events
//     of the whole store, account.Service.Follow) to subscribed HTTP endpoints, signed,
//     in order, at least once, from a cursor the host keeps (imports account, store and
//     rbac).
//
// No library package but store/replica imports memstore, and none imports storetest;
// deps_test.go checks every import against this list.
package tenantry

//go:generate go run ./internal/policygen -o POLICY.md
