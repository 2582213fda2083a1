package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/web"
)

// pagesWorld is an account on the team plan with a project of two inboxes and a
// domain, and five people: the owner ann, the account admin adam, the account viewer
// vic, ines (admin of inbox Alpha only) and omar (viewer of inbox Beta only).
type pagesWorld struct {
	t                 *testing.T
	svc               *account.Service
	h                 http.Handler
	acct              rbac.Ref
	proj, alpha, beta rbac.Ref
	domain            rbac.Ref
	users             map[string]string // name → user ID
	tokenSecret       string
	deletedCalls      []string
	farAcct           rbac.Ref // an account of someone else's
	prefix            string
	lastFlash         *http.Cookie
	lastFlashFor      string
	clock             time.Time         // the time of the service and of the server
	secondFactor      map[string]bool   // the users whose sessions passed a second factor
	addr              map[string]string // the users' client addresses (RemoteAddr); 192.0.2.1 otherwise
}

// now is the world's clock; advance moves it on.
func (w *pagesWorld) now() time.Time          { return w.clock }
func (w *pagesWorld) advance(d time.Duration) { w.clock = w.clock.Add(d) }

func newPagesWorld(t *testing.T, opts web.PagesOptions) *pagesWorld {
	t.Helper()
	ctx := context.Background()
	w := &pagesWorld{t: t, users: map[string]string{}, prefix: "/app", clock: time.Now().UTC().Truncate(time.Second), secondFactor: map[string]bool{}, addr: map[string]string{}}
	w.svc = account.New(memstore.New(), account.Options{Now: w.now})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	reg, err := account.Do(ctx, w.svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"})
	must(err)
	owner := rbac.User(reg.User.ID)
	w.acct, w.users["ann"] = reg.Account.Ref, reg.User.ID
	_, err = account.Do(ctx, w.svc, owner, account.SetPlan{Account: w.acct, Plan: "team"})
	must(err)
	create := func(parent rbac.Ref, kind rbac.Kind, name string) rbac.Ref {
		r, err := account.Do(ctx, w.svc, owner, account.CreateResource{Parent: parent, Kind: kind, Name: name})
		must(err)
		return r.Ref
	}
	w.proj = create(w.acct, rbac.KindProject, "Web")
	w.alpha = create(w.proj, rbac.KindInbox, "Alpha")
	w.beta = create(w.proj, rbac.KindInbox, "Beta")
	w.domain = create(w.acct, rbac.KindDomain, "acme.test")
	for _, m := range []struct {
		name  string
		scope rbac.Ref
		level rbac.Level
	}{{"adam", w.acct, rbac.Admin}, {"vic", w.acct, rbac.Viewer}, {"ines", w.alpha, rbac.Admin}, {"omar", w.beta, rbac.Viewer}} {
		email := m.name + "@acme.test"
		u, err := account.Do(ctx, w.svc, rbac.Holder{}, profile.Register{Email: email})
		must(err)
		inv, err := account.Do(ctx, w.svc, owner, account.Invite{Tenant: w.acct, Email: email, Grants: []account.GrantSpec{{Scope: m.scope, Level: m.level}}})
		must(err)
		_, err = account.Do(ctx, w.svc, rbac.User(u.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
		must(err)
		w.users[m.name] = u.User.ID
	}
	far, err := account.Do(ctx, w.svc, rbac.Holder{}, profile.Register{Email: "zed@other.test"})
	must(err)
	w.farAcct, w.users["zed"] = far.Account.Ref, far.User.ID
	tok, err := account.Do(ctx, w.svc, owner, account.CreateToken{Tenant: w.acct, Name: "CI", Grants: []account.GrantSpec{{Scope: w.acct, Level: rbac.Admin}}})
	must(err)
	w.tokenSecret = tok.Secret

	if opts.Prefix == "" {
		opts.Prefix = w.prefix
	}
	if opts.CSRFKey == nil {
		opts.CSRFKey = []byte("0123456789abcdef0123456789abcdef")
	}
	opts.ProfileDeleted = func(_ http.ResponseWriter, _ *http.Request, id string) { w.deletedCalls = append(w.deletedCalls, id) }
	mux := http.NewServeMux()
	mux.Handle(opts.Prefix+"/", web.Pages(w.svc, opts))
	w.h = web.New(w.svc, web.Options{Sessions: testSessions, NoRateLimit: true, Now: w.now}).Handler(mux)
	return w
}

// testSessions are the tests' sessions: the cookie "as" names the user, and the
// cookie "2fa" says the session passed a second factor.
func testSessions(r *http.Request) (web.Auth, error) {
	c, err := r.Cookie("as")
	if err != nil {
		return web.Auth{}, web.ErrNoCredentials
	}
	_, err = r.Cookie("2fa")
	return web.Auth{Actor: rbac.User(c.Value), Method: web.MethodSession, Session: "s-" + c.Value, SecondFactor: err == nil}, nil
}

// do sends a request as the named user ("" for nobody), with the flash cookie the
// previous answer to that user set.
func (w *pagesWorld) do(user, method, path string, form url.Values, hdr http.Header) *httptest.ResponseRecorder {
	w.t.Helper()
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		r.Header[k] = v
	}
	if a, ok := w.addr[user]; ok {
		r.RemoteAddr = a
	}
	if user != "" {
		r.AddCookie(&http.Cookie{Name: "as", Value: w.users[user]})
		if w.secondFactor[user] {
			r.AddCookie(&http.Cookie{Name: "2fa", Value: "1"})
		}
		if w.lastFlash != nil && w.lastFlashFor == user {
			r.AddCookie(w.lastFlash)
		}
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	w.lastFlash = nil
	for _, c := range rec.Result().Cookies() {
		if c.Name == "tenantry_flash" && c.MaxAge > 0 {
			w.lastFlash, w.lastFlashFor = c, user
		}
	}
	return rec
}

// get answers a page, failing the test on another status than want.
func (w *pagesWorld) get(user, path string, want int) string {
	w.t.Helper()
	rec := w.do(user, "GET", path, nil, nil)
	if rec.Code != want {
		w.t.Fatalf("GET %s as %s: %d, want %d: %s", path, user, rec.Code, want, rec.Body)
	}
	return rec.Body.String()
}

// post posts a form with the user's token (read from the page at from) and follows
// the redirect, returning the page it lands on.
func (w *pagesWorld) post(user, from, path string, form url.Values) (int, string) {
	w.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrfOf(w.t, w.get(user, from, 200)))
	rec := w.do(user, "POST", path, form, nil)
	if rec.Code != http.StatusSeeOther {
		w.t.Fatalf("POST %s as %s: %d, want 303: %s", path, user, rec.Code, rec.Body)
	}
	loc, _, _ := strings.Cut(rec.Header().Get("Location"), "#") // as a browser does
	next := w.do(user, "GET", loc, nil, nil)
	return next.Code, next.Body.String()
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form token on the page:\n%s", page)
	}
	return m[1]
}

var emailRE = regexp.MustCompile(`<tr data-email="([^"]+)"`)

// listed returns the addresses of the people table (not the invitations).
func listed(page string) []string {
	people, _, _ := strings.Cut(page, `id="invitations"`)
	var out []string
	for _, m := range emailRE.FindAllStringSubmatch(people, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	slices.Sort(out)
	return out
}

func (w *pagesWorld) usersPath(ref rbac.Ref) string {
	return w.prefix + "/accounts/" + ref.ID + "/users"
}

func (w *pagesWorld) memberPath(name string) string {
	return w.prefix + "/accounts/" + w.acct.ID + "/members/user:" + w.users[name]
}

func (w *pagesWorld) grantsOf(name string) []string {
	w.t.Helper()
	var out []string
	for a, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Members{Tenant: w.acct}) {
		if err != nil {
			w.t.Fatal(err)
		}
		if a.Holder == rbac.User(w.users[name]) {
			for _, g := range a.Grants {
				out = append(out, g.Scope.String()+"="+g.Level.String())
			}
		}
	}
	slices.Sort(out)
	return out
}

func (w *pagesWorld) profileOf(name string) profile.Profile {
	w.t.Helper()
	p, err := account.Get(context.Background(), w.svc, rbac.User(w.users[name]), profile.Get{})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *pagesWorld) pendingInvitations() int {
	w.t.Helper()
	n := 0
	for a, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Members{Tenant: w.acct}) {
		if err != nil {
			w.t.Fatal(err)
		}
		if a.Holder.Kind == rbac.HolderInvite {
			n++
		}
	}
	return n
}

