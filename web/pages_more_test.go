package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
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

// flashOf returns the class ("flash-ok", "flash-error") and the unescaped text of
// the page's flash message, or "" when there is none.
func flashOf(page string) (class, text string) {
	m := flashRE.FindStringSubmatch(page)
	if m == nil {
		return "", ""
	}
	return m[1], html.UnescapeString(m[2] + " " + m[3])
}

func (w *pagesWorld) tenantPath() string { return strings.TrimSuffix(w.usersPath(w.acct), "/users") }

// register makes a user with the address name@acme.test, known to the world as name.
func (w *pagesWorld) register(name string) {
	w.t.Helper()
	u, err := account.Do(context.Background(), w.svc, rbac.Holder{}, profile.Register{Email: name + "@acme.test"})
	if err != nil {
		w.t.Fatal(err)
	}
	w.users[name] = u.User.ID
}

// invitationsByEmail returns the account's invitations, as the library lists them.
func (w *pagesWorld) invitationsByEmail() map[string]account.Access {
	w.t.Helper()
	out := map[string]account.Access{}
	for a, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Members{Tenant: w.acct}) {
		if err != nil {
			w.t.Fatal(err)
		}
		if a.Holder.Kind == rbac.HolderInvite {
			out[a.Email()] = a
		}
	}
	return out
}

// isMember reports whether the named user is a member of the account.
func (w *pagesWorld) isMember(name string) bool {
	w.t.Helper()
	return slices.Contains(listed(w.get("ann", w.usersPath(w.acct), 200)), name+"@acme.test")
}

// links returns the account's invite links, as the library lists them.
func (w *pagesWorld) links() []store.InviteLink {
	w.t.Helper()
	var out []store.InviteLink
	for l, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.InviteLinks{Tenant: w.acct}) {
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, l)
	}
	return out
}

// invitationRow returns the row of the address in the pending invitations' table.
func invitationRow(page, email string) string {
	return regexp.MustCompile(`(?s)<tr data-email="` + regexp.QuoteMeta(email) + `"[^>]*>.*?</tr>`).FindString(page)
}

