package account

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Token expiry limits ([rbac.RuleTokenSecret]).
const (
	DefaultTokenLifetime = 365 * 24 * time.Hour
	MaxTokenLifetime     = 5 * 365 * 24 * time.Hour
)

// TokenInfo is a token as listed: its record without the secret's hash, and its
// grants.
type TokenInfo struct {
	store.Token
	Grants []store.Grant
}

// NewToken is a token just created or reset, with its secret: the only time the secret is
// shown ([rbac.RuleTokenSecret]).
type NewToken struct {
	TokenInfo
	Secret string
}

// CreateToken creates an API token in the account or organization Tenant (admin, D22): its
// grants obey the rules on changing access, so they never exceed the creator's
// ([rbac.RuleNoEscalation]) and are never owner. The secret is returned once and only its
// hash and last four characters are kept ([rbac.RuleTokenSecret]).
type CreateToken struct {
	Tenant rbac.Ref
	Name   string
	Grants []GrantSpec
	// Expires is when the token stops working: at most five years ahead, not in the
	// past. Zero means one year from now, unless ExpiresIn or NeverExpires.
	Expires time.Time
	// ExpiresIn is one of TokenLifetimes, the platform's choices
	// ([rbac.RuleTokenExpiry]), instead of a date.
	ExpiresIn    time.Duration
	NeverExpires bool
	// IPAllowlist, when not empty, refuses the token from any other address
	// ([rbac.RuleIPAllowlist]); SetTokenAllowlist changes it.
	IPAllowlist []netip.Prefix
}

// TokenLifetimes are the lifetimes a token may be given as ExpiresIn: 1, 7, 30, 90,
// 180 and 365 days ([rbac.RuleTokenExpiry]).
var TokenLifetimes = []time.Duration{day, 7 * day, 30 * day, 90 * day, 180 * day, 365 * day}

const day = 24 * time.Hour

