// Package api serves the platform's account-access API over Tenantry, with seed 001's
// user-management calls and what a user-management screen needs, on the HTTP layer
// of package web. The routes are the table of Routes, documented at /openapi.json.
//
// Requests authenticate with one of Tenantry's API tokens ("Authorization: Bearer
// SECRET" or, as older SDKs do, "Api-Token: SECRET"), or with a signed-in user's
// session (the cookie "session", see Sessions): profile routes need a session.
// Handlers only translate HTTP into the library's operations and queries; every
// decision is the library's, and every error is written by web.WriteError: 401, 403
// with the rule and reason, 404 (also for what the caller may not see), 405, 409,
// 413, 422, 429 (150 requests per 10 s per token or user, with Retry-After).
//
// IDs are JSON numbers when the service makes them with NewID (as cmd apiserver
// does), as the platform's SDKs type them; requests may send them as numbers or
// strings. An account access has its own numeric ID (AccessID), as on the platform.
package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"sync"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

// MaxBodyBytes is the largest request body the API reads; a larger one is refused
// with 413.
const MaxBodyBytes = web.DefaultMaxBodyBytes

// Options configure the API's handler.
type Options struct {
	// Logger receives one record per request; nil logs nothing.
	Logger *slog.Logger
	// Sessions are the signed-in users' sessions; nil: API tokens only.
	Sessions *Sessions
	// Web configures the HTTP layer (rate limits, clock); its Logger, Sessions and
	// MaxBodyBytes are set from the fields above.
	Web web.Options
}

// handler serves the API on an account.Service.
type handler struct {
	svc      *account.Service
	api      *web.Server
	sessions *Sessions
	types    spellings
	mux      *http.ServeMux
}

// NewHandler returns the API's http.Handler on svc.
func NewHandler(svc *account.Service, opts Options) http.Handler {
	wo := opts.Web
	wo.Logger, wo.MaxBodyBytes = opts.Logger, MaxBodyBytes
	if opts.Sessions != nil {
		wo.Sessions = opts.Sessions.Authenticate
	}
	h := &handler{svc: svc, api: web.New(svc, wo), sessions: opts.Sessions, mux: http.NewServeMux()}
	for _, rt := range h.routes() {
		var fn http.Handler
		switch {
		case rt.Auth == AuthPublic:
			fn = h.api.Public(rt.fn)
		case rt.Auth == AuthSession:
			fn = h.api.Func(sessionOnly(rt.fn))
		case rt.Action != 0:
			fn = h.api.Authorize(rt.Action, web.PathScope(rt.ScopeKind, rt.ScopeParam), rt.fn)
		default:
			fn = h.api.Func(rt.fn)
		}
		h.mux.Handle(rt.Method+" "+rt.Path, fn)
	}
	return h.api.Handler(h.mux)
}

// sessionOnly refuses an API token on a route of the signed-in user's own.
func sessionOnly(fn web.HandlerFunc) web.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if web.Actor(r).Kind != rbac.HolderUser {
			return &web.Error{Status: http.StatusForbidden, Field: "session", Message: "this route acts on the signed-in user's own profile: sign in; an API token has none"}
		}
		return fn(w, r)
	}
}

// Sessions are the signed-in users of the example: opaque secrets, sent as the cookie
// "session", each naming a user. Signing in (passwords, OAuth, a second factor) is
// the host's business and not part of this example: the demo starts a session per
// user and writes its secret to the demo fixture. It is safe for concurrent use.
type Sessions struct {
	// SecondFactor, when set, says whether a user's sessions passed a second factor
	// (web.Auth.SecondFactor); the example's sessions have no sign-in of their own, so
	// the demo answers what the user's profile says (profile.Profile.TwoFactor). Nil:
	// none did. Set it before the sessions are used.
	SecondFactor func(r *http.Request, userID string) bool

	mu sync.Mutex
	m  map[string]string // secret → user ID
}

// NewSessions returns an empty set of sessions.
func NewSessions() *Sessions { return &Sessions{m: map[string]string{}} }

// Start starts a session for the user and returns its secret.
func (s *Sessions) Start(userID string) string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	secret := "sess_" + hex.EncodeToString(b)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[secret] = userID
	return secret
}

// End ends the sessions of a user.
func (s *Sessions) End(userID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, v := range s.m {
		if v == userID {
			delete(s.m, k)
		}
	}
}

// Authenticate is the sessions as a web.SessionFunc: the cookie "session".
func (s *Sessions) Authenticate(r *http.Request) (web.Auth, error) {
	c, err := r.Cookie("session")
	if err != nil || c.Value == "" {
		return web.Auth{}, web.ErrNoCredentials
	}
	s.mu.Lock()
	id, ok := s.m[c.Value]
	s.mu.Unlock()
	if !ok {
		return web.Auth{}, account.ErrUnauthenticated
	}
	a := web.Auth{Actor: rbac.User(id), Method: web.MethodSession}
	if s.SecondFactor != nil {
		a.SecondFactor = s.SecondFactor(r, id)
	}
	return a, nil
}