// An invitation shows its expiry; once expired it is marked so, holds no seat, and
// its acceptance is refused with the reason; resending gives it a new link, and the
// earlier one stops working. Its addressee may decline it.
func TestPagesInvitationExpiryResendDecline(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	users := w.usersPath(w.acct)
	_, page := w.post("ann", users, w.tenantPath()+"/invitations", url.Values{"email": {"bob@acme.test"}, "lvl_" + w.proj.String(): {"viewer"}, "expires_in": {"1"}})
	old := linkRE.FindStringSubmatch(page)
	if old == nil {
		t.Fatalf("no link shown:\n%s", page)
	}
	oldLink := html.UnescapeString(old[1])
	inv := w.invitationsByEmail()["bob@acme.test"]
	if got := inv.Invitation.Expires.Sub(w.now()); got != 24*time.Hour {
		t.Errorf("the invitation expires in %v, want a day", got)
	}
	row := invitationRow(w.get("ann", users, 200), "bob@acme.test")
	if !strings.Contains(row, "in 24 hours") || strings.Contains(row, "expired") || !strings.Contains(row, "Resend") || !strings.Contains(row, "Revoke") {
		t.Errorf("the pending invitation's row: %s", row)
	}
	w.register("bob")
	seats := func() int {
		s, err := account.Get(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Seats{Tenant: w.acct})
		if err != nil {
			t.Fatal(err)
		}
		return s.Used
	}
	before := seats()

	w.advance(25 * time.Hour)
	page = w.get("ann", users, 200)
	row = invitationRow(page, "bob@acme.test")
	if !strings.Contains(row, "data-expired") || !strings.Contains(row, `badge-warn">expired<`) || !strings.Contains(row, "Resend") {
		t.Errorf("the expired invitation's row: %s", row)
	}
	if seats() != before-1 || !strings.Contains(page, fmt.Sprintf(`id="seats">%d of 20`, before-1)) {
		t.Errorf("the expired invitation still holds a seat: %d, was %d", seats(), before)
	}
	// Its addressee sees it expired; another user, or a wrong code, sees nothing.
	p := w.get("bob", oldLink, 200)
	if !strings.Contains(p, `id="inv-expired"`) || !strings.Contains(p, "ask for it to be resent") || strings.Contains(p, "/accept") {
		t.Errorf("the expired invitation's page:\n%s", p)
	}
	path, _, _ := strings.Cut(oldLink, "?")
	missing := w.get("bob", w.prefix+"/invitations/nope?code=x", 404)
	if got := w.get("vic", oldLink, 404); got != strings.ReplaceAll(missing, "bob@acme.test", "vic@acme.test") {
		t.Error("another user's view of the expired invitation differs from a missing one's")
	}
	if w.get("bob", path+"?code=wrong", 404) != missing {
		t.Error("a wrong code answers unlike a missing invitation")
	}
	// Accepting it is refused with the reason.
	u, err := url.Parse(oldLink)
	if err != nil {
		t.Fatal(err)
	}
	code := url.Values{"code": {u.Query().Get("code")}}
	_, p = w.post("bob", "/app/profile", path+"/accept", code)
	if class, text := flashOf(p); class != "flash-error" || !strings.Contains(text, "Refused (422)") || !strings.Contains(text, "ask for it to be resent") {
		t.Errorf("accepting the expired invitation: %s %q", class, text)
	}
	if w.isMember("bob") {
		t.Fatal("bob joined through an expired invitation")
	}

	// Resending: a new link, shown once; the earlier one stops working.
	_, page = w.post("ann", users, w.tenantPath()+"/invitations/"+inv.Invitation.ID+"/resend", nil)
	fresh, secret := linkRE.FindStringSubmatch(page), secretRE.FindStringSubmatch(page)
	if fresh == nil || secret == nil || html.UnescapeString(fresh[1]) == oldLink {
		t.Fatalf("resending shows no new link:\n%s", page)
	}
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "no longer works") {
		t.Errorf("resending: %s %q", class, text)
	}
	if row := invitationRow(page, "bob@acme.test"); strings.Contains(row, "data-expired") || seats() != before {
		t.Errorf("the resent invitation is still expired, or takes no seat: %s", row)
	}
	if strings.Contains(w.get("ann", users, 200), secret[1]) {
		t.Error("the new secret is shown twice")
	}
	_, p = w.post("bob", "/app/profile", path+"/accept", code)
	if class, text := flashOf(p); class != "flash-error" || !strings.Contains(text, "(404)") {
		t.Errorf("the earlier code after resending: %s %q", class, text)
	}
	_, p = w.post("bob", html.UnescapeString(fresh[1]), path+"/accept", url.Values{"code": {secret[1]}})
	if class, _ := flashOf(p); class != "flash-ok" || !w.isMember("bob") {
		t.Fatalf("accepting with the new code: %s\n%s", class, p)
	}

	// carl declines his invitation from its page, which offers both.
	_, page = w.post("ann", users, w.tenantPath()+"/invitations", url.Values{"email": {"carl@acme.test"}, "lvl_" + w.proj.String(): {"viewer"}})
	w.register("carl")
	link, carlSecret := html.UnescapeString(linkRE.FindStringSubmatch(page)[1]), secretRE.FindStringSubmatch(page)[1]
	p = w.get("carl", link, 200)
	if !strings.Contains(p, "/accept") || !strings.Contains(p, "/decline") || !strings.Contains(p, "expires in 7 days") {
		t.Errorf("the invitation's page lacks accept, decline or its expiry:\n%s", p)
	}
	path, _, _ = strings.Cut(link, "?")
	if _, p := w.post("carl", link, path+"/decline", url.Values{"code": {"wrong"}}); !strings.Contains(p, "flash-error") {
		t.Error("declining with a wrong code was not refused")
	}
	if _, ok := w.invitationsByEmail()["carl@acme.test"]; !ok {
		t.Fatal("a refused decline removed the invitation")
	}
	if _, p := w.post("carl", link, path+"/decline", url.Values{"code": {carlSecret}}); !strings.Contains(p, "flash-ok") {
		t.Errorf("declining:\n%s", p)
	}
	if _, ok := w.invitationsByEmail()["carl@acme.test"]; ok || w.isMember("carl") {
		t.Error("the declined invitation is still pending, or carl joined")
	}
}