// Op returns "token.create", its log name and audit action.
func (CreateToken) Op() string { return "token.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateToken) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (NewToken, error) {
	tx := open(t)
	if err := validTenant("tenant", o.Tenant); err != nil {
		return NewToken{}, err
	}
	name, err := ValidName("name", o.Name)
	if err != nil {
		return NewToken{}, err
	}
	changes := specsAsChanges(o.Grants)
	if err := validChanges("grants", actor, rbac.Token("new"), changes); err != nil {
		return NewToken{}, err
	}
	now := tx.Env.Now()
	expires, err := tokenExpiry(now, o.Expires, o.ExpiresIn, o.NeverExpires, now.Add(DefaultTokenLifetime))
	if err != nil {
		return NewToken{}, err
	}
	ips, err := validAllowlist("ip_allowlist", o.IPAllowlist)
	if err != nil {
		return NewToken{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTokensManage, o.Tenant); err != nil {
		return NewToken{}, err
	}
	if err := tx.tokenLimit(ctx, o.Tenant); err != nil {
		return NewToken{}, err
	}
	creator, err := tx.creator(ctx, actor)
	if err != nil {
		return NewToken{}, err
	}
	tok := store.Token{ID: tx.Env.NewID("tok"), Tenant: o.Tenant, Name: name, CreatedBy: creator, Created: now, Expires: expires, IPAllowlist: ips}
	secret, err := tx.issue(&tok)
	if err != nil {
		return NewToken{}, err
	}
	if err := tx.w.InsertToken(ctx, tok); err != nil {
		return NewToken{}, err
	}
	_, after, err := tx.applyChanges(ctx, actor, o.Tenant, target{holder: rbac.Token(tok.ID)}, changes)
	if err != nil {
		return NewToken{}, err
	}
	info, err := tx.tokenInfo(ctx, tok)
	if err != nil {
		return NewToken{}, err
	}
	return NewToken{TokenInfo: info, Secret: secret}, tx.audit(ctx, o, o.Tenant, actor, rbac.Token(tok.ID).String(), "", after)
}

// tokenLimit refuses a new token when tenant holds as many live tokens as its plan
// allows.
func (tx *work) tokenLimit(ctx context.Context, tenant rbac.Ref) error {
	a, err := tx.r.Account(ctx, tenant)
	if err != nil {
		return err
	}
	limit := tx.s.plans[a.Plan].Tokens
	if limit == 0 {
		return nil
	}
	n, now := 0, tx.Env.Now()
	for t, err := range tx.r.Tokens(ctx, tenant) {
		if err != nil {
			return err
		}
		if t.ResetTo == "" && store.TokenLive(t, now) {
			n++
		}
	}
	return withinLimit("live tokens", n, limit, tenant, a.Plan)
}

// creator is the user a token created by actor is attributed to.
func (tx *work) creator(ctx context.Context, actor rbac.Holder) (string, error) {
	if actor.Kind != rbac.HolderToken {
		return actor.ID, nil
	}
	parent, err := tx.r.Token(ctx, actor.ID)
	if err != nil {
		return "", err
	}
	return parent.CreatedBy, nil
}

// issue draws a new secret for t and records its hash and last four characters.
func (tx *work) issue(t *store.Token) (string, error) {
	secret, hash, err := tx.secret(t.ID)
	if err != nil {
		return "", err
	}
	t.Hash = hash
	t.Last4 = secret[len(secret)-4:]
	return secret, nil
}

// secret draws a new secret for the record id and returns it with its hash. A secret
// is the record's ID, a dot and 64 hex digits.
func (tx *work) secret(id string) (string, []byte, error) {
	var b [32]byte
	if _, err := io.ReadFull(tx.Env.Rand, b[:]); err != nil {
		return "", nil, err
	}
	var buf [128]byte
	s := hex.AppendEncode(append(append(buf[:0], id...), '.'), b[:]) // id "." hex
	h := sha256.Sum256(s)
	return string(s), h[:], nil
}

// secretMatches reports, in constant time, whether secret hashes to hash.
func secretMatches(secret string, hash []byte) bool {
	sum := sha256.Sum256([]byte(secret))
	want := hash
	if len(want) != len(sum) {
		want = noHash[:]
	}
	return subtle.ConstantTimeCompare(sum[:], want) == 1 && len(hash) == len(sum)
}

func (tx *work) tokenInfo(ctx context.Context, t store.Token) (TokenInfo, error) {
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

// managedToken loads a token of tenant the actor may manage: ErrNotFound naming it
// otherwise, as for a token that does not exist.
func (tx *work) managedToken(ctx context.Context, actor rbac.Holder, tenant rbac.Ref, token rbac.Holder) (store.Token, error) {
	if err := validTenant("tenant", tenant); err != nil {
		return store.Token{}, err
	}
	if token.Kind != rbac.HolderToken {
		return store.Token{}, invalid("token", "not a token")
	}
	if err := ValidID("token", token.ID); err != nil {
		return store.Token{}, err
	}
	a, err := tx.tenantOf(ctx, actor, tenant)
	if err != nil {
		return store.Token{}, err
	}
	if _, err := tx.subject(ctx, actor, a, token); err != nil {
		return store.Token{}, err
	}
	return tx.r.Token(ctx, token.ID)
}

// Token returns a token of the account or organization Tenant (admin).
type Token struct {
	Tenant rbac.Ref
	Token  rbac.Holder
}

// Op returns "token.get", its log name.
func (Token) Op() string { return "token.get" }

// Answer answers the query; call it through Get or Read.
func (q Token) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (TokenInfo, error) {
	tx := open(t)
	tok, err := tx.managedToken(ctx, actor, q.Tenant, q.Token)
	if err != nil {
		return TokenInfo{}, err
	}
	return tx.tokenInfo(ctx, tok)
}

// Tokens lists the tokens of the account or organization Tenant (admin), by ID.
type Tokens struct {
	Tenant rbac.Ref
	Page   PageRequest
}

// Op returns "token.list", its log name.
func (Tokens) Op() string { return "token.list" }

func (q Tokens) from(after string) Lister[TokenInfo] { q.Page.After = after; return q }

// Answer answers the query; call it through Get or Read.
func (q Tokens) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Page[TokenInfo], error) {
	tx := open(t)
	if err := validTenant("tenant", q.Tenant); err != nil {
		return Page[TokenInfo]{}, err
	}
	limit, err := q.Page.limit()
	if err != nil {
		return Page[TokenInfo]{}, err
	}
	after, err := q.Page.cursor()
	if err != nil {
		return Page[TokenInfo]{}, err
	}
	if _, _, err := tx.authorize(ctx, actor, rbac.AccountTokensManage, q.Tenant); err != nil {
		return Page[TokenInfo]{}, err
	}
	var toks []store.Token
	for tok, err := range tx.r.Tokens(ctx, q.Tenant) {
		if err != nil {
			return Page[TokenInfo]{}, err
		}
		if tok.ID <= after {
			continue
		}
		toks = append(toks, tok)
		if len(toks) > limit {
			break
		}
	}
	out := make([]TokenInfo, 0, len(toks))
	for _, tok := range toks {
		info, err := tx.tokenInfo(ctx, tok)
		if err != nil {
			return Page[TokenInfo]{}, err
		}
		out = append(out, info)
	}
	return pageOf(out, limit, func(t TokenInfo) string { return t.ID }), nil
}

// tokenExpiry returns when a token asked to expire at expires, or never, stops working
// (zero: never); def when neither is asked. A date in the past or more than five years
// ahead is refused ([rbac.RuleTokenSecret]).
func tokenExpiry(now, expires time.Time, in time.Duration, never bool, def time.Time) (time.Time, error) {
	set := 0
	for _, b := range []bool{!expires.IsZero(), in != 0, never} {
		if b {
			set++
		}
	}
	switch {
	case set > 1:
		return time.Time{}, invalid("expires", "more than one of a date, a lifetime and never")
	case never:
		return time.Time{}, nil
	case in != 0:
		if !slices.Contains(TokenLifetimes, in) {
			return time.Time{}, invalid("expires_in", "not one of 1, 7, 30, 90, 180 or 365 days (D38)")
		}
		return now.Add(in), nil
	case expires.IsZero():
		return def, nil
	case !expires.After(now):
		return time.Time{}, invalid("expires", "in the past (D23)")
	case expires.After(now.Add(MaxTokenLifetime)):
		return time.Time{}, invalid("expires", "more than five years ahead (D23)")
	}
	return expires, nil
}

// ResetToken issues a new token with the same grants, whose secret is returned once
// ([rbac.RuleTokenSecret]), and keeps the old secret working for the service's
// TokenResetGrace (12 hours by default, never past its own expiry), after which it
// fails as expired ([rbac.RuleTokenExpiry]). An expired or already reset token cannot
// be reset. The new token keeps the old one's expiry, unless Expires, ExpiresIn or
// NeverExpires asks for another, within the limits of CreateToken.
type ResetToken struct {
	Tenant       rbac.Ref
	Token        rbac.Holder
	Expires      time.Time
	ExpiresIn    time.Duration
	NeverExpires bool
}

// Op returns "token.reset", its log name and audit action.
func (ResetToken) Op() string { return "token.reset" }

// Apply runs the operation; call it through Do or Run.
func (o ResetToken) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (NewToken, error) {
	tx := open(t)
	now := tx.Env.Now()
	if _, err := tokenExpiry(now, o.Expires, o.ExpiresIn, o.NeverExpires, time.Time{}); err != nil {
		return NewToken{}, err
	}
	old, err := tx.managedToken(ctx, actor, o.Tenant, o.Token)
	if err != nil {
		return NewToken{}, err
	}
	if old.ResetTo != "" || !store.TokenLive(old, tx.Env.Now()) {
		return NewToken{}, invalid("token", "expired or already reset (D23)")
	}
	info, err := tx.tokenInfo(ctx, old)
	if err != nil {
		return NewToken{}, err
	}
	expires, _ := tokenExpiry(now, o.Expires, o.ExpiresIn, o.NeverExpires, old.Expires)
	tok := store.Token{ID: tx.Env.NewID("tok"), Tenant: old.Tenant, Name: old.Name, CreatedBy: old.CreatedBy, Created: now, Expires: expires, IPAllowlist: old.IPAllowlist}
	secret, err := tx.issue(&tok)
	if err != nil {
		return NewToken{}, err
	}
	if err := tx.w.InsertToken(ctx, tok); err != nil {
		return NewToken{}, err
	}
	for _, g := range info.Grants {
		g.Holder = rbac.Token(tok.ID)
		if err := tx.w.PutGrant(ctx, g); err != nil {
			return NewToken{}, err
		}
	}
	graceEnd := now.Add(tx.s.resetGrace)
	if old.Expires.IsZero() || graceEnd.Before(old.Expires) {
		old.Expires = graceEnd
	}
	old.ResetTo = tok.ID
	if err := tx.w.UpdateToken(ctx, old); err != nil {
		return NewToken{}, err
	}
	out, err := tx.tokenInfo(ctx, tok)
	if err != nil {
		return NewToken{}, err
	}
	return NewToken{TokenInfo: out, Secret: secret}, tx.audit(ctx, o, tok.Tenant, actor, o.Token.String(), "", rbac.Token(tok.ID).String())
}

// DeleteToken deletes a token and its grants (admin).
type DeleteToken struct {
	Tenant rbac.Ref
	Token  rbac.Holder
}

// Op returns "token.delete", its log name and audit action.
func (DeleteToken) Op() string { return "token.delete" }

// Apply runs the operation; call it through Do or Run.
func (o DeleteToken) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	tok, err := tx.managedToken(ctx, actor, o.Tenant, o.Token)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteToken(ctx, tok.ID); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, tok.Tenant, actor, o.Token.String(), "", "")
}