var (
	inlineScript = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	handlerAttr  = regexp.MustCompile(`\son[a-z]+\s*=`)
)

// Every page carries the strict policy and has nothing inline for it to refuse.
func TestPagesContentSecurityPolicy(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	for _, tt := range []struct {
		user, path string
		status     int
	}{
		{"ann", "/app/profile", 200},
		{"ann", w.usersPath(w.acct), 200},
		{"ann", w.memberPath("ines"), 200},
		{"ann", "/app/accounts/" + w.acct.ID + "/audit", 200},
		{"ann", w.securityPath(), 200},
		{"ines", w.usersPath(w.acct), 200},
		{"ann", w.usersPath(w.acct) + "?inactive=30", 200},
		{"ann", "/app/join/some-link?code=x", 200},
		{"vic", w.usersPath(w.acct), 403},
		{"ann", "/app/accounts/nope/users", 404},
		{"", "/app/profile", 401},
		{"ann", "/app/static/pages.css", 200},
		{"ann", "/app/static/pages.js", 200},
	} {
		rec := w.do(tt.user, "GET", tt.path, nil, nil)
		if rec.Code != tt.status {
			t.Errorf("%s as %q: %d, want %d", tt.path, tt.user, rec.Code, tt.status)
		}
		if got := rec.Header().Get("Content-Security-Policy"); got != web.PagesCSP {
			t.Errorf("%s: Content-Security-Policy %q", tt.path, got)
		}
		if rec.Header().Get("X-Frame-Options") != "DENY" || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", tt.path, rec.Header())
		}
		if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			continue
		}
		body := rec.Body.String()
		for _, tag := range inlineScript.FindAllString(body, -1) {
			if !strings.Contains(tag, " src=") {
				t.Errorf("%s: an inline script %s", tt.path, tag)
			}
		}
		if strings.Contains(body, "<style") || strings.Contains(body, " style=") || handlerAttr.MatchString(body) {
			t.Errorf("%s: inline style or event handler", tt.path)
		}
	}
	for _, d := range strings.Split(web.PagesCSP, "; ") {
		if strings.Contains(d, "unsafe") {
			t.Errorf("the policy allows %s", d)
		}
	}
}

