package profile_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

func newService(t *testing.T) (*account.Service, *profile.Service, store.Store) {
	st := memstore.New()
	acct := account.New(st, account.Options{})
	return acct, profile.New(acct), st
}

// 000: "Once you register with Mailtrap, we automatically create an account and a user
// profile for you."
func TestSeed000_RegisterCreatesProfileAndAccount(t *testing.T) {
	acct, prof, _ := newService(t)
	ctx := t.Context()
	u, a, err := prof.Register(ctx, " Ann@Example.COM ", "Ann Lee")
	if err != nil {
		t.Fatal(err)
	}
	if u.Email != "ann@example.com" || a.Owner != u.ID || a.Name != "Ann Lee" {
		t.Fatalf("got %+v and %+v", u, a)
	}
	mine, err := prof.Accounts(ctx, rbac.User(u.ID))
	if err != nil || len(mine) != 1 || mine[0].Level != rbac.Owner {
		t.Fatalf("Accounts = %+v, %v", mine, err)
	}
	_, b, err := prof.Register(ctx, "bob@example.com", "")
	if err != nil || b.Name != "bob@example.com" {
		t.Fatalf("account of a user without a name: %+v %v (D25)", b, err)
	}
	_ = acct
}

// 000: "Each user and user profile is defined by their email address" (D25: unique
// without regard to case).
func TestSeed000_EmailIdentifiesTheUser(t *testing.T) {
	_, prof, _ := newService(t)
	ctx := t.Context()
	if _, _, err := prof.Register(ctx, "ann@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := prof.Register(ctx, "ANN@example.com", ""); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second registration of the address: %v, want ErrExists", err)
	}
	if u, err := prof.ByEmail(ctx, "Ann@Example.com"); err != nil || u.Email != "ann@example.com" {
		t.Fatalf("ByEmail: %+v %v", u, err)
	}
}

