package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/web"
)

// world is an account with a project, its owner, a viewer of the account, and API
// tokens: an admin and a viewer of the account, and one of another account.
type world struct {
	svc                         *account.Service
	owner, viewer               rbac.Holder
	acct, other                 rbac.Ref
	project                     rbac.Ref
	adminTok, viewerTok, farTok string
	adminTokID                  string
	sessions                    map[string]rbac.Holder
}

func newWorld(t testing.TB) *world {
	t.Helper()
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	w := &world{svc: svc, sessions: map[string]rbac.Holder{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ann, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"})
	must(err)
	w.owner, w.acct = rbac.User(ann.User.ID), ann.Account.Ref
	_, err = account.Do(ctx, svc, w.owner, account.SetPlan{Account: w.acct, Plan: "team"})
	must(err)
	p, err := account.Do(ctx, svc, w.owner, account.CreateResource{Parent: w.acct, Kind: rbac.KindProject, Name: "Web"})
	must(err)
	w.project = p.Ref
	vic, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "vic@acme.test"})
	must(err)
	w.viewer = rbac.User(vic.User.ID)
	inv, err := account.Do(ctx, svc, w.owner, account.Invite{Tenant: w.acct, Email: "vic@acme.test", Grants: []account.GrantSpec{{Scope: w.acct, Level: rbac.Viewer}}})
	must(err)
	_, err = account.Do(ctx, svc, w.viewer, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
	must(err)
	mint := func(actor rbac.Holder, tenant rbac.Ref, level rbac.Level) (string, string) {
		tok, err := account.Do(ctx, svc, actor, account.CreateToken{Tenant: tenant, Name: "t", Grants: []account.GrantSpec{{Scope: tenant, Level: level}}})
		must(err)
		return tok.Secret, tok.ID
	}
	w.adminTok, w.adminTokID = mint(w.owner, w.acct, rbac.Admin)
	w.viewerTok, _ = mint(w.owner, w.acct, rbac.Viewer)
	zed, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "zed@beta.test"})
	must(err)
	w.other = zed.Account.Ref
	w.farTok, _ = mint(rbac.User(zed.User.ID), w.other, rbac.Admin)
	w.sessions["s-ann"] = w.owner
	w.sessions["s-vic"] = w.viewer
	return w
}

// session reads the cookie "session" from w's table.
func (w *world) session(r *http.Request) (web.Auth, error) {
	c, err := r.Cookie("session")
	if err != nil {
		return web.Auth{}, web.ErrNoCredentials
	}
	u, ok := w.sessions[c.Value]
	if !ok {
		return web.Auth{}, account.ErrUnauthenticated
	}
	return web.Auth{Actor: u, Method: web.MethodSession, Session: "id-" + c.Value, SecondFactor: true}, nil
}

// routes mounts a small service: who am I, a project creation guarded by Authorize,
// a public route and a panicking one.
func (w *world) routes(api *web.Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /me", api.Func(func(rw http.ResponseWriter, r *http.Request) error {
		a, _ := web.FromContext(r.Context())
		return web.WriteJSON(rw, 200, map[string]any{"actor": a.Actor.String(), "method": a.Method, "second_factor": a.SecondFactor, "ip": a.ClientIP.String()})
	}))
	mux.Handle("POST /accounts/{account}/projects", api.Authorize(rbac.ProjectCreate, web.PathScope(rbac.KindAccount, "account"),
		func(rw http.ResponseWriter, r *http.Request) error {
			var body struct {
				Name string `json:"name"`
			}
			if err := web.DecodeJSON(r, &body); err != nil {
				return err
			}
			p, err := account.Do(r.Context(), w.svc, web.Actor(r), account.CreateResource{Parent: rbac.Account(r.PathValue("account")), Kind: rbac.KindProject, Name: body.Name})
			if err != nil {
				return err
			}
			return web.WriteJSON(rw, http.StatusCreated, map[string]string{"id": p.Ref.ID})
		}))
	mux.Handle("GET /health", api.Public(func(rw http.ResponseWriter, r *http.Request) error {
		return web.WriteJSON(rw, 200, map[string]bool{"ok": true})
	}))
	mux.Handle("GET /panic", api.Public(func(http.ResponseWriter, *http.Request) error { panic("boom") }))
	return mux
}