// noHash is what a secret is compared with when its token ID is unknown, so that an
// unknown ID costs the work of a wrong secret.
var noHash [sha256.Size]byte

// Authenticate returns the holder of a token secret ([rbac.RuleTokenSelf]), comparing
// hashes in constant time. An unknown, expired or reset secret gives ErrUnauthenticated.
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
		want = noHash[:]
	}
	match := subtle.ConstantTimeCompare(sum[:], want) == 1
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return rbac.Holder{}, err
	}
	now := s.env.Now()
	if err != nil || !match || !store.TokenLive(t, now) {
		return rbac.Holder{}, ErrUnauthenticated
	}
	if txn.Due(t.LastUsed, now) {
		s.used(ctx, t.ID, now)
	}
	return rbac.Token(t.ID), nil
}

// used records that token id authenticated at now ([rbac.RuleActivity]). Failing to
// record it does not fail the authentication; it is logged.
func (s *Service) used(ctx context.Context, id string, now time.Time) {
	err := s.st.Update(ctx, func(ctx context.Context, w store.Writer) error {
		t := txn.Tx{R: w, W: w, Env: &s.env}
		return t.Touch(ctx, rbac.Ref{}, rbac.Token(id), now)
	})
	if err != nil {
		s.log.WarnContext(ctx, "recording a token's last use", "token", id, "err", err)
	}
}

