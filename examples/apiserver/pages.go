package main

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/examples/apiserver/api"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

// pagesPrefix is where the User Management and My Profile pages are served.
const pagesPrefix = "/app"

// handlerConfig is what the service's handler is made of.
type handlerConfig struct {
	logger   *slog.Logger
	sessions *api.Sessions
	web      web.Options // rate limits, clock
	// demoUser, when set, turns on GET /demo/sign-in, which signs the browser in
	// as this user (or the one named by ?as=) with a session cookie.
	demoUser string
}

// newHandler returns the service: the API at /api (api.NewHandler), and the pages
// of package web at /app, behind the same sessions. Unless told otherwise, a session
// counts as having passed a second factor when its user has two-factor authentication
// on in their profile (demoSecondFactor), so that requiring it can be tried out.
func newHandler(svc *account.Service, c handlerConfig) http.Handler {
	if c.sessions.SecondFactor == nil {
		c.sessions.SecondFactor = demoSecondFactor(svc)
	}
	mux := http.NewServeMux()
	mux.Handle("/", api.NewHandler(svc, api.Options{Logger: c.logger, Sessions: c.sessions, Web: c.web}))

	opts := web.PagesOptions{
		Prefix: pagesPrefix,
		Brand:  "Tenantry demo",
		Logger: c.logger,
		ProfileDeleted: func(w http.ResponseWriter, r *http.Request, userID string) {
			c.sessions.End(userID)
			http.SetCookie(w, &http.Cookie{Name: "session", Path: "/", MaxAge: -1, HttpOnly: true})
		},
	}
	if c.demoUser != "" {
		opts.SignInURL = "/demo/sign-in"
		mux.HandleFunc("GET /demo/sign-in", demoSignIn(svc, c.sessions, c.demoUser))
	}
	wo := c.web
	wo.Logger = c.logger
	wo.Sessions = c.sessions.Authenticate
	pages := http.NewServeMux()
	pages.Handle(pagesPrefix+"/", web.Pages(svc, opts))
	mux.Handle(pagesPrefix+"/", web.New(svc, wo).Handler(pages))
	return mux
}

// demoSignIn signs the browser in as a user of the demo: ?as=EMAIL (the -demo-user
// by default), then sends it to ?next= (a page under /app) or to My Profile. Signing
// in is the host's business; this stands in for it in the demo.
func demoSignIn(svc *account.Service, sessions *api.Sessions, demoUser string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		email := r.URL.Query().Get("as")
		if email == "" {
			email = demoUser
		}
		u, err := account.Get(r.Context(), svc, rbac.Holder{}, profile.ByEmail{Email: email})
		if err != nil {
			http.Error(w, "no demo user "+email, http.StatusNotFound)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "session", Value: sessions.Start(u.ID), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
		next := r.URL.Query().Get("next")
		if !strings.HasPrefix(next, pagesPrefix+"/") || strings.HasPrefix(next, "//") {
			next = pagesPrefix + "/profile"
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// demoSecondFactor stands in for the host's sign-in with a second factor (a TOTP code,
// a security key): the example has none, so a demo session passes one exactly when
// its user has two-factor authentication on in their profile.
func demoSecondFactor(svc *account.Service) func(r *http.Request, userID string) bool {
	return func(r *http.Request, userID string) bool {
		u, err := account.Get(r.Context(), svc, rbac.User(userID), profile.Get{})
		return err == nil && u.TwoFactor
	}
}
