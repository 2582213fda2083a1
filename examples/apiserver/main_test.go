package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/web"
)

// The demo fixture works through the API: each token sees what its grants allow.
func TestDemo(t *testing.T) {
	svc := account.New(memstore.New(), account.Options{NewID: api.NewID})
	sessions := api.NewSessions()
	fx, err := buildDemo(t.Context(), svc, sessions)
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.Accounts) != 2 || len(fx.Tokens) != 5 || len(fx.Users) != 5 || len(fx.Invitations) != 1 {
		t.Fatalf("fixture: %+v", fx)
	}
	h := api.NewHandler(svc, api.Options{Sessions: sessions})
	get := func(secret, path string, v any) int {
		t.Helper()
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Authorization", "Bearer "+secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code == 200 {
			if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
				t.Fatal(err)
			}
		}
		return w.Code
	}
	tok := func(name string) DemoToken {
		for _, tk := range fx.Tokens {
			if tk.Name == name {
				return tk
			}
		}
		t.Fatalf("no token %q", name)
		return DemoToken{}
	}
	eu := string(fx.Accounts[0].ID)
	var all, some []api.AccessJSON
	if code := get(tok("EU admin").Secret, "/api/accounts/"+eu+"/account_accesses", &all); code != 200 {
		t.Fatalf("EU admin lists accesses: %d", code)
	}
	if code := get(tok("EU staging admin").Secret, "/api/accounts/"+eu+"/account_accesses", &some); code != 200 {
		t.Fatalf("EU staging admin lists accesses: %d", code)
	}
	// olivia, adam, ines, pia: all see Staging; nobody else is in Demo EU.
	if len(all) != 4 || len(some) != 4 {
		t.Errorf("EU admin sees %d, staging admin %d; want 4 and 4", len(all), len(some))
	}
	var us []api.AccessJSON
	if code := get(tok("US admin").Secret, "/api/accounts/"+string(fx.Accounts[1].ID)+"/account_accesses", &us); code != 200 || len(us) != 3 {
		t.Errorf("US admin: %d, %d accesses; want olivia, dora and nina's invitation", code, len(us))
	}
	if code := get(tok("EU viewer").Secret, "/api/accounts/"+eu+"/account_accesses", &some); code != 403 {
		t.Errorf("EU viewer lists accesses: %d, want 403", code)
	}
	// Each demo user has a session.
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("Cookie", "session="+fx.Users[0].Session)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"email":"olivia@demo.test"`) {
		t.Errorf("olivia's session: %d %s", w.Code, w.Body)
	}
	var subs []api.SubAccountJSON
	if code := get(tok("organization admin").Secret, "/api/organizations/"+string(fx.Organization.ID)+"/sub_accounts", &subs); code != 200 || len(subs) != 2 {
		t.Errorf("organization token: %d, %+v", code, subs)
	}
	if code := get(tok("US admin").Secret, "/api/organizations/"+string(fx.Organization.ID)+"/sub_accounts", &subs); code != 404 {
		t.Errorf("US admin lists sub-accounts: %d, want 404", code)
	}
}

// serve writes the demo fixture, serves it, and shuts down when its context ends.
func TestServeShutsDown(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo.json")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	done := make(chan error, 1)
	go func() { done <- serve(ctx, logger, config{addr: "127.0.0.1:0", demo: true, demoOut: out}) }()

	var fx Fixture
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(out)
		if err == nil && json.Unmarshal(b, &fx) == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no demo fixture written")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(fx.Tokens) == 0 || fx.Tokens[0].Secret == "" {
		t.Fatalf("fixture without secrets: %+v", fx)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not return after its context ended")
	}
}

// run answers requests on its listener, and lets one in flight finish on shutdown.
func TestRunGraceful(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(200 * time.Millisecond)
		w.Write([]byte("done"))
	})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- run(ctx, slog.New(slog.DiscardHandler), ln, h) }()

	got := make(chan string, 1)
	go func() {
		res, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			got <- err.Error()
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		got <- string(b)
	}()
	<-started
	cancel()
	if s := <-got; s != "done" {
		t.Errorf("the request in flight got %q", s)
	}
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// A demo session passes a second factor exactly when its user has two-factor
// authentication on in their profile: the owner may then require it, and a member
// without it is refused (D32).
func TestDemoSecondFactor(t *testing.T) {
	svc := account.New(memstore.New(), account.Options{NewID: api.NewID})
	sessions := api.NewSessions()
	fx, err := buildDemo(t.Context(), svc, sessions)
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(svc, handlerConfig{logger: slog.New(slog.DiscardHandler), sessions: sessions, web: web.Options{NoRateLimit: true}})
	get := func(session, path string) (int, string) {
		t.Helper()
		r := httptest.NewRequest("GET", path, nil)
		r.Header.Set("Cookie", "session="+session)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	eu := pagesPrefix + "/accounts/" + string(fx.Accounts[0].ID)
	olivia, adam := fx.Users[0], fx.Users[1]
	if _, p := get(olivia.Session, eu+"/security"); !strings.Contains(p, `id="my-sign-in">did not pass a second factor<`) {
		t.Errorf("olivia's session passed a second factor without 2FA on:\n%s", p)
	}
	if _, err := account.Do(t.Context(), svc, rbac.User(string(olivia.ID)), profile.SetTwoFactor{On: true}); err != nil {
		t.Fatal(err)
	}
	if _, p := get(olivia.Session, eu+"/security"); !strings.Contains(p, `id="my-sign-in">passed a second factor<`) {
		t.Errorf("olivia's session, 2FA on, passed no second factor:\n%s", p)
	}
	// The requirement, set through the library as olivia's session would.
	ctx := account.WithAuth(t.Context(), rbac.Auth{SecondFactor: true, ClientIP: netip.MustParseAddr("192.0.2.1")})
	if _, err := account.Do(ctx, svc, rbac.User(string(olivia.ID)), account.SetSecurityPolicy{Tenant: rbac.Account(string(fx.Accounts[0].ID)), Require2FA: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if code, p := get(adam.Session, eu+"/users"); code != 403 || !strings.Contains(p, "Two-factor authentication required") {
		t.Errorf("adam without 2FA: %d", code)
	}
	if code, _ := get(adam.Session, "/api/accounts/"+string(fx.Accounts[0].ID)+"/account_accesses"); code != 403 {
		t.Errorf("adam's API call without 2FA: %d", code)
	}
	if _, err := account.Do(t.Context(), svc, rbac.User(string(adam.ID)), profile.SetTwoFactor{On: true}); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(adam.Session, eu+"/users"); code != 200 {
		t.Errorf("adam with 2FA: %d", code)
	}
}
