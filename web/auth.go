package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// Method is how a request authenticated.
type Method string

// The authentication methods.
const (
	MethodToken   Method = "token"   // one of Tenantry's API tokens (D24)
	MethodSession Method = "session" // a session of the host's, for a signed-in user
)

// Auth is who a request acts as and how it authenticated: what Handler puts in the
// request context, and what the host's session function returns.
type Auth struct {
	// Actor is the holder the request acts as: rbac.Token for an API token,
	// rbac.User for a session.
	Actor rbac.Holder
	// Method is how the request authenticated.
	Method Method
	// Session is the host's own identifier of the session (never its secret), for
	// logs; empty for a token.
	Session string
	// SecondFactor reports that the session passed a second factor, as the host says.
	SecondFactor bool
	// SSO names the single sign-on connection the session signed in through, if any.
	SSO string
	// ClientIP is the client's address as the connection gives it (RemoteAddr);
	// a host behind a proxy that it trusts sets it in its session function.
	ClientIP netip.Addr
	// At is when the request was authenticated.
	At time.Time
}

// rbac returns a as the library's checks decide security policies on it: a token's
// method is rbac.AuthToken, a session's the host's SSO connection when there is one,
// else unknown.
func (a Auth) rbac() rbac.Auth {
	ra := rbac.Auth{SecondFactor: a.SecondFactor, ClientIP: a.ClientIP, At: a.At}
	switch {
	case a.Method == MethodToken:
		ra.Method = rbac.AuthToken
	case a.SSO != "":
		ra.Method, ra.Provider = rbac.AuthSSO, a.SSO
	}
	return ra
}

type authKey struct{}

// NewContext returns a copy of ctx that carries a.
func NewContext(ctx context.Context, a Auth) context.Context {
	return context.WithValue(ctx, authKey{}, a)
}

// FromContext returns the Auth that Handler put in ctx, and whether there is one.
func FromContext(ctx context.Context) (Auth, bool) {
	a, ok := ctx.Value(authKey{}).(Auth)
	return a, ok
}

// Actor returns the holder the request acts as, or the zero holder when the request
// is not authenticated.
func Actor(r *http.Request) rbac.Holder {
	a, _ := FromContext(r.Context())
	return a.Actor
}

// ErrNoCredentials is what an Authenticator returns for a request that carries no
// credentials it reads. A route that needs an actor answers it with 401.
var ErrNoCredentials = errors.New("web: no credentials")

// An Authenticator turns a request's credentials into an Auth. It returns
// ErrNoCredentials when the request carries none that it reads, and another error
// (account.ErrUnauthenticated for a bad secret) to refuse the request with 401.
type Authenticator interface {
	Authenticate(r *http.Request) (Auth, error)
}

// TokenAuth authenticates Tenantry's API tokens, sent as "Authorization: Bearer
// SECRET" (the scheme in any case) or, as older SDKs do, "Api-Token: SECRET".
type TokenAuth struct {
	Service *account.Service
}

// Authenticate returns the token's holder (account.Service.Authenticate).
func (t TokenAuth) Authenticate(r *http.Request) (Auth, error) {
	secret, err := BearerToken(r)
	if err != nil {
		return Auth{}, err
	}
	h, err := t.Service.Authenticate(r.Context(), secret)
	if err != nil {
		return Auth{}, err
	}
	return Auth{Actor: h, Method: MethodToken}, nil
}

// BearerToken returns the secret a request sends as "Authorization: Bearer SECRET"
// or "Api-Token: SECRET"; ErrNoCredentials when it sends neither, and
// account.ErrUnauthenticated when its Authorization header has another scheme or no
// secret.
func BearerToken(r *http.Request) (string, error) {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, secret, ok := strings.Cut(a, " ")
		secret = strings.TrimSpace(secret)
		if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
			return "", account.ErrUnauthenticated
		}
		return secret, nil
	}
	if t := strings.TrimSpace(r.Header.Get("Api-Token")); t != "" {
		return t, nil
	}
	return "", ErrNoCredentials
}

// SessionFunc is the host's sessions as an Authenticator: it reads the request's
// session (a cookie, a header) and returns the signed-in user as
// Auth{Actor: rbac.User(id), Method: MethodSession, …}, ErrNoCredentials when the
// request has no session, or an error to refuse it.
type SessionFunc func(r *http.Request) (Auth, error)

// Authenticate calls f.
func (f SessionFunc) Authenticate(r *http.Request) (Auth, error) { return f(r) }

// Chain tries its authenticators in order: the first that finds credentials decides.
type Chain []Authenticator

// Authenticate returns the answer of the first authenticator that does not answer
// ErrNoCredentials, or ErrNoCredentials when none finds credentials.
func (c Chain) Authenticate(r *http.Request) (Auth, error) {
	for _, a := range c {
		if a == nil {
			continue
		}
		au, err := a.Authenticate(r)
		if !errors.Is(err, ErrNoCredentials) {
			return au, err
		}
	}
	return Auth{}, ErrNoCredentials
}