// 000: "[users] may belong to multiple accounts. You use the same credentials to access
// all your Mailtrap accounts."
func TestSeed000_UserBelongsToManyAccounts(t *testing.T) {
	acct, prof, _ := newService(t)
	ctx := t.Context()
	ownerU, a, _ := prof.Register(ctx, "owner@example.com", "")
	owner := rbac.User(ownerU.ID)
	if err := acct.SetPlan(ctx, owner, a.Ref, "team"); err != nil {
		t.Fatal(err)
	}
	u, _, _ := prof.Register(ctx, "ann@example.com", "")
	inv, err := acct.Invite(ctx, owner, a.Ref, account.InviteRequest{Email: "ann@example.com", Grants: []account.GrantSpec{{Scope: a.Ref, Level: rbac.Viewer}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := acct.AcceptInvitation(ctx, rbac.User(u.ID), inv.ID); err != nil {
		t.Fatal(err)
	}
	mine, err := prof.Accounts(ctx, rbac.User(u.ID))
	if err != nil || len(mine) != 2 {
		t.Fatalf("Accounts = %+v, %v; want 2 (D29)", mine, err)
	}
	levels := map[string]rbac.Level{}
	for _, m := range mine {
		levels[m.Account.Ref.ID] = m.Level
	}
	if levels[a.Ref.ID] != rbac.Viewer {
		t.Fatalf("level in the joined account: %v", levels[a.Ref.ID])
	}
}

// 000: "you can associate a different email address with your account manually, in
// case you need to transfer your Mailtrap user profile to another person."
func TestSeed000_ChangeEmailMovesTheProfile(t *testing.T) {
	_, prof, _ := newService(t)
	ctx := t.Context()
	u, a, _ := prof.Register(ctx, "old@example.com", "")
	if _, _, err := prof.Register(ctx, "taken@example.com", ""); err != nil {
		t.Fatal(err)
	}
	me := rbac.User(u.ID)
	if err := prof.ChangeEmail(ctx, me, "TAKEN@example.com"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("change to a taken address: %v, want ErrExists (D27)", err)
	}
	if err := prof.ChangeEmail(ctx, me, "new@example.com"); err != nil {
		t.Fatal(err)
	}
	got, err := prof.ByEmail(ctx, "new@example.com")
	if err != nil || got.ID != u.ID {
		t.Fatalf("the profile did not move: %+v %v", got, err)
	}
	if _, err := prof.ByEmail(ctx, "old@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old address still finds a profile: %v", err)
	}
	mine, _ := prof.Accounts(ctx, me)
	if len(mine) != 1 || mine[0].Account.Ref != a.Ref || mine[0].Level != rbac.Owner {
		t.Fatalf("the accounts did not move with the profile: %+v", mine)
	}
}

// 000: "keep in mind that the action is irreversible and wipes out all associated
// information. These include your account(s), project(s), sandbox(es), domain(s)".
func TestSeed000_DeleteProfileWipesOwnedAccounts(t *testing.T) {
	acct, prof, st := newService(t)
	ctx := t.Context()
	u, a, _ := prof.Register(ctx, "me@example.com", "")
	me := rbac.User(u.ID)
	p, err := acct.CreateProject(ctx, me, a.Ref.ID, "Web")
	if err != nil {
		t.Fatal(err)
	}
	in, _ := acct.CreateInbox(ctx, me, p.Ref.ID, "QA")
	d, _ := acct.CreateDomain(ctx, me, a.Ref.ID, "mail.example.com")
	// Another user's account in which "me" is a member stays, without "me".
	otherU, other, _ := prof.Register(ctx, "other@example.com", "")
	if err := acct.SetPlan(ctx, rbac.User(otherU.ID), other.Ref, "team"); err != nil {
		t.Fatal(err)
	}
	inv, _ := acct.Invite(ctx, rbac.User(otherU.ID), other.Ref, account.InviteRequest{Email: "me@example.com", Grants: []account.GrantSpec{{Scope: other.Ref, Level: rbac.Admin}}})
	if err := acct.AcceptInvitation(ctx, me, inv.ID); err != nil {
		t.Fatal(err)
	}
	if err := prof.Delete(ctx, me); err != nil {
		t.Fatal(err)
	}
	err = st.View(ctx, func(ctx context.Context, r store.Reader) error {
		for _, ref := range []rbac.Ref{p.Ref, in.Ref, d.Ref, rbac.Billing(a.Ref.ID)} {
			if _, err := r.Resource(ctx, ref); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%v survived the profile's deletion: %v", ref, err)
			}
		}
		if _, err := r.Account(ctx, a.Ref); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the owned account survived: %v", err)
		}
		if _, err := r.User(ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the user survived: %v", err)
		}
		if _, err := r.Account(ctx, other.Ref); err != nil {
			t.Errorf("another user's account went too: %v", err)
		}
		if _, err := r.Member(ctx, other.Ref, u.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the membership elsewhere survived: %v", err)
		}
		// D30: the audit log keeps opaque IDs, never the erased address.
		evs, err := r.Events(ctx, rbac.Ref{}, 0, 100)
		if err != nil {
			return err
		}
		for _, e := range evs {
			for _, f := range []string{e.Target, e.Before, e.After, e.Action} {
				if containsFold(f, "me@example.com") {
					t.Errorf("event %+v keeps the erased address", e)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prof.Get(ctx, me); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("the deleted profile still acts: %v", err)
	}
}

func containsFold(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexFold(s, sub) >= 0)
}

func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if equalFoldASCII(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

func equalFoldASCII(a, b string) bool {
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// 000: "When you delete just your account, your Mailtrap user profile isn't deleted
// and you can create a new account."
func TestSeed000_DeleteAccountKeepsProfileCreateAnother(t *testing.T) {
	acct, prof, _ := newService(t)
	ctx := t.Context()
	u, a, _ := prof.Register(ctx, "me@example.com", "")
	me := rbac.User(u.ID)
	if err := acct.Delete(ctx, me, a.Ref); err != nil {
		t.Fatal(err)
	}
	if _, err := prof.Get(ctx, me); err != nil {
		t.Fatalf("the profile went with the account: %v", err)
	}
	if mine, _ := prof.Accounts(ctx, me); len(mine) != 0 {
		t.Fatalf("accounts after deletion: %+v", mine)
	}
	b, err := prof.CreateAccount(ctx, me, "Fresh start")
	if err != nil || b.Owner != u.ID {
		t.Fatalf("CreateAccount: %+v %v (D28)", b, err)
	}
}

// 000: "You can also leave accounts that you belong to but don't own them. All the
// account data stays intact, but you lose the access to it."
func TestSeed000_LeaveAccount(t *testing.T) {
	acct, prof, _ := newService(t)
	ctx := t.Context()
	ou, a, _ := prof.Register(ctx, "owner@example.com", "")
	owner := rbac.User(ou.ID)
	if err := acct.SetPlan(ctx, owner, a.Ref, "team"); err != nil {
		t.Fatal(err)
	}
	p, _ := acct.CreateProject(ctx, owner, a.Ref.ID, "Web")
	u, _, _ := prof.Register(ctx, "me@example.com", "")
	me := rbac.User(u.ID)
	inv, _ := acct.Invite(ctx, owner, a.Ref, account.InviteRequest{Email: "me@example.com", Grants: []account.GrantSpec{{Scope: p.Ref, Level: rbac.Admin}}})
	if err := acct.AcceptInvitation(ctx, me, inv.ID); err != nil {
		t.Fatal(err)
	}
	if err := prof.Leave(ctx, owner, a.Ref); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("the owner left: %v (D15)", err)
	}
	if err := prof.Leave(ctx, me, a.Ref); err != nil {
		t.Fatal(err)
	}
	if d, _ := acct.Check(ctx, me, rbac.ProjectView, p.Ref); d.Allowed {
		t.Fatal("access kept after leaving")
	}
	if d, _ := acct.Check(ctx, owner, rbac.ProjectView, p.Ref); !d.Allowed {
		t.Fatal("the account's data went with the member")
	}
}

func TestProfileFields(t *testing.T) {
	_, prof, _ := newService(t)
	ctx := t.Context()
	u, _, _ := prof.Register(ctx, "me@example.com", "Me")
	me := rbac.User(u.ID)
	for _, tz := range []string{"Mars/Olympus", "Local", "../../etc/passwd", "/usr/share/zoneinfo/UTC"} {
		if err := prof.SetTimeZone(ctx, me, tz); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("SetTimeZone(%q) = %v, want ErrInvalid", tz, err)
		}
	}
	if err := prof.SetTimeZone(ctx, me, "Europe/Riga"); err != nil {
		t.Fatal(err)
	}
	if err := prof.LinkOAuth(ctx, me, "github", "12345"); err != nil {
		t.Fatal(err)
	}
	v, _, _ := prof.Register(ctx, "you@example.com", "")
	if err := prof.LinkOAuth(ctx, rbac.User(v.ID), "github", "12345"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("the same OAuth identity on two profiles: %v", err)
	}
	if got, err := prof.ByOAuth(ctx, "github", "12345"); err != nil || got.ID != u.ID {
		t.Fatalf("ByOAuth = %+v %v", got, err)
	}
	if err := prof.SetTwoFactor(ctx, me, true); err != nil {
		t.Fatal(err)
	}
	if err := prof.Rename(ctx, me, "  Me Myself "); err != nil {
		t.Fatal(err)
	}
	got, _ := prof.Get(ctx, me)
	if got.TimeZone != "Europe/Riga" || !got.TwoFactor || got.Name != "Me Myself" || len(got.OAuth) != 1 {
		t.Fatalf("profile = %+v", got)
	}
	if err := prof.UnlinkOAuth(ctx, me, "github", "12345"); err != nil {
		t.Fatal(err)
	}
	if err := prof.UnlinkOAuth(ctx, me, "github", "12345"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unlinking twice: %v", err)
	}
	if err := prof.Rename(ctx, rbac.Token("t"), "x"); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("a token edits a profile: %v", err)
	}
}

func ExampleService_Register() {
	ctx := context.Background()
	acct := account.New(memstore.New(), account.Options{})
	prof := profile.New(acct)

	u, a, err := prof.Register(ctx, "Ann@Example.com", "Ann")
	if err != nil {
		panic(err)
	}
	fmt.Println(u.Email, "owns", a.Name)

	d, _ := acct.Check(ctx, rbac.User(u.ID), rbac.AccountDelete, a.Ref)
	fmt.Println("may delete it:", d.Allowed)
	// Output:
	// ann@example.com owns Ann
	// may delete it: true
}

func ExampleService_Delete() {
	ctx := context.Background()
	acct := account.New(memstore.New(), account.Options{})
	prof := profile.New(acct)

	u, a, _ := prof.Register(ctx, "ann@example.com", "Ann")
	me := rbac.User(u.ID)
	if err := prof.Delete(ctx, me); err != nil {
		panic(err)
	}
	_, err := acct.Check(ctx, me, rbac.AccountView, a.Ref)
	fmt.Println(errors.Is(err, store.ErrNotFound))
	// Output:
	// true
}

func FuzzValidTimeZone(f *testing.F) {
	for _, s := range []string{"Europe/Riga", "UTC", "", "Local", "../x", "America/Argentina/Buenos_Aires", "Etc/GMT+5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tz string) {
		err := profile.ValidTimeZone(tz)
		if err != nil && !errors.Is(err, account.ErrInvalid) {
			t.Fatalf("ValidTimeZone(%q): untyped error %v", tz, err)
		}
		if err == nil && tz != "" {
			if _, lerr := time.LoadLocation(tz); lerr != nil || tz == "Local" {
				t.Fatalf("ValidTimeZone accepted %q", tz)
			}
		}
	})
}
