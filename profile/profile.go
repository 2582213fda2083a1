// Package profile holds the operations on user profiles (D25–D30): register, change
// the name, email address, time zone, linked OAuth identities and two-factor fact,
// and delete the profile with everything it owns. They are request types run through
// the front door of package account, like every other operation:
//
//	u, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test"})
//	err = account.Do(ctx, svc, rbac.User(u.User.ID), profile.SetTimeZone{TimeZone: "Europe/Riga"})
//
// Each runs in one transaction with one audit event ([rbac.RuleAudit]). A profile belongs
// to its user: every operation but Register and the host's look-ups (ByEmail, ByOAuth)
// acts on the acting user's own profile. Creating an account, leaving one and listing
// one's accounts are operations of package account (CreateAccount, Leave, MyAccounts).
// Passwords, OAuth flows and email verification belong to the host: a host verifies a new
// address before running ChangeEmail.
package profile

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Profile is a user's profile ([rbac.RuleProfile]).
type Profile = store.User

// Limits on input.
const (
	MaxProviderLen = 64  // bytes in an OAuth provider name
	MaxSubjectLen  = 255 // bytes in an OAuth subject
	MaxOAuthLinks  = 20  // links per profile
)

// Registered is the answer of Register: the new profile and the account it owns.
type Registered struct {
	User    Profile
	Account store.Account
}

// Register creates a profile for Email and a free account it owns, named after Name when
// given, else after the email ([rbac.RuleEmailIdentity]). Nobody is signed in yet: run it
// as the zero rbac.Holder. ErrExists when the address is taken.
type Register struct {
	Email string
	Name  string
}

// Op returns "profile.register", its log name and audit action.
func (Register) Op() string { return "profile.register" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o Register) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Registered, error) {
	if !actor.IsZero() {
		return Registered{}, &account.InvalidError{Field: "actor", Reason: "registering is done by nobody: run it as the zero rbac.Holder"}
	}
	email, err := account.NormalizeEmail(o.Email)
	if err != nil {
		return Registered{}, err
	}
	name := ""
	if strings.TrimSpace(o.Name) != "" {
		if name, err = account.ValidName("name", o.Name); err != nil {
			return Registered{}, err
		}
	}
	u := Profile{ID: t.Env.NewID("user"), Email: email, Name: name, Created: t.Env.Now()}
	if err := t.W.InsertUser(ctx, u); err != nil {
		return Registered{}, err
	}
	acctName := u.Name
	if acctName == "" {
		acctName = truncate(email, account.MaxNameLen)
	}
	a, err := t.InsertTenant(ctx, u.ID, rbac.KindAccount, acctName, t.Env.FirstPlan, "")
	if err != nil {
		return Registered{}, err
	}
	// One change, one event ([rbac.RuleAudit]), in the new account's log.
	return Registered{User: u, Account: a}, t.Audit(ctx, a.Ref, rbac.User(u.ID), o.Op(), rbac.User(u.ID).String(), "", a.Ref.String())
}

func truncate(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	return string([]rune(s)[:runes])
}

// ByEmail returns the profile with the email address, ignoring case: how a host finds
// the user who signs in. It answers whoever asks: a host look-up, not one to expose
// to end users as is.
type ByEmail struct {
	Email string
}

// Op returns "profile.by_email", its log name.
func (ByEmail) Op() string { return "profile.by_email" }

// Answer answers the query; call it through account.Get or account.Read.
func (q ByEmail) Answer(ctx context.Context, t *txn.Tx, _ rbac.Holder) (Profile, error) {
	email, err := account.NormalizeEmail(q.Email)
	if err != nil {
		return Profile{}, err
	}
	return t.R.UserByEmail(ctx, email)
}

// ByOAuth returns the profile linked to an OAuth identity: how a host finds the user
// who signs in with a provider. Like ByEmail, a host look-up.
type ByOAuth struct {
	Provider string
	Subject  string
}

// Op returns "profile.by_oauth", its log name.
func (ByOAuth) Op() string { return "profile.by_oauth" }

// Answer answers the query; call it through account.Get or account.Read.
func (q ByOAuth) Answer(ctx context.Context, t *txn.Tx, _ rbac.Holder) (Profile, error) {
	if err := validLink(q.Provider, q.Subject); err != nil {
		return Profile{}, err
	}
	return t.R.UserByOAuth(ctx, q.Provider, q.Subject)
}

// Get returns the acting user's own profile.
type Get struct{}

// Op returns "profile.get", its log name.
func (Get) Op() string { return "profile.get" }