// Several addresses are invited at once, all or nothing: a refusal names the address
// and makes no invitation. Links too many for the flash cookie are shown by the page
// that answers the form.
func TestPagesBulkInvite(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	users := w.usersPath(w.acct)
	invite := w.tenantPath() + "/invitations"
	form := func(emails string) url.Values {
		return url.Values{"email": {emails}, "lvl_" + w.proj.String(): {"viewer"}, "expires_in": {"3"}}
	}
	_, page := w.post("ann", users, invite, form("a1@bulk.test, a2@bulk.test\r\na3@bulk.test;\n"))
	if class, text := flashOf(page); class != "flash-ok" || !strings.Contains(text, "3 invitations created") {
		t.Fatalf("inviting three: %s %q", class, text)
	}
	items := regexp.MustCompile(`<li><span class="email">([^<]+)</span> <code>([^<]+)</code></li>`).FindAllStringSubmatch(page, -1)
	if len(items) != 3 {
		t.Fatalf("%d links shown, want 3", len(items))
	}
	invs := w.invitationsByEmail()
	for _, it := range items {
		inv, ok := invs[it[1]]
		if !ok || !strings.HasPrefix(html.UnescapeString(it[2]), w.prefix+"/invitations/"+inv.Invitation.ID+"?code=") {
			t.Errorf("the link of %s: %s", it[1], it[2])
		}
		if got := inv.Invitation.Expires.Sub(w.now()); got != 72*time.Hour {
			t.Errorf("%s expires in %v, want 3 days", it[1], got)
		}
	}
	if strings.Contains(w.get("ann", users, 200), "flash-links") {
		t.Error("the links are shown twice")
	}
	// All or nothing: a member's address refuses the batch, and names itself.
	before := w.pendingInvitations()
	for _, tt := range []struct{ emails, refused string }{
		{"b1@bulk.test, vic@acme.test, b2@bulk.test", "vic@acme.test"},
		{"b1@bulk.test\nnot-an-address", "not-an-address"},
		{"b1@bulk.test, a2@bulk.test", "a2@bulk.test"},
	} {
		_, page := w.post("ann", users, invite, form(tt.emails))
		if class, text := flashOf(page); class != "flash-error" || !strings.Contains(text, tt.refused+" was refused") || !strings.Contains(text, "No invitation was sent") {
			t.Errorf("%q: %s %q", tt.emails, class, text)
		}
		if n := w.pendingInvitations(); n != before {
			t.Errorf("%q: %d invitations, want %d", tt.emails, n, before)
		}
	}
	// The seats count the whole batch: 8 in use of 20, and 13 more do not fit.
	var many []string
	for i := range 13 {
		many = append(many, fmt.Sprintf("c%d@bulk.test", i))
	}
	_, page = w.post("ann", users, invite, form(strings.Join(many, ",")))
	if class, text := flashOf(page); class != "flash-error" || !strings.Contains(text, "seat") || !strings.Contains(text, "was refused") {
		t.Errorf("over the seats: %s %q", class, text)
	}
	if n := w.pendingInvitations(); n != before {
		t.Errorf("over the seats: %d invitations, want %d", n, before)
	}
	// On a plan with more seats, 45 links do not fit in a cookie: the answer is the
	// page itself, with every link, and no cookie holds them.
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users["ann"]), account.SetPlan{Account: w.acct, Plan: "business"}); err != nil {
		t.Fatal(err)
	}
	many = many[:0]
	for i := range 45 {
		many = append(many, fmt.Sprintf("d%d@bulk.test", i))
	}
	f := form(strings.Join(many, "\n"))
	f.Set("csrf", csrfOf(t, w.get("ann", users, 200)))
	rec := w.do("ann", "POST", invite, f, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("45 invitations: %d, want the page itself", rec.Code)
	}
	if n := strings.Count(rec.Body.String(), `<li><span class="email">`); n != 45 || !strings.Contains(rec.Body.String(), `id="people"`) {
		t.Errorf("the answer shows %d links, want 45 on the users page", n)
	}
	if w.lastFlash != nil {
		t.Error("a flash cookie was set")
	}
	if n := w.pendingInvitations(); n != before+45 {
		t.Errorf("%d invitations, want %d", n, before+45)
	}
}

