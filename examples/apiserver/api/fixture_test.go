package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/web"
)

// fixture is an account "Acme" with a project Web (inboxes Staging and Production) and
// a domain, six accesses, and tokens with different grants; another account, Beta,
// with a token of its own; and an organization with a sub-account and a token. IDs
// are numbers, as the platform's, so that requests can send them as JSON numbers.
type fixture struct {
	t        testing.TB
	svc      *account.Service
	sessions *api.Sessions
	h        http.Handler
	acct     store.Account
	beta     store.Account
	org      store.Account
	eu       store.Account

	owner, carol, dave, erin, gus rbac.Holder
	frank                         account.NewInvitation
	web, staging, production, dom store.Resource

	admin, inbox, viewer, other, orgTok, euTok token
}

// token is an API token of the fixture: its ID and its secret.
type token struct{ id, secret string }

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	var n atomic.Int64
	n.Store(1000)
	svc := account.New(memstore.New(), account.Options{NewID: func(string) string { return strconv.FormatInt(n.Add(1), 10) }})
	sessions := api.NewSessions()
	f := &fixture{t: t, svc: svc, sessions: sessions, h: api.NewHandler(svc, api.Options{Sessions: sessions, Web: web.Options{NoRateLimit: true}})}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	register := func(email, name string) profile.Registered {
		t.Helper()
		reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email, Name: name})
		must(err)
		return reg
	}
	create := func(parent rbac.Ref, kind rbac.Kind, name string) store.Resource {
		t.Helper()
		r, err := account.Do(ctx, svc, f.owner, account.CreateResource{Parent: parent, Kind: kind, Name: name})
		must(err)
		return r
	}

	ann := register("ann@acme.test", "Acme")
	acct := ann.Account
	f.acct, f.owner = acct, rbac.User(ann.User.ID)
	_, err := account.Do(ctx, svc, f.owner, account.SetPlan{Account: acct.Ref, Plan: "team"})
	must(err)
	f.web = create(acct.Ref, rbac.KindProject, "Web")
	f.staging = create(f.web.Ref, rbac.KindInbox, "Staging")
	f.production = create(f.web.Ref, rbac.KindInbox, "Production")
	f.dom = create(acct.Ref, rbac.KindDomain, "mail.acme.test")

	join := func(email string, scope rbac.Ref, level rbac.Level) rbac.Holder {
		t.Helper()
		u := rbac.User(register(email, "").User.ID)
		inv, err := account.Do(ctx, svc, f.owner, account.Invite{Tenant: acct.Ref, Email: email, Grants: []account.GrantSpec{{Scope: scope, Level: level}}})
		must(err)
		_, err = account.Do(ctx, svc, u, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
		must(err)
		return u
	}
	f.carol = join("carol@acme.test", acct.Ref, rbac.Admin)
	f.dave = join("dave@acme.test", f.staging.Ref, rbac.Admin)
	f.erin = join("erin@acme.test", f.web.Ref, rbac.Viewer)
	f.gus = join("gus@acme.test", f.dom.Ref, rbac.Viewer)
	f.frank, err = account.Do(ctx, svc, f.owner, account.Invite{Tenant: acct.Ref, Email: "frank@acme.test", Grants: []account.GrantSpec{{Scope: f.production.Ref, Level: rbac.Viewer}}})
	must(err)

	mint := func(actor rbac.Holder, tenant rbac.Ref, name string, scope rbac.Ref, level rbac.Level) token {
		t.Helper()
		tok, err := account.Do(ctx, svc, actor, account.CreateToken{Tenant: tenant, Name: name, Grants: []account.GrantSpec{{Scope: scope, Level: level}}})
		must(err)
		return token{tok.ID, tok.Secret}
	}
	f.admin = mint(f.owner, acct.Ref, "admin", acct.Ref, rbac.Admin)
	f.inbox = mint(f.owner, acct.Ref, "staging admin", f.staging.Ref, rbac.Admin)
	f.viewer = mint(f.owner, acct.Ref, "viewer", acct.Ref, rbac.Viewer)

	zed := register("zed@beta.test", "Beta")
	f.beta = zed.Account
	f.other = mint(rbac.User(zed.User.ID), f.beta.Ref, "beta admin", f.beta.Ref, rbac.Admin)

	f.org, err = account.Do(ctx, svc, f.owner, account.CreateOrganization{Name: "Acme Group", Plan: "business"})
	must(err)
	f.eu, err = account.Do(ctx, svc, f.owner, account.CreateSubAccount{Org: f.org.Ref, Name: "Acme EU"})
	must(err)
	f.orgTok = mint(f.owner, f.org.Ref, "org admin", f.org.Ref, rbac.Admin)
	f.euTok = mint(f.owner, f.eu.Ref, "eu admin", f.eu.Ref, rbac.Admin)
	return f
}