// Answer answers the query; call it through account.Get or account.Read.
func (Get) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Profile, error) {
	return own(ctx, t, actor)
}

// own reads the acting user's profile: ErrUnauthenticated when the actor is not a
// live user.
func own(ctx context.Context, t *txn.Tx, actor rbac.Holder) (Profile, error) {
	if actor.Kind != rbac.HolderUser {
		return Profile{}, account.ErrUnauthenticated
	}
	u, err := t.R.User(ctx, actor.ID)
	if errors.Is(err, store.ErrNotFound) {
		return Profile{}, account.ErrUnauthenticated
	}
	return u, err
}

// edit runs change on the actor's own profile, saves it and records op's event.
func edit(ctx context.Context, t *txn.Tx, actor rbac.Holder, op string, change func(u *Profile) error) (struct{}, error) {
	u, err := own(ctx, t, actor)
	if err != nil {
		return struct{}{}, err
	}
	if err := change(&u); err != nil {
		return struct{}{}, err
	}
	if err := t.W.UpdateUser(ctx, u); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, t.Audit(ctx, rbac.Ref{}, actor, op, actor.String(), "", "")
}

// Rename sets the profile's name ([rbac.RuleProfile]).
type Rename struct {
	Name string
}

// Op returns "profile.rename", its log name and audit action.
func (Rename) Op() string { return "profile.rename" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o Rename) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	name, err := account.ValidName("name", o.Name)
	if err != nil {
		return struct{}{}, err
	}
	return edit(ctx, t, actor, o.Op(), func(u *Profile) error {
		u.Name = name
		return nil
	})
}

// ChangeEmail moves the whole profile to a new address, which must be free
// ([rbac.RuleChangeEmail]): how a profile is handed to another person. The host verifies
// that the new address belongs to whoever asks before running it: the address decides
// whose invitations a user may accept.
type ChangeEmail struct {
	Email string
}

// Op returns "profile.change_email", its log name and audit action.
func (ChangeEmail) Op() string { return "profile.change_email" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o ChangeEmail) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	email, err := account.NormalizeEmail(o.Email)
	if err != nil {
		return struct{}{}, err
	}
	return edit(ctx, t, actor, o.Op(), func(u *Profile) error {
		other, err := t.R.UserByEmail(ctx, email)
		switch {
		case err == nil && other.ID != u.ID:
			return store.ErrExists
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		u.Email = email
		return nil
	})
}

// SetTimeZone sets the profile's time zone: an IANA name such as "Europe/Riga", or "" to
// clear it ([rbac.RuleProfile]).
type SetTimeZone struct {
	TimeZone string
}

// Op returns "profile.set_time_zone", its log name and audit action.
func (SetTimeZone) Op() string { return "profile.set_time_zone" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o SetTimeZone) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tz := strings.TrimSpace(o.TimeZone)
	if err := ValidTimeZone(tz); err != nil {
		return struct{}{}, err
	}
	return edit(ctx, t, actor, o.Op(), func(u *Profile) error {
		u.TimeZone = tz
		return nil
	})
}

// ValidTimeZone reports whether tz is "" or an IANA time zone name this system knows.
func ValidTimeZone(tz string) error {
	if tz == "" {
		return nil
	}
	if len(tz) > 64 || tz == "Local" || strings.HasPrefix(tz, "/") || strings.Contains(tz, "..") {
		return &account.InvalidError{Field: "time_zone", Reason: "not an IANA time zone name"}
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return &account.InvalidError{Field: "time_zone", Reason: "unknown time zone"}
	}
	return nil
}

func validLink(provider, subject string) error {
	if provider == "" || len(provider) > MaxProviderLen || strings.TrimSpace(provider) != provider || !utf8.ValidString(provider) {
		return &account.InvalidError{Field: "provider", Reason: "must be 1 to 64 bytes without surrounding space"}
	}
	if subject == "" || len(subject) > MaxSubjectLen || !utf8.ValidString(subject) {
		return &account.InvalidError{Field: "subject", Reason: "must be 1 to 255 bytes"}
	}
	return nil
}

// LinkOAuth links an OAuth identity to the profile ([rbac.RuleProfile]). ErrExists when
// this or another profile has it.
type LinkOAuth struct {
	Provider string
	Subject  string
}

