package store

import (
	"context"

	"github.com/tenantry/tenantry/rbac"
)

type authKey struct{}

// WithAuth returns a copy of ctx that carries a, how the actor of the request
// authenticated: what Check decides the security policies on (D32, D35). Hosts call it
// through account.WithAuth.
func WithAuth(ctx context.Context, a rbac.Auth) context.Context {
	return context.WithValue(ctx, authKey{}, &a)
}

// AuthFrom returns the Auth that WithAuth put in ctx, or nil when there is none. It
// allocates nothing.
func AuthFrom(ctx context.Context) *rbac.Auth {
	a, _ := ctx.Value(authKey{}).(*rbac.Auth)
	return a
}
