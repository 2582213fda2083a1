// Package profile holds the operations on user profiles: register, change the name,
// email address, time zone, linked OAuth identities and two-factor fact, create an
// account, list one's accounts, and delete the profile with everything it owns. It is
// built on package account and runs every operation in one transaction with one audit
// event (D31).
//
// A profile belongs to its user: every operation but Register and the look-ups takes
// the acting user, who must be the profile's own. Passwords and OAuth flows belong to
// the host service; the profile keeps what they establish.
package profile

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Profile is a user's profile (D26).
type Profile = store.User

// Limits on input.
const (
	MaxProviderLen = 64  // bytes in an OAuth provider name
	MaxSubjectLen  = 255 // bytes in an OAuth subject
	MaxOAuthLinks  = 20  // links per profile
)

// Service runs the profile operations.
type Service struct {
	acct *account.Service
}

// New returns a Service over the account service (and its store).
func New(accounts *account.Service) *Service { return &Service{acct: accounts} }

// Register creates a profile for email and a free account it owns, named after name
// when given, else after the email (D25). ErrExists when the address is taken.
func (s *Service) Register(ctx context.Context, email, name string) (Profile, store.Account, error) {
	email, err := account.NormalizeEmail(email)
	if err != nil {
		return Profile{}, store.Account{}, err
	}
	if strings.TrimSpace(name) != "" {
		if name, err = account.ValidName("name", name); err != nil {
			return Profile{}, store.Account{}, err
		}
	}
	var u Profile
	var a store.Account
	err = s.acct.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		u = Profile{ID: tx.NewID("user"), Email: email, Name: strings.TrimSpace(name), Created: tx.Now()}
		if err := tx.Writer().InsertUser(ctx, u); err != nil {
			return err
		}
		acctName := u.Name
		if acctName == "" {
			acctName = truncate(email, account.MaxNameLen)
		}
		// One change, one event (D31): the new account's creation, in its log.
		var err error
		a, err = tx.CreateAccount(ctx, rbac.User(u.ID), acctName)
		return err
	})
	if err != nil {
		return Profile{}, store.Account{}, err
	}
	return u, a, nil
}

func truncate(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	return string([]rune(s)[:runes])
}

// ByEmail returns the profile with the email address, ignoring case: how a host
// service finds the user who signs in.
func (s *Service) ByEmail(ctx context.Context, email string) (Profile, error) {
	email, err := account.NormalizeEmail(email)
	if err != nil {
		return Profile{}, err
	}
	var u Profile
	err = s.acct.View(ctx, func(ctx context.Context, r store.Reader) error {
		u, err = r.UserByEmail(ctx, email)
		return err
	})
	return u, err
}

// ByOAuth returns the profile linked to the OAuth identity.
func (s *Service) ByOAuth(ctx context.Context, provider, subject string) (Profile, error) {
	if err := validLink(provider, subject); err != nil {
		return Profile{}, err
	}
	var u Profile
	err := s.acct.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		u, err = r.UserByOAuth(ctx, provider, subject)
		return err
	})
	return u, err
}

// Get returns the actor's own profile.
func (s *Service) Get(ctx context.Context, actor rbac.Holder) (Profile, error) {
	if actor.Kind != rbac.HolderUser {
		return Profile{}, account.ErrUnauthenticated
	}
	var u Profile
	err := s.acct.View(ctx, func(ctx context.Context, r store.Reader) error {
		var err error
		u, err = r.User(ctx, actor.ID)
		if errors.Is(err, store.ErrNotFound) {
			return account.ErrUnauthenticated
		}
		return err
	})
	return u, err
}

// edit runs change on the actor's own profile and records one audit event.
func (s *Service) edit(ctx context.Context, actor rbac.Holder, action string, change func(ctx context.Context, tx *account.Tx, u *Profile) error) error {
	if actor.Kind != rbac.HolderUser {
		return account.ErrUnauthenticated
	}
	return s.acct.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		u, err := tx.Reader().User(ctx, actor.ID)
		if errors.Is(err, store.ErrNotFound) {
			return account.ErrUnauthenticated
		} else if err != nil {
			return err
		}
		if err := change(ctx, tx, &u); err != nil {
			return err
		}
		if err := tx.Writer().UpdateUser(ctx, u); err != nil {
			return err
		}
		return tx.Audit(ctx, rbac.Ref{}, actor, action, actor.String(), "", "")
	})
}

// Rename sets the profile's name (D26).
func (s *Service) Rename(ctx context.Context, actor rbac.Holder, name string) error {
	name, err := account.ValidName("name", name)
	if err != nil {
		return err
	}
	return s.edit(ctx, actor, "profile.rename", func(_ context.Context, _ *account.Tx, u *Profile) error {
		u.Name = name
		return nil
	})
}

