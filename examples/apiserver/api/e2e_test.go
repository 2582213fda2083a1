package api_test

import (
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

// decode unmarshals a response body, failing the test when it does not fit v.
func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

// level returns holder's effective level on scope.
func (f *fixture) level(h rbac.Holder, scope rbac.Ref) rbac.Level {
	f.t.Helper()
	l, err := account.Get(f.t.Context(), f.svc, f.owner, account.Level{Holder: h, Scope: scope})
	if err != nil {
		f.t.Fatalf("level of %v on %v: %v", h, scope, err)
	}
	return l
}

// The SDKs type IDs as numbers: every ID is a JSON number, and each access has its
// own, which names it in the access routes.
func TestNumericIDs(t *testing.T) {
	f := newFixture(t)
	b := f.want(200, "GET", "/api/accounts", f.admin.secret, "")
	if !strings.HasPrefix(string(b), `[{"id":`+f.acct.Ref.ID+`,`) {
		t.Errorf("accounts: %s", b)
	}
	list := decode[[]map[string]any](t, f.want(200, "GET", f.path("/account_accesses"), f.admin.secret, ""))
	seen := map[float64]bool{}
	for _, a := range list {
		id, ok := a["id"].(float64)
		spec := a["specifier"].(map[string]any)
		sid, sok := spec["id"].(float64)
		if !ok || !sok || seen[id] || id == sid {
			t.Errorf("access %v: id %v, specifier id %v", a["id"], a["id"], spec["id"])
		}
		seen[id] = true
	}
	// The same user has another access ID in another account.
	if api.AccessID(f.acct.Ref, f.owner) == api.AccessID(f.org.Ref, f.owner) {
		t.Error("one access ID in two accounts")
	}
	// An access ID reads back as its holder, in its account only.
	for _, h := range []rbac.Holder{f.owner, rbac.Invite(f.frank.ID), rbac.Token(f.admin.id), rbac.Team("1234")} {
		id := string(api.AccessID(f.acct.Ref, h))
		if _, err := strconv.ParseUint(id, 10, 53); err != nil {
			t.Errorf("%v: access ID %q is not a number below 2^53", h, id)
		}
		if got, ok := api.ParseAccessID(f.acct.Ref, id); !ok || got != h {
			t.Errorf("%v: reads back as %v", h, got)
		}
		if got, _ := api.ParseAccessID(f.beta.Ref, id); got == h {
			t.Errorf("%v: the access ID is its holder's in another account too", h)
		}
	}
	// IDs of the service are numbers below 2^51.
	for range 100 {
		if n, err := strconv.ParseUint(api.NewID("x"), 10, 64); err != nil || n == 0 || n >= 1<<51 {
			t.Fatalf("NewID: %d %v", n, err)
		}
	}
	// Deleting by the numeric access ID, as the SDK does.
	f.want(200, "DELETE", f.path("/account_accesses/"+string(api.AccessID(f.acct.Ref, f.gus))), f.admin.secret, "")
	if got := emails(t, f.want(200, "GET", f.path("/account_accesses"), f.admin.secret, "")); slices.Contains(got, "gus") {
		t.Errorf("gus is still a member: %v", got)
	}
}

func TestTokenExpiry(t *testing.T) {
	f := newFixture(t)
	tokens := f.path("/api_tokens")
	mk := func(body string) api.TokenJSON {
		t.Helper()
		return decode[api.TokenJSON](t, f.want(201, "POST", tokens, f.admin.secret, body))
	}
	// null is never, as the SDK sends it.
	never := mk(`{"name":"forever","expires_at":null}`)
	if never.ExpiresAt != nil {
		t.Errorf("expires_at null: expires %v", never.ExpiresAt)
	}
	f.want(200, "GET", "/api/accounts", never.Token, "")
	year := mk(`{"name":"default"}`)
	if year.ExpiresAt == nil || time.Until(*year.ExpiresAt) < 364*24*time.Hour {
		t.Errorf("no expires_at: expires %v, want a year", year.ExpiresAt)
	}
	// Reset honours expires_at: a date, null, or absent to keep the token's.
	at := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	r1 := decode[api.TokenJSON](t, f.want(200, "POST", tokens+"/"+string(year.ID)+"/reset", f.admin.secret, `{"expires_at":"`+at.Format(time.RFC3339)+`"}`))
	if r1.ExpiresAt == nil || !r1.ExpiresAt.Equal(at) {
		t.Errorf("reset to %v: expires %v", at, r1.ExpiresAt)
	}
	r2 := decode[api.TokenJSON](t, f.want(200, "POST", tokens+"/"+string(r1.ID)+"/reset", f.admin.secret, `{"expires_at":null}`))
	if r2.ExpiresAt != nil {
		t.Errorf("reset to null: expires %v", r2.ExpiresAt)
	}
	r3 := decode[api.TokenJSON](t, f.want(200, "POST", tokens+"/"+string(r2.ID)+"/reset", f.admin.secret, ``))
	if r3.ExpiresAt != nil {
		t.Errorf("reset without a body: expires %v, want the old token's (never)", r3.ExpiresAt)
	}
	f.want(200, "GET", "/api/accounts", r3.Token, "")
	f.unchanged("a past expiry on reset", func() {
		f.want(422, "POST", tokens+"/"+string(r3.ID)+"/reset", f.admin.secret, `{"expires_at":"2001-01-01T00:00:00Z"}`)
		f.want(422, "POST", tokens+"/"+string(r3.ID)+"/reset", f.admin.secret, `{"expires_at":"soon"}`)
		f.want(422, "POST", tokens+"/"+string(r3.ID)+"/reset", f.admin.secret, `{"expires":null}`)
	})
	f.want(200, "GET", "/api/accounts", r3.Token, "")
}

// Resource type names are echoed as the client sent them: the SDK's
// "sending_domain" comes back as such, the platform's "mailsend_domain" too.
func TestResourceTypeNamesEchoed(t *testing.T) {
	f := newFixture(t)
	tokens := f.path("/api_tokens")
	tok := decode[api.TokenJSON](t, f.want(201, "POST", tokens, f.admin.secret,
		`{"name":"sdk","resources":[{"resource_type":"sending_domain","resource_id":`+f.dom.Ref.ID+`,"access_level":10}]}`))
	if len(tok.Resources) != 1 || tok.Resources[0].ResourceType != "sending_domain" {
		t.Errorf("create: %+v", tok.Resources)
	}
	got := decode[api.TokenJSON](t, f.want(200, "GET", tokens+"/"+string(tok.ID), f.admin.secret, ""))
	if got.Resources[0].ResourceType != "sending_domain" {
		t.Errorf("get: %+v", got.Resources)
	}
	if d, _ := f.svc.Check(t.Context(), rbac.Token(string(tok.ID)), rbac.DomainView, f.dom.Ref); !d.Allowed {
		t.Errorf("the token cannot view the domain: %s", d.Reason())
	}
	f.want(200, "PUT", f.path("/account_accesses/"+string(api.AccessID(f.acct.Ref, f.gus))+"/permissions/bulk"), f.admin.secret,
		bulk(`{"resource_id":"`+f.dom.Ref.ID+`","resource_type":"mailsend_domain","access_level":"admin"}`))
	got = decode[api.TokenJSON](t, f.want(200, "GET", tokens+"/"+string(tok.ID), f.admin.secret, ""))
	if got.Resources[0].ResourceType != "mailsend_domain" {
		t.Errorf("after a request named it mailsend_domain: %+v", got.Resources)
	}
}

// Seed 001: POST /api/team/invite with a role, teams, projects and features.
func TestSeed001Invite(t *testing.T) {
	f := newFixture(t)
	dev := decode[api.TeamJSON](t, f.want(201, "POST", f.path("/teams"), f.admin.secret, `{"name":"development"}`))
	qa := decode[api.TeamJSON](t, f.want(201, "POST", f.path("/teams"), f.admin.secret, `{"name":"QA"}`))

	// Seed 001's own call: a member of project Web (named) in two teams (named).
	inv := decode[api.InvitationJSON](t, f.want(201, "POST", "/api/team/invite", f.admin.secret,
		`{"email":"newuser@company.com","role":"member","teams":["development","qa"],"projects":["web"]}`))
	if inv.Email != "newuser@company.com" || inv.Role != "member" || !slices.Equal(inv.Teams, []api.ID{dev.ID, qa.ID}) ||
		len(inv.Resources) != 1 || inv.Resources[0] != (api.ResourceJSON{ResourceID: api.ID(f.web.Ref.ID), ResourceType: "project", AccessLevel: 10}) {
		t.Errorf("invitation %+v", inv)
	}
	// The invitee registers and accepts: a viewer of Web, in both teams.
	reg, err := account.Do(t.Context(), f.svc, rbac.Holder{}, profile.Register{Email: "newuser@company.com"})
	if err != nil {
		t.Fatal(err)
	}
	nu := rbac.User(reg.User.ID)
	sess := f.session(nu)
	mine := decode[struct{ Items []api.MyInvitationJSON }](t, f.want(200, "GET", "/api/invitations", sess, ""))
	if len(mine.Items) != 1 || mine.Items[0].ID != inv.ID {
		t.Errorf("my invitations: %+v", mine)
	}
	if inv.Secret == "" {
		t.Fatal("the invitation's secret is not in the response that made it")
	}
	f.want(404, "POST", "/api/invitations/"+string(inv.ID)+"/accept", sess, `{"secret":"`+string(inv.ID)+`.00"}`)
	f.want(200, "POST", "/api/invitations/"+string(inv.ID)+"/accept", sess, `{"secret":"`+inv.Secret+`"}`)
	if l := f.level(nu, f.staging.Ref); l != rbac.Viewer {
		t.Errorf("the new member holds %v on Staging, want viewer", l)
	}
	members := decode[struct{ Items []api.IDJSON }](t, f.want(200, "GET", f.path("/teams/"+string(dev.ID)+"/members"), f.admin.secret, ""))
	if len(members.Items) != 1 || string(members.Items[0].ID) != nu.ID {
		t.Errorf("development's members: %+v", members)
	}

	// Roles and features map as POLICY.md says.
	for _, tt := range []struct {
		body  string
		scope rbac.Ref
		want  rbac.Level
	}{
		{`{"email":"a1@company.com","role":"admin"}`, f.acct.Ref, rbac.Admin},
		{`{"email":"v1@company.com","role":"viewer"}`, f.production.Ref, rbac.Viewer},
		{`{"email":"m1@company.com","permissions":{"email_api":"full"}}`, f.dom.Ref, rbac.Admin},
		{`{"email":"m2@company.com","role":"member","permissions":{"sandbox":"read"}}`, f.production.Ref, rbac.Viewer},
		{`{"email":"m3@company.com","permissions":{"marketing":"full"}}`, rbac.Campaigns(f.acct.Ref.ID), rbac.Admin},
	} {
		inv := decode[api.InvitationJSON](t, f.want(201, "POST", "/api/team/invite", f.admin.secret, tt.body))
		if l := f.level(rbac.Invite(string(inv.ID)), tt.scope); l != tt.want {
			t.Errorf("%s: %v on %v, want %v", tt.body, l, tt.scope, tt.want)
		}
	}

	refusals := []struct {
		name, path, secret, body string
		want                     int
		rule                     rbac.Rule
	}{
		{"role owner (D4)", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","role":"owner"}`, 403, rbac.RuleOwnerNotGrant},
		{"by a viewer", "/api/team/invite", f.viewer.secret, `{"email":"x@company.com"}`, 403, rbac.RuleInvite},
		{"a foreign account", "/api/team/invite?account_id=" + f.acct.Ref.ID, f.other.secret, `{"email":"x@company.com"}`, 404, ""},
		{"an unknown team", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","teams":["ops"]}`, 422, ""},
		{"an unknown project", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","projects":["project-a"]}`, 422, ""},
		{"a project of another account", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","projects":[` + f.eu.Ref.ID + `]}`, 404, ""},
		{"an unknown role", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","role":"root"}`, 422, ""},
		{"an unknown feature", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","permissions":{"billing":"full"}}`, 422, ""},
		{"an unknown feature level", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","permissions":{"sandbox":"write"}}`, 422, ""},
		{"a member already", "/api/team/invite", f.admin.secret, `{"email":"erin@acme.test"}`, 422, ""},
		{"a bad address", "/api/team/invite", f.admin.secret, `{"email":"nope"}`, 422, ""},
		{"no credentials", "/api/team/invite", "", `{"email":"x@company.com"}`, 401, ""},
		{"an unknown field", "/api/team/invite", f.admin.secret, `{"email":"x@company.com","notify":true}`, 422, ""},
	}
	for _, tt := range refusals {
		f.unchanged(tt.name, func() {
			b := f.want(tt.want, "POST", tt.path, tt.secret, tt.body)
			if tt.rule != "" && decode[struct{ Rule rbac.Rule }](t, b).Rule != tt.rule {
				t.Errorf("%s: %s, want rule %s", tt.name, b, tt.rule)
			}
		})
	}
	// A session of a user in several accounts names the account.
	f.unchanged("a session without account_id", func() {
		f.want(422, "POST", "/api/team/invite", f.session(f.owner), `{"email":"x@company.com"}`)
	})
	f.want(201, "POST", "/api/team/invite?account_id="+f.acct.Ref.ID, f.session(f.owner), `{"email":"s1@company.com"}`)
}

// Seed 001: PATCH /api/users/{user_id}.
func TestSeed001Update(t *testing.T) {
	f := newFixture(t)
	user := func(u rbac.Holder) string { return "/api/users/" + u.ID }

	// Seed 001's own call: admin with features is account admin.
	got := decode[api.UserJSON](t, f.want(200, "PATCH", user(f.erin), f.admin.secret,
		`{"role":"admin","permissions":{"email_api":"full","sandbox":"full","marketing":"read"}}`))
	if got.Role != "admin" || f.level(f.erin, f.acct.Ref) != rbac.Admin || got.AccessID != api.AccessID(f.acct.Ref, f.erin) {
		t.Errorf("erin: %+v", got)
	}
	// Member: the account grant goes; the features stay on their scopes.
	got = decode[api.UserJSON](t, f.want(200, "PATCH", user(f.erin), f.admin.secret, `{"role":"member","permissions":{"email_api":"full","marketing":"read"}}`))
	if got.Role != "member" || f.level(f.erin, f.acct.Ref) != rbac.None || f.level(f.erin, f.dom.Ref) != rbac.Admin ||
		f.level(f.erin, rbac.Templates(f.acct.Ref.ID)) != rbac.Viewer || f.level(f.erin, f.web.Ref) != rbac.Viewer {
		t.Errorf("erin as a member: %+v", got)
	}
	// A feature set to none takes its grants away.
	f.want(200, "PATCH", user(f.erin), f.admin.secret, `{"permissions":{"email_api":"none"}}`)
	if l := f.level(f.erin, f.dom.Ref); l != rbac.None {
		t.Errorf("email_api none: erin holds %v on the domain", l)
	}
	// Viewer; then sandbox full on the named project.
	f.want(200, "PATCH", user(f.erin), f.admin.secret, `{"role":"viewer","projects":["Web"],"permissions":{"sandbox":"full"}}`)
	if f.level(f.erin, f.acct.Ref) != rbac.Viewer || f.level(f.erin, f.web.Ref) != rbac.Admin {
		t.Errorf("erin: %v on the account, %v on Web", f.level(f.erin, f.acct.Ref), f.level(f.erin, f.web.Ref))
	}

	refusals := []struct {
		name, path, secret, body string
		want                     int
		rule                     rbac.Rule
	}{
		{"role owner (D4)", user(f.gus), f.admin.secret, `{"role":"owner"}`, 403, rbac.RuleOwnerNotGrant},
		{"the owner (D9)", user(f.owner), f.admin.secret, `{"role":"viewer"}`, 403, rbac.RuleOwnerImmutable},
		{"oneself (D10)", user(f.carol) + "?account_id=" + f.acct.Ref.ID, f.session(f.carol), `{"role":"viewer"}`, 403, rbac.RuleNoSelfChange},
		{"an account role by an inbox admin (D11)", user(f.erin), f.inbox.secret, `{"role":"admin"}`, 403, rbac.RuleAdminChanges},
		{"whom the inbox admin does not see", user(f.gus), f.inbox.secret, `{"role":"viewer"}`, 404, ""},
		{"by a viewer", user(f.gus), f.viewer.secret, `{"role":"viewer"}`, 404, ""},
		{"a foreign account", user(f.gus) + "?account_id=" + f.acct.Ref.ID, f.other.secret, `{"role":"viewer"}`, 404, ""},
		{"an unknown user", "/api/users/424242", f.admin.secret, `{"role":"viewer"}`, 404, ""},
		{"nothing to change", user(f.gus), f.admin.secret, `{}`, 422, ""},
		{"an unknown feature", user(f.gus), f.admin.secret, `{"permissions":{"billing":"read"}}`, 422, ""},
		{"malformed JSON", user(f.gus), f.admin.secret, `{"role":`, 422, ""},
		{"a bad token", user(f.gus), "1.nope", `{"role":"viewer"}`, 401, ""},
	}
	for _, tt := range refusals {
		f.unchanged(tt.name, func() {
			b := f.want(tt.want, "PATCH", tt.path, tt.secret, tt.body)
			if tt.rule != "" && decode[struct{ Rule rbac.Rule }](t, b).Rule != tt.rule {
				t.Errorf("%s: %s, want rule %s", tt.name, b, tt.rule)
			}
		})
	}
}

// Seed 001: DELETE /api/users/{user_id}.
func TestSeed001Remove(t *testing.T) {
	f := newFixture(t)
	refusals := []struct {
		name, path, secret, body string
		want                     int
		rule                     rbac.Rule
	}{
		{"preserve_data false", "/api/users/" + f.erin.ID, f.admin.secret, `{"preserve_data":false}`, 422, ""},
		{"a transfer from someone not the owner", "/api/users/" + f.erin.ID, f.admin.secret, `{"transfer_ownership_to":"carol@acme.test"}`, 422, ""},
		{"the owner without a transfer (D9)", "/api/users/" + f.owner.ID, f.admin.secret, ``, 403, rbac.RuleOwnerImmutable},
		{"a transfer by a token (D16)", "/api/users/" + f.owner.ID, f.admin.secret, `{"transfer_ownership_to":"carol@acme.test"}`, 403, rbac.RuleTransfer},
		{"a transfer to a stranger", "/api/users/" + f.owner.ID + "?account_id=" + f.acct.Ref.ID, f.session(f.owner), `{"transfer_ownership_to":"zed@beta.test"}`, 422, ""},
		{"the owner leaving without a transfer (D15)", "/api/users/" + f.owner.ID + "?account_id=" + f.acct.Ref.ID, f.session(f.owner), ``, 403, rbac.RuleLeave},
		{"by an inbox admin", "/api/users/" + f.erin.ID, f.inbox.secret, ``, 403, rbac.RuleRemoveMember},
		{"by a viewer", "/api/users/" + f.erin.ID, f.viewer.secret, ``, 404, ""},
		{"a foreign account", "/api/users/" + f.erin.ID + "?account_id=" + f.acct.Ref.ID, f.other.secret, ``, 404, ""},
		{"an unknown user", "/api/users/424242", f.admin.secret, ``, 404, ""},
		{"a bad body", "/api/users/" + f.erin.ID, f.admin.secret, `{"preserve_data":"yes"}`, 422, ""},
	}
	for _, tt := range refusals {
		f.unchanged(tt.name, func() {
			b := f.want(tt.want, "DELETE", tt.path, tt.secret, tt.body)
			if tt.rule != "" && decode[struct{ Rule rbac.Rule }](t, b).Rule != tt.rule {
				t.Errorf("%s: %s, want rule %s", tt.name, b, tt.rule)
			}
		})
	}
	// Removed, data preserved.
	out := decode[api.RemovedJSON](t, f.want(200, "DELETE", "/api/users/"+f.erin.ID, f.admin.secret, `{"preserve_data":true}`))
	if string(out.ID) != f.erin.ID || !out.DataPreserved || out.OwnershipTransferredTo != nil {
		t.Errorf("removed: %+v", out)
	}
	if slices.Contains(emails(t, f.want(200, "GET", f.path("/account_accesses"), f.admin.secret, "")), "erin") {
		t.Error("erin is still a member")
	}
	// The owner removes themselves, transferring ownership to carol first (D16, C2
	// then D15), in one transaction.
	out = decode[api.RemovedJSON](t, f.want(200, "DELETE", "/api/users/"+f.owner.ID+"?account_id="+f.acct.Ref.ID, f.session(f.owner), `{"transfer_ownership_to":"carol@acme.test"}`))
	if out.OwnershipTransferredTo == nil || string(*out.OwnershipTransferredTo) != f.carol.ID {
		t.Errorf("transfer: %+v", out)
	}
	a, err := account.Get(t.Context(), f.svc, f.carol, account.Account{Account: f.acct.Ref})
	if err != nil || a.Owner != f.carol.ID {
		t.Errorf("owner %q, %v", a.Owner, err)
	}
	// Ann's tokens now act as nothing (D40): carol lists.
	if got := emails(t, f.want(200, "GET", f.path("/account_accesses"), f.session(f.carol), "")); slices.Contains(got, "ann") {
		t.Errorf("ann is still a member: %v", got)
	}
	f.want(403, "GET", f.path("/account_accesses"), f.admin.secret, "")
}

// Invitations beyond seed 001: invite with grants and teams, resend, revoke.
func TestInvitations(t *testing.T) {
	f := newFixture(t)
	team := decode[api.TeamJSON](t, f.want(201, "POST", f.path("/teams"), f.admin.secret, `{"name":"Support"}`))
	inv := decode[api.InvitationJSON](t, f.want(201, "POST", f.path("/invitations"), f.admin.secret,
		`{"email":"hal@acme.test","resources":[{"resource_type":"inbox","resource_id":`+f.staging.Ref.ID+`,"access_level":"admin"}],"team_ids":[`+string(team.ID)+`]}`))
	if inv.Email != "hal@acme.test" || len(inv.Resources) != 1 || !slices.Equal(inv.Teams, []api.ID{team.ID}) {
		t.Errorf("invitation %+v", inv)
	}
	resent := decode[api.InvitationJSON](t, f.want(202, "POST", f.path("/invitations/"+string(inv.ID)+"/resend"), f.admin.secret, ""))
	if resent.ID != inv.ID || len(resent.Resources) != 1 {
		t.Errorf("resent %+v", resent)
	}
	for _, tt := range []struct {
		name, method, path, secret, body string
		want                             int
	}{
		{"invite by a viewer", "POST", f.path("/invitations"), f.viewer.secret, `{"email":"x@acme.test"}`, 403},
		{"invite into a foreign account", "POST", f.path("/invitations"), f.other.secret, `{"email":"x@acme.test"}`, 404},
		{"invite past a grant the actor holds (D12)", "POST", f.path("/invitations"), f.inbox.secret, `{"email":"x@acme.test","resources":[{"resource_type":"project","resource_id":` + f.web.Ref.ID + `,"access_level":"viewer"}]}`, 403},
		{"invite without an address", "POST", f.path("/invitations"), f.admin.secret, `{}`, 422},
		{"resend by a viewer", "POST", f.path("/invitations/" + string(inv.ID) + "/resend"), f.viewer.secret, "", 404},
		{"resend by the inbox admin", "POST", f.path("/invitations/" + string(inv.ID) + "/resend"), f.inbox.secret, "", 403},
		{"resend an unknown invitation", "POST", f.path("/invitations/424242/resend"), f.admin.secret, "", 404},
		{"revoke by a viewer", "DELETE", f.path("/invitations/" + string(inv.ID)), f.viewer.secret, "", 404},
		{"revoke under a foreign account", "DELETE", "/api/accounts/" + f.beta.Ref.ID + "/invitations/" + string(inv.ID), f.other.secret, "", 404},
		{"accept with a token", "POST", "/api/invitations/" + string(inv.ID) + "/accept", f.admin.secret, `{"secret":"` + inv.Secret + `"}`, 403},
		{"accept someone else's", "POST", "/api/invitations/" + string(inv.ID) + "/accept", f.session(f.gus), `{"secret":"` + inv.Secret + `"}`, 404},
		{"my invitations with a token", "GET", "/api/invitations", f.admin.secret, "", 403},
		{"my invitations, a bad limit", "GET", "/api/invitations?limit=0", f.session(f.gus), "", 422},
	} {
		f.unchanged(tt.name, func() { f.want(tt.want, tt.method, tt.path, tt.secret, tt.body) })
	}
	f.want(200, "DELETE", f.path("/invitations/"+string(inv.ID)), f.admin.secret, "")
	f.unchanged("resend a revoked invitation", func() {
		f.want(404, "POST", f.path("/invitations/"+string(inv.ID)+"/resend"), f.admin.secret, "")
		f.want(404, "DELETE", f.path("/invitations/"+string(inv.ID)), f.admin.secret, "")
	})
}

func TestTeams(t *testing.T) {
	f := newFixture(t)
	teams := f.path("/teams")
	team := decode[api.TeamJSON](t, f.want(201, "POST", teams, f.admin.secret, `{"name":"Support"}`))
	if team.AccessID != api.AccessID(f.acct.Ref, rbac.Team(string(team.ID))) {
		t.Errorf("team %+v", team)
	}
	// The team's grants, through its access ID, as any holder's.
	f.want(200, "PUT", f.path("/account_accesses/"+string(team.AccessID)+"/permissions/bulk"), f.admin.secret,
		bulk(`{"resource_id":`+f.production.Ref.ID+`,"resource_type":"inbox","access_level":"viewer"}`))
	tp := teams + "/" + string(team.ID)
	f.want(200, "PUT", tp+"/members/"+f.gus.ID, f.admin.secret, "")
	if l := f.level(f.gus, f.production.Ref); l != rbac.Viewer {
		t.Errorf("gus, in Support, holds %v on Production", l)
	}
	renamed := decode[api.TeamJSON](t, f.want(200, "PATCH", tp, f.admin.secret, `{"name":"Care"}`))
	list := decode[struct{ Items []api.TeamJSON }](t, f.want(200, "GET", teams+"?limit=10", f.admin.secret, ""))
	if renamed.Name != "Care" || len(list.Items) != 1 || list.Items[0].Name != "Care" {
		t.Errorf("teams %+v", list)
	}
	for _, tt := range []struct {
		name, method, path, secret, body string
		want                             int
	}{
		{"list by a viewer", "GET", teams, f.viewer.secret, "", 403},
		{"list in a foreign account", "GET", teams, f.other.secret, "", 404},
		{"create by a viewer", "POST", teams, f.viewer.secret, `{"name":"X"}`, 403},
		{"create a second Care", "POST", teams, f.admin.secret, `{"name":"care"}`, 422},
		{"rename by the inbox admin", "PATCH", tp, f.inbox.secret, `{"name":"X"}`, 404},
		{"rename to nothing", "PATCH", tp, f.admin.secret, `{"name":""}`, 422},
		{"add the owner (D9)", "PUT", tp + "/members/" + f.owner.ID, f.admin.secret, "", 403},
		{"add a stranger", "PUT", tp + "/members/424242", f.admin.secret, "", 404},
		{"members by a viewer", "GET", tp + "/members", f.viewer.secret, "", 404},
		{"remove a member who is not in it", "DELETE", tp + "/members/" + f.erin.ID, f.admin.secret, "", 404},
		{"remove by a viewer", "DELETE", tp + "/members/" + f.gus.ID, f.viewer.secret, "", 404},
		{"delete by a viewer", "DELETE", tp, f.viewer.secret, "", 404},
		{"delete an unknown team", "DELETE", teams + "/424242", f.admin.secret, "", 404},
	} {
		f.unchanged(tt.name, func() { f.want(tt.want, tt.method, tt.path, tt.secret, tt.body) })
	}
	f.want(200, "DELETE", tp+"/members/"+f.gus.ID, f.admin.secret, "")
	if l := f.level(f.gus, f.production.Ref); l != rbac.None {
		t.Errorf("gus, out of Care, holds %v on Production", l)
	}
	f.want(200, "DELETE", tp, f.admin.secret, "")
	f.want(404, "GET", tp+"/members", f.admin.secret, "")
}

func TestProfile(t *testing.T) {
	f := newFixture(t)
	sess := f.session(f.erin)
	p := decode[api.ProfileJSON](t, f.want(200, "GET", "/api/me", sess, ""))
	if p.Email != "erin@acme.test" || string(p.ID) != f.erin.ID {
		t.Errorf("profile %+v", p)
	}
	p = decode[api.ProfileJSON](t, f.want(200, "PATCH", "/api/me", sess, `{"name":"Erin E.","time_zone":"Europe/Riga"}`))
	if p.Name != "Erin E." || p.TimeZone != "Europe/Riga" {
		t.Errorf("renamed %+v", p)
	}
	p = decode[api.ProfileJSON](t, f.want(200, "POST", "/api/me/oauth", sess, `{"provider":"github","subject":"42"}`))
	if len(p.OAuth) != 1 {
		t.Errorf("linked %+v", p)
	}
	p = decode[api.ProfileJSON](t, f.want(200, "PUT", "/api/me/email", sess, `{"email":"erin@acme.example"}`))
	if p.Email != "erin@acme.example" {
		t.Errorf("email %+v", p)
	}
	myEvents := func() int {
		n := 0
		for _, err := range account.All(t.Context(), f.svc, f.erin, account.MyEvents{}) {
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		return n
	}
	for _, tt := range []struct {
		name, method, path, secret, body string
		want                             int
	}{
		{"a token has no profile", "GET", "/api/me", f.admin.secret, "", 403},
		{"no credentials", "GET", "/api/me", "", "", 401},
		{"an unknown session", "GET", "/api/me", "sess_nope", "", 401},
		{"an unknown time zone", "PATCH", "/api/me", sess, `{"time_zone":"Mars/Olympus"}`, 422},
		{"half a change: name and a bad zone", "PATCH", "/api/me", sess, `{"name":"X","time_zone":"Mars/Olympus"}`, 422},
		{"nothing to change", "PATCH", "/api/me", sess, `{}`, 422},
		{"a taken address", "PUT", "/api/me/email", sess, `{"email":"gus@acme.test"}`, 422},
		{"a link taken", "POST", "/api/me/oauth", f.session(f.gus), `{"provider":"github","subject":"42"}`, 422},
		{"unlink what is not linked", "DELETE", "/api/me/oauth/github/43", sess, "", 404},
		{"delete without the address", "DELETE", "/api/me", sess, `{"confirm":"erin@acme.test"}`, 422},
		{"delete with a token", "DELETE", "/api/me", f.admin.secret, `{"confirm":"x"}`, 403},
	} {
		before := myEvents()
		f.unchanged(tt.name, func() { f.want(tt.want, tt.method, tt.path, tt.secret, tt.body) })
		if myEvents() != before {
			t.Errorf("%s wrote to the profile's log", tt.name)
		}
	}
	f.want(200, "DELETE", "/api/me/oauth/github/42", sess, "")
	f.want(200, "DELETE", "/api/me", sess, `{"confirm":"ERIN@acme.example"}`)
	f.want(401, "GET", "/api/me", sess, "")
	if got := emails(t, f.want(200, "GET", f.path("/account_accesses"), f.admin.secret, "")); slices.Contains(got, "erin") {
		t.Errorf("erin's access outlived her profile: %v", got)
	}
}

// Ownership, leaving, seats and the audit log.
func TestAccountRoutes(t *testing.T) {
	f := newFixture(t)
	ann, carol, erin := f.session(f.owner), f.session(f.carol), f.session(f.erin)
	seats := decode[api.SeatsJSON](t, f.want(200, "GET", f.path("/seats"), f.admin.secret, ""))
	if seats.Used != 6 || seats.Limit != 20 {
		t.Errorf("seats %+v, want 6 of 20 (five members and frank's invitation)", seats)
	}
	// The audit log, two events a page, read to its end with the cursor.
	var actions []string
	for cursor, n := "", 0; n < 50; n++ {
		page := decode[struct {
			Items      []api.EventJSON
			NextCursor string `json:"next_cursor"`
		}](t, f.want(200, "GET", f.path("/events?limit=2&cursor="+cursor), f.admin.secret, ""))
		for _, e := range page.Items {
			actions = append(actions, e.Action)
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(actions) != f.events(f.acct.Ref) || actions[0] != "profile.register" {
		t.Errorf("events %v", actions)
	}
	for _, tt := range []struct {
		name, method, path, secret, body string
		want                             int
	}{
		{"seats by a viewer", "GET", f.path("/seats"), f.viewer.secret, "", 403},
		{"seats of a foreign account", "GET", f.path("/seats"), f.other.secret, "", 404},
		{"the log by a viewer", "GET", f.path("/events"), f.viewer.secret, "", 403},
		{"the log of a foreign account", "GET", f.path("/events"), f.other.secret, "", 404},
		{"the log, a bad cursor", "GET", f.path("/events?cursor=zz"), f.admin.secret, "", 422},
		{"transfer by an admin (D16)", "POST", f.path("/transfer"), carol, `{"user_id":` + f.erin.ID + `}`, 403},
		{"transfer to a stranger (D16)", "POST", f.path("/transfer"), ann, `{"user_id":424242}`, 403},
		{"transfer with a token", "POST", f.path("/transfer"), f.admin.secret, `{"user_id":` + f.carol.ID + `}`, 403},
		{"the owner leaves (D15)", "POST", f.path("/leave"), ann, "", 403},
		{"leave a foreign account", "POST", "/api/accounts/" + f.beta.Ref.ID + "/leave", erin, "", 404},
		{"leave with a token", "POST", f.path("/leave"), f.admin.secret, "", 403},
	} {
		f.unchanged(tt.name, func() { f.want(tt.want, tt.method, tt.path, tt.secret, tt.body) })
	}
	f.want(200, "POST", f.path("/leave"), erin, "")
	f.want(200, "POST", f.path("/transfer"), ann, `{"user_id":"`+f.carol.ID+`"}`)
	if l := f.level(f.owner, f.acct.Ref); l != rbac.Admin {
		t.Errorf("the former owner holds %v, want admin (C2)", l)
	}
	if got := emails(t, f.want(200, "GET", f.path("/account_accesses"), f.admin.secret, "")); slices.Contains(got, "erin") {
		t.Errorf("erin did not leave: %v", got)
	}
}

// The platform's rate limit, per token: 150 requests per 10 s, then 429 with
// Retry-After; another token is not affected. The clock is a fake one.
func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.h = api.NewHandler(f.svc, api.Options{Sessions: f.sessions, Web: web.Options{Now: func() time.Time { return now }}})
	for i := range web.DefaultRateLimit {
		if code, b := f.do("GET", "/api/accounts", f.admin.secret, ""); code != 200 {
			t.Fatalf("request %d: %d %s", i+1, code, b)
		}
	}
	now = now.Add(4 * time.Second)
	r := httptest.NewRequest("GET", "/api/accounts", nil)
	r.Header.Set("Authorization", "Bearer "+f.admin.secret)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if w.Code != 429 || w.Header().Get("Retry-After") != "6" || !strings.Contains(w.Body.String(), `"errors"`) {
		t.Fatalf("request 151: %d, Retry-After %q: %s", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	f.want(429, "GET", "/api/accounts", f.admin.secret, "")
	f.want(200, "GET", "/api/accounts", f.viewer.secret, "")
	now = now.Add(6 * time.Second)
	f.want(200, "GET", "/api/accounts", f.admin.secret, "")
}
