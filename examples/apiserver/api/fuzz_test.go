package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tenantry/tenantry/rbac"
)

// fuzzRequest sends a request and fails unless the response is a 2xx, or a 4xx with {"errors": ...}
// that changed nothing in the audit log of tenant.
func fuzzRequest(t *testing.T, f *fixture, method, path, rawQuery, secret, body string, tenant rbac.Ref) {
	t.Helper()
	f.t = t
	before := f.events(tenant)
	r := httptest.NewRequest(method, "http://api.test"+path, strings.NewReader(body))
	r.URL.RawQuery = rawQuery
	r.Header.Set("Authorization", "Bearer "+secret)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	status, b := w.Code, w.Body.Bytes()
	switch {
	case status >= 200 && status < 300:
		if !json.Valid(b) {
			t.Fatalf("%d with a body that is not JSON: %q", status, b)
		}
	case status >= 400 && status < 500:
		var e struct{ Errors json.RawMessage }
		if err := json.Unmarshal(b, &e); err != nil || len(e.Errors) == 0 || string(e.Errors) == "null" {
			t.Fatalf("%d without an errors member: %q", status, b)
		}
		if after := f.events(tenant); after != before {
			t.Fatalf("a %d response wrote %d audit events", status, after-before)
		}
	default:
		t.Fatalf("status %d: %s", status, b)
	}
}

func FuzzBulkPermissions(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{
		bulk(`{"resource_id":` + fx.web.Ref.ID + `,"resource_type":"project","access_level":"admin"}`),
		bulk(`{"resource_id":"` + fx.dom.Ref.ID + `","resource_type":"mailsend_domain","access_level":10,"_destroy":true}`),
		bulk(`{"resource_id":"` + fx.acct.Ref.ID + `","resource_type":"account","access_level":"owner"}`),
		bulk(`{"resource_id":"` + fx.acct.Ref.ID + `","resource_type":"billing","access_level":100}`),
		bulk(`{"resource_id":1.5e3,"resource_type":"inbox","access_level":"10"}`),
		`{"permissions":[]}`, `{"permissions":null}`, `{}`, `[]`, `null`, ``, `{"permissions":[{}]}`,
		`{"permissions":[{"resource_id":"\u0000","resource_type":"\ud800"}]}`, `{"permissions":[`,
	} {
		f.Add(s)
	}
	path := fx.path("/account_accesses/" + fx.erin.String() + "/permissions/bulk")
	f.Fuzz(func(t *testing.T, body string) {
		fuzzRequest(t, fx, "PUT", path, "", fx.admin.secret, body, fx.acct.Ref)
	})
}

func FuzzCreateToken(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{
		`{"name":"CI","resources":[{"resource_type":"project","resource_id":` + fx.web.Ref.ID + `,"access_level":"viewer"}]}`,
		`{"name":"CI","resources":[],"expires_at":"never"}`,
		`{"name":"CI","expires_at":"2001-01-01T00:00:00Z"}`,
		`{"name":"CI","expires_at":"9999-12-31T23:59:59Z"}`,
		`{"name":"CI","expires_at":null,"resources":null}`,
		`{"name":"","resources":[{"resource_type":"account","resource_id":"x","access_level":1000}]}`,
		`{"name":"` + strings.Repeat("é", 101) + `"}`,
		`{"name":1}`, `{"name":"a"}{}`, `{"name":"a","x":1}`, ``, `"name"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fuzzRequest(t, fx, "POST", fx.path("/api_tokens"), "", fx.admin.secret, body, fx.acct.Ref)
	})
}

func FuzzAccessFilters(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{
		"", "inbox_ids[]=" + fx.production.Ref.ID, "inbox_ids=" + fx.staging.Ref.ID + "&inbox_ids=" + fx.production.Ref.ID,
		"project_ids%5B%5D=" + fx.web.Ref.ID, "domain_uuids[]=" + fx.dom.Ref.ID, "domain_ids[0]=" + fx.dom.Ref.ID,
		"inbox_ids[]=", "inbox_ids[]=%zz", "inbox_ids[]=a;b", "project_ids[]=" + fx.dom.Ref.ID, "a=1&&b", "%",
		"inbox_ids[x]=1", "inbox_ids[]=" + strings.Repeat("9", 200),
	} {
		f.Add(s)
	}
	path := fx.path("/account_accesses")
	f.Fuzz(func(t *testing.T, query string) {
		fuzzRequest(t, fx, "GET", path, query, fx.inbox.secret, "", fx.acct.Ref)
	})
}

func FuzzCreateSubAccount(f *testing.F) {
	fx := newFixture(f)
	for _, s := range []string{
		`{"account":{"name":"Acme US"}}`, `{"account":{"name":""}}`, `{"account":null}`, `{"account":{}}`,
		`{"account":{"name":"x","id":1}}`, `{"account":"x"}`, `{}`, ``, `{"account":{"name":"\u0007"}}`,
	} {
		f.Add(s)
	}
	path := "/api/organizations/" + fx.org.Ref.ID + "/sub_accounts"
	f.Fuzz(func(t *testing.T, body string) {
		fuzzRequest(t, fx, "POST", path, "", fx.orgTok.secret, body, fx.org.Ref)
	})
}