// A form without the session's token, with a wrong one, with another user's, or
// posted from another site changes nothing.
func TestPagesCSRF(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	annToken := csrfOf(t, w.get("ann", "/app/profile", 200))
	vicToken := csrfOf(t, w.get("vic", "/app/profile", 200))
	if annToken == vicToken {
		t.Fatal("two users have the same form token")
	}
	// The same user's token under another key differs, and is refused.
	mux := http.NewServeMux()
	mux.Handle("/app/", web.Pages(w.svc, web.PagesOptions{Prefix: "/app", CSRFKey: []byte("another key of thirty-two bytes!")}))
	other := *w
	other.h = web.New(w.svc, web.Options{Sessions: testSessions, NoRateLimit: true}).Handler(mux)
	if tok := csrfOf(t, other.get("ann", "/app/profile", 200)); tok == annToken {
		t.Fatal("the form token does not depend on the key")
	}
	if rec := other.do("ann", "POST", "/app/profile/name", url.Values{"name": {"Mallory"}, "csrf": {annToken}}, nil); rec.Code != http.StatusForbidden {
		t.Errorf("a token of another key: %d", rec.Code)
	}
	invite := w.usersPath(w.acct)[:len(w.usersPath(w.acct))-len("/users")] + "/invitations"
	for _, tt := range []struct {
		name  string
		token string
		hdr   http.Header
	}{
		{"no token", "", nil},
		{"a wrong token", "x" + annToken[1:], nil},
		{"another user's token", vicToken, nil},
		{"from another site", annToken, http.Header{"Sec-Fetch-Site": {"cross-site"}}},
		{"from another origin", annToken, http.Header{"Origin": {"https://evil.test"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			form := url.Values{"name": {"Mallory"}}
			if tt.token != "" {
				form.Set("csrf", tt.token)
			}
			rec := w.do("ann", "POST", "/app/profile/name", form, tt.hdr)
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "form") {
				t.Errorf("rename: %d %s", rec.Code, rec.Body)
			}
			if rec.Header().Get("Content-Security-Policy") != web.PagesCSP {
				t.Error("a refusal without the policy")
			}
			before := w.pendingInvitations()
			form = url.Values{"email": {"eve@acme.test"}, "lvl_" + w.proj.String(): {"viewer"}}
			if tt.token != "" {
				form.Set("csrf", tt.token)
			}
			if rec := w.do("ann", "POST", invite, form, tt.hdr); rec.Code != http.StatusForbidden {
				t.Errorf("invite: %d", rec.Code)
			}
			if got := w.profileOf("ann").Name; got != "Ann" {
				t.Errorf("the name changed to %q", got)
			}
			if n := w.pendingInvitations(); n != before {
				t.Errorf("%d invitations, want %d", n, before)
			}
		})
	}
	// The right token from the same origin works.
	rec := w.do("ann", "POST", "/app/profile/name", url.Values{"name": {"Ann B."}, "csrf": {annToken}}, http.Header{"Sec-Fetch-Site": {"same-origin"}})
	if rec.Code != http.StatusSeeOther || w.profileOf("ann").Name != "Ann B." {
		t.Errorf("a valid form: %d, name %q", rec.Code, w.profileOf("ann").Name)
	}
}

