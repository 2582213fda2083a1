package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/pgstore"
	"github.com/tenantry/tenantry/store/sqlitestore"
)

// The demo world's accounts scopes, in the order of the tree (what-can, review).
var demoScopes = []string{
	"account:acct-1", "project:proj-1", "inbox:inbox-1", "inbox:inbox-2", "domain:dom-1",
	"billing:acct-1", "templates:acct-1", "campaigns:acct-1",
}

// The audit log of the demo account, by action, in order.
var demoLog = []string{
	"profile.register", "account.rename", "plan.set",
	"resource.create", "resource.create", "resource.create", "resource.create",
	"member.invite", "invitation.accept", "member.invite", "invitation.accept", "member.invite", "invitation.accept",
	"team.create", "permissions.set", "team.add_member", "token.create", "member.invite",
}

// world is a store holding the demo world, as the command line names it.
type world struct {
	args []string // the global flags that name the store (and seed it)
	// cappedToken: carol, the token's creator, was lowered to viewer of the account,
	// so that her token acts as a viewer (D40).
	cappedToken bool
}

func (w world) run(t *testing.T, code int, args ...string) result {
	t.Helper()
	return want(t, code, append(slices.Clone(w.args), args...)...)
}

// testWorld runs every store-reading command on w and checks its answers.
func testWorld(t *testing.T, w world) {
	t.Run("Check", func(t *testing.T) { testCheck(t, w) })
	t.Run("Explain", func(t *testing.T) { testExplain(t, w) })
	t.Run("WhoCan", func(t *testing.T) { testWhoCan(t, w) })
	t.Run("WhatCan", func(t *testing.T) { testWhatCan(t, w) })
	t.Run("Review", func(t *testing.T) { testReview(t, w) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, w) })
	t.Run("Migrate", func(t *testing.T) {
		if r := w.run(t, exitOK, "migrate"); !strings.Contains(r.stdout, "migrate") && !strings.Contains(r.stdout, "schema version") {
			t.Errorf("migrate says %q", r.stdout)
		}
	})
}

func testCheck(t *testing.T, w world) {
	r := w.run(t, exitOK, "check", "inbox.read", "user:user-4", "inbox:inbox-2")
	if want := "allowed: inbox.read on inbox:inbox-2 needs viewer; granted by user:user-4 viewer on project:proj-1 (D1: "; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("check: %q, want it to start with %q", r.stdout, want)
	}
	r = w.run(t, exitDenied, "check", "inbox.rename", "user:user-4", "inbox:inbox-2")
	if !strings.HasPrefix(r.stdout, "denied: inbox.rename on inbox:inbox-2 needs admin; holder has viewer (D5") {
		t.Errorf("check denied: %q", r.stdout)
	}
	// Flags after the arguments; a token; JSON.
	var d decisionJSON
	decode(t, w.run(t, exitOK, "check", "inbox.read", "token:tok-1", "inbox:inbox-1", "--json").stdout, &d)
	if !d.Allowed || d.Holder != "token:tok-1" || d.Grant == nil || d.Grant.Scope != "project:proj-1" || d.Rule != "D1" || d.Reason == "" {
		t.Errorf("check --json: %+v", d)
	}
	tokenRename := exitOK
	if w.cappedToken {
		tokenRename = exitDenied
	}
	r = w.run(t, tokenRename, "check", "--json", "project.rename", "token:tok-1", "project:proj-1")
	decode(t, r.stdout, &d)
	if w.cappedToken && (d.Allowed || d.Rule != string(rbac.RuleTokenCreator) || d.Level != "viewer") {
		t.Errorf("a capped token: %+v", d)
	}
	// Not found: the scope, the holder; a refused kind is a denial (P2).
	if r := w.run(t, exitNotFound, "check", "inbox.read", "user:user-4", "inbox:nope"); !strings.Contains(r.stderr, "not found: inbox:nope") {
		t.Errorf("missing scope: %q", r.stderr)
	}
	if r := w.run(t, exitNotFound, "check", "inbox.read", "user:nobody", "inbox:inbox-1"); !strings.Contains(r.stderr, "not found: user:nobody") {
		t.Errorf("missing holder: %q", r.stderr)
	}
	w.run(t, exitNotFound, "check", "inbox.read", "token:nope", "inbox:inbox-1")
	if r := w.run(t, exitDenied, "check", "inbox.read", "user:user-1", "project:proj-1"); !strings.Contains(r.stdout, "(P2") {
		t.Errorf("wrong kind: %q", r.stdout)
	}
}