// do sends a request with the token's secret as a bearer token (none when secret is
// empty) and returns the status and body. Every response must be JSON.
func (f *fixture) do(method, path, secret, body string) (int, []byte) {
	f.t.Helper()
	r := httptest.NewRequest(method, "http://api.test"+path, strings.NewReader(body))
	switch {
	case strings.HasPrefix(secret, "sess_"):
		r.Header.Set("Cookie", "session="+secret)
	case secret != "":
		r.Header.Set("Authorization", "Bearer "+secret)
	}
	return f.serve(r)
}

// serve runs a request through the handler and checks the response's shape: JSON, and
// {"errors": ...} on an error.
func (f *fixture) serve(r *http.Request) (int, []byte) {
	f.t.Helper()
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		f.t.Errorf("%s %s: Content-Type %q", r.Method, r.URL, ct)
	}
	if !json.Valid(b) {
		f.t.Errorf("%s %s: %d with a body that is not JSON: %q", r.Method, r.URL, res.StatusCode, b)
	}
	if res.StatusCode >= 400 {
		var e struct{ Errors json.RawMessage }
		if err := json.Unmarshal(b, &e); err != nil || len(e.Errors) == 0 || string(e.Errors) == "null" {
			f.t.Errorf("%s %s: %d without an errors member: %s", r.Method, r.URL, res.StatusCode, b)
		}
	}
	if err := spec().check(r, res.StatusCode, b); err != nil {
		f.t.Errorf("%s %s: %v\n%s", r.Method, r.URL, err, b)
	}
	return res.StatusCode, b
}

// want sends a request and fails the test unless the status is want; it returns the
// body.
func (f *fixture) want(want int, method, path, secret, body string) []byte {
	f.t.Helper()
	got, b := f.do(method, path, secret, body)
	if got != want {
		f.t.Errorf("%s %s: status %d, want %d; body %s", method, path, got, want, b)
	}
	return b
}

// state is everything a refused request must leave as it was: the audit logs of the
// fixture's account and organization, and the accesses as the admin token lists them.
func (f *fixture) state() string {
	f.t.Helper()
	var b strings.Builder
	for _, tenant := range []rbac.Ref{f.acct.Ref, f.org.Ref} {
		b.WriteString(strconv.Itoa(f.events(tenant)) + " events in " + tenant.String() + "\n")
	}
	_, list := f.do("GET", f.path("/account_accesses"), f.admin.secret, "")
	b.Write(list)
	_, toks := f.do("GET", f.path("/api_tokens"), f.admin.secret, "")
	b.Write(toks)
	return b.String()
}

// events returns the number of events in the audit log of tenant, reading every
// page.
func (f *fixture) events(tenant rbac.Ref) int {
	f.t.Helper()
	n := 0
	for _, err := range account.All(context.Background(), f.svc, f.owner, account.Events{Tenant: tenant}) {
		if err != nil {
			f.t.Fatal(err)
		}
		n++
	}
	return n
}

// unchanged runs fn and fails the test if it changed the fixture's state.
func (f *fixture) unchanged(name string, fn func()) {
	f.t.Helper()
	before := f.state()
	fn()
	if after := f.state(); after != before {
		f.t.Errorf("%s changed the state:\nbefore: %s\nafter:  %s", name, before, after)
	}
}

// session starts a session for the user and returns its secret, which do sends as
// the cookie "session".
func (f *fixture) session(u rbac.Holder) string { return f.sessions.Start(u.ID) }

// path returns a path under the fixture's account.
func (f *fixture) path(rest string) string { return "/api/accounts/" + f.acct.Ref.ID + rest }

// emails decodes a listing of accesses and returns its specifiers' emails, sorted.
func emails(t testing.TB, body []byte) []string {
	t.Helper()
	var list []api.AccessJSON
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("not a list of accesses: %v: %s", err, body)
	}
	var out []string
	for _, a := range list {
		out = append(out, strings.TrimSuffix(a.Specifier.Email, "@acme.test"))
	}
	slices.Sort(out)
	return out
}

// slogTo returns a logger writing text records to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }
