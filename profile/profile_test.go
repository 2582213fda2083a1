package profile_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
)

// env is a service on a fresh in-memory store.
type env struct {
	t   *testing.T
	ctx context.Context
	svc *account.Service
	st  store.Store
}

func newEnv(t *testing.T) *env {
	st := memstore.New()
	return &env{t: t, ctx: t.Context(), svc: account.New(st, account.Options{}), st: st}
}

// do runs op as actor and fails the test on error.
func do[R any](e *env, actor rbac.Holder, op account.Op[R]) R {
	e.t.Helper()
	r, err := account.Do(e.ctx, e.svc, actor, op)
	if err != nil {
		e.t.Fatalf("%s as %v: %v", op.Op(), actor, err)
	}
	return r
}

// try runs op as actor and returns its error only.
func try[R any](e *env, actor rbac.Holder, op account.Op[R]) error {
	_, err := account.Do(e.ctx, e.svc, actor, op)
	return err
}

// register registers email with an account named name (after the email when "").
func (e *env) register(email, name string) profile.Registered {
	e.t.Helper()
	return do(e, rbac.Holder{}, profile.Register{Email: email, Name: name})
}

// mine lists every account the actor belongs to.
func (e *env) mine(actor rbac.Holder) []account.AccountAccess {
	e.t.Helper()
	var out []account.AccountAccess
	for a, err := range account.All(e.ctx, e.svc, actor, account.MyAccounts{}) {
		if err != nil {
			e.t.Fatalf("MyAccounts as %v: %v", actor, err)
		}
		out = append(out, a)
	}
	return out
}

// join brings the registered user u into the account a of owner with the grants.
func (e *env) join(owner rbac.Holder, a rbac.Ref, u profile.Registered, grants ...account.GrantSpec) {
	e.t.Helper()
	inv := do(e, owner, account.Invite{Tenant: a, Email: u.User.Email, Grants: grants})
	do(e, rbac.User(u.User.ID), account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret})
}

// 000: "Once you register with Mailtrap, we automatically create an account and a user
// profile for you."
func TestSeed000_RegisterCreatesProfileAndAccount(t *testing.T) {
	e := newEnv(t)
	r := e.register(" Ann@Example.COM ", "Ann Lee")
	u, a := r.User, r.Account
	if u.Email != "ann@example.com" || a.Owner != u.ID || a.Name != "Ann Lee" || u.Name != "Ann Lee" || a.Plan != account.DefaultPlans[0].Name {
		t.Fatalf("got %+v and %+v", u, a)
	}
	mine := e.mine(rbac.User(u.ID))
	if len(mine) != 1 || mine[0].Level != rbac.Owner || mine[0].Account.Ref != a.Ref {
		t.Fatalf("MyAccounts = %+v", mine)
	}
	b := e.register("bob@example.com", "").Account
	if b.Name != "bob@example.com" {
		t.Fatalf("account of a user without a name: %+v (D25)", b)
	}
	// One change, one event (D31): registering is the first event of the new
	// account's log, by the new user.
	evs, err := account.Get(e.ctx, e.svc, rbac.User(u.ID), account.Events{Tenant: a.Ref})
	if err != nil || len(evs.Items) != 1 {
		t.Fatalf("events of the new account: %+v %v", evs, err)
	}
	if ev := evs.Items[0]; ev.Action != "profile.register" || ev.Actor != rbac.User(u.ID) || ev.Target != rbac.User(u.ID).String() || ev.After != a.Ref.String() {
		t.Fatalf("registration event %+v", ev)
	}
}

