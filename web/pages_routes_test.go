package web_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

// The domain filter lists what Members lists for the domain: the people who reach it.
func TestPagesDomainFilter(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	ctx := context.Background()
	owner := rbac.User(w.users["ann"])
	domain := w.domain
	// ines, admin of inbox Alpha, is given the domain too; omar is not.
	if _, err := account.Do(ctx, w.svc, owner, account.SetPermissions{Tenant: w.acct, Holder: rbac.User(w.users["ines"]), Changes: []account.PermissionChange{{Scope: domain, Level: rbac.Viewer}}}); err != nil {
		t.Fatal(err)
	}
	got := listed(w.get("ann", w.usersPath(w.acct)+"?domain="+domain.ID, 200))
	want := []string{"adam@acme.test", "ann@acme.test", "ines@acme.test", "vic@acme.test"}
	if !slices.Equal(got, want) {
		t.Errorf("filtered by the domain: %v, want %v", got, want)
	}
	if got := listed(w.get("ann", w.usersPath(w.acct)+"?inbox="+w.alpha.ID+"&domain="+domain.ID, 200)); slices.Contains(got, "omar@acme.test") {
		t.Errorf("filtered by Alpha and the domain: %v", got)
	}
}

// A pending invitation is revoked from User Management's list: it leaves the list,
// its seat is freed, and its secret no longer accepts.
func TestPagesRevokeInvitation(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	users := w.usersPath(w.acct)
	tenant := strings.TrimSuffix(users, "/users")
	_, page := w.post("ann", users, tenant+"/invitations", url.Values{"email": {"bob@acme.test"}, "lvl_" + w.proj.String(): {"viewer"}})
	secret := secretRE.FindStringSubmatch(page)
	if secret == nil || !strings.Contains(page, `data-email="bob@acme.test"`) {
		t.Fatalf("the invitation is not made or not listed:\n%s", page)
	}
	if !strings.Contains(page, `id="seats">6 of 20 seats used`) {
		t.Error("the pending invitation does not take a seat")
	}
	id, _, _ := strings.Cut(secret[1], ".")
	// vic, a viewer, is refused with the reason; nothing changes.
	if s, p := w.post("vic", "/app/profile", tenant+"/members/invite:"+id+"/remove", nil); s != 403 || !strings.Contains(p, "flash-error") {
		t.Errorf("a viewer revoking: %d\n%s", s, p)
	}
	if w.pendingInvitations() != 1 {
		t.Fatal("the viewer's refused revocation changed the invitations")
	}
	_, page = w.post("ann", users, tenant+"/members/invite:"+id+"/remove", nil)
	if !strings.Contains(page, "Invitation revoked.") || strings.Contains(page, `data-email="bob@acme.test"`) {
		t.Errorf("after revoking:\n%s", page)
	}
	if !strings.Contains(page, `id="seats">5 of 20 seats used`) || w.pendingInvitations() != 0 {
		t.Error("the revoked invitation still holds a seat")
	}
	reg, err := account.Do(context.Background(), w.svc, rbac.Holder{}, profile.Register{Email: "bob@acme.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = account.Do(context.Background(), w.svc, rbac.User(reg.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(id), Secret: secret[1]})
	if err == nil {
		t.Error("the revoked invitation was accepted")
	}
}

// My Profile changes the address and unlinks an OAuth provider it lists.
func TestPagesProfileEmailAndOAuth(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	if _, err := account.Do(context.Background(), w.svc, rbac.User(w.users["vic"]), profile.LinkOAuth{Provider: "github", Subject: "vic-gh-42"}); err != nil {
		t.Fatal(err)
	}
	page := w.get("vic", "/app/profile", 200)
	if !strings.Contains(page, "<td>github</td>") || !strings.Contains(page, "vic-gh-42") {
		t.Errorf("the linked provider is not listed:\n%s", page)
	}
	_, page = w.post("vic", "/app/profile", "/app/profile/oauth/unlink", url.Values{"provider": {"github"}, "subject": {"vic-gh-42"}})
	if !strings.Contains(page, "Unlinked github.") || strings.Contains(page, "vic-gh-42") || len(w.profileOf("vic").OAuth) != 0 {
		t.Errorf("after unlinking:\n%s", page)
	}
	_, page = w.post("vic", "/app/profile", "/app/profile/email", url.Values{"email": {"victor@acme.test"}})
	if !strings.Contains(page, "Email address changed.") || w.profileOf("vic").Email != "victor@acme.test" {
		t.Errorf("changing the address: %q", w.profileOf("vic").Email)
	}
	// Another's address is refused, with its reason, and changes nothing.
	_, page = w.post("vic", "/app/profile", "/app/profile/email", url.Values{"email": {"adam@acme.test"}})
	if !strings.Contains(page, "flash-error") || w.profileOf("vic").Email != "victor@acme.test" {
		t.Error("taking another's address was not refused")
	}
}

// Only the owner is offered the transfer of ownership; an admin's forged request is
// refused with its reason; the owner's moves ownership and keeps the old owner admin.
func TestPagesTransferOwnership(t *testing.T) {
	w := newPagesWorld(t, web.PagesOptions{})
	tenant := strings.TrimSuffix(w.usersPath(w.acct), "/users")
	adamPage := w.memberPath("adam")
	if page := w.get("ann", adamPage, 200); !strings.Contains(page, `action="`+tenant+`/transfer"`) {
		t.Error("the owner is not offered the transfer")
	}
	if page := w.get("adam", w.memberPath("vic"), 200); strings.Contains(page, "/transfer") {
		t.Error("an admin is offered the transfer")
	}
	_, page := w.post("adam", w.memberPath("vic"), tenant+"/transfer", url.Values{"to": {"user:" + w.users["vic"]}})
	if !strings.Contains(page, "flash-error") || !strings.Contains(page, `class="rule"`) {
		t.Errorf("an admin's transfer is not refused with its rule:\n%s", page)
	}
	owner := func() string {
		a, err := account.Get(context.Background(), w.svc, rbac.User(w.users["ann"]), account.Account{Account: w.acct})
		if err != nil {
			t.Fatal(err)
		}
		return a.Owner
	}
	if owner() != w.users["ann"] {
		t.Fatal("the refused transfer moved ownership")
	}
	_, page = w.post("ann", adamPage, tenant+"/transfer", url.Values{"to": {"user:" + w.users["adam"]}})
	if !strings.Contains(page, "Ownership transferred") || owner() != w.users["adam"] {
		t.Errorf("the owner's transfer: owner %s\n%s", owner(), page)
	}
	if got := w.grantsOf("ann"); !slices.Equal(got, []string{w.acct.String() + "=admin"}) {
		t.Errorf("the old owner holds %v, want admin of the account", got)
	}
}
