package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

func TestAuthentication(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		header http.Header
		want   int
	}{
		{"no credentials", http.Header{}, http.StatusUnauthorized},
		{"unknown token", http.Header{"Authorization": {"Bearer 1001.deadbeef"}}, http.StatusUnauthorized},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}, http.StatusUnauthorized},
		{"other scheme", http.Header{"Authorization": {"Basic " + f.admin.secret}}, http.StatusUnauthorized},
		{"bearer", http.Header{"Authorization": {"Bearer " + f.admin.secret}}, http.StatusOK},
		{"bearer in lower case", http.Header{"Authorization": {"bearer " + f.admin.secret}}, http.StatusOK},
		{"legacy Api-Token", http.Header{"Api-Token": {f.admin.secret}}, http.StatusOK},
		{"legacy Api-Token, unknown", http.Header{"Api-Token": {"nope"}}, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/accounts", nil)
			r.Header = tt.header
			w := httptest.NewRecorder()
			f.h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.want == http.StatusUnauthorized {
				if w.Header().Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if !strings.Contains(w.Body.String(), `"errors"`) {
					t.Errorf("body %s", w.Body)
				}
			}
		})
	}
}

// A real server on a socket, with the SDKs' headers.
func TestOverHTTP(t *testing.T) {
	f := newFixture(t)
	srv := httptest.NewServer(f.h)
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/api/accounts", nil)
	req.Header.Set("Api-Token", f.admin.secret)
	req.Header.Set("Accept", "application/json")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var got []api.AccountJSON
	if err := json.NewDecoder(res.Body).Decode(&got); err != nil || res.StatusCode != 200 {
		t.Fatalf("status %d, %v", res.StatusCode, err)
	}
	if len(got) != 1 || string(got[0].ID) != f.acct.Ref.ID {
		t.Errorf("got %+v", got)
	}
}

func TestListAccounts(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		tok    token
		id     string
		levels []int
	}{
		{"account admin token", f.admin, f.acct.Ref.ID, []int{100}},
		{"inbox admin token", f.inbox, f.acct.Ref.ID, []int{100}},
		{"viewer token", f.viewer, f.acct.Ref.ID, []int{10}},
		{"organization token", f.orgTok, f.org.Ref.ID, []int{100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []api.AccountJSON
			if err := json.Unmarshal(f.want(200, "GET", "/api/accounts", tt.tok.secret, ""), &got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || string(got[0].ID) != tt.id || !slices.Equal(got[0].AccessLevels, tt.levels) {
				t.Errorf("got %+v, want account %s with levels %v", got, tt.id, tt.levels)
			}
		})
	}
	// access_levels are numbers on the wire, as the platform's.
	b := f.want(200, "GET", "/api/accounts", f.admin.secret, "")
	if !strings.Contains(string(b), `"access_levels":[100]`) {
		t.Errorf("body %s", b)
	}
}

