package rbac_test

import (
	"errors"
	"maps"
	"slices"
	"testing"

	"github.com/tenantry/tenantry/rbac"
)

var (
	acme = rbac.AccountScopes{
		Account:  rbac.Account("a"),
		Projects: []rbac.Ref{rbac.Project("p1"), rbac.Project("p2")},
		Domains:  []rbac.Ref{rbac.Domain("d1"), rbac.Domain("d2")},
	}
	campaigns = rbac.Campaigns("a")
	templates = rbac.Templates("a")
)

func sl(s rbac.Ref, l rbac.Level) rbac.ScopeLevel { return rbac.ScopeLevel{Scope: s, Level: l} }

type features = map[rbac.Feature]rbac.FeatureLevel

// Seed 001's calls, and each rule of the mapping (POLICY.md, "Roles and feature
// permissions").
func TestRoleAccess(t *testing.T) {
	for _, tt := range []struct {
		name string
		req  rbac.RoleRequest
		want []rbac.ScopeLevel
	}{
		{"admin is account admin", rbac.RoleRequest{Role: rbac.RoleAdmin}, []rbac.ScopeLevel{sl(acme.Account, rbac.Admin)}},
		{"viewer is account viewer", rbac.RoleRequest{Role: rbac.RoleViewer}, []rbac.ScopeLevel{sl(acme.Account, rbac.Viewer)}},
		{"member holds nothing account-wide", rbac.RoleRequest{Role: rbac.RoleMember}, []rbac.ScopeLevel{sl(acme.Account, rbac.None)}},
		{"no role leaves the account grant alone", rbac.RoleRequest{}, []rbac.ScopeLevel{}},
		// Seed 001's invite: a member of the assigned project.
		{"member with a project", rbac.RoleRequest{Role: rbac.RoleMember, Projects: []rbac.Ref{rbac.Project("p1")}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.None), sl(rbac.Project("p1"), rbac.Viewer)}},
		// Seed 001's update: admin already reaches every feature; lower features are
		// absorbed (D1).
		{"admin with features", rbac.RoleRequest{Role: rbac.RoleAdmin, Features: features{"email_api": "full", "sandbox": "full", "marketing": "read"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.Admin)}},
		{"member, email_api full: admin of every domain", rbac.RoleRequest{Role: rbac.RoleMember, Features: features{"email_api": "full"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.None), sl(rbac.Domain("d1"), rbac.Admin), sl(rbac.Domain("d2"), rbac.Admin)}},
		{"member, sandbox full: admin of every project", rbac.RoleRequest{Role: rbac.RoleMember, Features: features{"sandbox": "full"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.None), sl(rbac.Project("p1"), rbac.Admin), sl(rbac.Project("p2"), rbac.Admin)}},
		{"member, sandbox read on the assigned project only", rbac.RoleRequest{Role: rbac.RoleMember, Projects: []rbac.Ref{rbac.Project("p2")}, Features: features{"sandbox": "full"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.None), sl(rbac.Project("p2"), rbac.Admin)}},
		{"member, marketing read: viewer of campaigns and templates", rbac.RoleRequest{Role: rbac.RoleMember, Features: features{"marketing": "read"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.None), sl(templates, rbac.Viewer), sl(campaigns, rbac.Viewer)}},
		{"member, analytics full is read-only", rbac.RoleRequest{Role: rbac.RoleMember, Features: features{"analytics": "full"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.None), sl(rbac.Domain("d1"), rbac.Viewer), sl(rbac.Domain("d2"), rbac.Viewer), sl(campaigns, rbac.Viewer)}},
		{"member, settings full is account admin", rbac.RoleRequest{Role: rbac.RoleMember, Features: features{"settings": "full"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.Admin)}},
		{"the highest level wins on a shared scope", rbac.RoleRequest{Role: rbac.RoleMember, Features: features{"analytics": "read", "email_api": "none", "marketing": "full"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.None), sl(rbac.Domain("d1"), rbac.Viewer), sl(rbac.Domain("d2"), rbac.Viewer), sl(templates, rbac.Admin), sl(campaigns, rbac.Admin)}},
		{"viewer with email_api full", rbac.RoleRequest{Role: rbac.RoleViewer, Features: features{"email_api": "full", "marketing": "read"}},
			[]rbac.ScopeLevel{sl(acme.Account, rbac.Viewer), sl(rbac.Domain("d1"), rbac.Admin), sl(rbac.Domain("d2"), rbac.Admin)}},
		{"features alone, no role", rbac.RoleRequest{Features: features{"email_api": "none"}},
			[]rbac.ScopeLevel{sl(rbac.Domain("d1"), rbac.None), sl(rbac.Domain("d2"), rbac.None)}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rbac.RoleAccess(tt.req, acme)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestRoleAccessRefusals(t *testing.T) {
	_, err := rbac.RoleAccess(rbac.RoleRequest{Role: rbac.RoleOwner}, acme)
	var d *rbac.DeniedError
	if !errors.As(err, &d) || d.Decision.Rule != rbac.RuleOwnerNotGrant {
		t.Errorf("role owner: %v, want a denial citing D4", err)
	}
	for _, req := range []rbac.RoleRequest{
		{Role: "superuser"},
		{Features: features{"billing": "full"}},
		{Features: features{"sandbox": "write"}},
	} {
		if _, err := rbac.RoleAccess(req, acme); err == nil || errors.Is(err, rbac.ErrDenied) {
			t.Errorf("%+v: %v, want an input error", req, err)
		}
	}
	for _, s := range []string{"Owner", " admin ", "MEMBER", "viewer"} {
		if _, err := rbac.ParseRole(s); err != nil {
			t.Errorf("ParseRole(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "root"} {
		if _, err := rbac.ParseRole(s); err == nil {
			t.Errorf("ParseRole(%q) accepted", s)
		}
	}
	for s, want := range map[string]rbac.FeatureLevel{"FULL": "full", "read": "read", "": "none", "none": "none"} {
		if got, err := rbac.ParseFeatureLevel(s); err != nil || got != want {
			t.Errorf("ParseFeatureLevel(%q) = %q, %v", s, got, err)
		}
	}
	if _, err := rbac.ParseFeature("Email_API"); err != nil {
		t.Error(err)
	}
	if _, err := rbac.ParseFeature("billing"); err == nil {
		t.Error("ParseFeature(billing) accepted")
	}
}

func TestRoleOf(t *testing.T) {
	for _, tt := range []struct {
		owner bool
		level rbac.Level
		want  rbac.Role
	}{
		{true, rbac.Owner, rbac.RoleOwner}, {false, rbac.Admin, rbac.RoleAdmin},
		{false, rbac.Viewer, rbac.RoleViewer}, {false, rbac.None, rbac.RoleMember},
	} {
		if got := rbac.RoleOf(tt.owner, tt.level); got != tt.want {
			t.Errorf("RoleOf(%v, %v) = %s", tt.owner, tt.level, got)
		}
	}
	// A role maps and reads back as itself.
	for _, r := range []rbac.Role{rbac.RoleAdmin, rbac.RoleViewer, rbac.RoleMember} {
		got, _ := rbac.RoleAccess(rbac.RoleRequest{Role: r}, acme)
		if back := rbac.RoleOf(false, got[0].Level); back != r {
			t.Errorf("%s reads back as %s", r, back)
		}
	}
}

// every request of the mapping's domain: each role, each feature absent or at each
// level, with and without assigned projects (5 × 4⁵ × 2 requests).
func everyRequest(yield func(rbac.RoleRequest) bool) {
	roles := []rbac.Role{"", rbac.RoleAdmin, rbac.RoleMember, rbac.RoleViewer}
	levels := []rbac.FeatureLevel{"", rbac.FeatureNone, rbac.FeatureRead, rbac.FeatureFull}
	fs := rbac.Features()
	n := 1
	for range fs {
		n *= len(levels)
	}
	for _, role := range roles {
		for _, projects := range [][]rbac.Ref{nil, {rbac.Project("p2")}} {
			for i := range n {
				m := features{}
				for j, k := 0, i; j < len(fs); j, k = j+1, k/len(levels) {
					if l := levels[k%len(levels)]; l != "" {
						m[fs[j]] = l
					}
				}
				if !yield(rbac.RoleRequest{Role: role, Features: m, Projects: projects}) {
					return
				}
			}
		}
	}
}

func asMap(t *testing.T, req rbac.RoleRequest) map[rbac.Ref]rbac.Level {
	t.Helper()
	got, err := rbac.RoleAccess(req, acme)
	if err != nil {
		t.Fatalf("%+v: %v", req, err)
	}
	m := map[rbac.Ref]rbac.Level{}
	for _, e := range got {
		if _, dup := m[e.Scope]; dup {
			t.Fatalf("%+v: %v twice", req, e.Scope)
		}
		m[e.Scope] = e.Level
	}
	return m
}

// Over every request: the mapping never yields owner, stays inside the account
// (D2), and is monotonic: raising one feature from none to read to full never lowers
// the level on any scope, nor drops a scope that the account-wide grant does not
// already reach.
func TestRoleAccessProperties(t *testing.T) {
	inAccount := map[rbac.Ref]bool{acme.Account: true, campaigns: true, templates: true}
	for _, s := range slices.Concat(acme.Projects, acme.Domains) {
		inAccount[s] = true
	}
	order := map[rbac.FeatureLevel]rbac.FeatureLevel{rbac.FeatureNone: rbac.FeatureRead, rbac.FeatureRead: rbac.FeatureFull}
	checked := 0
	for req := range everyRequest {
		m := asMap(t, req)
		for s, l := range m {
			if l == rbac.Owner || !l.Valid() {
				t.Fatalf("%+v yields %v on %v", req, l, s)
			}
			if !inAccount[s] {
				t.Fatalf("%+v reaches %v, outside the account", req, s)
			}
		}
		accountLevel := m[acme.Account]
		for f, fl := range req.Features {
			up, ok := order[fl]
			if !ok {
				continue
			}
			higher := rbac.RoleRequest{Role: req.Role, Projects: req.Projects, Features: maps.Clone(req.Features)}
			higher.Features[f] = up
			hm := asMap(t, higher)
			for s, l := range m {
				hl, ok := hm[s]
				covered := req.Role != "" && s != acme.Account && hm[acme.Account] >= l
				if (!ok && !covered) || (ok && hl < l) {
					t.Fatalf("raising %s from %s to %s: %v goes from %v to %v (%v)", f, fl, up, s, l, hl, req)
				}
			}
			if hm[acme.Account] < accountLevel {
				t.Fatalf("raising %s lowers the account level: %+v", f, req)
			}
		}
		checked++
	}
	if checked != 4*2*1024 {
		t.Errorf("checked %d requests", checked)
	}
}