func testExplain(t *testing.T, w world) {
	r := w.run(t, exitDenied, "explain", "project.create", "user:user-4", "account:acct-1")
	for _, want := range []string{"denied: project.create on account:acct-1 needs admin", "(D7: ", "path:", "account:acct-1", "grants weighed: none"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain lacks %q:\n%s", want, r.stdout)
		}
	}
	r = w.run(t, exitOK, "explain", "domain.view", "user:user-4", "domain:dom-1")
	for _, want := range []string{"allowed: domain.view on domain:dom-1 needs viewer; granted by team:team-1 viewer on domain:dom-1", "account:acct-1 > domain:dom-1", "team:team-1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("explain lacks %q:\n%s", want, r.stdout)
		}
	}
	var x explanationJSON
	decode(t, w.run(t, exitOK, "--json", "explain", "inbox.read", "user:user-1", "inbox:inbox-2").stdout, &x)
	if !x.Allowed || !slices.Equal(x.Path, []string{"account:acct-1", "project:proj-1", "inbox:inbox-2"}) || len(x.Grants) != 1 ||
		x.Grants[0].Level != "owner" || !x.Grants[0].Deciding || !strings.HasPrefix(x.Reason, "allowed") {
		t.Errorf("explain --json: %+v", x)
	}
	w.run(t, exitNotFound, "explain", "inbox.read", "user:user-1", "inbox:nope")
}

func testWhoCan(t *testing.T, w world) {
	who := func(action, scope string) []string {
		var rows []whoRow
		decode(t, w.run(t, exitOK, "who-can", "--json", action, scope).stdout, &rows)
		var hs []string
		for _, r := range rows {
			if r.Grant == nil || r.Rule == "" || r.Reason == "" {
				t.Errorf("who-can %s %s: row %+v", action, scope, r)
			}
			hs = append(hs, r.Holder)
		}
		return hs
	}
	check := func(action, scope string, want ...string) {
		t.Helper()
		if got := who(action, scope); !slices.Equal(got, want) {
			t.Errorf("who-can %s %s: %q, want %q", action, scope, got, want)
		}
	}
	check("inbox.read", "inbox:inbox-2", "user:user-1", "user:user-2", "user:user-4", "token:tok-1", "invite:inv-4")
	if w.cappedToken {
		check("inbox.rename", "inbox:inbox-1", "user:user-1", "user:user-3")
	} else {
		check("inbox.rename", "inbox:inbox-1", "user:user-1", "user:user-2", "user:user-3", "token:tok-1")
	}
	check("domain.view", "domain:dom-1", "user:user-1", "user:user-2", "user:user-4", "team:team-1")
	check("account.delete", "account:acct-1", "user:user-1")

	r := w.run(t, exitOK, "who-can", "inbox.read", "inbox:inbox-2")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 6 || !strings.HasPrefix(lines[0], "HOLDER") || !strings.Contains(lines[5], "invite:inv-4  frank@acme.test") {
		t.Errorf("who-can table:\n%s", r.stdout)
	}
	w.run(t, exitNotFound, "who-can", "inbox.read", "inbox:nope")
}