// Registering is done by nobody; bad input is refused before anything is written.
func TestRegisterRefusals(t *testing.T) {
	e := newEnv(t)
	me := rbac.User(e.register("me@example.com", "").User.ID)
	for name, c := range map[string]struct {
		actor rbac.Holder
		op    profile.Register
		field string
	}{
		"as a user":    {me, profile.Register{Email: "new@example.com"}, "actor"},
		"as a token":   {rbac.Token("t"), profile.Register{Email: "new@example.com"}, "actor"},
		"bad email":    {rbac.Holder{}, profile.Register{Email: "Ann <ann@x.test>"}, "email"},
		"control name": {rbac.Holder{}, profile.Register{Email: "new@example.com", Name: "a\x00b"}, "name"},
		"long name":    {rbac.Holder{}, profile.Register{Email: "new@example.com", Name: strings.Repeat("n", account.MaxNameLen+1)}, "name"},
	} {
		t.Run(name, func(t *testing.T) {
			err := try(e, c.actor, c.op)
			var ie *account.InvalidError
			if !errors.As(err, &ie) || ie.Field != c.field {
				t.Fatalf("err = %v, want an *InvalidError naming %q", err, c.field)
			}
			if _, err := account.Get(e.ctx, e.svc, rbac.Holder{}, profile.ByEmail{Email: "new@example.com"}); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("a refused registration left a profile: %v", err)
			}
		})
	}
}