type result struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func serve(t *testing.T, h http.Handler, method, path string, hdr http.Header, body string) result {
	t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	for k, v := range hdr {
		r.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := result{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, rec.Header().Get("Content-Type"))
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &res.body); err != nil {
		t.Errorf("%s %s: body is not a JSON object: %q", method, path, rec.Body)
	}
	if res.status >= 400 && res.body["errors"] == nil {
		t.Errorf("%s %s: %d without errors: %s", method, path, res.status, rec.Body)
	}
	return res
}

func bearer(secret string) http.Header { return http.Header{"Authorization": {"Bearer " + secret}} }

func TestAuthentication(t *testing.T) {
	w := newWorld(t)
	api := web.New(w.svc, web.Options{Sessions: w.session, NoRateLimit: true})
	h := api.Handler(w.routes(api))
	for _, tt := range []struct {
		name   string
		hdr    http.Header
		status int
		actor  string
		method string
	}{
		{"no credentials", nil, 401, "", ""},
		{"bearer", bearer(w.adminTok), 200, "token:" + w.adminTokID, "token"},
		{"bearer in lower case", http.Header{"Authorization": {"bearer " + w.adminTok}}, 200, "token:" + w.adminTokID, "token"},
		{"legacy Api-Token", http.Header{"Api-Token": {w.adminTok}}, 200, "token:" + w.adminTokID, "token"},
		{"unknown token", bearer("1.deadbeef"), 401, "", ""},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}, 401, "", ""},
		{"basic scheme", http.Header{"Authorization": {"Basic " + w.adminTok}}, 401, "", ""},
		{"session", http.Header{"Cookie": {"session=s-ann"}}, 200, w.owner.String(), "session"},
		{"unknown session", http.Header{"Cookie": {"session=nope"}}, 401, "", ""},
		{"a token wins over a session", http.Header{"Cookie": {"session=s-ann"}, "Api-Token": {w.viewerTok}}, 200, "", "token"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := serve(t, h, "GET", "/me", tt.hdr, "")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.status == 401 && res.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if tt.actor != "" && res.body["actor"] != tt.actor {
				t.Errorf("actor %v, want %s", res.body["actor"], tt.actor)
			}
			if tt.method != "" && res.body["method"] != tt.method {
				t.Errorf("method %v, want %s", res.body["method"], tt.method)
			}
			if tt.status == 200 && res.body["ip"] != "192.0.2.1" {
				t.Errorf("client IP %v", res.body["ip"])
			}
		})
	}
	// The session's own facts reach the handler.
	if res := serve(t, h, "GET", "/me", http.Header{"Cookie": {"session=s-ann"}}, ""); res.body["second_factor"] != true {
		t.Errorf("second factor lost: %s", res.raw)
	}
	// A public route answers without credentials, and with bad ones refuses.
	if res := serve(t, h, "GET", "/health", nil, ""); res.status != 200 {
		t.Errorf("health: %d", res.status)
	}
	if res := serve(t, h, "GET", "/health", bearer("nope"), ""); res.status != 401 {
		t.Errorf("health with a bad token: %d", res.status)
	}
}