// ChangeEmail moves the whole profile to a new address, which must be free (D27):
// how a profile is handed to another person.
func (s *Service) ChangeEmail(ctx context.Context, actor rbac.Holder, email string) error {
	email, err := account.NormalizeEmail(email)
	if err != nil {
		return err
	}
	return s.edit(ctx, actor, "profile.change_email", func(ctx context.Context, tx *account.Tx, u *Profile) error {
		if other, err := tx.Reader().UserByEmail(ctx, email); err == nil && other.ID != u.ID {
			return store.ErrExists
		}
		u.Email = email
		return nil
	})
}

// SetTimeZone sets the profile's time zone: an IANA name such as "Europe/Riga", or ""
// to clear it (D26).
func (s *Service) SetTimeZone(ctx context.Context, actor rbac.Holder, tz string) error {
	tz = strings.TrimSpace(tz)
	if err := ValidTimeZone(tz); err != nil {
		return err
	}
	return s.edit(ctx, actor, "profile.set_time_zone", func(_ context.Context, _ *account.Tx, u *Profile) error {
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

// LinkOAuth links an OAuth identity to the profile (D26). ErrExists when another
// profile has it.
func (s *Service) LinkOAuth(ctx context.Context, actor rbac.Holder, provider, subject string) error {
	if err := validLink(provider, subject); err != nil {
		return err
	}
	return s.edit(ctx, actor, "profile.link_oauth", func(_ context.Context, _ *account.Tx, u *Profile) error {
		for _, l := range u.OAuth {
			if l.Provider == provider && l.Subject == subject {
				return store.ErrExists
			}
		}
		if len(u.OAuth) >= MaxOAuthLinks {
			return &account.InvalidError{Field: "oauth", Reason: "too many linked identities"}
		}
		u.OAuth = append(u.OAuth, store.OAuthLink{Provider: provider, Subject: subject})
		return nil
	})
}

// UnlinkOAuth removes a linked OAuth identity. ErrNotFound when it is not linked.
func (s *Service) UnlinkOAuth(ctx context.Context, actor rbac.Holder, provider, subject string) error {
	if err := validLink(provider, subject); err != nil {
		return err
	}
	return s.edit(ctx, actor, "profile.unlink_oauth", func(_ context.Context, _ *account.Tx, u *Profile) error {
		for i, l := range u.OAuth {
			if l.Provider == provider && l.Subject == subject {
				u.OAuth = append(u.OAuth[:i:i], u.OAuth[i+1:]...)
				return nil
			}
		}
		return store.ErrNotFound
	})
}

// SetTwoFactor records whether the host reports two-factor authentication on (D26).
func (s *Service) SetTwoFactor(ctx context.Context, actor rbac.Holder, on bool) error {
	return s.edit(ctx, actor, "profile.set_two_factor", func(_ context.Context, _ *account.Tx, u *Profile) error {
		u.TwoFactor = on
		return nil
	})
}

// CreateAccount creates a new account the actor owns (D28).
func (s *Service) CreateAccount(ctx context.Context, actor rbac.Holder, name string) (store.Account, error) {
	return s.acct.CreateAccount(ctx, actor, name)
}

// Accounts lists every account the actor belongs to with its levels there (D29).
func (s *Service) Accounts(ctx context.Context, actor rbac.Holder) ([]account.AccountAccess, error) {
	return s.acct.MyAccounts(ctx, actor)
}

// Leave leaves an account the actor belongs to but does not own (D15).
func (s *Service) Leave(ctx context.Context, actor rbac.Holder, acct rbac.Ref) error {
	return s.acct.Leave(ctx, actor, acct)
}

// Delete deletes the actor's profile, irreversibly (D30): every account and
// organization it owns is deleted with everything in it (D17); every other
// membership, team place, grant and pending invitation of the user goes; the profile
// is erased. The audit log keeps the user's opaque ID only.
func (s *Service) Delete(ctx context.Context, actor rbac.Holder) error {
	if actor.Kind != rbac.HolderUser {
		return account.ErrUnauthenticated
	}
	return s.acct.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		u, err := tx.Reader().User(ctx, actor.ID)
		if errors.Is(err, store.ErrNotFound) {
			return account.ErrUnauthenticated
		} else if err != nil {
			return err
		}
		if err := tx.DeleteOwnedBy(ctx, u.ID); err != nil {
			return err
		}
		if err := tx.DeclineInvitations(ctx, u.Email); err != nil {
			return err
		}
		if err := tx.Writer().DeleteUser(ctx, u.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, rbac.Ref{}, actor, "profile.delete", actor.String(), "", "")
	})
}