func testWhatCan(t *testing.T, w world) {
	var rows []whatRow
	decode(t, w.run(t, exitOK, "what-can", "user:user-3", "acct-1", "--json").stdout, &rows)
	var inboxAdmin []string // what an inbox admin may do on an inbox
	for _, a := range rbac.Actions() {
		if a.Kinds().Has(rbac.KindInbox) && a.Need() <= rbac.Admin {
			inboxAdmin = append(inboxAdmin, a.String())
		}
	}
	var got []string
	for _, r := range rows {
		if r.Scope != "inbox:inbox-1" || !r.Allowed || r.Grant == nil || r.Grant.Scope != "inbox:inbox-1" {
			t.Errorf("what-can user:user-3: row %+v", r)
		}
		got = append(got, r.Action)
	}
	if !slices.Equal(got, inboxAdmin) {
		t.Errorf("what-can user:user-3: %q, want %q", got, inboxAdmin)
	}

	// --all: every action of every scope of the tree, the refusals with their rule.
	decode(t, w.run(t, exitOK, "--json", "what-can", "--all", "user:user-4", "account:acct-1").stdout, &rows)
	n := 0
	for _, s := range demoScopes {
		k, _ := parseScope(s)
		for _, a := range rbac.Actions() {
			if a.Kinds().Has(k.Kind) {
				n++
			}
		}
	}
	if len(rows) != n {
		t.Errorf("what-can --all: %d rows, want %d", len(rows), n)
	}
	for _, r := range rows {
		if r.Rule == "" || r.RuleText == "" {
			t.Errorf("what-can --all: row without a rule: %+v", r)
		}
		if r.Scope == "account:acct-1" && r.Action == "project.create" && (r.Allowed || r.Rule != "D7") {
			t.Errorf("what-can --all: %+v", r)
		}
		if r.Scope == "inbox:inbox-2" && r.Action == "inbox.read" && (!r.Allowed || r.Grant.Scope != "project:proj-1") {
			t.Errorf("what-can --all: %+v", r)
		}
	}
	r := w.run(t, exitOK, "what-can", "team:team-1", "account:acct-1")
	if !strings.HasPrefix(r.stdout, "SCOPE") || !strings.Contains(r.stdout, "domain:dom-1") || strings.Contains(r.stdout, "inbox:") {
		t.Errorf("what-can team:team-1:\n%s", r.stdout)
	}
	w.run(t, exitNotFound, "what-can", "user:nobody", "acct-1")
	w.run(t, exitNotFound, "what-can", "user:user-1", "acct-nope")
}