func TestListAccesses(t *testing.T) {
	f := newFixture(t)
	b := f.want(200, "GET", f.path("/account_accesses"), f.admin.secret, "")
	if got, want := emails(t, b), []string{"ann", "carol", "dave", "erin", "frank", "gus"}; !slices.Equal(got, want) {
		t.Errorf("the admin token sees %v, want %v", got, want)
	}
	var list []api.AccessJSON
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		switch a.Specifier.Email {
		case "ann@acme.test":
			want := api.ResourceJSON{ResourceID: api.ID(f.acct.Ref.ID), ResourceType: "account", AccessLevel: 1000}
			if a.ID != api.AccessID(f.acct.Ref, f.owner) || a.SpecifierType != "User" || !slices.Contains(a.Resources, want) {
				t.Errorf("owner's access: %+v", a)
			}
			if a.Permissions.CanUpdate || a.Permissions.CanDestroy || !a.Permissions.CanRead {
				t.Errorf("the owner's access may be changed: %+v", a.Permissions)
			}
		case "gus@acme.test":
			want := []api.ResourceJSON{{ResourceID: api.ID(f.dom.Ref.ID), ResourceType: "mailsend_domain", AccessLevel: 10}}
			if !slices.Equal(a.Resources, want) || !a.Permissions.CanUpdate || !a.Permissions.CanDestroy {
				t.Errorf("gus's access: %+v", a)
			}
		case "frank@acme.test":
			if a.SpecifierType != "Invite" || a.ID != api.AccessID(f.acct.Ref, rbac.Invite(f.frank.ID)) || string(a.Specifier.ID) != f.frank.ID {
				t.Errorf("frank's invitation: %+v", a)
			}
		}
	}

	// D18: the Staging admin token sees only the people with access to Staging.
	b = f.want(200, "GET", f.path("/account_accesses"), f.inbox.secret, "")
	if got, want := emails(t, b), []string{"ann", "carol", "dave", "erin"}; !slices.Equal(got, want) {
		t.Errorf("the inbox admin token sees %v, want %v", got, want)
	}
	f.want(403, "GET", f.path("/account_accesses"), f.viewer.secret, "")
	f.want(404, "GET", f.path("/account_accesses"), f.other.secret, "")
	f.want(404, "GET", "/api/accounts/9999999/account_accesses", f.admin.secret, "")
}

