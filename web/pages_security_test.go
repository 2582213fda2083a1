package web_test

import (
	"context"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/web"
)

// annAuth is how the owner authenticates to the library in the tests' own reads: with
// a second factor, from the address of the tests' requests.
func annAuth() context.Context {
	return account.WithAuth(context.Background(), rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("192.0.2.1")})
}

// policy returns the account's security policy, as the library answers the owner.
func (w *pagesWorld) policy() store.SecurityPolicy {
	w.t.Helper()
	p, err := account.Get(annAuth(), w.svc, rbac.User(w.users["ann"]), account.SecurityPolicy{Tenant: w.acct})
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// setTwoFactor turns two-factor authentication on or off in the named user's profile.
func (w *pagesWorld) setTwoFactor(name string, on bool) {
	w.t.Helper()
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users[name]), profile.SetTwoFactor{On: on}); err != nil {
		w.t.Fatal(err)
	}
}

// setPlan moves the account to the named plan.
func (w *pagesWorld) setPlan(plan string) {
	w.t.Helper()
	if _, err := account.Do(annAuth(), w.svc, rbac.User(w.users["ann"]), account.SetPlan{Account: w.acct, Plan: plan}); err != nil {
		w.t.Fatal(err)
	}
}

// requirePolicy sets the account's policy through the library, as the owner.
func (w *pagesWorld) requirePolicy(from time.Time, ips ...string) {
	w.t.Helper()
	var list []netip.Prefix
	for _, s := range ips {
		list = append(list, netip.MustParsePrefix(s))
	}
	if _, err := account.Do(annAuth(), w.svc, rbac.User(w.users["ann"]), account.SetSecurityPolicy{Tenant: w.acct, Require2FA: from, IPAllowlist: list}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *pagesWorld) securityPath() string { return w.tenantPath() + "/security" }

// refusedWith checks that a page shows a refusal citing rule, with the words want,
// and returns the flash text.
func refusedWith(t *testing.T, page string, rule rbac.Rule, want string) {
	t.Helper()
	class, text := flashOf(page)
	if class != "flash-error" || !strings.Contains(text, "Refused") || !strings.Contains(text, want) || !strings.Contains(page, `<span class="badge">`+string(rule)+`</span> `) {
		t.Errorf("want a refusal citing %s with %q; flash %s %q", rule, want, class, text)
	}
}

// The Security tab is offered to who may manage the policy; its forms refuse, with
// the reason and the rule, a plan without security policies (D21), an admin without
// two-factor authentication on and passed (D32), and change nothing then; they
// require it from a date in the admin's time zone, from now, and not at all.
func TestPagesSecurityTwoFactor(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	tab := `href="` + w.securityPath() + `"`
	for name, want := range map[string]bool{"ann": true, "adam": true, "ines": false} {
		if got := strings.Contains(w.get(name, w.usersPath(w.acct), 200), tab); got != want {
			t.Errorf("%s is offered the Security tab: %v", name, got)
		}
	}
	w.get("vic", w.securityPath(), 403)
	w.get("ines", w.securityPath(), 403)
	w.get("zed", w.securityPath(), 404)
	form := w.securityPath() + "/two-factor"

	// The team plan has no security policies: the page says so, and saving is refused.
	w.setTwoFactor("ann", true)
	w.secondFactor["ann"] = true
	page := w.get("ann", w.securityPath(), 200)
	if !strings.Contains(page, `id="plan-note"`) || !strings.Contains(page, `not required`) {
		t.Errorf("the team plan's page:\n%s", page)
	}
	_, page = w.post("ann", w.securityPath(), form, url.Values{"when": {"now"}})
	refusedWith(t, page, rbac.RulePlan, `plan "team" does not include security policies`)
	if !w.policy().Require2FA.IsZero() {
		t.Fatal("a refused requirement was saved")
	}

	// On the business plan, who has not turned 2FA on, or not passed it in this
	// sign-in, may not require it.
	w.setPlan("business")
	if strings.Contains(w.get("ann", w.securityPath(), 200), `id="plan-note"`) {
		t.Error("the business plan's page has the plan's note")
	}
	w.setTwoFactor("ann", false)
	_, page = w.post("ann", w.securityPath(), form, url.Values{"when": {"now"}})
	refusedWith(t, page, rbac.RuleRequire2FA, "turn two-factor authentication on and sign in with it")
	if !strings.Contains(page, `id="my-tfa">off<`) {
		t.Error("the page does not say the admin's 2FA is off")
	}
	w.setTwoFactor("ann", true)
	w.secondFactor["ann"] = false
	_, page = w.post("ann", w.securityPath(), form, url.Values{"when": {"now"}})
	refusedWith(t, page, rbac.RuleRequire2FA, "turn two-factor authentication on and sign in with it")
	if !strings.Contains(page, `id="my-sign-in">did not pass a second factor<`) {
		t.Error("the page does not say this sign-in passed no second factor")
	}
	if !w.policy().Require2FA.IsZero() {
		t.Fatal("a refused requirement was saved")
	}

	// From a date: the start of that day in the admin's time zone.
	w.secondFactor["ann"] = true
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users["ann"]), profile.SetTimeZone{TimeZone: "America/New_York"}); err != nil {
		t.Fatal(err)
	}
	ny, _ := time.LoadLocation("America/New_York")
	day := w.now().In(ny).AddDate(0, 0, 10)
	_, page = w.post("ann", w.securityPath(), form, url.Values{"when": {"date"}, "from": {day.Format(time.DateOnly)}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "will be required from "+day.Format("2 Jan 2006")) {
		t.Errorf("requiring from a date: %s %q", class, text)
	}
	want := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, ny)
	if got := w.policy().Require2FA; !got.Equal(want) {
		t.Errorf("required from %v, want %v", got, want)
	}
	if !strings.Contains(page, `value="`+day.Format(time.DateOnly)+`"`) || !strings.Contains(page, "required from "+day.Format("2 Jan 2006")) {
		t.Error("the page does not show the date")
	}
	// A missing or malformed date, and an unknown choice, are refused.
	for _, f := range []url.Values{{"when": {"date"}}, {"when": {"date"}, "from": {"tomorrow"}}, {"when": {"later"}}} {
		_, page = w.post("ann", w.securityPath(), form, f)
		if class, text := flashOf(page); class != "flash-error" || !strings.Contains(text, "Refused (422)") {
			t.Errorf("%v: %s %q", f, class, text)
		}
	}
	if got := w.policy().Require2FA; !got.Equal(want) {
		t.Errorf("a refused form changed the date to %v", got)
	}

	// Now, then off.
	_, page = w.post("ann", w.securityPath(), form, url.Values{"when": {"now"}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "required from now on") {
		t.Errorf("requiring now: %s %q", class, text)
	}
	if got := w.policy().Require2FA; !got.Equal(w.now()) || !strings.Contains(page, `badge-ok">required</span> since`) {
		t.Errorf("required from %v, want now (%v)", got, w.now())
	}
	if !regexp.MustCompile(`Last changed by ann@acme\.test on `).MatchString(page) {
		t.Error("the page does not say who changed the policy")
	}
	_, page = w.post("ann", w.securityPath(), form, url.Values{"when": {"off"}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "no longer required") || !w.policy().Require2FA.IsZero() {
		t.Errorf("turning it off: %s %q, policy %v", class, text, w.policy().Require2FA)
	}
	if !strings.Contains(page, "not required") {
		t.Error("the page does not say it is not required")
	}
}

// The IP allowlist: one range a line, the page showing the request's own address; a
// list without it is refused (D35), as are malformed lines and a plan without
// policies (D21), all changing nothing.
func TestPagesSecurityIPAllowlist(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	form := w.securityPath() + "/ip-allowlist"
	_, page := w.post("ann", w.securityPath(), form, url.Values{"ip_allowlist": {"192.0.2.0/24"}})
	refusedWith(t, page, rbac.RulePlan, "does not include security policies")
	w.setPlan("business")

	page = w.get("ann", w.securityPath(), 200)
	if !strings.Contains(page, `id="my-ip">192.0.2.1<`) || !strings.Contains(page, "any address") {
		t.Errorf("the page does not show the address or the empty list:\n%s", page)
	}
	_, page = w.post("ann", w.securityPath(), form, url.Values{"ip_allowlist": {"203.0.113.0/24\n2001:db8::/32"}})
	refusedWith(t, page, rbac.RuleIPAllowlist, "it must include the address you save it from")
	if len(w.policy().IPAllowlist) != 0 {
		t.Fatal("a list without the admin's address was saved")
	}
	_, page = w.post("ann", w.securityPath(), form, url.Values{"ip_allowlist": {"192.0.2.0/24\nnonsense"}})
	if class, text := flashOf(page); class != "flash-error" || !strings.Contains(text, `line 2: "nonsense" is not a CIDR range`) {
		t.Errorf("a malformed line: %s %q", class, text)
	}
	if len(w.policy().IPAllowlist) != 0 {
		t.Fatal("a malformed list was saved")
	}

	_, page = w.post("ann", w.securityPath(), form, url.Values{"ip_allowlist": {"192.0.2.0/24\r\n\r\n2001:db8::/32, 198.51.100.7\n"}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "3 ranges") {
		t.Errorf("saving: %s %q", class, text)
	}
	var got []string
	for _, p := range w.policy().IPAllowlist {
		got = append(got, p.String())
	}
	slices.Sort(got)
	if want := []string{"192.0.2.0/24", "198.51.100.7/32", "2001:db8::/32"}; !slices.Equal(got, want) {
		t.Errorf("the list %v, want %v", got, want)
	}
	if !strings.Contains(page, "192.0.2.0/24\n") || !strings.Contains(page, `badge-ok">in the list<`) {
		t.Errorf("the page does not show the list with the address in it")
	}

	// From outside the list, adam is refused every account page, with his address.
	w.addr["adam"] = "198.51.100.9:4000"
	rec := w.do("adam", "GET", w.usersPath(w.acct), nil, nil)
	body := rec.Body.String()
	if rec.Code != 403 || !strings.Contains(body, "Your address is not allowed") || !strings.Contains(body, "yours, 198.51.100.9, is outside it") || !strings.Contains(body, `<span class="badge">D35</span>`) {
		t.Errorf("adam from outside: %d\n%s", rec.Code, body)
	}
	// His profile stays usable and says why his accounts are not listed.
	if p := w.get("adam", "/app/profile", 200); !strings.Contains(p, `id="accounts-refused"`) || !strings.Contains(p, "198.51.100.9") {
		t.Errorf("adam's profile from outside:\n%s", p)
	}
	w.addr["adam"] = "198.51.100.7:4000"
	w.get("adam", w.usersPath(w.acct), 200)

	// Cleared, it allows any address.
	_, page = w.post("ann", w.securityPath(), form, url.Values{"ip_allowlist": {""}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "cleared") || len(w.policy().IPAllowlist) != 0 {
		t.Errorf("clearing: %s %q", class, text)
	}
	w.addr["adam"] = "198.51.100.9:4000"
	w.get("adam", w.usersPath(w.acct), 200)
}

// Every account page carries a notice while two-factor authentication becomes
// required at a date ahead, to who has not passed it; from that date a user without
// a second factor is refused every account page with a page that says what to do,
// and My Profile, where it is turned on, stays usable.
func TestPagesTwoFactorNoticeAndRefusal(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	w.setPlan("business")
	w.setTwoFactor("ann", true)
	w.secondFactor["ann"] = true
	from := w.now().Add(72 * time.Hour)
	w.requirePolicy(from)
	date := from.Format("2 Jan 2006")
	noticeRE := regexp.MustCompile(`(?s)<div class="notice" id="notice-2fa" role="status">(.*?)</div>`)
	for _, tt := range []struct{ user, path string }{
		{"adam", w.usersPath(w.acct)},
		{"adam", w.memberPath("vic")},
		{"adam", w.tenantPath() + "/audit"},
		{"adam", w.securityPath()},
		{"ines", w.usersPath(w.acct)},
	} {
		m := noticeRE.FindStringSubmatch(w.get(tt.user, tt.path, 200))
		if m == nil || !strings.Contains(m[1], "Two-factor authentication will be required from "+date) || !strings.Contains(m[1], `turn it on in <a href="/app/profile#two-factor">My Profile</a>`) {
			t.Errorf("%s on %s: notice %v", tt.user, tt.path, m)
		}
	}
	if p := w.get("vic", "/app/profile", 200); !strings.Contains(p, `data-notice="Ann"`) || !strings.Contains(p, "requires two-factor authentication from "+date) {
		t.Error("vic's profile does not name the account that will require 2FA")
	}
	// Who passed a second factor sees no notice; who has it on is told to use it.
	if strings.Contains(w.get("ann", w.usersPath(w.acct), 200), "notice-2fa") {
		t.Error("the owner, signed in with 2FA, sees the notice")
	}
	w.setTwoFactor("adam", true)
	if m := noticeRE.FindStringSubmatch(w.get("adam", w.usersPath(w.acct), 200)); m == nil || !strings.Contains(m[1], "sign in with your second factor") {
		t.Errorf("adam, with 2FA on: %v", m)
	}

	// From the date, vic (no 2FA) and adam (2FA on, not passed) are refused.
	w.advance(73 * time.Hour)
	_, want := web.Status(func() error {
		_, err := account.Get(context.Background(), w.svc, rbac.User(w.users["vic"]), account.Account{Account: w.acct})
		return err
	}())
	if want.Rule != rbac.RuleRequire2FA {
		t.Fatalf("the library's refusal cites %q", want.Rule)
	}
	for _, name := range []string{"vic", "adam"} {
		rec := w.do(name, "GET", w.usersPath(w.acct), nil, nil)
		p := rec.Body.String()
		if rec.Code != 403 || !strings.Contains(p, "<title>Two-factor authentication required") || !strings.Contains(p, `<h1>Two-factor authentication required`) ||
			!strings.Contains(p, `<span class="badge">D32</span> `+htmlEscape(rbac.RuleRequire2FA.Text())) || strings.Count(p, htmlEscape(rbac.RuleRequire2FA.Text())) != 1 ||
			!strings.Contains(p, htmlEscape("sign in with a second factor")) || strings.Contains(p, "<form") {
			t.Errorf("%s's refusal: %d\n%s", name, rec.Code, p)
		}
		if rec.Header().Get("Content-Security-Policy") != web.PagesCSP || strings.Contains(p, " style=") || strings.Contains(p, "<style") || inlineScript.MatchString(strings.ReplaceAll(p, `<script src=`, "")) {
			t.Errorf("%s's refusal: not CSP-clean", name)
		}
		link := strings.Contains(p, `href="/app/profile#two-factor"`)
		if name == "vic" && (!link || !strings.Contains(p, "Turn two-factor authentication on in My Profile")) {
			t.Error("vic is not sent to turn 2FA on")
		}
		if name == "adam" && (link || !strings.Contains(p, "sign in again with it")) {
			t.Error("adam, who has 2FA on, is not told to sign in with it")
		}
	}
	// vic's profile is still his: he turns 2FA on there, and is let in once he signs
	// in with it.
	p := w.get("vic", "/app/profile", 200)
	if !strings.Contains(p, `id="accounts-refused"`) || !strings.Contains(p, "Two-factor authentication required") || !strings.Contains(p, `id="tfa-on"`) {
		t.Errorf("vic's profile:\n%s", p)
	}
	_, p = w.post("vic", "/app/profile", "/app/profile/two-factor", url.Values{"two_factor": {"on"}})
	if class, _ := flashOf(p); class != "flash-ok" || !w.profileOf("vic").TwoFactor || !strings.Contains(p, `id="tfa-state">on<`) {
		t.Errorf("vic turns 2FA on: %s", class)
	}
	w.get("vic", w.memberPath("vic"), 403)
	w.secondFactor["vic"] = true
	if p := w.get("vic", "/app/profile", 200); strings.Contains(p, "accounts-refused") || !strings.Contains(p, `data-account="Ann"`) {
		t.Error("vic, signed in with 2FA, does not see his accounts")
	}
	// What refuses him now is his level, not the policy.
	if p := w.get("vic", w.usersPath(w.acct), 403); strings.Contains(p, "D32") || !strings.Contains(p, `<span class="badge">D18</span>`) {
		t.Errorf("vic, signed in with 2FA, on User Management:\n%s", p)
	}
}

// My Profile turns two-factor authentication on and off (profile.SetTwoFactor), and
// says that the host keeps the authenticator.
func TestPagesProfileTwoFactor(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	page := w.get("vic", "/app/profile", 200)
	if !strings.Contains(page, `id="tfa-state">off<`) || !strings.Contains(page, "TOTP") || !strings.Contains(page, "not on this page") {
		t.Errorf("the section:\n%s", page)
	}
	_, page = w.post("vic", "/app/profile", "/app/profile/two-factor", url.Values{"two_factor": {"on"}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "is on") || !w.profileOf("vic").TwoFactor {
		t.Errorf("turning on: %s %q", class, text)
	}
	if !strings.Contains(page, `id="tfa-sign-in">did not pass your second factor<`) || !strings.Contains(page, `id="tfa-off"`) {
		t.Error("the page does not say this sign-in passed no second factor, or offers no way off")
	}
	_, page = w.post("vic", "/app/profile", "/app/profile/two-factor", url.Values{"two_factor": {"maybe"}})
	if class, _ := flashOf(page); class != "flash-error" || !w.profileOf("vic").TwoFactor {
		t.Errorf("an unknown value: %s", class)
	}
	_, page = w.post("vic", "/app/profile", "/app/profile/two-factor", url.Values{"two_factor": {"off"}})
	if class, _ := flashOf(page); class != "flash-ok" || w.profileOf("vic").TwoFactor {
		t.Errorf("turning off: %s", class)
	}
}

// A token gets an IP allowlist when created, and an edit form changes or clears it
// (SetTokenAllowlist); a malformed list is refused and changes nothing.
func TestPagesTokenAllowlist(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	tokens := w.tenantPath() + "/tokens"
	_, page := w.post("ann", "/app/profile", tokens, url.Values{"name": {"Deploys"}, "level": {"viewer"}, "ip_allowlist": {"203.0.113.0/24, 198.51.100.7"}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "2 address ranges only") {
		t.Fatalf("creating: %s %q", class, text)
	}
	m := secretRE.FindStringSubmatch(page)
	h, err := w.svc.Authenticate(context.Background(), m[1])
	if err != nil {
		t.Fatal(err)
	}
	ips := func() []string {
		for tk, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Tokens{Tenant: w.acct}) {
			if err != nil {
				t.Fatal(err)
			}
			if tk.ID == h.ID {
				var out []string
				for _, p := range tk.IPAllowlist {
					out = append(out, p.String())
				}
				slices.Sort(out)
				return out
			}
		}
		t.Fatal("the token is not listed")
		return nil
	}
	if got := ips(); !slices.Equal(got, []string{"198.51.100.7/32", "203.0.113.0/24"}) {
		t.Errorf("the token's list: %v", got)
	}
	row := regexp.MustCompile(`(?s)<tr data-token="Deploys">.*?</tr>`).FindString(page)
	if !strings.Contains(row, "<code class=\"chip\">203.0.113.0/24</code>") || !strings.Contains(row, "/tokens/"+h.ID+"/allowlist") {
		t.Errorf("the token's row: %s", row)
	}
	if strings.Contains(regexp.MustCompile(`(?s)<tr data-token="CI">.*?</tr>`).FindString(page), "<code class=\"chip\">") {
		t.Error("a token without a list shows one")
	}
	edit := tokens + "/" + h.ID + "/allowlist"
	_, page = w.post("ann", "/app/profile", edit, url.Values{"ip_allowlist": {"2001:db8::/32"}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "1 range") || !slices.Equal(ips(), []string{"2001:db8::/32"}) {
		t.Errorf("editing: %s %q %v", class, text, ips())
	}
	_, page = w.post("ann", "/app/profile", edit, url.Values{"ip_allowlist": {"2001:db8::/32\n300.1.2.3/8"}})
	if class, text := flashOf(page); class != "flash-error" || !strings.Contains(text, "300.1.2.3/8") || !slices.Equal(ips(), []string{"2001:db8::/32"}) {
		t.Errorf("a malformed list: %s %q %v", class, text, ips())
	}
	// Creating with a malformed list creates nothing.
	_, page = w.post("ann", "/app/profile", tokens, url.Values{"name": {"Bad"}, "level": {"viewer"}, "ip_allowlist": {"somewhere"}})
	if class, _ := flashOf(page); class != "flash-error" || strings.Contains(page, `data-token="Bad"`) {
		t.Errorf("a token with a malformed list: %s", class)
	}
	// Who may not manage the account's tokens changes nothing.
	_, page = w.post("vic", "/app/profile", edit, url.Values{"ip_allowlist": {""}})
	if class, _ := flashOf(page); class != "flash-error" || !slices.Equal(ips(), []string{"2001:db8::/32"}) {
		t.Errorf("vic edits a token's list: %s", class)
	}
	_, page = w.post("ann", "/app/profile", edit, url.Values{"ip_allowlist": {""}})
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "any address") || len(ips()) != 0 {
		t.Errorf("clearing: %s %q", class, text)
	}
}

// The security forms, the profile's two-factor form and a token's allowlist form
// refuse a post without the session's form token, and change nothing.
func TestPagesSecurityCSRF(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	w.setPlan("business")
	w.setTwoFactor("ann", true)
	w.secondFactor["ann"] = true
	tok, err := account.Do(context.Background(), w.svc, rbac.User(w.users["ann"]), account.CreateToken{Tenant: w.acct, Name: "Edge", Grants: []account.GrantSpec{{Scope: w.acct, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	vicToken := csrfOf(t, w.get("vic", "/app/profile", 200))
	before := w.policy()
	for _, tt := range []struct {
		path string
		form url.Values
	}{
		{w.securityPath() + "/two-factor", url.Values{"when": {"now"}}},
		{w.securityPath() + "/ip-allowlist", url.Values{"ip_allowlist": {"192.0.2.0/24"}}},
		{"/app/profile/two-factor", url.Values{"two_factor": {"off"}}},
		{w.tenantPath() + "/tokens/" + tok.ID + "/allowlist", url.Values{"ip_allowlist": {"192.0.2.0/24"}}},
	} {
		for _, token := range []string{"", vicToken} {
			f := url.Values{}
			for k, v := range tt.form {
				f[k] = v
			}
			if token != "" {
				f.Set("csrf", token)
			}
			if rec := w.do("ann", "POST", tt.path, f, nil); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "form") {
				t.Errorf("%s with token %q: %d", tt.path, token, rec.Code)
			}
		}
	}
	after := w.policy()
	if !after.Require2FA.Equal(before.Require2FA) || len(after.IPAllowlist) != 0 || !w.profileOf("ann").TwoFactor {
		t.Errorf("a refused form changed the policy or the profile: %+v", after)
	}
	for tk, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Tokens{Tenant: w.acct}) {
		if err != nil {
			t.Fatal(err)
		}
		if len(tk.IPAllowlist) != 0 {
			t.Errorf("the token %s got a list", tk.Name)
		}
	}
}

// htmlEscape is s as html/template writes it in text.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", "<", "&lt;", ">", "&gt;", `"`, "&#34;").Replace(s)
}

// An organization has its Security tab too; its sub-accounts' tabs show the
// organization's policy, which reaches them, and the plan is the organization's.
func TestPagesSecurityOrganization(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	ann := rbac.User(w.users["ann"])
	org, err := account.Do(annAuth(), w.svc, ann, account.CreateOrganization{Name: "Group", Plan: "business"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := account.Do(annAuth(), w.svc, ann, account.CreateSubAccount{Org: org.Ref, Name: "Group EU"})
	if err != nil {
		t.Fatal(err)
	}
	w.setTwoFactor("ann", true)
	w.secondFactor["ann"] = true
	orgPath := "/app/organizations/" + org.Ref.ID + "/security"
	if p := w.get("ann", orgPath, 200); !strings.Contains(p, "and of its sub-accounts") || strings.Contains(p, `id="plan-note"`) {
		t.Errorf("the organization's tab:\n%s", p)
	}
	_, page := w.post("ann", orgPath, orgPath+"/ip-allowlist", url.Values{"ip_allowlist": {"192.0.2.0/24"}})
	if class, text := flashOf(page); class != "flash-ok" {
		t.Fatalf("saving the organization's list: %s %q", class, text)
	}
	subPath := "/app/accounts/" + sub.Ref.ID + "/security"
	p := w.get("ann", subPath, 200)
	if !strings.Contains(p, `id="org-ips"`) || !strings.Contains(p, "<code>192.0.2.0/24</code>") || strings.Contains(p, `id="plan-note"`) {
		t.Errorf("the sub-account's tab:\n%s", p)
	}
	// The organization's list reaches the sub-account.
	w.addr["ann"] = "198.51.100.9:4000"
	if p := w.get("ann", subPath, 403); !strings.Contains(p, "Your address is not allowed") {
		t.Errorf("the sub-account from outside the organization's list:\n%s", p)
	}
}

// With single sign-on enforced on the account's domain, a member who signed in
// otherwise gets the D33 refusal page, saying to sign in through the identity provider.
func TestPagesSSORefusal(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	w.setPlan("business")
	w.setTwoFactor("ann", true)
	ann := rbac.User(w.users["ann"])
	if _, err := account.Do(annAuth(), w.svc, ann, account.VerifyDomain{Tenant: w.acct, Domain: "acme.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := account.Do(annAuth(), w.svc, ann, account.CreateSSOConnection{Tenant: w.acct, Name: "Okta", Enforce: true}); err != nil {
		t.Fatal(err)
	}
	rec := w.do("adam", "GET", w.usersPath(w.acct), nil, nil)
	body := rec.Body.String()
	if rec.Code != http.StatusForbidden || !strings.Contains(body, "Single sign-on required") || !strings.Contains(body, `<span class="badge">D33</span>`) {
		t.Fatalf("adam, signed in without SSO: %d\n%s", rec.Code, body)
	}
}