// An admin creates an invite link; a signed-in user joins through it; it is disabled,
// rotated and deleted; refusals show their reasons.
func TestPagesInviteLinks(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	users := w.usersPath(w.acct)
	if strings.Contains(w.get("ann", users, 200), `id="invite-links"`) || !strings.Contains(w.get("ann", users, 200), "No invite links") {
		t.Error("links are listed before any was made")
	}
	if strings.Contains(w.get("ines", users, 200), `id="links"`) {
		t.Error("an inbox admin is shown the invite links")
	}
	_, page := w.post("ann", users, w.tenantPath()+"/links", url.Values{"level": {"viewer"}, "scope": {w.proj.String(), w.alpha.String()}})
	m, secret := linkRE.FindStringSubmatch(page), secretRE.FindStringSubmatch(page)
	if m == nil || secret == nil {
		t.Fatalf("no link shown:\n%s", page)
	}
	link := html.UnescapeString(m[1])
	ls := w.links()
	if len(ls) != 1 || ls[0].Level != rbac.Viewer || len(ls[0].Scopes) != 2 || !slices.Contains(ls[0].Scopes, w.proj) || !slices.Contains(ls[0].Scopes, w.alpha) {
		t.Fatalf("the links: %+v", ls)
	}
	id := ls[0].ID
	if link != w.prefix+"/join/"+id+"?code="+url.QueryEscape(secret[1]) {
		t.Errorf("the link %s", link)
	}
	linkRow := func() string {
		return regexp.MustCompile(`(?s)<tr data-link="` + id + `">.*?</tr>`).FindString(w.get("ann", users, 200))
	}
	joined := regexp.MustCompile(`class="num joined">(\d+)<`)
	if r := linkRow(); !strings.Contains(r, ">Web</span>") || !strings.Contains(r, ">Alpha</span>") || joined.FindStringSubmatch(r)[1] != "0" || !strings.Contains(r, ">enabled<") {
		t.Errorf("the link's row: %s", r)
	}
	if strings.Contains(w.get("ann", users, 200), secret[1]) {
		t.Error("the link's code is shown twice")
	}
	// A signed-in user opens the link and joins.
	w.register("joe")
	p := w.get("joe", link, 200)
	if !strings.Contains(p, `id="join-code" name="code" value="`+secret[1]+`"`) {
		t.Errorf("the join page lacks the code:\n%s", p)
	}
	join := w.prefix + "/join/" + id
	_, p = w.post("joe", link, join, url.Values{"code": {secret[1]}})
	if class, text := flashOf(p); class != "flash-ok" || !strings.Contains(text, "You joined Ann") || !strings.Contains(p, `data-account="Ann"`) {
		t.Fatalf("joining: %s %q", class, text)
	}
	if got := w.grantsOf("joe"); !slices.Equal(got, []string{w.alpha.String() + "=viewer", w.proj.String() + "=viewer"}) {
		t.Errorf("joe's grants %v", got)
	}
	if n := joined.FindStringSubmatch(linkRow()); n == nil || n[1] != "1" {
		t.Errorf("joined: %v", n)
	}
	// Joining again is refused: already a member.
	_, p = w.post("joe", link, join, url.Values{"code": {secret[1]}})
	if class, text := flashOf(p); class != "flash-error" || !strings.Contains(text, "Refused (422)") || !strings.Contains(text, "already a member") || !strings.Contains(p, `id="join"`) {
		t.Errorf("joining twice: %s %q", class, text)
	}
	// Disabled, the link answers as one that does not exist.
	_, p = w.post("ann", users, w.tenantPath()+"/links/"+id+"/disable", nil)
	if class, _ := flashOf(p); class != "flash-ok" || !strings.Contains(linkRow(), ">disabled<") {
		t.Errorf("disabling: %s %s", class, linkRow())
	}
	w.register("kim")
	_, p = w.post("kim", link, join, url.Values{"code": {secret[1]}})
	if class, text := flashOf(p); class != "flash-error" || !strings.Contains(text, "(404)") || w.isMember("kim") {
		t.Errorf("joining through a disabled link: %s %q", class, text)
	}
	// Rotating enables it with a new code; the old one stops working.
	_, p = w.post("ann", users, w.tenantPath()+"/links/"+id+"/rotate", nil)
	m2, secret2 := linkRE.FindStringSubmatch(p), secretRE.FindStringSubmatch(p)
	if m2 == nil || secret2 == nil || secret2[1] == secret[1] || !strings.Contains(linkRow(), ">enabled<") {
		t.Fatalf("rotating shows no new link, or leaves it disabled:\n%s", p)
	}
	_, p = w.post("kim", link, join, url.Values{"code": {secret[1]}})
	if class, _ := flashOf(p); class != "flash-error" || w.isMember("kim") {
		t.Error("the code before rotating still works")
	}
	_, p = w.post("kim", html.UnescapeString(m2[1]), join, url.Values{"code": {secret2[1]}})
	if class, _ := flashOf(p); class != "flash-ok" || !w.isMember("kim") {
		t.Errorf("joining with the rotated code: %s", class)
	}
	if n := joined.FindStringSubmatch(linkRow()); n == nil || n[1] != "2" {
		t.Errorf("joined after rotating: %v", n)
	}
	// Deleted, it is gone; who joined stays.
	_, p = w.post("ann", users, w.tenantPath()+"/links/"+id+"/delete", nil)
	if class, _ := flashOf(p); class != "flash-ok" || linkRow() != "" || len(w.links()) != 0 || !w.isMember("joe") {
		t.Errorf("deleting: %s", class)
	}

	// D37: a link works only while its creator may give its access.
	_, p = w.post("adam", users, w.tenantPath()+"/links", url.Values{"level": {"viewer"}, "scope": {w.acct.String()}})
	adamLink, adamSecret := html.UnescapeString(linkRE.FindStringSubmatch(p)[1]), secretRE.FindStringSubmatch(p)[1]
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users["ann"]), account.SetPermissions{Tenant: w.acct, Holder: rbac.User(w.users["adam"]),
		Changes: []account.PermissionChange{{Scope: w.acct, Level: rbac.Viewer}}}); err != nil {
		t.Fatal(err)
	}
	adamJoin, _, _ := strings.Cut(adamLink, "?")
	w.register("lea")
	_, p = w.post("lea", adamLink, adamJoin, url.Values{"code": {adamSecret}})
	if class, text := flashOf(p); class != "flash-error" || !strings.Contains(text, "Refused (403)") || !strings.Contains(p, `<span class="badge">`+string(rbac.RuleInviteLink)+`</span>`) || w.isMember("lea") {
		t.Errorf("joining through a link whose creator lost admin: %s %q", class, text)
	}
	// The seats are counted at the moment of joining.
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users["ann"]), account.SetPermissions{Tenant: w.acct, Holder: rbac.User(w.users["adam"]),
		Changes: []account.PermissionChange{{Scope: w.acct, Level: rbac.Admin}}}); err != nil {
		t.Fatal(err)
	}
	var fill []string
	for i := range 20 - 7 {
		fill = append(fill, fmt.Sprintf("f%d@fill.test", i))
	}
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users["ann"]), account.InviteMany{Tenant: w.acct, Emails: fill}); err != nil {
		t.Fatal(err)
	}
	_, p = w.post("lea", adamLink, adamJoin, url.Values{"code": {adamSecret}})
	if class, text := flashOf(p); class != "flash-error" || !strings.Contains(text, "Seat limit reached") || w.isMember("lea") {
		t.Errorf("joining over the seats: %s %q", class, text)
	}
	// Who may not manage links is refused.
	_, p = w.post("ines", users, w.tenantPath()+"/links", url.Values{"level": {"viewer"}, "scope": {w.alpha.String()}})
	if class, _ := flashOf(p); class != "flash-error" || len(w.links()) != 1 {
		t.Errorf("an inbox admin created a link: %s", class)
	}
}