func TestAuthorizeAnswers404ForWhatTheCallerCannotSee(t *testing.T) {
	w := newWorld(t)
	api := web.New(w.svc, web.Options{Sessions: w.session, NoRateLimit: true})
	h := api.Handler(w.routes(api))
	path := "/accounts/" + w.acct.ID + "/projects"
	count := func() int {
		n := 0
		nodes, err := account.Get(context.Background(), w.svc, w.owner, account.Resources{Account: w.acct})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range nodes[0].Children {
			if c.Ref.Kind == rbac.KindProject {
				n++
			}
		}
		return n
	}
	for _, tt := range []struct {
		name   string
		path   string
		hdr    http.Header
		body   string
		status int
		rule   string
	}{
		{"the admin token", path, bearer(w.adminTok), `{"name":"API"}`, 201, ""},
		{"the owner's session", path, http.Header{"Cookie": {"session=s-ann"}}, `{"name":"Docs"}`, 201, ""},
		{"a viewer token: it sees the account", path, bearer(w.viewerTok), `{"name":"X"}`, 403, "D7"},
		{"a viewer's session", path, http.Header{"Cookie": {"session=s-vic"}}, `{"name":"X"}`, 403, "D7"},
		{"another account's token", path, bearer(w.farTok), `{"name":"X"}`, 404, ""},
		{"an account that does not exist", "/accounts/nope/projects", bearer(w.adminTok), `{"name":"X"}`, 404, ""},
		{"a malformed ID", "/accounts/a%20b/projects", bearer(w.adminTok), `{"name":"X"}`, 422, ""},
		{"no credentials", path, nil, `{"name":"X"}`, 401, ""},
		{"malformed JSON", path, bearer(w.adminTok), `{"name":`, 422, ""},
		{"an unknown field", path, bearer(w.adminTok), `{"name":"X","kind":1}`, 422, ""},
		{"an invalid name", path, bearer(w.adminTok), `{"name":""}`, 422, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := count()
			res := serve(t, h, "POST", tt.path, tt.hdr, tt.body)
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.raw)
			}
			if tt.rule != "" && (res.body["rule"] != tt.rule || !strings.HasPrefix(fmt.Sprint(res.body["reason"]), "denied: ")) {
				t.Errorf("403 body %s, want rule %s with a reason", res.raw, tt.rule)
			}
			if want := before + map[bool]int{true: 1}[tt.status == 201]; count() != want {
				t.Errorf("%d projects, want %d", count(), want)
			}
		})
	}
}

func TestRoutesAndLimits(t *testing.T) {
	w := newWorld(t)
	var logs strings.Builder
	api := web.New(w.svc, web.Options{NoRateLimit: true, MaxBodyBytes: 64, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	h := api.Handler(w.routes(api))
	if res := serve(t, h, "GET", "/nothing", bearer(w.adminTok), ""); res.status != 404 {
		t.Errorf("unknown path: %d", res.status)
	}
	res := serve(t, h, "DELETE", "/me", bearer(w.adminTok), "")
	if res.status != 405 || res.header.Get("Allow") != "GET" {
		t.Errorf("DELETE /me: %d, Allow %q", res.status, res.header.Get("Allow"))
	}
	res = serve(t, h, "POST", "/accounts/"+w.acct.ID+"/projects", bearer(w.adminTok), `{"name":"`+strings.Repeat("x", 100)+`"}`)
	if res.status != 413 {
		t.Errorf("oversized body: %d %s", res.status, res.raw)
	}
	res = serve(t, h, "GET", "/panic", nil, "")
	if res.status != 500 || res.body["errors"] != "internal server error" {
		t.Errorf("panic: %d %s", res.status, res.raw)
	}
	serve(t, h, "GET", "/me", bearer(w.adminTok), "")
	for _, want := range []string{"msg=panic", "status=500", "actor=token:" + w.adminTokID, "auth=token", "status=405"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), w.adminTok) {
		t.Error("the log shows a secret")
	}
}

// clock is a fake clock that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestRateLimitPerToken(t *testing.T) {
	w := newWorld(t)
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	api := web.New(w.svc, web.Options{Now: c.now, Sessions: w.session})
	h := api.Handler(w.routes(api))
	for i := range web.DefaultRateLimit {
		res := serve(t, h, "GET", "/me", bearer(w.adminTok), "")
		if res.status != 200 {
			t.Fatalf("request %d: %d", i+1, res.status)
		}
		if got, want := res.header.Get("X-RateLimit-Remaining"), fmt.Sprint(web.DefaultRateLimit-i-1); got != want {
			t.Fatalf("request %d: remaining %s, want %s", i+1, got, want)
		}
	}
	c.t = c.t.Add(3500 * time.Millisecond)
	res := serve(t, h, "GET", "/me", bearer(w.adminTok), "")
	if res.status != 429 || res.header.Get("Retry-After") != "7" {
		t.Fatalf("request 151: %d, Retry-After %q: %s", res.status, res.header.Get("Retry-After"), res.raw)
	}
	// Another token, a session and an unauthenticated client each have their own.
	if res := serve(t, h, "GET", "/me", bearer(w.viewerTok), ""); res.status != 200 {
		t.Errorf("another token: %d", res.status)
	}
	if res := serve(t, h, "GET", "/me", http.Header{"Cookie": {"session=s-ann"}}, ""); res.status != 200 {
		t.Errorf("a session: %d", res.status)
	}
	if res := serve(t, h, "GET", "/health", nil, ""); res.status != 200 {
		t.Errorf("no credentials: %d", res.status)
	}
	c.t = c.t.Add(6500 * time.Millisecond)
	if res := serve(t, h, "GET", "/me", bearer(w.adminTok), ""); res.status != 200 {
		t.Errorf("after the window: %d", res.status)
	}
}