func testReview(t *testing.T, w world) {
	out := w.run(t, exitOK, "review", "account:acct-1").stdout
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("review is not CSV: %v\n%s", err, out)
	}
	if !slices.Equal(recs[0], account.ReviewColumns) {
		t.Fatalf("review header %q", recs[0])
	}
	col := func(rec []string, name string) string { return rec[slices.Index(account.ReviewColumns, name)] }
	holders := []string{"user:user-1", "user:user-2", "user:user-3", "user:user-4", "team:team-1", "token:tok-1", "invite:inv-4"}
	if len(recs)-1 != len(holders)*len(demoScopes) {
		t.Fatalf("review: %d rows, want %d holders × %d scopes", len(recs)-1, len(holders), len(demoScopes))
	}
	byKey := map[string][]string{}
	for i, rec := range recs[1:] {
		h, s := holders[i/len(demoScopes)], demoScopes[i%len(demoScopes)]
		if col(rec, "holder") != h || col(rec, "scope") != s || col(rec, "member_of") != "account:acct-1" {
			t.Fatalf("review row %d: %q, want %s on %s", i, rec, h, s)
		}
		byKey[h+" "+s] = rec
	}
	carol := "admin"
	if w.cappedToken {
		carol = "viewer"
	}
	for _, tc := range []struct {
		holder, scope                         string
		level, via, viaScope, viaLevel, inher string
		source                                string
	}{
		{"user:user-1", "campaigns:acct-1", "owner", "user:user-1", "account:acct-1", "owner", "true", "owner"},
		{"user:user-2", "inbox:inbox-1", carol, "user:user-2", "account:acct-1", carol, "true", "grant"},
		{"user:user-3", "inbox:inbox-1", "admin", "user:user-3", "inbox:inbox-1", "admin", "false", "grant"},
		{"user:user-3", "inbox:inbox-2", "none", "", "", "", "", "none"},
		{"user:user-4", "inbox:inbox-2", "viewer", "user:user-4", "project:proj-1", "viewer", "true", "grant"},
		{"user:user-4", "domain:dom-1", "viewer", "team:team-1", "domain:dom-1", "viewer", "false", "team"},
		{"team:team-1", "domain:dom-1", "viewer", "team:team-1", "domain:dom-1", "viewer", "false", "grant"},
		{"invite:inv-4", "inbox:inbox-2", "viewer", "invite:inv-4", "inbox:inbox-2", "viewer", "false", "grant"},
		{"invite:inv-4", "inbox:inbox-1", "none", "", "", "", "", "none"},
		{"token:tok-1", "account:acct-1", "none", "", "", "", "", "none"},
	} {
		rec := byKey[tc.holder+" "+tc.scope]
		got := []string{col(rec, "level"), col(rec, "via_holder"), col(rec, "via_scope"), col(rec, "via_level"), col(rec, "inherited"), col(rec, "source")}
		if want := []string{tc.level, tc.via, tc.viaScope, tc.viaLevel, tc.inher, tc.source}; !slices.Equal(got, want) {
			t.Errorf("review %s on %s: %q, want %q", tc.holder, tc.scope, got, want)
		}
	}
	tok := byKey["token:tok-1 inbox:inbox-1"]
	switch {
	case w.cappedToken && (col(tok, "level") != "viewer" || col(tok, "via_level") != "admin" || col(tok, "capped_by") != "user:user-2"):
		t.Errorf("review of a capped token: %q", tok)
	case !w.cappedToken && (col(tok, "level") != "admin" || col(tok, "capped_by") != ""):
		t.Errorf("review of a token: %q", tok)
	}
	if col(tok, "expired") != "false" || col(tok, "two_factor") != "" { // the demo token never expires: no expiry
		t.Errorf("review of a token: %q", tok)
	}
	erin := byKey["user:user-4 domain:dom-1"]
	if col(erin, "name") != "erin@acme.test" || col(erin, "two_factor") != "false" || col(erin, "last_change_action") != "team.add_member" ||
		col(erin, "last_change_by") != "user:user-1" || col(erin, "last_active") == "" {
		t.Errorf("review of erin: %q", erin)
	}
	if inv := byKey["invite:inv-4 account:acct-1"]; col(inv, "last_change_action") != "member.invite" || col(inv, "expired") != "false" || col(inv, "expires") == "" {
		t.Errorf("review of the invitation: %q", inv)
	}

	// JSON: the same rows, in a versioned document.
	var doc account.ReviewDocument
	decode(t, w.run(t, exitOK, "review", "--json", "acct-1").stdout, &doc)
	var doc2 account.ReviewDocument
	decode(t, w.run(t, exitOK, "review", "--format", "json", "acct-1").stdout, &doc2)
	if doc.Version != account.ReviewVersion || doc.Tenant != "account:acct-1" || doc.TenantName != "Acme" || len(doc2.Rows) != len(doc.Rows) {
		t.Fatalf("review --json: %+v", doc)
	}
	if len(doc.Rows) != len(recs)-1 {
		t.Fatalf("review --json: %d rows, CSV %d", len(doc.Rows), len(recs)-1)
	}
	for i, r := range doc.Rows {
		rec := recs[i+1]
		if r.Holder != col(rec, "holder") || r.Name != col(rec, "name") || strings.Join(r.MemberOf, " ") != col(rec, "member_of") || r.Scope != col(rec, "scope") ||
			r.ScopeName != col(rec, "scope_name") || r.Level != col(rec, "level") || r.Source != col(rec, "source") || (r.Via == nil) != (col(rec, "via_holder") == "") ||
			(r.Via != nil && (r.Via.Holder != col(rec, "via_holder") || r.Via.Scope != col(rec, "via_scope") || r.Via.Level != col(rec, "via_level") || strconv.FormatBool(*r.Inherited) != col(rec, "inherited"))) ||
			(r.LastChange == nil) != (col(rec, "last_change_seq") == "") || (r.CappedBy == nil) != (col(rec, "capped_by") == "") {
			t.Errorf("review --json row %d: %+v, CSV %q", i, r, rec)
		}
	}
	w.run(t, exitNotFound, "review", "account:nope")
	if r := w.run(t, exitUsage, "review", "--format", "xml", "acct-1"); !strings.Contains(r.stderr, "want csv or json") {
		t.Errorf("review --format xml: %q", r.stderr)
	}
}

// auditLines runs audit --json and returns its events and the cursor it printed.
func auditLines(t *testing.T, w world, args ...string) ([]eventJSON, uint64) {
	t.Helper()
	r := w.run(t, exitOK, append([]string{"audit", "--json"}, args...)...)
	var evs []eventJSON
	for line := range strings.Lines(r.stdout) {
		var ev eventJSON
		decode(t, line, &ev)
		evs = append(evs, ev)
	}
	var cursor uint64
	if _, err := fmt.Sscanf(r.stderr, "cursor: %d\n", &cursor); err != nil {
		t.Fatalf("audit: no cursor on stderr: %q", r.stderr)
	}
	return evs, cursor
}