// D18: an inbox admin's page lists exactly the people with access to their inbox; an
// account admin's lists everyone; a member the inbox admin cannot see answers as one
// that does not exist.
func TestPagesUserManagementVisibility(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	all := []string{"adam@acme.test", "ann@acme.test", "ines@acme.test", "omar@acme.test", "vic@acme.test"}
	if got := listed(w.get("ann", w.usersPath(w.acct), 200)); !slices.Equal(got, all) {
		t.Errorf("the owner sees %v, want %v", got, all)
	}
	if got := listed(w.get("adam", w.usersPath(w.acct), 200)); !slices.Equal(got, all) {
		t.Errorf("the account admin sees %v, want %v", got, all)
	}
	// Alpha is reached by the owner, the account admin and viewer, and its admin ines;
	// omar holds Beta only.
	want := []string{"adam@acme.test", "ann@acme.test", "ines@acme.test", "vic@acme.test"}
	page := w.get("ines", w.usersPath(w.acct), 200)
	if got := listed(page); !slices.Equal(got, want) {
		t.Errorf("ines sees %v, want %v", got, want)
	}
	if strings.Contains(page, "omar") || strings.Contains(page, w.beta.ID) {
		t.Error("ines's page mentions omar or inbox Beta")
	}
	if !strings.Contains(page, `id="invite-note"`) || strings.Contains(page, `id="invite"`) {
		t.Error("ines, who cannot invite, is shown the invitation form")
	}
	// The filters are the library's: the page lists what Members lists.
	for _, f := range []string{"inbox=" + w.beta.ID, "project=" + w.proj.ID, "inbox=" + w.alpha.ID} {
		kind, id, _ := strings.Cut(f, "=")
		k, _ := rbac.ParseKind(kind)
		var lib []string
		for a, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Members{Tenant: w.acct, Scopes: []rbac.Ref{{Kind: k, ID: id}}}) {
			if err != nil {
				t.Fatal(err)
			}
			lib = append(lib, a.Email())
		}
		slices.Sort(lib)
		got := listed(w.get("ann", w.usersPath(w.acct)+"?"+f, 200))
		if !slices.Equal(got, lib) {
			t.Errorf("filter %s: %v, the library lists %v", f, got, lib)
		}
		if id == w.beta.ID && (slices.Contains(got, "ines@acme.test") || !slices.Contains(got, "omar@acme.test")) {
			t.Errorf("filter %s: %v", f, got)
		}
	}
	// What ines cannot see answers exactly as what does not exist.
	hidden := w.get("ines", w.memberPath("omar"), 404)
	missing := w.get("ines", w.prefix+"/accounts/"+w.acct.ID+"/members/user:nobody", 404)
	if hidden != missing {
		t.Error("a hidden member's page differs from a missing one's")
	}
	if w.get("ines", w.usersPath(w.acct)+"?inbox="+w.beta.ID, 404) != w.get("ines", w.usersPath(w.acct)+"?inbox=nope", 404) {
		t.Error("a hidden filter value answers unlike a missing one")
	}
	if w.get("ann", w.usersPath(w.farAcct), 404) != w.get("ann", w.usersPath(rbac.Account("nope")), 404) {
		t.Error("another's account answers unlike a missing one")
	}
	// Seats count every member.
	if !strings.Contains(w.get("ann", w.usersPath(w.acct), 200), `id="seats">5 of 20 seats used`) {
		t.Error("seats: not 5 of 20")
	}
}