// Each member shows their last activity; the inactive view lists whom the library's
// Inactive lists.
func TestPagesLastActivity(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	users := w.usersPath(w.acct)
	lastActive := func(page, email string) string {
		m := regexp.MustCompile(`(?s)<tr data-email="` + regexp.QuoteMeta(email) + `">.*?class="nowrap last-active">([^<]*)<`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no last activity of %s", email)
		}
		return m[1]
	}
	if got := lastActive(w.get("ann", users, 200), "vic@acme.test"); got != "just now" {
		t.Errorf("vic, who just joined: %q", got)
	}
	w.advance(10 * 24 * time.Hour)
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users["adam"]), account.RenameResource{Resource: w.beta, Name: "Beta 2"}); err != nil {
		t.Fatal(err)
	}
	w.advance(3 * time.Hour)
	page := w.get("ann", users, 200)
	if got := lastActive(page, "vic@acme.test"); got != "10 days ago" {
		t.Errorf("vic: %q", got)
	}
	if got := lastActive(page, "adam@acme.test"); got != "3 hours ago" {
		t.Errorf("adam: %q", got)
	}
	w.advance(30 * 24 * time.Hour)
	want := []string{}
	since := w.now().Add(-35 * 24 * time.Hour)
	for m, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Inactive{Tenant: w.acct, Since: since}) {
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, m.User.Email)
	}
	slices.Sort(want)
	page = w.get("ann", users+"?inactive=35", 200)
	got := listed(page)
	if !slices.Equal(got, want) || slices.Contains(got, "adam@acme.test") || !slices.Contains(got, "vic@acme.test") || strings.Contains(page, `id="people"`) {
		t.Errorf("inactive for 35 days: %v, the library lists %v", got, want)
	}
	if !strings.Contains(page, "All people") || !regexp.MustCompile(`(?s)data-email="vic@acme.test">.*?Remove`).MatchString(page) {
		t.Error("the inactive view offers no way back, or no removal")
	}
	if strings.Contains(regexp.MustCompile(`(?s)data-email="ann@acme.test">.*?</tr>`).FindString(page), "Remove") {
		t.Error("the owner may be removed")
	}
	// ines sees the inactive members of her inbox only.
	if got := listed(w.get("ines", users+"?inactive=35", 200)); slices.Contains(got, "omar@acme.test") {
		t.Errorf("ines's inactive view: %v", got)
	}
	for _, bad := range []string{"0", "x", "99999"} {
		w.get("ann", users+"?inactive="+bad, 422)
	}
}