func testAudit(t *testing.T, w world) {
	log := demoLog
	if w.cappedToken {
		log = append(slices.Clone(log), "permissions.set")
	}
	evs, cursor := auditLines(t, w, "account:acct-1")
	var actions []string
	for i, ev := range evs {
		actions = append(actions, ev.Action)
		if ev.Tenant != "account:acct-1" || (i > 0 && ev.Seq <= evs[i-1].Seq) || ev.Time.IsZero() {
			t.Errorf("audit event %d: %+v", i, ev)
		}
	}
	if !slices.Equal(actions, log) {
		t.Fatalf("audit: %q, want %q", actions, log)
	}
	if evs[0].Actor != "user:user-1" || evs[0].Target != "user:user-1" || evs[1].Actor != "user:user-1" || cursor != evs[len(evs)-1].Seq {
		t.Errorf("audit: first events %+v, cursor %d", evs[:2], cursor)
	}
	// From a cursor, and resuming from the cursor printed.
	after := evs[4].Seq
	rest, cursor2 := auditLines(t, w, "acct-1", "--after", strconv.FormatUint(after, 10))
	if !slices.EqualFunc(rest, evs[5:], func(a, b eventJSON) bool { return a.Seq == b.Seq && a.Action == b.Action }) || cursor2 != cursor {
		t.Errorf("audit --after %d: %d events, cursor %d; want %d, %d", after, len(rest), cursor2, len(evs)-5, cursor)
	}
	none, cursor3 := auditLines(t, w, "acct-1", "--after", strconv.FormatUint(cursor, 10))
	if len(none) != 0 || cursor3 != cursor {
		t.Errorf("audit resumed at the end: %d events, cursor %d", len(none), cursor3)
	}
	// The table.
	r := w.run(t, exitOK, "audit", "acct-1")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != len(log)+1 || !strings.HasPrefix(lines[0], "SEQ") || !strings.Contains(lines[len(lines)-1], log[len(log)-1]) {
		t.Errorf("audit table:\n%s", r.stdout)
	}
	if r.stderr != fmt.Sprintf("cursor: %d\n", cursor) {
		t.Errorf("audit stderr %q", r.stderr)
	}
	w.run(t, exitNotFound, "audit", "account:nope")
}

func TestMemory(t *testing.T) {
	t.Parallel()
	testWorld(t, world{args: []string{"--store", "memory:", "--seed", "demo"}})
	// The default store is memory:, empty without a seed.
	want(t, exitNotFound, "check", "inbox.read", "user:user-1", "inbox:inbox-1")
	if r := want(t, exitOK, "migrate"); r.stdout != "memory: nothing to migrate\n" {
		t.Errorf("migrate on memory: %q", r.stdout)
	}
}

// TestSQLiteSeeded seeds a new SQLite file with --seed demo, which later runs find
// there and leave alone.
func TestSQLiteSeeded(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "demo.db")
	store := "sqlite:" + file
	// A file that does not exist is refused, not created, without --seed or migrate.
	if r := want(t, exitError, "--store", store, "review", "acct-1"); !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("missing file: %q", r.stderr)
	}
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatalf("the missing file was created: %v", err)
	}
	r := want(t, exitOK, "--store", store, "--seed", "demo", "check", "inbox.read", "user:user-4", "inbox:inbox-1")
	if !strings.Contains(r.stderr, "seeded "+store+" with the demo world") {
		t.Errorf("first seed says %q", r.stderr)
	}
	t.Run("WithSeed", func(t *testing.T) { testWorld(t, world{args: []string{"--store", store, "--seed", "demo"}}) })
	t.Run("WithoutSeed", func(t *testing.T) { testWorld(t, world{args: []string{"--store", store}}) })

	// A file that is not new, and not the demo, is not seeded; a migrated file is at the
	// package's schema version.
	other := "sqlite:" + filepath.Join(t.TempDir(), "other.db")
	if r := want(t, exitOK, "--store", other, "migrate"); r.stdout != fmt.Sprintf("%s: at schema version %d\n", other, sqlitestore.SchemaVersion) {
		t.Errorf("migrate: %q", r.stdout)
	}
	var m struct {
		Store   string
		Version int
	}
	decode(t, want(t, exitOK, "--store", other, "migrate", "--json").stdout, &m)
	if m.Store != "sqlite" || m.Version != sqlitestore.SchemaVersion {
		t.Errorf("migrate --json: %+v", m)
	}
	if r := want(t, exitUsage, "--store", other, "--seed", "demo", "review", "acct-1"); !strings.Contains(r.stderr, "is not new") {
		t.Errorf("seeding a used file: %q", r.stderr)
	}
	want(t, exitNotFound, "--store", other, "review", "acct-1")
}