func TestLimiter(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := web.NewLimiter(web.RateLimit{Requests: 3, Window: time.Minute}, c.now)
	for i := range 3 {
		if left, err := l.Allow("a"); err != nil || left != 2-i {
			t.Fatalf("request %d: %d left, %v", i+1, left, err)
		}
	}
	c.t = c.t.Add(59*time.Second + 500*time.Millisecond)
	_, err := l.Allow("a")
	var rl *web.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 500*time.Millisecond {
		t.Fatalf("4th request: %v", err)
	}
	if status, _ := web.Status(err); status != 429 {
		t.Errorf("status %d", status)
	}
	if _, err := l.Allow("b"); err != nil {
		t.Errorf("another key: %v", err)
	}
	c.t = c.t.Add(time.Second)
	if _, err := l.Allow("a"); err != nil {
		t.Errorf("a new window: %v", err)
	}
	// Ended windows are forgotten.
	c.t = c.t.Add(2 * time.Minute)
	if _, err := l.Allow("c"); err != nil {
		t.Fatal(err)
	}
	if n := web.LimiterKeys(l); n != 1 {
		t.Errorf("%d keys remembered, want 1", n)
	}
	// The defaults are the platform's.
	if d := web.NewLimiter(web.RateLimit{}, nil); d.Limit() != 150 {
		t.Errorf("default limit %d", d.Limit())
	}
}