// A token is created with one of the platform's lifetimes, or none; its row shows
// when it was last used.
func TestPagesTokenLifetimeAndLastUse(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	page := w.get("ann", "/app/profile", 200)
	opts := regexp.MustCompile(`(?s)<select id="tok-expires-0" name="expires_in">(.*?)</select>`).FindStringSubmatch(page)
	if opts == nil {
		t.Fatal("no lifetime choice")
	}
	values := regexp.MustCompile(`value="([^"]+)"`).FindAllStringSubmatch(opts[1], -1)
	var got []string
	for _, v := range values {
		got = append(got, v[1])
	}
	if !slices.Equal(got, []string{"1", "7", "30", "90", "180", "365", "never"}) || !strings.Contains(opts[1], `value="365" selected`) {
		t.Errorf("lifetimes %v", got)
	}
	tokens := w.tenantPath() + "/tokens"
	expiry := func(secret string) time.Time {
		h, err := w.svc.Authenticate(context.Background(), secret)
		if err != nil {
			t.Fatal(err)
		}
		for tk, err := range account.All(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Tokens{Tenant: w.acct}) {
			if err != nil {
				t.Fatal(err)
			}
			if tk.ID == h.ID {
				return tk.Expires
			}
		}
		t.Fatal("the token is not listed")
		return time.Time{}
	}
	_, p := w.post("ann", "/app/profile", tokens, url.Values{"name": {"Week"}, "level": {"viewer"}, "expires_in": {"7"}})
	week := secretRE.FindStringSubmatch(p)
	if week == nil {
		t.Fatalf("no secret:\n%s", p)
	}
	rowOf := func(name string) string {
		return regexp.MustCompile(`(?s)<tr data-token="` + name + `">.*?</tr>`).FindString(w.get("ann", "/app/profile", 200))
	}
	if !strings.Contains(rowOf("Week"), `class="nowrap last-used">never<`) {
		t.Errorf("the new token's row: %s", rowOf("Week"))
	}
	if got := expiry(week[1]).Sub(w.now()); got != 7*24*time.Hour {
		t.Errorf("the token expires in %v, want 7 days", got)
	}
	w.advance(2 * time.Hour)
	if !strings.Contains(rowOf("Week"), `class="nowrap last-used">2 hours ago<`) {
		t.Errorf("the used token's row: %s", rowOf("Week"))
	}
	_, p = w.post("ann", "/app/profile", tokens, url.Values{"name": {"Forever"}, "level": {"viewer"}, "expires_in": {"never"}})
	if class, text := flashOf(p); class != "flash-ok" || !strings.Contains(text, "never expires") {
		t.Errorf("a token that never expires: %s %q", class, text)
	}
	if !expiry(secretRE.FindStringSubmatch(p)[1]).IsZero() {
		t.Error("the token expires")
	}
	_, p = w.post("ann", "/app/profile", tokens, url.Values{"name": {"Odd"}, "level": {"viewer"}, "expires_in": {"5"}})
	if class, text := flashOf(p); class != "flash-error" || !strings.Contains(text, "Refused (422)") || strings.Contains(p, "<td>Odd</td>") {
		t.Errorf("a lifetime not offered: %s %q", class, text)
	}
}