// openSQLite opens (and migrates) an SQLite store in the test process.
func openSQLite(t *testing.T, file string) *sqlitestore.Store {
	t.Helper()
	st, err := sqlitestore.Open(t.Context(), file, sqlitestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	return st
}

// lowerCarol makes carol, the demo token's creator, a viewer of the account, so that
// her token acts as a viewer (D40).
func lowerCarol(t *testing.T, st store.Store) {
	t.Helper()
	svc := account.New(st, account.Options{})
	if _, err := account.Do(t.Context(), svc, rbac.User(demoOwner), account.SetPermissions{
		Tenant: rbac.Account(demoAccount), Holder: rbac.User(demoAdmin),
		Changes: []account.PermissionChange{{Scope: rbac.Account(demoAccount), Level: rbac.Viewer}},
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteBuilt reads a world that the test built through the library, the demo
// with one change: its token's creator was lowered.
func TestSQLiteBuilt(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "built.db")
	st := openSQLite(t, file)
	if _, err := seedDemo(t.Context(), st); err != nil {
		t.Fatal(err)
	}
	lowerCarol(t, st)
	testWorld(t, world{args: []string{"--store", "sqlite:" + file}, cappedToken: true})
}

// TestPostgres runs the commands on a fresh schema of the server of TENANTRY_PG_DSN:
// migrated by the command, seeded by the test through the library. Without a server
// it is skipped, except in CI (CI=true), where it fails.
func TestPostgres(t *testing.T) {
	t.Parallel()
	dsn := os.Getenv("TENANTRY_PG_DSN")
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("TENANTRY_PG_DSN not set in CI")
		}
		t.Skip("TENANTRY_PG_DSN not set: start a throwaway server with `source .ci/postgres.sh start`")
	}
	if !isPostgres(dsn) {
		t.Skipf("TENANTRY_PG_DSN is not a postgres:// URL, which --store needs")
	}
	schema := fmt.Sprintf("tenantry_cmd_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := pgstore.Open(ctx, dsn, pgstore.Options{Schema: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := st.Pool().Exec(ctx, `DROP SCHEMA IF EXISTS "`+schema+`" CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
		st.Close()
	})
	args := []string{"--store", dsn, "--schema", schema}
	r := want(t, exitOK, append(args, "migrate")...)
	if want := fmt.Sprintf("postgres (schema %s): at schema version %d\n", schema, pgstore.SchemaVersion); r.stdout != want {
		t.Errorf("migrate: %q, want %q", r.stdout, want)
	}
	want(t, exitNotFound, append(args, "review", "acct-1")...)
	if _, err := seedDemo(ctx, st); err != nil {
		t.Fatal(err)
	}
	testWorld(t, world{args: args})
	lowerCarol(t, st)
	t.Run("Capped", func(t *testing.T) {
		testReview(t, world{args: args, cappedToken: true})
		testWhoCan(t, world{args: args, cappedToken: true})
	})
}