var (
	flashRE  = regexp.MustCompile(`(?s)<div class="flash ([a-z-]+)"[^>]*>(.*?)</div>\s*(?:<div class="rule">(.*?)</div>)?`)
	secretRE = regexp.MustCompile(`id="flash-secret">([^<]+)<`)
	linkRE   = regexp.MustCompile(`id="flash-link">([^<]+)<`)
)

// A refusal is shown with its reason and rule, and changes nothing; a page refused
// shows the status of web.Status.
func TestPagesRefusalShowsReason(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	// adam, an account admin, sends a change of the owner's access (D4).
	before := w.grantsOf("ann")
	form := url.Values{"lvl_" + w.acct.String(): {"viewer"}}
	status, page := w.post("adam", w.memberPath("vic"), w.memberPath("ann")+"/permissions", form)
	if status != 200 {
		t.Fatalf("after the refusal: %d", status)
	}
	m := flashRE.FindStringSubmatch(page)
	if m == nil || m[1] != "flash-error" || !strings.Contains(m[2], "Refused (403)") || !strings.Contains(html.UnescapeString(m[2]), "denied: ") {
		t.Fatalf("no refusal shown: %v\n%s", m, page)
	}
	if !strings.Contains(page, `<span class="badge">`+string(rbac.RuleOwnerImmutable)+`</span>`) {
		t.Errorf("the rule %s is not shown", rbac.RuleOwnerImmutable)
	}
	if after := w.grantsOf("ann"); !slices.Equal(before, after) {
		t.Errorf("the owner's grants changed: %v → %v", before, after)
	}
	// The flash is shown once.
	if again := w.get("adam", w.memberPath("vic"), 200); strings.Contains(again, "flash-error") {
		t.Error("the refusal is shown twice")
	}
	// A viewer may not open User Management: 403 with the rule (D18), and no form.
	rec := w.do("vic", "GET", w.usersPath(w.acct), nil, nil)
	wantStatus, body := web.Status(func() error {
		_, err := account.Get(context.Background(), w.svc, rbac.User(w.users["vic"]), account.Members{Tenant: w.acct})
		return err
	}())
	if rec.Code != wantStatus || wantStatus != 403 {
		t.Fatalf("vic: %d, want %d", rec.Code, wantStatus)
	}
	// The rule's text is shown once, beside the reason.
	vp := html.UnescapeString(rec.Body.String())
	reason, cut := strings.CutSuffix(body.Reason, " ("+string(body.Rule)+": "+body.Rule.Text()+")")
	if !cut || !strings.Contains(vp, reason) || !strings.Contains(vp, `<span class="badge">`+string(body.Rule)+`</span> `+body.Rule.Text()) || strings.Count(vp, body.Rule.Text()) != 1 || strings.Contains(vp, "<form") {
		t.Errorf("vic's page lacks the reason %q and its rule once, or shows a form:\n%s", reason, vp)
	}
	// Only the owner is offered the transfer.
	if !strings.Contains(w.get("ann", w.memberPath("vic"), 200), "Transfer ownership") {
		t.Error("the owner is not offered the transfer")
	}
	if strings.Contains(w.get("adam", w.memberPath("vic"), 200), "Transfer ownership") {
		t.Error("an admin is offered the transfer")
	}
	// Nobody changes their own access: adam's own page has no form.
	own := w.get("adam", w.memberPath("adam"), 200)
	if !strings.Contains(own, `id="self-note"`) || strings.Contains(own, `id="perms"`) {
		t.Error("adam may edit his own access")
	}
	// An invalid form is answered 422 in the flash.
	_, page = w.post("ann", "/app/profile", "/app/profile/time-zone", url.Values{"time_zone": {"Mars/Olympus"}})
	if m := flashRE.FindStringSubmatch(page); m == nil || !strings.Contains(m[2], "Refused (422)") {
		t.Errorf("an invalid time zone: %v", m)
	}
}