func TestAccessFilters(t *testing.T) {
	f := newFixture(t)
	prod, dom, web := f.production.Ref.ID, f.dom.Ref.ID, f.web.Ref.ID
	tests := []struct {
		tok   token
		query string
		want  []string
	}{
		{f.admin, "inbox_ids[]=" + prod, []string{"ann", "carol", "erin", "frank"}},
		{f.admin, "inbox_ids%5B%5D=" + prod, []string{"ann", "carol", "erin", "frank"}},
		{f.admin, "inbox_ids=" + prod, []string{"ann", "carol", "erin", "frank"}},
		{f.admin, "inbox_ids[0]=" + prod, []string{"ann", "carol", "erin", "frank"}},
		{f.admin, "domain_uuids[]=" + dom, []string{"ann", "carol", "gus"}},
		{f.admin, "domain_ids[]=" + dom, []string{"ann", "carol", "gus"}},
		{f.admin, "project_ids[]=" + web + "&domain_ids[]=" + dom, []string{"ann", "carol", "dave", "erin", "frank", "gus"}},
		{f.admin, "project_ids[]=&per_page=10", []string{"ann", "carol", "dave", "erin", "frank", "gus"}},
		// The filter narrows what D18 lets the inbox admin see; it never widens it:
		// frank's invitation to Production is in Web, but not shown to Staging's admin.
		{f.inbox, "project_ids[]=" + web, []string{"ann", "carol", "dave", "erin"}},
		{f.inbox, "inbox_ids[]=" + f.staging.Ref.ID, []string{"ann", "carol", "dave", "erin"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			b := f.want(200, "GET", f.path("/account_accesses?"+tt.query), tt.tok.secret, "")
			if got := emails(t, b); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, tt := range []struct {
		tok    token
		query  string
		status int
	}{
		{f.admin, "inbox_ids[]=424242", 404}, // no such inbox
		{f.admin, "inbox_ids[]=" + dom, 404}, // a domain is not an inbox
		{f.admin, "project_ids[]=" + f.eu.Ref.ID + "0", 404},
		{f.admin, "inbox_ids[]=bad%20id", 422},
		{f.admin, "inbox_ids[]=%zz", 422},
		{f.admin, "inbox_ids=" + strings.Repeat("1&inbox_ids=", api.MaxFilters+1) + "1", 422},
		// A filter value the caller cannot see is not found, as one that does not
		// exist: Staging's admin knows nothing of inbox Production or of the domain.
		{f.inbox, "inbox_ids[]=" + prod, 404},
		{f.inbox, "domain_ids[]=" + dom, 404},
		{f.inbox, "inbox_ids[]=424242", 404},
	} {
		r := httptest.NewRequest("GET", "http://api.test"+f.path("/account_accesses"), nil)
		r.URL.RawQuery = tt.query
		r.Header.Set("Authorization", "Bearer "+tt.tok.secret)
		if got, b := f.serve(r); got != tt.status {
			t.Errorf("?%.60s: status %d, want %d: %s", tt.query, got, tt.status, b)
		}
	}
}

func TestDeleteAccess(t *testing.T) {
	f := newFixture(t)
	refusals := []struct {
		name, id string
		tok      token
		want     int
	}{
		{"the owner (D9)", f.owner.String(), f.admin, 403},
		{"by an inbox admin", f.erin.String(), f.inbox, 403},
		// A viewer sees no member (D18), so no member is found for it.
		{"by a viewer", f.erin.String(), f.viewer, 404},
		{"from another account", f.erin.String(), f.other, 404},
		{"an unknown user", "user:424242", f.admin, 404},
		{"a malformed id", "erin", f.admin, 404},
		{"a team", "team:1", f.admin, 404},
		{"an invitation by a viewer", "invite:" + f.frank.ID, f.viewer, 404},
		{"a token of another account", "token:" + f.other.id, f.admin, 404},
		{"a token of a sub-account", "token:" + f.euTok.id, f.admin, 404},
	}
	for _, tt := range refusals {
		f.unchanged(tt.name, func() {
			f.want(tt.want, "DELETE", f.path("/account_accesses/"+tt.id), tt.tok.secret, "")
		})
	}
	// An invitation of this account is not revoked through another account's path,
	// even by someone who administers both.
	f.unchanged("an invitation under the wrong account", func() {
		f.want(404, "DELETE", "/api/accounts/"+f.eu.Ref.ID+"/account_accesses/invite:"+f.frank.ID, f.orgTok.secret, "")
	})

	// D13: erin leaves the account but stays a user.
	b := f.want(200, "DELETE", f.path("/account_accesses/"+f.erin.String()), f.admin.secret, "")
	if string(b) != `{"id":`+string(api.AccessID(f.acct.Ref, f.erin))+`}`+"\n" {
		t.Errorf("body %s", b)
	}
	if _, err := account.Get(t.Context(), f.svc, f.erin, account.MyAccounts{}); err != nil {
		t.Errorf("erin is no longer a user: %v", err)
	}
	f.want(200, "DELETE", f.path("/account_accesses/invite:"+f.frank.ID), f.admin.secret, "")
	f.want(200, "DELETE", f.path("/account_accesses/token:"+f.viewer.id), f.admin.secret, "")
	b = f.want(200, "GET", f.path("/account_accesses"), f.admin.secret, "")
	if got, want := emails(t, b), []string{"ann", "carol", "dave", "gus"}; !slices.Equal(got, want) {
		t.Errorf("after the deletions: %v, want %v", got, want)
	}
	f.want(401, "GET", "/api/accounts", f.viewer.secret, "")
	f.want(404, "DELETE", f.path("/account_accesses/"+f.erin.String()), f.admin.secret, "")
}

// bulk is a permissions/bulk body.
func bulk(entries ...string) string { return `{"permissions":[` + strings.Join(entries, ",") + `]}` }

func TestBulkPermissions(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	erinPath := f.path("/account_accesses/" + f.erin.String() + "/permissions/bulk")
	gusPath := f.path("/account_accesses/" + f.gus.String() + "/permissions/bulk")

	// IDs as JSON numbers and strings, levels as names and numbers.
	b := f.want(200, "PUT", erinPath, f.admin.secret, bulk(
		`{"resource_id":`+f.web.Ref.ID+`,"resource_type":"project","access_level":"admin"}`,
		`{"resource_id":"`+f.dom.Ref.ID+`","resource_type":"mailsend_domain","access_level":10}`,
	))
	if string(b) != `{"message":"Permissions have been updated!"}`+"\n" {
		t.Errorf("body %s", b)
	}
	if d, _ := f.svc.Check(ctx, f.erin, rbac.ProjectRename, f.web.Ref); !d.Allowed {
		t.Errorf("erin is not admin of Web: %s", d.Reason())
	}
	f.want(200, "PUT", erinPath, f.admin.secret, bulk(`{"resource_id":"`+f.dom.Ref.ID+`","resource_type":"mailsend_domain","_destroy":true}`))
	if d, _ := f.svc.Check(ctx, f.erin, rbac.DomainView, f.dom.Ref); d.Allowed {
		t.Errorf("erin still views the domain: %s", d.Reason())
	}
	// The admin token bulk-updates another token's grants.
	f.want(200, "PUT", f.path("/account_accesses/token:"+f.viewer.id+"/permissions/bulk"), f.admin.secret,
		bulk(`{"resource_id":"`+f.production.Ref.ID+`","resource_type":"inbox","access_level":"viewer"}`))
	if d, _ := f.svc.Check(ctx, rbac.Token(f.viewer.id), rbac.InboxRead, f.production.Ref); !d.Allowed || d.Grant.Scope != f.production.Ref {
		t.Errorf("the viewer token's inbox grant: %s", d.Reason())
	}

	refusals := []struct {
		name, path string
		tok        token
		body       string
		want       int
		rule       rbac.Rule
	}{
		{"the owner's access", f.path("/account_accesses/" + f.owner.String() + "/permissions/bulk"), f.admin,
			bulk(`{"resource_id":"` + f.acct.Ref.ID + `","resource_type":"account","access_level":"viewer"}`), 403, rbac.RuleOwnerImmutable},
		{"a token's own grants", f.path("/account_accesses/token:" + f.admin.id + "/permissions/bulk"), f.admin,
			bulk(`{"resource_id":"` + f.acct.Ref.ID + `","resource_type":"account","access_level":"viewer"}`), 403, rbac.RuleTokenSelf},
		{"account access by an inbox admin", erinPath, f.inbox,
			bulk(`{"resource_id":"` + f.acct.Ref.ID + `","resource_type":"account","access_level":"viewer"}`), 403, rbac.RuleAdminChanges},
		{"the owner level", gusPath, f.admin,
			bulk(`{"resource_id":"` + f.acct.Ref.ID + `","resource_type":"account","access_level":"owner"}`), 403, rbac.RuleOwnerNotGrant},
		// Whom the caller cannot see in the listing (D18) is not found: the inbox
		// admin does not see gus, a viewer sees nobody.
		{"an access the inbox admin does not see", gusPath, f.inbox,
			bulk(`{"resource_id":"` + f.dom.Ref.ID + `","resource_type":"mailsend_domain","access_level":"viewer"}`), 404, ""},
		{"by a viewer", gusPath, f.viewer,
			bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project","access_level":"viewer"}`), 404, ""},
		{"all or nothing", gusPath, f.admin, bulk(
			`{"resource_id":"`+f.web.Ref.ID+`","resource_type":"project","access_level":"viewer"}`,
			`{"resource_id":"424242","resource_type":"inbox","access_level":"viewer"}`), 404, ""},
		{"from another account", gusPath, f.other,
			bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project","access_level":"viewer"}`), 404, ""},
		{"a resource of another account", gusPath, f.admin,
			bulk(`{"resource_id":"` + f.beta.Ref.ID + `","resource_type":"account","access_level":"viewer"}`), 404, ""},
		{"an unknown access", f.path("/account_accesses/user:424242/permissions/bulk"), f.admin,
			bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project","access_level":"viewer"}`), 404, ""},
		{"a malformed access id", f.path("/account_accesses/424242/permissions/bulk"), f.admin,
			bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project","access_level":"viewer"}`), 404, ""},
		{"malformed JSON", gusPath, f.admin, `{"permissions":[`, 422, ""},
		{"an empty body", gusPath, f.admin, ``, 422, ""},
		{"an unknown field", gusPath, f.admin, `{"permissions":[],"notify":true}`, 422, ""},
		{"an unknown entry field", gusPath, f.admin,
			bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project","access_level":"viewer","role":"x"}`), 422, ""},
		{"two JSON values", gusPath, f.admin,
			bulk(`{"resource_id":"`+f.web.Ref.ID+`","resource_type":"project","access_level":"viewer"}`) + `{}`, 422, ""},
		{"permissions as an object", gusPath, f.admin, `{"permissions":{"resource_id":1}}`, 422, ""},
		{"a boolean level", gusPath, f.admin, bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project","access_level":true}`), 422, ""},
		{"an unknown level", gusPath, f.admin, bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project","access_level":"superuser"}`), 422, ""},
		{"no level", gusPath, f.admin, bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"project"}`), 422, ""},
		{"a fractional ID", gusPath, f.admin, bulk(`{"resource_id":1.5,"resource_type":"project","access_level":10}`), 422, ""},
		{"a negative ID", gusPath, f.admin, bulk(`{"resource_id":-1,"resource_type":"project","access_level":10}`), 422, ""},
		{"an object ID", gusPath, f.admin, bulk(`{"resource_id":{},"resource_type":"project","access_level":10}`), 422, ""},
		{"no ID", gusPath, f.admin, bulk(`{"resource_type":"project","access_level":10}`), 422, ""},
		{"an unknown resource type", gusPath, f.admin, bulk(`{"resource_id":"` + f.web.Ref.ID + `","resource_type":"galaxy","access_level":10}`), 422, ""},
		{"no permissions", gusPath, f.admin, `{}`, 422, ""},
		{"empty permissions", gusPath, f.admin, `{"permissions":[]}`, 422, ""},
		{"a scope twice", gusPath, f.admin, bulk(
			`{"resource_id":"`+f.web.Ref.ID+`","resource_type":"project","access_level":10}`,
			`{"resource_id":"`+f.web.Ref.ID+`","resource_type":"project","access_level":100}`), 422, ""},
		{"a body over 1 MiB", gusPath, f.admin, `{"permissions":[` + strings.Repeat(" ", api.MaxBodyBytes) + `]}`, 413, ""},
	}
	for _, tt := range refusals {
		f.unchanged(tt.name, func() {
			b := f.want(tt.want, "PUT", tt.path, tt.tok.secret, tt.body)
			if tt.rule != "" {
				var e struct{ Rule rbac.Rule }
				if json.Unmarshal(b, &e); e.Rule != tt.rule {
					t.Errorf("%s: cites %q, want %s: %s", tt.name, e.Rule, tt.rule, b)
				}
			}
		})
	}
	if d, _ := f.svc.Check(ctx, f.gus, rbac.ProjectView, f.web.Ref); d.Allowed {
		t.Error("gus got the valid half of a refused bulk update")
	}
}

func TestResources(t *testing.T) {
	f := newFixture(t)
	var tree []api.NodeJSON
	if err := json.Unmarshal(f.want(200, "GET", f.path("/permissions/resources"), f.admin.secret, ""), &tree); err != nil {
		t.Fatal(err)
	}
	if len(tree) != 1 || string(tree[0].ID) != f.acct.Ref.ID || tree[0].Type != "account" || tree[0].AccessLevel != 100 {
		t.Fatalf("admin's tree: %+v", tree)
	}
	var kinds []string
	for _, n := range tree[0].Resources {
		kinds = append(kinds, n.Type)
		if n.Type == "project" && len(n.Resources) != 2 {
			t.Errorf("project %s has %d inboxes", n.Name, len(n.Resources))
		}
	}
	if want := []string{"project", "mailsend_domain", "billing", "templates", "campaigns"}; !slices.Equal(kinds, want) {
		t.Errorf("the account's children are %v, want %v", kinds, want)
	}

	b := f.want(200, "GET", f.path("/permissions/resources"), f.inbox.secret, "")
	want := fmt.Sprintf(`[{"id":%s,"name":"Staging","type":"inbox","access_level":100,"resources":[]}]`+"\n", f.staging.Ref.ID)
	if string(b) != want {
		t.Errorf("inbox admin's tree: %s, want %s", b, want)
	}
	if b := f.want(200, "GET", f.path("/permissions/resources"), f.viewer.secret, ""); string(b) != "[]\n" {
		t.Errorf("viewer's tree: %s", b)
	}
	f.want(404, "GET", f.path("/permissions/resources"), f.other.secret, "")
	f.want(422, "GET", "/api/accounts/bad%20id/permissions/resources", f.admin.secret, "")
}

func TestTokens(t *testing.T) {
	f := newFixture(t)
	tokens := f.path("/api_tokens")

	b := f.want(200, "GET", tokens, f.admin.secret, "")
	var list []api.TokenJSON
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 3 {
		t.Fatalf("%d tokens (%v): %s", len(list), err, b)
	}
	if strings.Contains(string(b), `"token"`) {
		t.Errorf("a listing shows a secret: %s", b)
	}

	// Create: the secret is returned once.
	b = f.want(201, "POST", tokens, f.admin.secret, `{"name":"CI","resources":[{"resource_type":"project","resource_id":`+f.web.Ref.ID+`,"access_level":"viewer"}]}`)
	var ci api.TokenJSON
	if err := json.Unmarshal(b, &ci); err != nil {
		t.Fatal(err)
	}
	if ci.Token == "" || !strings.HasSuffix(ci.Token, ci.Last4) || ci.CreatedBy != f.owner.ID || ci.ExpiresAt == nil {
		t.Fatalf("created: %s", b)
	}
	if d := time.Until(*ci.ExpiresAt); d < 364*24*time.Hour || d > 366*24*time.Hour {
		t.Errorf("expires in %v, want a year (D23)", d)
	}
	if want := []api.ResourceJSON{{ResourceID: api.ID(f.web.Ref.ID), ResourceType: "project", AccessLevel: 10}}; !slices.Equal(ci.Resources, want) {
		t.Errorf("resources %+v, want %+v", ci.Resources, want)
	}
	f.want(200, "GET", "/api/accounts", ci.Token, "")
	b = f.want(200, "GET", tokens+"/"+string(ci.ID), f.admin.secret, "")
	if strings.Contains(string(b), `"token"`) {
		t.Errorf("GET shows the secret: %s", b)
	}
	b = f.want(201, "POST", tokens, f.admin.secret, `{"name":"forever","resources":[],"expires_at":"never"}`)
	if !strings.Contains(string(b), `"expires_at":null`) {
		t.Errorf("a token that never expires: %s", b)
	}

	// Reset: the new secret works, with the same grants; the old one keeps working for
	// the 12-hour grace period (D38), and cannot be reset again.
	b = f.want(200, "POST", tokens+"/"+string(ci.ID)+"/reset", f.admin.secret, "")
	var reset api.TokenJSON
	if err := json.Unmarshal(b, &reset); err != nil || reset.Token == "" || reset.ID == ci.ID || !slices.Equal(reset.Resources, ci.Resources) {
		t.Fatalf("reset: %v %s", err, b)
	}
	f.want(200, "GET", "/api/accounts", ci.Token, "")
	f.want(200, "GET", "/api/accounts", reset.Token, "")
	f.unchanged("resetting twice", func() { f.want(422, "POST", tokens+"/"+string(ci.ID)+"/reset", f.admin.secret, "") })

	f.want(200, "DELETE", tokens+"/"+string(reset.ID), f.admin.secret, "")
	f.want(404, "GET", tokens+"/"+string(reset.ID), f.admin.secret, "")
	f.want(401, "GET", "/api/accounts", reset.Token, "")

	// The organization token administers the sub-account's tokens, but only under the
	// sub-account's path.
	f.want(200, "GET", "/api/accounts/"+f.eu.Ref.ID+"/api_tokens/"+f.euTok.id, f.orgTok.secret, "")
	f.want(404, "GET", f.path("/api_tokens/"+f.euTok.id), f.orgTok.secret, "")

	future := time.Now().Add(6 * 365 * 24 * time.Hour).UTC().Format(time.RFC3339)
	refusals := []struct {
		name, method, path string
		tok                token
		body               string
		want               int
	}{
		{"list by an inbox admin", "GET", tokens, f.inbox, "", 403},
		{"create by an inbox admin", "POST", tokens, f.inbox, `{"name":"x"}`, 403},
		{"create by a viewer", "POST", tokens, f.viewer, `{"name":"x"}`, 403},
		{"an owner grant (D4)", "POST", tokens, f.admin, `{"name":"x","resources":[{"resource_type":"account","resource_id":"` + f.acct.Ref.ID + `","access_level":"owner"}]}`, 403},
		{"a billing grant (D22)", "POST", tokens, f.admin, `{"name":"x","resources":[{"resource_type":"billing","resource_id":"` + f.acct.Ref.ID + `","access_level":"viewer"}]}`, 422},
		{"a grant in another account", "POST", tokens, f.admin, `{"name":"x","resources":[{"resource_type":"account","resource_id":"` + f.beta.Ref.ID + `","access_level":"viewer"}]}`, 404},
		{"a past expiry", "POST", tokens, f.admin, `{"name":"x","expires_at":"2001-01-01T00:00:00Z"}`, 422},
		{"an expiry six years ahead", "POST", tokens, f.admin, `{"name":"x","expires_at":"` + future + `"}`, 422},
		{"a malformed expiry", "POST", tokens, f.admin, `{"name":"x","expires_at":"tomorrow"}`, 422},
		{"a numeric expiry", "POST", tokens, f.admin, `{"name":"x","expires_at":17}`, 422},
		{"no name", "POST", tokens, f.admin, `{}`, 422},
		{"a numeric name", "POST", tokens, f.admin, `{"name":7}`, 422},
		{"an unknown field", "POST", tokens, f.admin, `{"name":"x","scopes":[]}`, 422},
		{"malformed JSON", "POST", tokens, f.admin, `{"name":"x"`, 422},
		{"an oversized body", "POST", tokens, f.admin, `{"name":"` + strings.Repeat("x", api.MaxBodyBytes) + `"}`, 413},
		{"get an unknown token", "GET", tokens + "/424242", f.admin, "", 404},
		{"get another account's token", "GET", tokens + "/" + f.other.id, f.admin, "", 404},
		{"delete another account's token", "DELETE", tokens + "/" + f.other.id, f.admin, "", 404},
		{"reset another account's token", "POST", tokens + "/" + f.other.id + "/reset", f.admin, "", 404},
		{"delete by an inbox admin", "DELETE", tokens + "/" + f.viewer.id, f.inbox, "", 404},
		{"list another account's", "GET", "/api/accounts/" + f.beta.Ref.ID + "/api_tokens", f.admin, "", 404},
	}
	for _, tt := range refusals {
		f.unchanged(tt.name, func() { f.want(tt.want, tt.method, tt.path, tt.tok.secret, tt.body) })
	}
}

func TestSubAccounts(t *testing.T) {
	f := newFixture(t)
	subs := "/api/organizations/" + f.org.Ref.ID + "/sub_accounts"
	list := func() []api.SubAccountJSON {
		t.Helper()
		var out []api.SubAccountJSON
		if err := json.Unmarshal(f.want(200, "GET", subs, f.orgTok.secret, ""), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := list(); len(got) != 1 || got[0] != (api.SubAccountJSON{ID: api.ID(f.eu.Ref.ID), Name: "Acme EU"}) {
		t.Errorf("sub-accounts %+v", got)
	}
	b := f.want(201, "POST", subs, f.orgTok.secret, `{"account":{"name":"Acme US"}}`)
	var us api.SubAccountJSON
	if err := json.Unmarshal(b, &us); err != nil || us.Name != "Acme US" || us.ID == "" {
		t.Fatalf("created %s (%v)", b, err)
	}
	if got := list(); len(got) != 2 {
		t.Errorf("%d sub-accounts after creating one", len(got))
	}
	// The new sub-account is reached from the organization (D3).
	if d, _ := f.svc.Check(t.Context(), rbac.Token(f.orgTok.id), rbac.ProjectCreate, rbac.Account(string(us.ID))); !d.Allowed {
		t.Errorf("the organization token cannot create projects in it: %s", d.Reason())
	}

	for _, tt := range []struct {
		name, method string
		tok          token
		body         string
		want         int
	}{
		{"list by an account token", "GET", f.admin, "", 404},
		{"list by a sub-account token", "GET", f.euTok, "", 404},
		{"create by an account token", "POST", f.admin, `{"account":{"name":"X"}}`, 404},
		{"no account", "POST", f.orgTok, `{}`, 422},
		{"account null", "POST", f.orgTok, `{"account":null}`, 422},
		{"an empty name", "POST", f.orgTok, `{"account":{"name":"  "}}`, 422},
		{"an unknown field", "POST", f.orgTok, `{"account":{"name":"X","plan":"free"}}`, 422},
		{"a wrong type", "POST", f.orgTok, `{"account":"X"}`, 422},
		{"malformed JSON", "POST", f.orgTok, `{"account":`, 422},
	} {
		before, evs := list(), f.events(f.org.Ref)
		f.want(tt.want, tt.method, subs, tt.tok.secret, tt.body)
		if !slices.Equal(before, list()) || f.events(f.org.Ref) != evs {
			t.Errorf("%s changed the organization", tt.name)
		}
	}
	f.want(404, "GET", "/api/organizations/424242/sub_accounts", f.orgTok.secret, "")
}

func TestRoutes(t *testing.T) {
	f := newFixture(t)
	f.want(404, "GET", "/api/nothing", f.admin.secret, "")
	f.want(404, "GET", "/", "", "")
	f.want(405, "POST", "/api/accounts", f.admin.secret, "{}")
	_, b := f.do("PATCH", f.path("/api_tokens/1"), f.admin.secret, "")
	if !strings.Contains(string(b), "method not allowed") {
		t.Errorf("PATCH: %s", b)
	}
	r := httptest.NewRequest("PUT", f.path("/api_tokens"), nil)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != 405 || w.Header().Get("Allow") != "GET, POST" {
		t.Errorf("PUT api_tokens: %d, Allow %q", w.Code, w.Header().Get("Allow"))
	}
}

func TestRequestLog(t *testing.T) {
	f := newFixture(t)
	var buf strings.Builder
	h := api.NewHandler(f.svc, api.Options{Logger: slogTo(&buf), Web: web.Options{NoRateLimit: true}})
	r := httptest.NewRequest("GET", f.path("/account_accesses"), nil)
	r.Header.Set("Authorization", "Bearer "+f.inbox.secret)
	h.ServeHTTP(httptest.NewRecorder(), r)
	log := buf.String()
	for _, want := range []string{"msg=request", "method=GET", "status=200", "actor=token:" + f.inbox.id} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q: %s", want, log)
		}
	}
	if strings.Contains(log, f.inbox.secret) {
		t.Error("the log shows a secret")
	}
}