// An organization: who-can and what-can follow organization access into its
// sub-accounts (D3), and the review of the organization covers its sub-accounts'
// scopes and members.
func TestOrganization(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	file := filepath.Join(t.TempDir(), "org.db")
	st := openSQLite(t, file)
	svc := account.New(st, account.Options{NewID: counter{}.next}) // IDs in creation order: ann is user-1, bob user-2
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	register := func(email string) rbac.Holder {
		reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email})
		must(err)
		return rbac.User(reg.User.ID)
	}
	join := func(user rbac.Holder, tenant rbac.Ref, email string, grant account.GrantSpec) {
		inv, err := account.Do(ctx, svc, rbac.User(ownerID(t, st, tenant)), account.Invite{Tenant: tenant, Email: email, Grants: []account.GrantSpec{grant}})
		must(err)
		_, err = account.Do(ctx, svc, user, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
		must(err)
	}
	ann := register("ann@group.test")
	org, err := account.Do(ctx, svc, ann, account.CreateOrganization{Name: "Group", Plan: "business"})
	must(err)
	sub, err := account.Do(ctx, svc, ann, account.CreateSubAccount{Org: org.Ref, Name: "Sub"})
	must(err)
	proj, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: sub.Ref, Kind: rbac.KindProject, Name: "P"})
	must(err)
	bob, cara := register("bob@group.test"), register("cara@group.test")
	join(bob, org.Ref, "bob@group.test", account.GrantSpec{Scope: org.Ref, Level: rbac.Viewer})
	join(cara, sub.Ref, "cara@group.test", account.GrantSpec{Scope: proj.Ref, Level: rbac.Admin})

	args := []string{"--store", "sqlite:" + file}
	var who []whoRow
	decode(t, want(t, exitOK, append(args, "who-can", "--json", "account.view", sub.Ref.String())...).stdout, &who)
	if len(who) != 2 || who[0].Holder != ann.String() || who[1].Holder != bob.String() || who[1].Rule != string(rbac.RuleOrgReach) ||
		who[1].Grant.Scope != org.Ref.String() || !slices.Equal(who[1].MemberOf, []string{org.Ref.String()}) {
		t.Errorf("who-can account.view on the sub-account: %+v", who)
	}

	var what []whatRow
	decode(t, want(t, exitOK, append(args, "what-can", "--json", bob.String(), org.Ref.ID)...).stdout, &what)
	scopes := map[string]bool{}
	for _, r := range what {
		scopes[r.Scope] = true
		if r.Level != "viewer" || r.Need != "viewer" {
			t.Errorf("what-can bob: %+v", r)
		}
	}
	if !scopes[org.Ref.String()] || !scopes[sub.Ref.String()] || !scopes[proj.Ref.String()] {
		t.Errorf("what-can bob covers %v", scopes)
	}

	var doc account.ReviewDocument
	decode(t, want(t, exitOK, append(args, "review", "--json", org.Ref.String())...).stdout, &doc)
	levels := map[string]account.ReviewJSONRow{}
	for _, r := range doc.Rows {
		levels[r.Holder+" "+r.Scope] = r
	}
	if !slices.Equal(doc.Tenants, []string{org.Ref.String(), sub.Ref.String()}) {
		t.Errorf("review: tenants %q", doc.Tenants)
	}
	for _, tc := range []struct {
		holder rbac.Holder
		scope  rbac.Ref
		level  string
		via    rbac.Ref
	}{
		{ann, proj.Ref, "owner", sub.Ref}, // the owner of the organization owns its sub-accounts (C4); the nearer grant is named
		{bob, proj.Ref, "viewer", org.Ref},
		{bob, rbac.Billing(sub.Ref.ID), "viewer", org.Ref},
		{cara, proj.Ref, "admin", proj.Ref},
		{cara, sub.Ref, "none", rbac.Ref{}},
	} {
		r, ok := levels[tc.holder.String()+" "+tc.scope.String()]
		switch {
		case !ok:
			t.Errorf("review: no row for %s on %s", tc.holder, tc.scope)
		case r.Level != tc.level || (r.Via == nil) != tc.via.IsZero() || (r.Via != nil && r.Via.Scope != tc.via.String()):
			t.Errorf("review %s on %s: %+v", tc.holder, tc.scope, r)
		}
	}
	if r := levels[cara.String()+" "+proj.Ref.String()]; !slices.Equal(r.MemberOf, []string{sub.Ref.String()}) {
		t.Errorf("review: cara is a member of %q", r.MemberOf)
	}
	if r := levels[ann.String()+" "+org.Ref.String()]; !slices.Equal(r.MemberOf, []string{org.Ref.String(), sub.Ref.String()}) {
		t.Errorf("review: ann is a member of %q", r.MemberOf)
	}

	// The review of the sub-account covers its organization's members, who reach it.
	decode(t, want(t, exitOK, append(args, "review", "--json", sub.Ref.String())...).stdout, &doc)
	if !slices.Equal(doc.Tenants, []string{sub.Ref.String(), org.Ref.String()}) {
		t.Errorf("review of the sub-account: tenants %q", doc.Tenants)
	}
	found := false
	for _, r := range doc.Rows {
		if r.Holder == bob.String() && r.Scope == proj.Ref.String() {
			found = r.Level == "viewer" && slices.Equal(r.MemberOf, []string{org.Ref.String()})
		}
	}
	if !found {
		t.Errorf("review of the sub-account: no viewer row for bob, of the organization, on its project")
	}
}

// ownerID returns the owner of an account or organization.
func ownerID(t *testing.T, st store.Store, tenant rbac.Ref) string {
	t.Helper()
	var owner string
	if err := st.View(t.Context(), func(ctx context.Context, r store.Reader) error {
		a, err := r.Account(ctx, tenant)
		owner = a.Owner
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return owner
}
