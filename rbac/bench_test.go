package rbac_test

import (
	"testing"

	"github.com/tenantry/tenantry/rbac"
)

// BenchmarkDecide decides at inbox depth (account > project > inbox) over a handful
// of grants: a team grant on the account, the user's grants on another project, a
// domain and the inbox's project.
func BenchmarkDecide(b *testing.B) {
	path := rbac.Path{rbac.Account("acct-000042"), rbac.Project("proj-000007"), rbac.Inbox("inbox-000013")}
	grants := []rbac.Grant{
		{Holder: rbac.Team("team-1"), Scope: rbac.Account("acct-000042"), Level: rbac.Viewer},
		{Holder: rbac.User("user-1"), Scope: rbac.Project("proj-000008"), Level: rbac.Admin},
		{Holder: rbac.User("user-1"), Scope: rbac.Domain("dom-000001"), Level: rbac.Admin},
		{Holder: rbac.User("user-1"), Scope: rbac.Project("proj-000007"), Level: rbac.Viewer},
	}
	b.Run("allow", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !rbac.Decide(rbac.InboxRead, path, grants).Allowed {
				b.Fatal("denied")
			}
		}
	})
	b.Run("deny", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if rbac.Decide(rbac.InboxSettingsManage, path, grants).Allowed {
				b.Fatal("allowed")
			}
		}
	})
}

func BenchmarkDecideChange(b *testing.B) {
	c := rbac.Change{Actor: rbac.User("a"), ActorLevel: rbac.Admin, Target: rbac.User("b"), Scope: rbac.Project("p"), To: rbac.Viewer}
	b.ReportAllocs()
	for b.Loop() {
		if !rbac.DecideChange(c).Allowed {
			b.Fatal("denied")
		}
	}
}
