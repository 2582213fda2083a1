package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/web"
)

// A service mounts the HTTP layer in front of its own mux, and guards each route by
// an action on the scope its path names.
func Example() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	reg, _ := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test"})
	tok, _ := account.Do(ctx, svc, rbac.User(reg.User.ID), account.CreateToken{
		Tenant: reg.Account.Ref, Name: "CI",
		Grants: []account.GrantSpec{{Scope: reg.Account.Ref, Level: rbac.Viewer}},
	})

	mux := http.NewServeMux()
	api := web.New(svc, web.Options{})
	mux.Handle("POST /api/accounts/{account}/projects", api.Authorize(rbac.ProjectCreate, web.PathScope(rbac.KindAccount, "account"),
		func(w http.ResponseWriter, r *http.Request) error {
			return web.WriteJSON(w, http.StatusCreated, map[string]string{"created": "yes"})
		}))
	h := api.Handler(mux) // pass h to http.ListenAndServe

	for _, acct := range []string{reg.Account.Ref.ID, "someone-elses"} {
		r := httptest.NewRequest("POST", "/api/accounts/"+acct+"/projects", strings.NewReader(`{}`))
		r.Header.Set("Authorization", "Bearer "+tok.Secret)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		body := w.Body.String()
		if i := strings.Index(body, `,"reason"`); i > 0 {
			body = body[:i] + "…"
		}
		fmt.Println(w.Code, strings.TrimSpace(body))
	}
	// Output:
	// 403 {"errors":"forbidden","rule":"D7"…
	// 404 {"errors":"not found"}
}

// Status is the one mapping from the library's errors to responses.
func ExampleStatus() {
	for _, err := range []error{
		account.ErrNotFound,
		&account.InvalidError{Field: "email", Reason: "is not an address"},
		account.ErrSeatLimit,
		&web.RateLimitError{RetryAfter: 3e9},
	} {
		status, body := web.Status(err)
		fmt.Println(status, body.Errors)
	}
	// Output:
	// 404 not found
	// 422 map[email:[is not an address]]
	// 422 seat limit reached
	// 429 rate limit exceeded; retry after 3s
}

// The host's sessions plug in as a function; API tokens are tried first.
func ExampleSessionFunc() {
	sessions := map[string]string{"s3cr3t": "user-1"}
	api := web.New(account.New(memstore.New(), account.Options{}), web.Options{
		Sessions: func(r *http.Request) (web.Auth, error) {
			c, err := r.Cookie("session")
			if err != nil {
				return web.Auth{}, web.ErrNoCredentials
			}
			id, ok := sessions[c.Value]
			if !ok {
				return web.Auth{}, account.ErrUnauthenticated
			}
			return web.Auth{Actor: rbac.User(id), Method: web.MethodSession}, nil
		},
	})
	mux := http.NewServeMux()
	mux.Handle("GET /whoami", api.Func(func(w http.ResponseWriter, r *http.Request) error {
		return web.WriteJSON(w, 200, web.Actor(r).String())
	}))
	for _, cookie := range []string{"session=s3cr3t", "session=stolen", ""} {
		r := httptest.NewRequest("GET", "/whoami", nil)
		if cookie != "" {
			r.Header.Set("Cookie", cookie)
		}
		w := httptest.NewRecorder()
		api.Handler(mux).ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()))
	}
	// Output:
	// 200 "user:user-1"
	// 401 {"errors":"unauthorized"}
	// 401 {"errors":"unauthorized"}
}

// The pages mount behind the server's middleware, which signs the user in with the
// host's sessions; they act as that user.
func ExamplePages() {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{})
	reg, _ := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test"})

	sessions := web.SessionFunc(func(r *http.Request) (web.Auth, error) {
		if c, err := r.Cookie("session"); err == nil && c.Value == "s3cr3t" { // the host's own look-up
			return web.Auth{Actor: rbac.User(reg.User.ID), Method: web.MethodSession, Session: "session-1"}, nil
		}
		return web.Auth{}, web.ErrNoCredentials
	})
	mux := http.NewServeMux()
	mux.Handle("/app/", web.Pages(svc, web.PagesOptions{
		Prefix:    "/app",
		CSRFKey:   []byte("a secret of at least 32 random bytes"), // shared by every instance
		SignInURL: "/sign-in",
	}))
	h := web.New(svc, web.Options{Sessions: sessions}).Handler(mux) // pass h to http.ListenAndServe

	for _, cookie := range []string{"session=s3cr3t", ""} {
		r := httptest.NewRequest("GET", "/app/profile", nil)
		r.Header.Set("Cookie", cookie)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Header().Get("Location"), strings.Contains(w.Body.String(), "ann@acme.test"))
	}
	// Output:
	// 200  true
	// 303 /sign-in?next=%2Fapp%2Fprofile false
}