// 000: "Each user and user profile is defined by their email address" (D25: unique
// without regard to case).
func TestSeed000_EmailIdentifiesTheUser(t *testing.T) {
	e := newEnv(t)
	e.register("ann@example.com", "")
	if err := try(e, rbac.Holder{}, profile.Register{Email: "ANN@example.com"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second registration of the address: %v, want ErrExists", err)
	}
	if u, err := account.Get(e.ctx, e.svc, rbac.Holder{}, profile.ByEmail{Email: "Ann@Example.com"}); err != nil || u.Email != "ann@example.com" {
		t.Fatalf("ByEmail: %+v %v", u, err)
	}
}

// 000: "[users] may belong to multiple accounts. You use the same credentials to access
// all your Mailtrap accounts."
func TestSeed000_UserBelongsToManyAccounts(t *testing.T) {
	e := newEnv(t)
	o := e.register("owner@example.com", "")
	owner, a := rbac.User(o.User.ID), o.Account
	do(e, owner, account.SetPlan{Account: a.Ref, Plan: "team"})
	u := e.register("ann@example.com", "")
	e.join(owner, a.Ref, u, account.GrantSpec{Scope: a.Ref, Level: rbac.Viewer})
	mine := e.mine(rbac.User(u.User.ID))
	if len(mine) != 2 {
		t.Fatalf("MyAccounts = %+v; want 2 (D29)", mine)
	}
	levels := map[string]rbac.Level{}
	for _, m := range mine {
		levels[m.Account.Ref.ID] = m.Level
	}
	if levels[a.Ref.ID] != rbac.Viewer || levels[u.Account.Ref.ID] != rbac.Owner {
		t.Fatalf("levels: %v", levels)
	}
}

// 000: "you can associate a different email address with your account manually, in
// case you need to transfer your Mailtrap user profile to another person."
func TestSeed000_ChangeEmailMovesTheProfile(t *testing.T) {
	e := newEnv(t)
	r := e.register("old@example.com", "")
	u, a := r.User, r.Account
	e.register("taken@example.com", "")
	me := rbac.User(u.ID)
	if err := try(e, me, profile.ChangeEmail{Email: "TAKEN@example.com"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("change to a taken address: %v, want ErrExists (D27)", err)
	}
	do(e, me, profile.ChangeEmail{Email: "new@example.com"})
	got, err := account.Get(e.ctx, e.svc, rbac.Holder{}, profile.ByEmail{Email: "new@example.com"})
	if err != nil || got.ID != u.ID {
		t.Fatalf("the profile did not move: %+v %v", got, err)
	}
	if _, err := account.Get(e.ctx, e.svc, rbac.Holder{}, profile.ByEmail{Email: "old@example.com"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the old address still finds a profile: %v", err)
	}
	mine := e.mine(me)
	if len(mine) != 1 || mine[0].Account.Ref != a.Ref || mine[0].Level != rbac.Owner {
		t.Fatalf("the accounts did not move with the profile: %+v", mine)
	}
}

// 000: "keep in mind that the action is irreversible and wipes out all associated
// information. These include your account(s), project(s), sandbox(es), domain(s)".
func TestSeed000_DeleteProfileWipesOwnedAccounts(t *testing.T) {
	e := newEnv(t)
	r := e.register("me@example.com", "")
	u, a := r.User, r.Account
	me := rbac.User(u.ID)
	p := do(e, me, account.CreateResource{Parent: a.Ref, Kind: rbac.KindProject, Name: "Web"})
	in := do(e, me, account.CreateResource{Parent: p.Ref, Kind: rbac.KindInbox, Name: "QA"})
	d := do(e, me, account.CreateResource{Parent: a.Ref, Kind: rbac.KindDomain, Name: "mail.example.com"})
	second := do(e, me, account.CreateAccount{Name: "Second"})
	// Another user's account in which "me" is a member stays, without "me".
	o := e.register("other@example.com", "")
	other := o.Account
	do(e, rbac.User(o.User.ID), account.SetPlan{Account: other.Ref, Plan: "team"})
	e.join(rbac.User(o.User.ID), other.Ref, r, account.GrantSpec{Scope: other.Ref, Level: rbac.Admin})
	// A pending invitation of "me" elsewhere goes too.
	third := e.register("third@example.com", "")
	do(e, rbac.User(third.User.ID), account.SetPlan{Account: third.Account.Ref, Plan: "team"})
	pending := do(e, rbac.User(third.User.ID), account.Invite{Tenant: third.Account.Ref, Email: "ME@example.com"})

	// Confirming with another address changes nothing.
	if err := try(e, me, profile.Delete{Confirm: "other@example.com"}); !errors.Is(err, account.ErrInvalid) {
		t.Fatalf("Delete confirmed with another address: %v", err)
	}
	if _, err := account.Get(e.ctx, e.svc, me, profile.Get{}); err != nil {
		t.Fatalf("a refused deletion deleted: %v", err)
	}
	do(e, me, profile.Delete{Confirm: " Me@Example.com "})
	err := e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		for _, ref := range []rbac.Ref{p.Ref, in.Ref, d.Ref, rbac.Billing(a.Ref.ID)} {
			if _, err := r.Resource(ctx, ref); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%v survived the profile's deletion: %v", ref, err)
			}
		}
		for _, ref := range []rbac.Ref{a.Ref, second.Ref} {
			if _, err := r.Account(ctx, ref); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the owned account %v survived: %v", ref, err)
			}
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
		if _, err := r.Invitation(ctx, pending.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the pending invitation survived: %v", err)
		}
		// D30: the audit log keeps opaque IDs, never the erased address.
		for _, tenant := range []rbac.Ref{{}, a.Ref, other.Ref} {
			evs, err := r.Events(ctx, tenant, 0, 100)
			if err != nil {
				return err
			}
			for _, e := range evs {
				for _, f := range []string{e.Target, e.Before, e.After, e.Action} {
					if strings.Contains(strings.ToLower(f), "me@example.com") {
						t.Errorf("event %+v keeps the erased address", e)
					}
				}
			}
		}
		evs, err := r.Events(ctx, rbac.Ref{}, 0, 100)
		if err != nil {
			return err
		}
		if last := evs[len(evs)-1]; last.Action != "profile.delete" || last.Target != me.String() {
			t.Errorf("the deletion's event: %+v", last)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := account.Get(e.ctx, e.svc, me, profile.Get{}); !errors.Is(err, account.ErrUnauthenticated) {
		t.Fatalf("the deleted profile still acts: %v", err)
	}
	// The address is free again.
	e.register("me@example.com", "")
}

// 000: "When you delete just your account, your Mailtrap user profile isn't deleted
// and you can create a new account."
func TestSeed000_DeleteAccountKeepsProfileCreateAnother(t *testing.T) {
	e := newEnv(t)
	r := e.register("me@example.com", "")
	me := rbac.User(r.User.ID)
	do(e, me, account.DeleteAccount{Account: r.Account.Ref})
	if _, err := account.Get(e.ctx, e.svc, me, profile.Get{}); err != nil {
		t.Fatalf("the profile went with the account: %v", err)
	}
	if mine := e.mine(me); len(mine) != 0 {
		t.Fatalf("accounts after deletion: %+v", mine)
	}
	b := do(e, me, account.CreateAccount{Name: "Fresh start"})
	if b.Owner != r.User.ID || b.Plan != account.DefaultPlans[0].Name {
		t.Fatalf("CreateAccount: %+v (D28)", b)
	}
	if mine := e.mine(me); len(mine) != 1 || mine[0].Account.Ref != b.Ref || mine[0].Level != rbac.Owner {
		t.Fatalf("accounts after creating one: %+v", mine)
	}
	// Only a user creates an account (D28).
	if err := try(e, rbac.Token("t"), account.CreateAccount{Name: "X"}); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("a token created an account: %v", err)
	}
}

// 000: "You can also leave accounts that you belong to but don't own them. All the
// account data stays intact, but you lose the access to it."
func TestSeed000_LeaveAccount(t *testing.T) {
	e := newEnv(t)
	o := e.register("owner@example.com", "")
	owner, a := rbac.User(o.User.ID), o.Account
	do(e, owner, account.SetPlan{Account: a.Ref, Plan: "team"})
	p := do(e, owner, account.CreateResource{Parent: a.Ref, Kind: rbac.KindProject, Name: "Web"})
	u := e.register("me@example.com", "")
	me := rbac.User(u.User.ID)
	e.join(owner, a.Ref, u, account.GrantSpec{Scope: p.Ref, Level: rbac.Admin})
	if err := try(e, owner, account.Leave{Account: a.Ref}); !errors.Is(err, rbac.ErrDenied) {
		t.Fatalf("the owner left: %v (D15)", err)
	}
	do(e, me, account.Leave{Account: a.Ref})
	if d, _ := e.svc.Check(e.ctx, me, rbac.ProjectView, p.Ref); d.Allowed {
		t.Fatal("access kept after leaving")
	}
	if d, _ := e.svc.Check(e.ctx, owner, rbac.ProjectView, p.Ref); !d.Allowed {
		t.Fatal("the account's data went with the member")
	}
	if mine := e.mine(me); len(mine) != 1 {
		t.Fatalf("accounts after leaving: %+v", mine)
	}
	// Leaving again answers as for an account one does not belong to.
	if err := try(e, me, account.Leave{Account: a.Ref}); !errors.Is(err, account.ErrNotFound) {
		t.Fatalf("leaving twice: %v", err)
	}
}

func TestProfileFields(t *testing.T) {
	e := newEnv(t)
	u := e.register("me@example.com", "Me").User
	me := rbac.User(u.ID)
	for _, tz := range []string{"Mars/Olympus", "Local", "../../etc/passwd", "/usr/share/zoneinfo/UTC"} {
		if err := try(e, me, profile.SetTimeZone{TimeZone: tz}); !errors.Is(err, account.ErrInvalid) {
			t.Errorf("SetTimeZone(%q) = %v, want ErrInvalid", tz, err)
		}
	}
	do(e, me, profile.SetTimeZone{TimeZone: "Europe/Riga"})
	do(e, me, profile.LinkOAuth{Provider: "github", Subject: "12345"})
	if err := try(e, me, profile.LinkOAuth{Provider: "github", Subject: "12345"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("linking the same identity twice: %v", err)
	}
	v := e.register("you@example.com", "").User
	if err := try(e, rbac.User(v.ID), profile.LinkOAuth{Provider: "github", Subject: "12345"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("the same OAuth identity on two profiles: %v", err)
	}
	if got, err := account.Get(e.ctx, e.svc, rbac.Holder{}, profile.ByOAuth{Provider: "github", Subject: "12345"}); err != nil || got.ID != u.ID {
		t.Fatalf("ByOAuth = %+v %v", got, err)
	}
	if _, err := account.Get(e.ctx, e.svc, rbac.Holder{}, profile.ByOAuth{Provider: " github", Subject: "1"}); !errors.Is(err, account.ErrInvalid) {
		t.Fatalf("ByOAuth with a padded provider: %v", err)
	}
	do(e, me, profile.SetTwoFactor{On: true})
	do(e, me, profile.Rename{Name: "  Me Myself "})
	got, err := account.Get(e.ctx, e.svc, me, profile.Get{})
	if err != nil || got.TimeZone != "Europe/Riga" || !got.TwoFactor || got.Name != "Me Myself" || len(got.OAuth) != 1 {
		t.Fatalf("profile = %+v %v", got, err)
	}
	do(e, me, profile.UnlinkOAuth{Provider: "github", Subject: "12345"})
	if err := try(e, me, profile.UnlinkOAuth{Provider: "github", Subject: "12345"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unlinking twice: %v", err)
	}
	do(e, me, profile.SetTimeZone{TimeZone: ""})
	if got, _ := account.Get(e.ctx, e.svc, me, profile.Get{}); got.TimeZone != "" {
		t.Fatalf("time zone not cleared: %q", got.TimeZone)
	}
	for _, actor := range []rbac.Holder{rbac.Token("t"), rbac.User("nobody"), {}} {
		if err := try(e, actor, profile.Rename{Name: "x"}); !errors.Is(err, account.ErrUnauthenticated) {
			t.Fatalf("%v edits a profile: %v", actor, err)
		}
		if _, err := account.Get(e.ctx, e.svc, actor, profile.Get{}); !errors.Is(err, account.ErrUnauthenticated) {
			t.Fatalf("%v reads a profile: %v", actor, err)
		}
	}
	if err := try(e, me, profile.Rename{Name: " "}); !errors.Is(err, account.ErrInvalid) {
		t.Fatalf("renaming to blank: %v", err)
	}
}

// named returns a step that runs op as actor and returns op's name.
func named[R any](e *env, actor rbac.Holder, op account.Op[R]) func() (string, error) {
	return func() (string, error) { return op.Op(), try(e, actor, op) }
}

// A profile's own changes are in its log, each its one event (D31), read with
// account.MyEvents; nobody else's are.
func TestProfileEvents(t *testing.T) {
	e := newEnv(t)
	me := rbac.User(e.register("me@example.com", "").User.ID)
	you := rbac.User(e.register("you@example.com", "").User.ID)
	ops := []func() (string, error){
		named(e, me, profile.Rename{Name: "Me"}),
		named(e, me, profile.SetTimeZone{TimeZone: "UTC"}),
		named(e, me, profile.LinkOAuth{Provider: "p", Subject: "s"}),
		named(e, me, profile.UnlinkOAuth{Provider: "p", Subject: "s"}),
		named(e, me, profile.SetTwoFactor{On: true}),
		named(e, me, profile.ChangeEmail{Email: "me2@example.com"}),
	}
	var want []string
	for _, op := range ops {
		name, err := op()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		want = append(want, name)
		do(e, you, profile.Rename{Name: "You"})
	}
	// A refused change writes nothing.
	if err := try(e, me, profile.SetTimeZone{TimeZone: "Nowhere/Else"}); err == nil {
		t.Fatal("an unknown time zone was set")
	}
	var got []string
	for ev, err := range account.All(e.ctx, e.svc, me, account.MyEvents{Page: account.PageRequest{Limit: 4}}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Actor != me || ev.Target != me.String() || !ev.Tenant.IsZero() {
			t.Fatalf("event %+v", ev)
		}
		got = append(got, ev.Action)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("my events %v, want %v", got, want)
	}
}

func ExampleRegister() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})

	r, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "Ann@Example.com", Name: "Ann"})
	if err != nil {
		panic(err)
	}
	fmt.Println(r.User.Email, "owns", r.Account.Name)

	d, err := svc.Check(ctx, rbac.User(r.User.ID), rbac.AccountDelete, r.Account.Ref)
	if err != nil {
		panic(err)
	}
	fmt.Println("may delete it:", d.Allowed)
	// Output:
	// ann@example.com owns Ann
	// may delete it: true
}

func ExampleDelete() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})

	r, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@example.com", Name: "Ann"})
	if err != nil {
		panic(err)
	}
	me := rbac.User(r.User.ID)
	if _, err := account.Do(ctx, svc, me, profile.Delete{Confirm: "ann@example.com"}); err != nil {
		panic(err)
	}
	_, err = svc.Check(ctx, me, rbac.AccountView, r.Account.Ref)
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
