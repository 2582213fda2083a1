package account

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Token expiry limits (D23).
const (
	DefaultTokenLifetime = 365 * 24 * time.Hour
	MaxTokenLifetime     = 5 * 365 * 24 * time.Hour
)

// TokenRequest asks for a new API token with grants (D22, D23).
type TokenRequest struct {
	Name   string
	Grants []GrantSpec
	// Expires is when the token stops working: at most five years ahead, not in
	// the past. Zero means one year from now, unless NeverExpires.
	Expires      time.Time
	NeverExpires bool
}

// TokenInfo is a token as listed: its record without the secret's hash, and its
// grants.
type TokenInfo struct {
	store.Token
	Grants []store.Grant
}

// CreateToken creates an API token in the account or organization tenant (admin,
// D22): its grants obey the rules on changing access, so they never exceed the
// creator's (D12) and are never owner. The secret is returned once and only its hash
// and last four characters are kept (D23).
func (tx *Tx) CreateToken(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, req TokenRequest) (TokenInfo, string, error) {
	if err := validTenant(tenant); err != nil {
		return TokenInfo{}, "", err
	}
	name, err := ValidName("name", req.Name)
	if err != nil {
		return TokenInfo{}, "", err
	}
	changes := specsAsChanges(req.Grants)
	if err := validSpecs("grants", changes); err != nil {
		return TokenInfo{}, "", err
	}
	for i, c := range changes {
		if !tokenKinds.Has(c.Scope.Kind) {
			return TokenInfo{}, "", invalid("grants["+strconv.Itoa(i)+"].scope", "a token holds grants on organizations, accounts, projects, inboxes and domains only (D22)")
		}
	}
	now := tx.s.now()
	expires := req.Expires
	switch {
	case req.NeverExpires && !expires.IsZero():
		return TokenInfo{}, "", invalid("expires", "both a date and never")
	case req.NeverExpires:
	case expires.IsZero():
		expires = now.Add(DefaultTokenLifetime)
	case !expires.After(now):
		return TokenInfo{}, "", invalid("expires", "in the past (D23)")
	case expires.After(now.Add(MaxTokenLifetime)):
		return TokenInfo{}, "", invalid("expires", "more than five years ahead (D23)")
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTokensManage, tenant); err != nil {
		return TokenInfo{}, "", err
	}
	creator, err := tx.creator(ctx, actor)
	if err != nil {
		return TokenInfo{}, "", err
	}
	t := store.Token{ID: tx.s.newID("tok"), Tenant: tenant, Name: name, CreatedBy: creator, Created: now, Expires: expires}
	secret, err := tx.issue(&t)
	if err != nil {
		return TokenInfo{}, "", err
	}
	if err := tx.w.InsertToken(ctx, t); err != nil {
		return TokenInfo{}, "", err
	}
	_, after, err := tx.applyChanges(ctx, actor, tenant, target{holder: rbac.Token(t.ID)}, changes)
	if err != nil {
		return TokenInfo{}, "", err
	}
	info, err := tx.tokenInfo(ctx, t)
	if err != nil {
		return TokenInfo{}, "", err
	}
	return info, secret, tx.Audit(ctx, tenant, actor, "token.create", rbac.Token(t.ID).String(), "", after)
}

// creator is the user a token created by actor is attributed to.
func (tx *Tx) creator(ctx context.Context, actor rbac.Holder) (string, error) {
	if actor.Kind != rbac.HolderToken {
		return actor.ID, nil
	}
	parent, err := tx.r.Token(ctx, actor.ID)
	if err != nil {
		return "", err
	}
	return parent.CreatedBy, nil
}

// issue draws a new secret for t and records its hash and last four characters. A
// secret is the token's ID, a dot and 64 hex digits.
func (tx *Tx) issue(t *store.Token) (string, error) {
	var b [32]byte
	if _, err := io.ReadFull(tx.s.rand, b[:]); err != nil {
		return "", err
	}
	secret := t.ID + "." + hex.EncodeToString(b[:])
	h := sha256.Sum256([]byte(secret))
	t.Hash = h[:]
	t.Last4 = secret[len(secret)-4:]
	return secret, nil
}

func (tx *Tx) tokenLive(t store.Token) bool {
	return t.ResetTo == "" && (t.Expires.IsZero() || tx.s.now().Before(t.Expires))
}

func (tx *Tx) tokenInfo(ctx context.Context, t store.Token) (TokenInfo, error) {
	info := TokenInfo{Token: t}
	info.Hash = nil
	for g, err := range tx.r.HolderGrants(ctx, rbac.Token(t.ID), t.Tenant) {
		if err != nil {
			return TokenInfo{}, err
		}
		info.Grants = append(info.Grants, g)
	}
	return info, nil
}