func TestStatus(t *testing.T) {
	denied := rbac.DecideChange(rbac.Change{Actor: rbac.User("a"), Target: rbac.User("a"), TargetIncludesActor: true, Scope: rbac.Account("x"), To: rbac.Viewer, ActorLevel: rbac.Admin}).Err()
	for _, tt := range []struct {
		err    error
		status int
		body   string
	}{
		{nil, 200, `{"errors":null}`},
		{account.ErrUnauthenticated, 401, `{"errors":"unauthorized"}`},
		{web.ErrNoCredentials, 401, `{"errors":"unauthorized"}`},
		{fmt.Errorf("wrapped: %w", account.ErrNotFound), 404, `{"errors":"not found"}`},
		{&account.InvalidError{Field: "email", Reason: "is not an address"}, 422, `{"errors":{"email":["is not an address"]}}`},
		{web.Invalid("teams[0]", "no team named %q", "qa"), 422, `{"errors":{"teams[0]":["no team named \"qa\""]}}`},
		{&web.Error{Status: 400, Field: "query", Message: "malformed"}, 400, `{"errors":{"query":["malformed"]}}`},
		{account.ErrExists, 422, `{"errors":"already exists"}`},
		{account.ErrSeatLimit, 422, `{"errors":"seat limit reached"}`},
		{account.ErrPlan, 422, `{"errors":"not included in the plan"}`},
		{account.ErrLimit, 422, `{"errors":"plan limit reached"}`},
		{fmt.Errorf("%w: invite:i1 expired", account.ErrExpired), 422, `{"errors":"expired: invite:i1 expired"}`},
		{account.ErrConflict, 409, `{"errors":"conflict with a concurrent change; try again"}`},
		{&http.MaxBytesError{Limit: 10}, 413, `{"errors":{"body":["the body is larger than 10 bytes"]}}`},
		{&web.RateLimitError{RetryAfter: 1500 * time.Millisecond}, 429, `{"errors":"rate limit exceeded; retry after 2s"}`},
		{web.ErrMethodNotAllowed, 405, `{"errors":"method not allowed"}`},
		{context.Canceled, 503, `{"errors":"request canceled"}`},
		{errors.New("disk on fire"), 500, `{"errors":"internal server error"}`},
	} {
		status, body := web.Status(tt.err)
		b, _ := json.Marshal(body)
		if status != tt.status || string(b) != tt.body {
			t.Errorf("%v: %d %s, want %d %s", tt.err, status, b, tt.status, tt.body)
		}
	}
	status, body := web.Status(fmt.Errorf("op: %w", denied))
	if status != 403 || body.Rule != rbac.RuleNoSelfChange || !strings.HasPrefix(body.Reason, "denied: ") || body.Errors != "forbidden" {
		t.Errorf("denied: %d %+v", status, body)
	}
	// WriteError logs a 500 with its error, which the body hides.
	var logs strings.Builder
	rec := httptest.NewRecorder()
	web.WriteError(rec, httptest.NewRequest("GET", "/x", nil), slog.New(slog.NewTextHandler(&logs, nil)), errors.New("disk on fire"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "disk") || !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("500: %s; log %s", rec.Body, logs.String())
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name string `json:"name"`
		N    int    `json:"n"`
	}
	for _, tt := range []struct {
		in, field string
	}{
		{`{"name":"x","n":1}`, ""},
		{``, "body"},
		{`{"name":`, "body"},
		{`{"name":1}`, "name"},
		{`{"name":"x","z":1}`, "z"},
		{`{"name":"x"}{}`, "body"},
		{`[1]`, "body"},
		{`{"name":"x"} x`, "body"},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.in))
		var v body
		err := web.DecodeJSON(r, &v)
		var e *web.Error
		switch {
		case tt.field == "" && err != nil:
			t.Errorf("%s: %v", tt.in, err)
		case tt.field != "" && (!errors.As(err, &e) || e.Field != tt.field):
			t.Errorf("%s: %v, want an error on %s", tt.in, err, tt.field)
		}
	}
	r := httptest.NewRequest("DELETE", "/", http.NoBody)
	v := body{Name: "kept"}
	if err := web.DecodeOptionalJSON(r, &v); err != nil || v.Name != "kept" {
		t.Errorf("an empty optional body: %v %+v", err, v)
	}
	r = httptest.NewRequest("DELETE", "/", strings.NewReader(`{"name":7}`))
	if err := web.DecodeOptionalJSON(r, &v); err == nil {
		t.Error("a bad optional body was accepted")
	}
}

func TestPaging(t *testing.T) {
	w := newWorld(t)
	api := web.New(w.svc, web.Options{NoRateLimit: true})
	mux := http.NewServeMux()
	mux.Handle("GET /accounts/{account}/events", api.Func(func(rw http.ResponseWriter, r *http.Request) error {
		p, err := web.PageRequest(r)
		if err != nil {
			return err
		}
		page, err := account.Get(r.Context(), w.svc, web.Actor(r), account.Events{Tenant: rbac.Account(r.PathValue("account")), Page: p})
		if err != nil {
			return err
		}
		return web.WritePage(rw, page, func(e store.Event) string { return e.Action })
	}))
	h := api.Handler(mux)
	var actions []string
	cursor := ""
	for range 20 {
		res := serve(t, h, "GET", "/accounts/"+w.acct.ID+"/events?limit=2&cursor="+cursor, bearer(w.adminTok), "")
		if res.status != 200 {
			t.Fatalf("%d %s", res.status, res.raw)
		}
		var page web.PageJSON[string]
		if err := json.Unmarshal([]byte(res.raw), &page); err != nil || len(page.Items) > 2 {
			t.Fatalf("%v %s", err, res.raw)
		}
		actions = append(actions, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(actions) < 5 || actions[0] != "profile.register" {
		t.Errorf("events %v", actions)
	}
	for _, q := range []string{"limit=0", "limit=x", "limit=1001"} {
		if res := serve(t, h, "GET", "/accounts/"+w.acct.ID+"/events?"+q, bearer(w.adminTok), ""); res.status != 422 {
			t.Errorf("%s: %d", q, res.status)
		}
	}
	if res := serve(t, h, "GET", "/accounts/"+w.acct.ID+"/events", bearer(w.viewerTok), ""); res.status != 403 {
		t.Errorf("a viewer reads the log: %d", res.status)
	}
}