// Op returns "profile.link_oauth", its log name and audit action.
func (LinkOAuth) Op() string { return "profile.link_oauth" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o LinkOAuth) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	if err := validLink(o.Provider, o.Subject); err != nil {
		return struct{}{}, err
	}
	return edit(ctx, t, actor, o.Op(), func(u *Profile) error {
		for _, l := range u.OAuth {
			if l.Provider == o.Provider && l.Subject == o.Subject {
				return store.ErrExists
			}
		}
		if len(u.OAuth) >= MaxOAuthLinks {
			return &account.InvalidError{Field: "oauth", Reason: "too many linked identities"}
		}
		u.OAuth = append(u.OAuth, store.OAuthLink{Provider: o.Provider, Subject: o.Subject})
		return nil
	})
}

// UnlinkOAuth removes a linked OAuth identity. ErrNotFound when it is not linked.
type UnlinkOAuth struct {
	Provider string
	Subject  string
}

// Op returns "profile.unlink_oauth", its log name and audit action.
func (UnlinkOAuth) Op() string { return "profile.unlink_oauth" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o UnlinkOAuth) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	if err := validLink(o.Provider, o.Subject); err != nil {
		return struct{}{}, err
	}
	return edit(ctx, t, actor, o.Op(), func(u *Profile) error {
		for i, l := range u.OAuth {
			if l.Provider == o.Provider && l.Subject == o.Subject {
				u.OAuth = append(u.OAuth[:i:i], u.OAuth[i+1:]...)
				return nil
			}
		}
		return store.ErrNotFound
	})
}

// SetTwoFactor records whether the host reports two-factor authentication on
// ([rbac.RuleProfile]).
type SetTwoFactor struct {
	On bool
}

// Op returns "profile.set_two_factor", its log name and audit action.
func (SetTwoFactor) Op() string { return "profile.set_two_factor" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o SetTwoFactor) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	return edit(ctx, t, actor, o.Op(), func(u *Profile) error {
		u.TwoFactor = o.On
		return nil
	})
}

// Delete deletes the acting user's profile, irreversibly ([rbac.RuleDeleteProfile]): every
// account and organization it owns is deleted with everything in it
// ([rbac.RuleDeleteAccount]); every other membership, team place, grant and pending
// invitation of the user goes; the profile is erased. The audit log keeps the user's
// opaque ID only: one event in the profile log, and one in every account the deletion
// changes. Confirm must be the profile's email address (any case), as a person types
// it to confirm.
type Delete struct {
	Confirm string
}

// Op returns "profile.delete", its log name and audit action.
func (Delete) Op() string { return "profile.delete" }

// Apply runs the operation; call it through account.Do or account.Run.
func (o Delete) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	u, err := own(ctx, t, actor)
	if err != nil {
		return struct{}{}, err
	}
	if store.FoldKey(strings.TrimSpace(o.Confirm)) != store.FoldKey(u.Email) {
		return struct{}{}, &account.InvalidError{Field: "confirm", Reason: "must be the profile's email address"}
	}
	// Every account the profile's deletion changes gets its event: those the user
	// belonged to (owned ones included, whose log outlives them) and those where an
	// invitation of the address was pending. The events carry the opaque ID only.
	var changed []rbac.Ref
	for m, err := range t.R.Memberships(ctx, u.ID) {
		if err != nil {
			return struct{}{}, err
		}
		changed = append(changed, m.Tenant)
	}
	owned, err := t.Owned(ctx, u.ID)
	if err != nil {
		return struct{}{}, err
	}
	for _, ref := range owned {
		if _, err := t.R.Account(ctx, ref); errors.Is(err, store.ErrNotFound) {
			continue // a sub-account already gone with its organization
		} else if err != nil {
			return struct{}{}, err
		}
		if err := t.W.DeleteAccount(ctx, ref); err != nil {
			return struct{}{}, err
		}
	}
	var invites []string
	for inv, err := range t.R.InvitationsByEmail(ctx, u.Email) {
		if err != nil {
			return struct{}{}, err
		}
		invites = append(invites, inv.ID)
		if !slices.Contains(changed, inv.Tenant) {
			changed = append(changed, inv.Tenant)
		}
	}
	for _, id := range invites {
		if err := t.W.DeleteInvitation(ctx, id); err != nil {
			return struct{}{}, err
		}
	}
	if err := t.W.DeleteUser(ctx, u.ID); err != nil {
		return struct{}{}, err
	}
	for _, tenant := range changed {
		if err := t.Audit(ctx, tenant, actor, o.Op(), actor.String(), "member", ""); err != nil {
			return struct{}{}, err
		}
	}
	return struct{}{}, t.Audit(ctx, rbac.Ref{}, actor, o.Op(), actor.String(), "", "")
}