// Every new form is refused without the session's form token, or with another user's,
// and changes nothing.
func TestPagesCSRFNewForms(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	ctx := context.Background()
	ann := rbac.User(w.users["ann"])
	inv, err := account.Do(ctx, w.svc, ann, account.Invite{Tenant: w.acct, Email: "bob@acme.test", Grants: []account.GrantSpec{{Scope: w.proj, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	w.register("bob")
	carl, err := account.Do(ctx, w.svc, ann, account.Invite{Tenant: w.acct, Email: "carl@acme.test", Grants: []account.GrantSpec{{Scope: w.proj, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	l, err := account.Do(ctx, w.svc, ann, account.CreateInviteLink{Tenant: w.acct, Level: rbac.Viewer, Scopes: []rbac.Ref{w.acct}})
	if err != nil {
		t.Fatal(err)
	}
	w.register("joe")
	state := func() string {
		var b strings.Builder
		for a, err := range account.All(ctx, w.svc, ann, account.Members{Tenant: w.acct}) {
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v;", a.Holder, a.Invitation.Expires)
		}
		for _, l := range w.links() {
			fmt.Fprintf(&b, "%s %v %d %x;", l.ID, l.Disabled, l.Joined, l.Hash)
		}
		tks, err := account.Get(ctx, w.svc, ann, account.Tokens{Tenant: w.acct})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d tokens", len(tks.Items))
		return b.String()
	}
	tenant := w.tenantPath()
	for _, tt := range []struct {
		user, path string
		form       url.Values
	}{
		{"ann", tenant + "/invitations", url.Values{"email": {"x1@acme.test, x2@acme.test"}, "expires_in": {"1"}}},
		{"ann", tenant + "/invitations/" + carl.ID + "/resend", nil},
		{"bob", w.prefix + "/invitations/" + inv.ID + "/decline", url.Values{"code": {inv.Secret}}},
		{"joe", w.prefix + "/join/" + l.ID, url.Values{"code": {l.Secret}}},
		{"ann", tenant + "/links", url.Values{"level": {"viewer"}, "scope": {w.acct.String()}}},
		{"ann", tenant + "/links/" + l.ID + "/disable", nil},
		{"ann", tenant + "/links/" + l.ID + "/rotate", nil},
		{"ann", tenant + "/links/" + l.ID + "/delete", nil},
		{"ann", tenant + "/tokens", url.Values{"name": {"T"}, "level": {"viewer"}, "expires_in": {"7"}}},
	} {
		w.advance(time.Minute) // a resent invitation's expiry moves with the clock
		before := state()
		other := "vic"
		for _, token := range []string{"", "wrong", csrfOf(t, w.get(other, "/app/profile", 200))} {
			form := url.Values{}
			for k, v := range tt.form {
				form[k] = v
			}
			if token != "" {
				form.Set("csrf", token)
			}
			if rec := w.do(tt.user, "POST", tt.path, form, nil); rec.Code != http.StatusForbidden {
				t.Errorf("%s with token %.8q: %d, want 403", tt.path, token, rec.Code)
			}
			form.Set("csrf", csrfOf(t, w.get(tt.user, "/app/profile", 200)))
			if rec := w.do(tt.user, "POST", tt.path, form, http.Header{"Sec-Fetch-Site": {"cross-site"}}); rec.Code != http.StatusForbidden {
				t.Errorf("%s from another site: %d, want 403", tt.path, rec.Code)
			}
		}
		if after := state(); after != before {
			t.Errorf("%s changed the state:\n%s\n%s", tt.path, before, after)
		}
		// With the right token, the same form is not refused as forged.
		form := url.Values{"csrf": {csrfOf(t, w.get(tt.user, "/app/profile", 200))}}
		for k, v := range tt.form {
			form[k] = v
		}
		if rec := w.do(tt.user, "POST", tt.path, form, nil); rec.Code != http.StatusSeeOther {
			t.Errorf("%s with its token: %d", tt.path, rec.Code)
		}
		if state() == before {
			t.Errorf("%s with its token changed nothing", tt.path)
		}
	}
}