// managedToken loads a token the actor may manage.
func (tx *Tx) managedToken(ctx context.Context, actor rbac.Holder, id string) (store.Token, error) {
	if err := ValidID("token", id); err != nil {
		return store.Token{}, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return store.Token{}, err
	}
	t, err := tx.r.Token(ctx, id)
	if err != nil {
		return store.Token{}, notFound(rbac.Token(id))
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTokensManage, t.Tenant); err != nil {
		var de *rbac.DeniedError
		if errors.As(err, &de) {
			return store.Token{}, notFound(rbac.Token(id))
		}
		return store.Token{}, err
	}
	return t, nil
}

// Token returns a token of the actor's account (admin).
func (tx *Tx) Token(ctx context.Context, actor rbac.Holder, id string) (TokenInfo, error) {
	t, err := tx.managedToken(ctx, actor, id)
	if err != nil {
		return TokenInfo{}, err
	}
	return tx.tokenInfo(ctx, t)
}

// Tokens lists the tokens of the account or organization (admin).
func (tx *Tx) Tokens(ctx context.Context, actor rbac.Holder, tenant rbac.Ref) ([]TokenInfo, error) {
	if err := validTenant(tenant); err != nil {
		return nil, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTokensManage, tenant); err != nil {
		return nil, err
	}
	var toks []store.Token
	for t, err := range tx.r.Tokens(ctx, tenant) {
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
	}
	out := make([]TokenInfo, 0, len(toks))
	for _, t := range toks {
		info, err := tx.tokenInfo(ctx, t)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// ResetToken expires the token's secret and issues a new token with the same grants
// and expiry, whose secret is returned once (D23). An expired or already reset token
// cannot be reset.
func (tx *Tx) ResetToken(ctx context.Context, actor rbac.Holder, id string) (TokenInfo, string, error) {
	old, err := tx.managedToken(ctx, actor, id)
	if err != nil {
		return TokenInfo{}, "", err
	}
	if !tx.tokenLive(old) {
		return TokenInfo{}, "", invalid("token", "expired or already reset (D23)")
	}
	info, err := tx.tokenInfo(ctx, old)
	if err != nil {
		return TokenInfo{}, "", err
	}
	now := tx.s.now()
	t := store.Token{ID: tx.s.newID("tok"), Tenant: old.Tenant, Name: old.Name, CreatedBy: old.CreatedBy, Created: now, Expires: old.Expires}
	secret, err := tx.issue(&t)
	if err != nil {
		return TokenInfo{}, "", err
	}
	if err := tx.w.InsertToken(ctx, t); err != nil {
		return TokenInfo{}, "", err
	}
	for _, g := range info.Grants {
		g.Holder = rbac.Token(t.ID)
		if err := tx.w.PutGrant(ctx, g); err != nil {
			return TokenInfo{}, "", err
		}
	}
	old.Expires, old.ResetTo = now, t.ID
	if err := tx.w.UpdateToken(ctx, old); err != nil {
		return TokenInfo{}, "", err
	}
	out, err := tx.tokenInfo(ctx, t)
	if err != nil {
		return TokenInfo{}, "", err
	}
	return out, secret, tx.Audit(ctx, t.Tenant, actor, "token.reset", rbac.Token(id).String(), "", rbac.Token(t.ID).String())
}

// DeleteToken deletes a token and its grants (admin).
func (tx *Tx) DeleteToken(ctx context.Context, actor rbac.Holder, id string) error {
	t, err := tx.managedToken(ctx, actor, id)
	if err != nil {
		return err
	}
	if err := tx.w.DeleteToken(ctx, id); err != nil {
		return err
	}
	return tx.Audit(ctx, t.Tenant, actor, "token.delete", rbac.Token(id).String(), "", "")
}

// Authenticate returns the holder of a token secret (D24), comparing hashes in
// constant time. An unknown, expired or reset secret gives ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, secret string) (rbac.Holder, error) {
	dot := strings.LastIndexByte(secret, '.')
	id := ""
	if dot > 0 && len(secret) <= MaxIDLen+65 {
		id = secret[:dot]
	}
	sum := sha256.Sum256([]byte(secret))
	var t store.Token
	err := s.st.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		if id == "" {
			return store.ErrNotFound
		}
		t, err = r.Token(ctx, id)
		return err
	})
	want := t.Hash
	if len(want) != len(sum) {
		want = make([]byte, len(sum))
	}
	match := subtle.ConstantTimeCompare(sum[:], want) == 1
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return rbac.Holder{}, err
	}
	if err != nil || !match || t.ResetTo != "" || !(t.Expires.IsZero() || s.now().Before(t.Expires)) {
		return rbac.Holder{}, ErrUnauthenticated
	}
	return rbac.Token(t.ID), nil
}
