package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/store/memstore"
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