// The owner invites with a level on a project; the invitee accepts through the link
// shown once; permissions are edited; the member is removed from the project and
// still counts to seats, then from the account.
func TestPagesInviteEditRemove(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	users := w.usersPath(w.acct)
	tenant := strings.TrimSuffix(users, "/users")
	_, page := w.post("ann", users, tenant+"/invitations", url.Values{"email": {"bob@acme.test"}, "lvl_" + w.proj.String(): {"viewer"}})
	link, secret := linkRE.FindStringSubmatch(page), secretRE.FindStringSubmatch(page)
	if link == nil || secret == nil {
		t.Fatalf("no link or secret shown:\n%s", page)
	}
	if !strings.Contains(html.UnescapeString(link[1]), "code="+url.QueryEscape(secret[1])) {
		t.Errorf("the link %s lacks the secret", link[1])
	}
	if strings.Contains(w.get("ann", users, 200), secret[1]) {
		t.Error("the secret is shown twice")
	}
	reg, err := account.Do(context.Background(), w.svc, rbac.Holder{}, profile.Register{Email: "bob@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	w.users["bob"] = reg.User.ID
	accept := html.UnescapeString(link[1])
	if !strings.Contains(w.get("bob", "/app/profile", 200), "Invitations for you") {
		t.Error("bob's profile does not list the invitation")
	}
	code := url.Values{"code": {secret[1]}}
	path, _, _ := strings.Cut(accept, "?")
	if s, p := w.post("bob", accept, path+"/accept", url.Values{"code": {"wrong"}}); s != 200 || !strings.Contains(p, "flash-error") {
		t.Errorf("a wrong code: %d", s)
	}
	if s, p := w.post("bob", accept, path+"/accept", code); s != 200 || !strings.Contains(p, "flash-ok") || !strings.Contains(p, `data-account="Ann"`) {
		t.Errorf("accepting: %d\n%s", s, p)
	}
	if got := w.grantsOf("bob"); !slices.Equal(got, []string{w.proj.String() + "=viewer"}) {
		t.Fatalf("bob's grants %v", got)
	}
	// Edit: admin of Alpha instead of viewer of the project.
	bobPage := w.memberPath("bob")
	form := url.Values{"lvl_" + w.proj.String(): {"none"}, "lvl_" + w.alpha.String(): {"admin"}, "lvl_" + w.acct.String(): {""}}
	if _, p := w.post("ann", bobPage, bobPage+"/permissions", form); !strings.Contains(p, "flash-ok") {
		t.Errorf("saving permissions:\n%s", p)
	}
	if got := w.grantsOf("bob"); !slices.Equal(got, []string{w.alpha.String() + "=admin"}) {
		t.Fatalf("bob's grants after the edit %v", got)
	}
	// The page explains: admin on Alpha from his own grant; none on Beta.
	p := w.get("ann", bobPage, 200)
	if !regexp.MustCompile(`data-scope="` + w.alpha.String() + `">[\s\S]*?level-admin[\s\S]*?own grant`).MatchString(p) {
		t.Error("the page does not explain bob's admin on Alpha")
	}
	seats := func() account.SeatCount {
		s, err := account.Get(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Seats{Tenant: w.acct})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := seats()
	if _, p := w.post("ann", bobPage, bobPage+"/remove-from", url.Values{"scope": {w.alpha.String()}}); !strings.Contains(p, "flash-ok") {
		t.Errorf("removing from Alpha:\n%s", p)
	}
	if got := w.grantsOf("bob"); len(got) != 0 {
		t.Errorf("bob still holds %v", got)
	}
	if !slices.Contains(listed(w.get("ann", users, 200)), "bob@acme.test") || seats() != before {
		t.Errorf("bob left the account, or seats changed: %v → %v", before, seats())
	}
	if _, p := w.post("ann", bobPage, bobPage+"/remove", nil); !strings.Contains(p, "flash-ok") {
		t.Errorf("removing bob:\n%s", p)
	}
	if slices.Contains(listed(w.get("ann", users, 200)), "bob@acme.test") || seats().Used != before.Used-1 {
		t.Errorf("bob is still a member, or seats did not drop")
	}
}

// Without a signed-in user the pages answer 401 or send to the host's sign-in; an
// API token is refused.
func TestPagesNeedASignedInUser(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	if rec := w.do("", "GET", "/app/profile", nil, nil); rec.Code != 401 {
		t.Errorf("nobody: %d", rec.Code)
	}
	if rec := w.do("", "POST", "/app/profile/name", url.Values{"name": {"x"}}, nil); rec.Code != 401 {
		t.Errorf("nobody posts: %d", rec.Code)
	}
	rec := w.do("", "GET", "/app/profile", nil, http.Header{"Authorization": {"Bearer " + w.tokenSecret}})
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "API token") {
		t.Errorf("a token: %d", rec.Code)
	}
	s := newPagesWorld(t, web.PagesOptions{SignInURL: "/sign-in"})
	rec = s.do("", "GET", "/app/accounts/x/users?inbox=y", nil, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/sign-in?next="+url.QueryEscape("/app/accounts/x/users?inbox=y") {
		t.Errorf("sign-in redirect: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// My Profile: the accounts with their levels, leaving, creating an account, tokens
// with their secret shown once, and deleting the profile with a typed confirmation
// that names what goes.
func TestPagesProfile(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	page := w.get("vic", "/app/profile", 200)
	if !strings.Contains(page, `data-account="Ann"`) || !strings.Contains(page, `data-account="vic@acme.test"`) {
		t.Errorf("vic's accounts are not listed")
	}
	row := regexp.MustCompile(`(?s)<tr data-account="Ann">.*?</tr>`).FindString(page)
	if row == "" || strings.Contains(row, `/users"`) || strings.Contains(row, "Audit log") || !strings.Contains(row, "Leave") {
		t.Errorf("a viewer is offered administration, or not to leave: %s", row)
	}
	if strings.Contains(page, "<h3>Ann</h3>") {
		t.Error("a viewer is offered the account's tokens")
	}
	tenant := strings.TrimSuffix(w.usersPath(w.acct), "/users")
	if _, p := w.post("vic", "/app/profile", tenant+"/leave", nil); !strings.Contains(p, "flash-ok") || strings.Contains(p, `data-account="Ann"`) {
		t.Errorf("leaving:\n%s", p)
	}
	if _, p := w.post("vic", "/app/profile", "/app/accounts", url.Values{"name": {"Side project"}}); !strings.Contains(p, `data-account="Side project"`) {
		t.Error("the new account is not listed")
	}
	// Tokens: the secret is shown once and authenticates.
	_, p := w.post("ann", "/app/profile", tenant+"/tokens", url.Values{"name": {"Deploys"}, "level": {"viewer"}})
	m := secretRE.FindStringSubmatch(p)
	if m == nil {
		t.Fatalf("no secret shown:\n%s", p)
	}
	h, err := w.svc.Authenticate(context.Background(), m[1])
	if err != nil || h.Kind != rbac.HolderToken {
		t.Fatalf("the secret shown does not authenticate: %v", err)
	}
	if strings.Contains(w.get("ann", "/app/profile", 200), m[1]) {
		t.Error("the secret is shown twice")
	}
	if _, p := w.post("ann", "/app/profile", tenant+"/tokens/"+h.ID+"/delete", nil); !strings.Contains(p, "flash-ok") {
		t.Error("deleting the token")
	}
	if _, err := w.svc.Authenticate(context.Background(), m[1]); err == nil {
		t.Error("the deleted token still works")
	}
	// Deleting: the page names the owned account; a wrong confirmation changes nothing.
	page = w.get("ann", "/app/profile", 200)
	if !regexp.MustCompile(`the accounts you own, [^<]*<strong>Ann \(account\)</strong>`).MatchString(page) {
		t.Error("the deletion does not name the owned account")
	}
	if _, p := w.post("ann", "/app/profile", "/app/profile/delete", url.Values{"confirm": {"someone@else.test"}}); !strings.Contains(p, "flash-error") {
		t.Error("a wrong confirmation was not refused")
	}
	w.profileOf("ann")
	form := url.Values{"confirm": {"ANN@acme.test"}, "csrf": {csrfOf(t, page)}}
	rec := w.do("ann", "POST", "/app/profile/delete", form, nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/app/deleted" {
		t.Fatalf("delete: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if !slices.Equal(w.deletedCalls, []string{w.users["ann"]}) {
		t.Errorf("ProfileDeleted calls %v", w.deletedCalls)
	}
	if _, err := account.Get(context.Background(), w.svc, rbac.User(w.users["ann"]), profile.Get{}); err == nil {
		t.Error("the profile still exists")
	}
	if _, err := account.Get(context.Background(), w.svc, rbac.User(w.users["adam"]), account.Account{Account: w.acct}); err == nil {
		t.Error("the owned account still exists")
	}
}

// The audit log is paged with the library's cursor, and lists every event once.
func TestPagesAuditLog(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	ctx := context.Background()
	ann := rbac.User(w.users["ann"])
	for i := range 60 {
		if _, err := account.Do(ctx, w.svc, ann, account.RenameResource{Resource: w.beta, Name: fmt.Sprintf("Beta %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	for e, err := range account.All(ctx, w.svc, ann, account.Events{Tenant: w.acct}) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, fmt.Sprint(e.Seq))
	}
	seqRE := regexp.MustCompile(`<td class="num">(\d+)</td>`)
	nextRE := regexp.MustCompile(`<a href="([^"]+)" rel="next">`)
	var got []string
	path := "/app/accounts/" + w.acct.ID + "/audit"
	for pages := 0; path != ""; pages++ {
		if pages > 10 {
			t.Fatal("the pages do not end")
		}
		p := w.get("ann", path, 200)
		rows := seqRE.FindAllStringSubmatch(p, -1)
		if len(rows) > 50 {
			t.Fatalf("%d rows on a page", len(rows))
		}
		for _, r := range rows {
			got = append(got, r[1])
		}
		path = ""
		if m := nextRE.FindStringSubmatch(p); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	if !slices.Equal(got, want) || len(want) <= 50 {
		t.Errorf("the pages list %d events, the log %d", len(got), len(want))
	}
	if !strings.Contains(w.get("ann", "/app/accounts/"+w.acct.ID+"/audit", 200), "ines@acme.test") {
		t.Error("actors are not named")
	}
	w.get("ines", "/app/accounts/"+w.acct.ID+"/audit", 403)
}
