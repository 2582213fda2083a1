package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/web"
)

// chromium returns the path of a Chromium to drive: the test fails without one on
// CI, and skips elsewhere.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is missing: install Debian's package chromium (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed; the browser tests need it")
	return ""
}

// browserWorld is the example service on its demo data, served to a headless
// Chromium.
type browserWorld struct {
	t       *testing.T
	svc     *account.Service
	fx      Fixture
	url     string
	browser context.Context
	eu      rbac.Ref // the demo's account Demo EU
	shots   string   // the directory screenshots go to, or ""
}

func newBrowserWorld(t *testing.T) *browserWorld {
	exe := chromium(t)
	ctx := context.Background()
	w := &browserWorld{t: t, svc: account.New(memstore.New(), account.Options{NewID: api.NewID}), shots: screenshotDir(t)}
	sessions := api.NewSessions()
	fx, err := buildDemo(ctx, w.svc, sessions)
	if err != nil {
		t.Fatal(err)
	}
	w.fx, w.eu = fx, rbac.Account(string(fx.Accounts[0].ID))
	// omar views inbox Production of Demo EU only: the Staging admin must not see him.
	olivia := rbac.User(string(fx.Users[0].ID))
	production := rbac.Inbox(string(fx.Accounts[0].Projects[0].Inboxes[1].ID))
	u, err := account.Do(ctx, w.svc, rbac.Holder{}, profile.Register{Email: "omar@demo.test", Name: "Omar"})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := account.Do(ctx, w.svc, olivia, account.Invite{Tenant: w.eu, Email: "omar@demo.test", Grants: []account.GrantSpec{{Scope: production, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := account.Do(ctx, w.svc, rbac.User(u.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewServer(newHandler(w.svc, handlerConfig{
		logger: slog.New(slog.DiscardHandler), sessions: sessions, web: web.Options{NoRateLimit: true}, demoUser: "olivia@demo.test",
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 900), chromedp.Flag("hide-scrollbars", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	w.browser = browser
	return w
}

// tab is a browser tab with a cookie jar of its own, signed in as one demo user,
// that records its console.
type tab struct {
	t        *testing.T
	w        *browserWorld
	ctx      context.Context
	mu       sync.Mutex
	console  []chromedp.ConsoleMessage
	expected map[string]bool // URLs answered with an error status on purpose
	done     chan struct{}
}

// signIn opens a tab signed in as email through the demo's sign-in route ("" signs
// in as -demo-user by opening the pages without a session), on the page path.
func (w *browserWorld) signIn(t *testing.T, email, path string) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(w.browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, 40*time.Second)
	tb := &tab{t: t, w: w, ctx: ctx, expected: map[string]bool{}, done: make(chan struct{})}
	msgs := chromedp.Console(ctx)
	go func() {
		defer close(tb.done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m)
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		tb.checkConsole()
		cancelTimeout()
		cancel()
		<-tb.done
	})
	if email == "" {
		tb.open(path)
	} else {
		tb.open("/demo/sign-in?as=" + email + "&next=" + path)
	}
	return tb
}

// checkConsole fails the test on any error or warning of the console: a script
// error, a policy violation, a resource that failed to load (but a page answered
// with an error status on purpose).
func (tb *tab) checkConsole() {
	tb.t.Helper()
	_ = chromedp.Do(tb.ctx, chromedp.Sleep(50*time.Millisecond)) // let late messages arrive
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range tb.console {
		if m.Source == "network" && tb.expected[m.URL] {
			continue
		}
		switch m.Type {
		case chromedp.ConsoleType("error"), chromedp.ConsoleType("warning"), chromedp.ConsoleType("assert"), chromedp.ConsoleException:
			tb.t.Errorf("console %s (%s) at %s: %s", m.Type, m.Source, m.URL, m.Text)
		}
	}
}

// do runs actions, failing the test on error.
func (tb *tab) do(actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, actions...); err != nil {
		tb.t.Fatalf("browser: %v", err)
	}
}

// open navigates to path and waits for the page.
func (tb *tab) open(path string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate(tb.w.url+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// openRefused navigates to a page expected to answer with an error status.
func (tb *tab) openRefused(path string) {
	tb.t.Helper()
	tb.mu.Lock()
	tb.expected[tb.w.url+path] = true
	tb.mu.Unlock()
	tb.open(path)
}

// submit clicks a form's button and waits for the page the form leads to.
func (tb *tab) submit(button chromedp.CSS) {
	tb.t.Helper()
	if _, err := chromedp.Run(tb.ctx, chromedp.WaitEvent(page.LoadEventFired, nil, chromedp.Click(button))); err != nil {
		tb.t.Fatalf("submitting %s: %v", button, err)
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// text returns the text of the first element that matches sel, or "".
func (tb *tab) text(sel string) string {
	return eval[string](tb, fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel))
}

// people returns the addresses of User Management's people table.
func (tb *tab) people() []string {
	got := eval[[]string](tb, `[...document.querySelectorAll("#people tbody tr[data-email]")].map(r => r.dataset.email)`)
	slices.Sort(got)
	return got
}

// checkAccessible checks the page's basics, with every disclosure (details) opened:
// every form control has a label, no positive tabindex, every interactive element is
// a real link or control, and each of them is reached with the Tab key.
func (tb *tab) checkAccessible(name string) {
	tb.t.Helper()
	problems := eval[[]string](tb, `(() => {
		document.querySelectorAll("details").forEach(d => { d.open = true; });
		const out = [];
		const label = el => (el.labels && [...el.labels].some(l => l.innerText.trim())) ||
			(el.getAttribute("aria-label") || "").trim() ||
			(el.getAttribute("aria-labelledby") || "").split(" ").some(id => document.getElementById(id)) ||
			(el.tagName === "BUTTON" && el.innerText.trim());
		for (const el of document.querySelectorAll("input, select, textarea, button")) {
			if (el.type === "hidden") continue;
			if (!label(el)) out.push("no label: " + el.outerHTML.slice(0, 120));
		}
		for (const el of document.querySelectorAll("[tabindex]")) {
			if (el.tabIndex > 0) out.push("positive tabindex: " + el.outerHTML.slice(0, 120));
		}
		for (const el of document.querySelectorAll("[onclick], [role=button], [role=link], a:not([href])")) {
			out.push("not a real link or button: " + el.outerHTML.slice(0, 120));
		}
		return out;
	})()`)
	for _, p := range problems {
		tb.t.Errorf("%s: %s", name, p)
	}
	// Walk the page with Tab: every visible link and control is reached.
	want := eval[int](tb, `(() => {
		document.activeElement && document.activeElement.blur();
		window.__reached = new Set();
		document.addEventListener("focusin", e => window.__reached.add(e.target));
		// A date input takes three stops: its day, month and year.
		return [...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")].filter(el => el.offsetParent !== null && !el.disabled)
			.reduce((n, el) => n + (el.type === "date" ? 3 : 1), 0);
	})()`)
	for range want + 2 {
		tb.do(chromedp.KeyEvent("\t"))
	}
	missed := eval[[]string](tb, `[...document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary")]
		.filter(el => el.offsetParent !== null && !el.disabled && !window.__reached.has(el)).map(el => el.outerHTML.slice(0, 100))`)
	for _, m := range missed {
		tb.t.Errorf("%s: not reached with Tab: %s", name, m)
	}
}

// screenshot saves the page as a PNG when TENANTRY_SCREENSHOTS names a directory.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	if tb.w.shots == "" {
		return
	}
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	if err := os.MkdirAll(tb.w.shots, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tb.w.shots, name), png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

// screenshotDir is the directory TENANTRY_SCREENSHOTS names, relative to the
// module's root (where go.mod is), or "" when it is not set.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("TENANTRY_SCREENSHOTS")
	if dir == "" || filepath.IsAbs(dir) {
		return dir
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			return filepath.Join(root, dir)
		}
		parent := filepath.Dir(root)
		if parent == root {
			t.Fatal("no go.mod above the test's directory")
		}
		root = parent
	}
}

func (w *browserWorld) usersPath(ref rbac.Ref) string {
	return pagesPrefix + "/accounts/" + ref.ID + "/users"
}

// The pages in a real browser, on the example's demo data.
func TestBrowser(t *testing.T) {
	w := newBrowserWorld(t)
	euUsers := w.usersPath(w.eu)

	t.Run("OwnerPages", func(t *testing.T) {
		// Without a session, the pages send the browser to the demo's sign-in, which
		// signs it in as -demo-user.
		tb := w.signIn(t, "", pagesPrefix+"/")
		if got := tb.text("header .me"); got != "olivia@demo.test" {
			t.Fatalf("signed in as %q", got)
		}
		if n := eval[int](tb, `document.querySelectorAll("#accounts tbody tr[data-account]").length`); n != 4 {
			t.Errorf("olivia's accounts: %d, want 4", n)
		}
		tb.screenshot("my-profile.png")
		tb.checkAccessible("My Profile")
		tb.open(euUsers)
		want := []string{"adam@demo.test", "ines@demo.test", "olivia@demo.test", "omar@demo.test", "pia@demo.test"}
		if got := tb.people(); !slices.Equal(got, want) {
			t.Errorf("olivia sees %v, want %v", got, want)
		}
		tb.screenshot("user-management.png")
		tb.checkAccessible("User Management")
		tb.open(euUsers + "?inbox=" + string(w.fx.Accounts[0].Projects[0].Inboxes[0].ID))
		if got := tb.people(); slices.Contains(got, "omar@demo.test") || !slices.Contains(got, "ines@demo.test") {
			t.Errorf("filtered by Staging: %v", got)
		}
		tb.open(pagesPrefix + "/accounts/" + w.eu.ID + "/audit")
		if n := eval[int](tb, `document.querySelectorAll("td.num").length`); n == 0 {
			t.Error("the audit log is empty")
		}
		tb.checkAccessible("Audit log")
	})

	t.Run("InboxAdminSeesTheirInboxOnly", func(t *testing.T) {
		tb := w.signIn(t, "ines@demo.test", euUsers)
		// Staging is reached by the owner, the account admin, the project's viewer and
		// its admin; omar holds Production only.
		want := []string{"adam@demo.test", "ines@demo.test", "olivia@demo.test", "pia@demo.test"}
		if got := tb.people(); !slices.Equal(got, want) {
			t.Errorf("ines sees %v, want %v", got, want)
		}
		if strings.Contains(tb.text("main"), "omar") || tb.text("#invite-note") == "" || tb.text("#seats") != "" {
			t.Error("ines's page mentions omar, lacks the note on inviting, or shows the account's seats")
		}
		tb.checkAccessible("User Management, inbox admin")
	})

	t.Run("ViewerSeesNoAdminActions", func(t *testing.T) {
		tb := w.signIn(t, "pia@demo.test", pagesPrefix+"/profile")
		row := `#accounts tr[data-account="Demo EU"]`
		if got := tb.text(row); got == "" || strings.Contains(got, "Users") || strings.Contains(got, "Audit log") || !strings.Contains(got, "Leave") {
			t.Errorf("pia's row of Demo EU: %q", got)
		}
		if tb.text("#tokens h3") == "Demo EU" || strings.Contains(tb.text("#tokens"), "Demo EU") {
			t.Error("pia is offered Demo EU's tokens")
		}
		tb.openRefused(euUsers)
		reason := tb.text("#error-reason")
		if !strings.Contains(reason, "denied: members.list") || !strings.Contains(tb.text("h1"), "403") {
			t.Errorf("pia's refusal: %q, %q", tb.text("h1"), reason)
		}
		if n := eval[int](tb, `document.querySelectorAll("main form").length`); n != 0 {
			t.Errorf("%d forms on a refused page", n)
		}
		tb.checkAccessible("a refusal")
	})

	t.Run("RefusalShowsItsReason", func(t *testing.T) {
		// Demo EU is a sub-account: its ownership moves only with its organization's.
		adam := "user:" + string(w.fx.Users[1].ID)
		tb := w.signIn(t, "olivia@demo.test", pagesPrefix+"/accounts/"+w.eu.ID+"/members/"+adam)
		_, want := web.Status(func() error {
			_, err := account.Do(context.Background(), w.svc, rbac.User(string(w.fx.Users[0].ID)), account.TransferOwnership{Account: w.eu, To: rbac.User(string(w.fx.Users[1].ID))})
			return err
		}())
		if want.Rule == "" {
			t.Fatal("the library allowed the transfer of a sub-account")
		}
		tb.submit(`.danger-zone form[action$="/transfer"] button`)
		flash := tb.text(".flash-error")
		reason := strings.TrimSuffix(want.Reason, " ("+string(want.Rule)+": "+want.Rule.Text()+")")
		if !strings.Contains(flash, "Refused (403)") || !strings.Contains(flash, reason) || tb.text(".flash-error .rule .badge") != string(want.Rule) || !strings.Contains(flash, want.Rule.Text()) {
			t.Errorf("the refusal shows %q, want the reason %q and rule %s", flash, reason, want.Rule)
		}
		a, err := account.Get(context.Background(), w.svc, rbac.User(string(w.fx.Users[0].ID)), account.Account{Account: w.eu})
		if err != nil || a.Owner != string(w.fx.Users[0].ID) {
			t.Errorf("the owner changed: %v %v", a.Owner, err)
		}
		tb.checkAccessible("a member's permissions")
	})

	t.Run("InviteAcceptEditRemove", func(t *testing.T) {
		owner := w.signIn(t, "olivia@demo.test", euUsers)
		seats := func() string { return owner.text("#seats") }
		before := seats()
		proj := w.fx.Accounts[0].Projects[0]
		staging := rbac.Inbox(string(proj.Inboxes[0].ID))
		owner.do(chromedp.SendKeys(chromedp.CSS("#invite-email"), "bob@demo.test"),
			chromedp.SetValue(chromedp.CSS(`select[name="lvl_project:`+string(proj.ID)+`"]`), "viewer"))
		owner.submit(`#invite button[type=submit]`)
		link := owner.text("#flash-link")
		if !strings.HasPrefix(link, pagesPrefix+"/invitations/") || owner.text("#flash-secret") == "" {
			t.Fatalf("no invitation link shown: %q", owner.text(".flash"))
		}
		if got := eval[[]string](owner, `[...document.querySelectorAll("#invitations tr[data-email]")].map(r => r.dataset.email)`); !slices.Contains(got, "bob@demo.test") {
			t.Errorf("pending invitations %v", got)
		}
		if seats() == before {
			t.Errorf("seats did not count the invitation: %s", seats())
		}
		withBob := seats()

		// bob registers (the host's business) and opens the link he was mailed.
		if _, err := account.Do(context.Background(), w.svc, rbac.Holder{}, profile.Register{Email: "bob@demo.test", Name: "Bob"}); err != nil {
			t.Fatal(err)
		}
		bob := w.signIn(t, "bob@demo.test", link)
		bob.checkAccessible("accepting an invitation")
		bob.submit(`form[action$="/accept"] button`)
		if !strings.Contains(bob.text(".flash-ok"), "accepted") || bob.text(`#accounts tr[data-account="Demo EU"]`) == "" {
			t.Fatalf("bob did not join: %q", bob.text("main"))
		}

		// olivia makes bob admin of Staging instead of viewer of the project.
		owner.open(euUsers)
		if got := owner.people(); !slices.Contains(got, "bob@demo.test") || seats() != withBob {
			t.Errorf("after accepting: %v, seats %s (was %s)", got, seats(), withBob)
		}
		owner.submit(`#people tr[data-email="bob@demo.test"] a.button`)
		owner.do(chromedp.SetValue(chromedp.CSS(`select[name="lvl_project:`+string(proj.ID)+`"]`), "none"),
			chromedp.SetValue(chromedp.CSS(`select[name="lvl_`+staging.String()+`"]`), "admin"))
		owner.submit(`button[form=perms]`)
		row := `tr[data-scope="` + staging.String() + `"]`
		if !strings.Contains(owner.text(".flash-ok"), "saved") || owner.text(row+" .level") != "admin" || owner.text(row+" td:nth-child(3)") != "own grant" {
			t.Errorf("after saving: %q; Staging: %q from %q", owner.text(".flash"), owner.text(row+" .level"), owner.text(row+" td:nth-child(3)"))
		}
		if got := owner.text(`tr[data-scope="` + rbac.Project(string(proj.ID)).String() + `"] .level`); got != "none" {
			t.Errorf("bob's level on the project: %q", got)
		}
		// Removed from the inbox, he stays in the account and counts to seats.
		owner.submit(chromedp.CSS(row + ` form[action$="/remove-from"] button`))
		if !strings.Contains(owner.text(".flash-ok"), "still a member") || owner.text(row+" .level") != "none" {
			t.Errorf("after removing from Staging: %q", owner.text(".flash"))
		}
		owner.open(euUsers)
		if got := owner.people(); !slices.Contains(got, "bob@demo.test") || seats() != withBob {
			t.Errorf("after removing from the inbox: %v, seats %s (want %s)", got, seats(), withBob)
		}
	})

	t.Run("InviteLinkJoin", func(t *testing.T) {
		// olivia makes a viewer link to Demo EU (the tenant is chosen by default).
		owner := w.signIn(t, "olivia@demo.test", euUsers)
		owner.submit(`#new-link button[type=submit]`)
		link := owner.text("#flash-link")
		if !strings.HasPrefix(link, pagesPrefix+"/join/") || owner.text("#flash-secret") == "" {
			t.Fatalf("no invite link shown: %q", owner.text(".flash"))
		}
		joined := func() []string {
			return eval[[]string](owner, `[...document.querySelectorAll("#invite-links tbody tr")].map(r => r.querySelector(".joined").innerText + " " + r.querySelector(".state").innerText)`)
		}
		if got := joined(); !slices.Equal(got, []string{"0 enabled"}) {
			t.Errorf("the links: %v", got)
		}
		owner.screenshot("invite-links.png")
		owner.checkAccessible("User Management with an invite link")

		// nina signs up (the host's business) and opens the link she was given.
		if _, err := account.Do(context.Background(), w.svc, rbac.Holder{}, profile.Register{Email: "nina@demo.test", Name: "Nina"}); err != nil {
			t.Fatal(err)
		}
		nina := w.signIn(t, "nina@demo.test", link)
		nina.checkAccessible("joining through an invite link")
		nina.submit(`#join button[type=submit]`)
		if !strings.Contains(nina.text(".flash-ok"), "You joined Demo EU") || nina.text(`#accounts tr[data-account="Demo EU"]`) == "" {
			t.Fatalf("nina did not join: %q", nina.text("main"))
		}

		// olivia sees her listed, and the link's count.
		owner.open(euUsers)
		if got := owner.people(); !slices.Contains(got, "nina@demo.test") {
			t.Errorf("after joining: %v", got)
		}
		if got := owner.text(`#people tr[data-email="nina@demo.test"] .last-active`); got != "just now" {
			t.Errorf("nina's last activity: %q", got)
		}
		if got := joined(); !slices.Equal(got, []string{"1 enabled"}) {
			t.Errorf("the links after joining: %v", got)
		}
	})

	t.Run("RequireTwoFactor", func(t *testing.T) {
		olivia := rbac.User(string(w.fx.Users[0].ID))
		t.Cleanup(func() {
			// The requirement ends with the journey, as the owner signed in with 2FA.
			ctx := account.WithAuth(context.Background(), rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("127.0.0.1")})
			if _, err := account.Do(ctx, w.svc, olivia, account.SetSecurityPolicy{Tenant: w.eu}); err != nil {
				t.Error(err)
			}
		})
		// olivia turns two-factor authentication on: the demo's sessions then pass a
		// second factor, as her profile says.
		owner := w.signIn(t, "olivia@demo.test", pagesPrefix+"/profile")
		owner.submit(`#tfa-on`)
		if got := owner.text("#tfa-state"); got != "on" || !strings.Contains(owner.text(".flash-ok"), "is on") {
			t.Fatalf("olivia's 2FA: %q, %q", got, owner.text(".flash"))
		}
		security := pagesPrefix + "/accounts/" + w.eu.ID + "/security"
		owner.open(euUsers)
		owner.submit(chromedp.CSS(`nav.tabs a[href="` + security + `"]`))
		if got := owner.text("#my-sign-in"); got != "passed a second factor" {
			t.Errorf("olivia's sign-in: %q", got)
		}
		if got := owner.text("#my-ip"); got != "127.0.0.1" {
			t.Errorf("olivia's address: %q", got)
		}
		owner.checkAccessible("Security")
		owner.submit(`#tfa-form button[value=now]`)
		if !strings.Contains(owner.text(".flash-ok"), "required from now on") || !strings.Contains(owner.text("#tfa-state"), "required") {
			t.Fatalf("requiring 2FA: %q; %q", owner.text(".flash"), owner.text("#tfa-state"))
		}
		owner.screenshot("security.png")

		// pia has no second factor: every page of Demo EU refuses her, saying why and
		// what to do; her profile, where she turns 2FA on, stays open.
		pia := w.signIn(t, "pia@demo.test", pagesPrefix+"/profile")
		if pia.text("#tfa-on") == "" {
			t.Errorf("pia's profile: %q", pia.text("#two-factor"))
		}
		pia.openRefused(euUsers)
		if got := pia.text("main h1"); !strings.HasPrefix(got, "Two-factor authentication required") || !strings.Contains(got, "403") {
			t.Errorf("pia's refusal: %q", got)
		}
		if help := pia.text("#error-help"); !strings.Contains(help, "Turn two-factor authentication on in My Profile") {
			t.Errorf("pia's refusal says %q", help)
		}
		if got := pia.text(".rule .badge"); got != string(rbac.RuleRequire2FA) || !strings.Contains(pia.text("#error-reason"), "sign in with a second factor") {
			t.Errorf("pia's refusal cites %q: %q", got, pia.text("#error-reason"))
		}
		if n := eval[int](pia, `document.querySelectorAll("main form").length`); n != 0 {
			t.Errorf("%d forms on a refused page", n)
		}
		pia.screenshot("refusal-2fa.png")
		pia.checkAccessible("a refusal for 2FA")
	})
}