// ReassignToken makes the acting user the creator of a token of the account or
// organization Tenant, so that the token keeps working when its creator leaves: a
// token acts within its creator's current access ([rbac.RuleTokenCreator]). The actor
// must manage the account's tokens and hold, on every scope the token has a grant on,
// at least that grant's level ([rbac.RuleNoEscalation]).
type ReassignToken struct {
	Tenant rbac.Ref
	Token  rbac.Holder
}

// Op returns "token.reassign", its log name and audit action.
func (ReassignToken) Op() string { return "token.reassign" }

// Apply runs the operation; call it through Do or Run.
func (o ReassignToken) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (TokenInfo, error) {
	tx := open(t)
	if actor.Kind != rbac.HolderUser {
		if err := validTenant("tenant", o.Tenant); err != nil {
			return TokenInfo{}, err
		}
		return TokenInfo{}, invalid("actor", "a token is reassigned to a user, not to a token")
	}
	tok, err := tx.managedToken(ctx, actor, o.Tenant, o.Token)
	if err != nil {
		return TokenInfo{}, err
	}
	if tok.ResetTo != "" || !store.TokenLive(tok, tx.Env.Now()) {
		return TokenInfo{}, invalid("token", "expired or already reset")
	}
	info, err := tx.tokenInfo(ctx, tok)
	if err != nil {
		return TokenInfo{}, err
	}
	for _, g := range info.Grants {
		lvl, err := tx.level(ctx, actor, g.Scope)
		if err != nil {
			return TokenInfo{}, err
		}
		if d := rbac.DecideChange(rbac.Change{
			Actor: actor, ActorLevel: lvl, Target: o.Token, Scope: g.Scope, From: g.Level, To: g.Level,
		}); !d.Allowed {
			return TokenInfo{}, d.Err()
		}
	}
	before := tok.CreatedBy
	tok.CreatedBy = actor.ID
	if err := tx.w.UpdateToken(ctx, tok); err != nil {
		return TokenInfo{}, err
	}
	info.CreatedBy = actor.ID
	return info, tx.audit(ctx, o, tok.Tenant, actor, o.Token.String(), "creator="+rbac.User(before).String(), "creator="+actor.String())
}
