package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
)

// accountRow is an account of My Profile's list.
type accountRow struct {
	Name     string
	Kind     string
	Level    string
	Levels   []string
	Owner    bool
	Path     string
	Manage   bool // may open User Management: an admin somewhere in it
	CanAudit bool
	// Refused is the account's security policy refusing this sign-in.
	Refused *errorView
}

// tokenRow is an API token as My Profile lists it.
type tokenRow struct {
	ID, Name, Last4 string
	Access          []grantView
	Created         string
	Expires         string
	LastUsed        string   // "3 hours ago", "never"
	IPs             []string // the token's own IP allowlist
}

// tokenGroup is the tokens of one account the user manages.
type tokenGroup struct {
	Name, Path string
	Ref        rbac.Ref
	Tokens     []tokenRow
}

// invitationRow is a pending invitation of the user's address.
type invitationRow struct {
	ID, Tenant, Created, Expires, Path string
}

// profileData is My Profile.
type profileData struct {
	User        profile.Profile
	Accounts    []accountRow
	Invitations []invitationRow
	Tokens      []tokenGroup
	Lifetimes   []option // a new token's lifetime choices
	Owned       []string // what deleting the profile erases
	Left        []string // the accounts deleting the profile leaves
	// Refused is the first refusal of this sign-in by an account's security policy,
	// and what to do about it; each such account is listed with its own.
	Refused *errorView
	// Notices are the accounts that will require two-factor authentication.
	Notices []noticeView
	// SecondFactor: this sign-in passed a second factor.
	SecondFactor bool
}

func (p *pages) profilePage(r *http.Request, c *call) (string, any, error) {
	ctx := r.Context()
	u, err := account.Get(ctx, p.svc, c.me, profile.Get{})
	if err != nil {
		return "", nil, err
	}
	d := &profileData{User: u, SecondFactor: c.auth.SecondFactor}
	c.setZone(u.TimeZone)
	day := c.date
	for _, l := range account.TokenLifetimes {
		days := int(l / (24 * time.Hour))
		d.Lifetimes = append(d.Lifetimes, option{Value: strconv.Itoa(days), Label: plural(days, "day"), Selected: l == account.DefaultTokenLifetime})
	}
	d.Lifetimes = append(d.Lifetimes, option{Value: "never", Label: "never expires"})
	for a, err := range account.All(ctx, p.svc, c.me, account.MyAccounts{}) {
		if err != nil {
			return "", nil, err
		}
		if n := c.notice(a.Policy, a.Account.Name); n != nil {
			d.Notices = append(d.Notices, *n)
		}
		row := accountRow{Name: a.Account.Name, Kind: a.Account.Ref.Kind.String(), Level: a.Level.String(), Owner: a.Account.Owner == c.me.ID, Path: p.tenantPath(a.Account.Ref)}
		if a.Account.Org != "" {
			row.Kind = "sub-account"
		}
		if !a.Policy.Allowed {
			// The account's security policy refuses this sign-in: it is listed, with
			// what to do; the rest of the profile, where two-factor authentication is
			// turned on, stays usable.
			ev := p.errorView(r, &rbac.DeniedError{Decision: a.Policy})
			row.Refused = &ev
			if d.Refused == nil {
				d.Refused = &ev
			}
			d.Accounts = append(d.Accounts, row)
			if row.Owner {
				d.Owned = append(d.Owned, fmt.Sprintf("%s (%s)", row.Name, row.Kind))
			} else {
				d.Left = append(d.Left, row.Name)
			}
			continue
		}
		for _, l := range a.Levels {
			row.Levels = append(row.Levels, l.String())
			row.Manage = row.Manage || l >= rbac.Admin
		}
		row.CanAudit = a.Level >= rbac.Admin
		d.Accounts = append(d.Accounts, row)
		if row.Owner {
			d.Owned = append(d.Owned, fmt.Sprintf("%s (%s)", row.Name, row.Kind))
		} else {
			d.Left = append(d.Left, row.Name)
		}
		if a.Level >= rbac.Admin {
			g := tokenGroup{Name: a.Account.Name, Path: row.Path, Ref: a.Account.Ref}
			names := scopeNames{a.Account.Ref: a.Account.Name}
			if nodes, err := account.Get(ctx, p.svc, c.me, account.Resources{Account: a.Account.Ref}); err == nil {
				for _, n := range flatten(nodes, 0, nil) {
					names[n.Ref] = n.Name
				}
			}
			for tk, err := range account.All(ctx, p.svc, c.me, account.Tokens{Tenant: a.Account.Ref}) {
				if err != nil {
					break
				}
				if tk.ResetTo != "" {
					continue
				}
				tr := tokenRow{ID: tk.ID, Name: tk.Name, Last4: tk.Last4, Created: day(tk.Created), Expires: "never", LastUsed: ago(c.now(), tk.LastUsed, c.loc)}
				if !tk.Expires.IsZero() {
					tr.Expires = day(tk.Expires)
				}
				for _, pr := range tk.IPAllowlist {
					tr.IPs = append(tr.IPs, pr.String())
				}
				for _, gr := range tk.Grants {
					tr.Access = append(tr.Access, grantView{Level: gr.Level.String(), Scope: names.of(gr.Scope), Kind: gr.Scope.Kind.String()})
				}
				g.Tokens = append(g.Tokens, tr)
			}
			d.Tokens = append(d.Tokens, g)
		}
	}
	slices.SortStableFunc(d.Accounts, func(a, b accountRow) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortStableFunc(d.Tokens, func(a, b tokenGroup) int { return cmp.Compare(a.Name, b.Name) })
	slices.Sort(d.Owned)
	slices.Sort(d.Left)
	for inv, err := range account.All(ctx, p.svc, c.me, account.MyInvitations{}) {
		if err != nil {
			return "", nil, err
		}
		row := invitationRow{ID: inv.ID, Tenant: inv.Tenant.String(), Created: day(inv.Created), Expires: "never", Path: p.prefix + "/invitations/" + url.PathEscape(inv.ID)}
		if !inv.Expires.IsZero() {
			row.Expires = day(inv.Expires)
		}
		d.Invitations = append(d.Invitations, row)
	}
	return "profile", &pageData{Title: "My profile", Tab: "profile", Page: d}, nil
}

func (p *pages) profileBack(anchor string) string { return p.prefix + "/profile#" + anchor }

func (p *pages) rename(r *http.Request, c *call) (string, flash, error) {
	back := p.profileBack("details")
	if _, err := account.Do(r.Context(), p.svc, c.me, profile.Rename{Name: r.PostForm.Get("name")}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Name saved."}, nil
}

func (p *pages) changeEmail(r *http.Request, c *call) (string, flash, error) {
	back := p.profileBack("details")
	if _, err := account.Do(r.Context(), p.svc, c.me, profile.ChangeEmail{Email: r.PostForm.Get("email")}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Email address changed."}, nil
}

func (p *pages) setTimeZone(r *http.Request, c *call) (string, flash, error) {
	back := p.profileBack("details")
	if _, err := account.Do(r.Context(), p.svc, c.me, profile.SetTimeZone{TimeZone: r.PostForm.Get("time_zone")}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Time zone saved."}, nil
}

func (p *pages) unlinkOAuth(r *http.Request, c *call) (string, flash, error) {
	back := p.profileBack("oauth")
	op := profile.UnlinkOAuth{Provider: r.PostForm.Get("provider"), Subject: r.PostForm.Get("subject")}
	if _, err := account.Do(r.Context(), p.svc, c.me, op); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Unlinked " + op.Provider + "."}, nil
}

func (p *pages) createAccount(r *http.Request, c *call) (string, flash, error) {
	back := p.profileBack("accounts")
	a, err := account.Do(r.Context(), p.svc, c.me, account.CreateAccount{Name: r.PostForm.Get("name")})
	if err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Account " + a.Name + " created; you own it."}, nil
}

func (p *pages) leave(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.profileBack("accounts")
	a, err := account.Get(r.Context(), p.svc, c.me, account.Account{Account: t})
	if err != nil {
		return back, flash{}, err
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.Leave{Account: t}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "You left " + a.Name + "."}, nil
}

func (p *pages) createToken(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.profileBack("tokens")
	l, err := rbac.ParseLevel(r.PostForm.Get("level"))
	if err != nil {
		return back, flash{}, Invalid("level", "not a level")
	}
	op := account.CreateToken{Tenant: t, Name: r.PostForm.Get("name"), Grants: []account.GrantSpec{{Scope: t, Level: l}}}
	if op.IPAllowlist, err = parseAllowlist("ip_allowlist", r.PostForm.Get("ip_allowlist")); err != nil {
		return back, flash{}, err
	}
	switch e := r.PostForm.Get("expires_in"); e {
	case "never":
		op.NeverExpires = true
	case "":
	default:
		if op.ExpiresIn, err = expiresIn(r.PostForm, "expires_in"); err != nil {
			return back, flash{}, err
		}
	}
	tk, err := account.Do(r.Context(), p.svc, c.me, op)
	if err != nil {
		return back, flash{}, err
	}
	_ = p.setLocation(r.Context(), c) // for the date in the message; UTC without it
	expiry := "It never expires."
	if !tk.Expires.IsZero() {
		expiry = "It expires on " + c.date(tk.Expires) + "."
	}
	if n := len(tk.IPAllowlist); n > 0 {
		expiry += " It is allowed from " + plural(n, "address range") + " only."
	}
	return back, flash{Text: "Token " + tk.Name + " created. " + expiry + " Copy its secret now: it is shown only once.", Secret: tk.Secret, SecretLabel: "Token secret"}, nil
}

func (p *pages) deleteToken(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.profileBack("tokens")
	id := r.PathValue("token")
	if account.ValidID("token", id) != nil {
		return back, flash{}, account.ErrNotFound
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.DeleteToken{Tenant: t, Token: rbac.Token(id)}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Token deleted."}, nil
}

func (p *pages) deleteProfile(r *http.Request, c *call) (string, flash, error) {
	back := p.profileBack("delete")
	if _, err := account.Do(r.Context(), p.svc, c.me, profile.Delete{Confirm: r.PostForm.Get("confirm")}); err != nil {
		return back, flash{}, err
	}
	if p.opts.ProfileDeleted != nil {
		p.opts.ProfileDeleted(c.w, r, c.me.ID)
	}
	return p.prefix + "/deleted", flash{}, nil
}

// invitationData is the page that accepts or declines an invitation.
type invitationData struct {
	ID, Code, Tenant string
	Expires          string // when a pending invitation expires
	Expired          bool   // the invitation expired: it may only be declined
	ExpiredRule      rbac.Rule
	ExpiredText      string
}

func (p *pages) invitationPage(r *http.Request, c *call) (string, any, error) {
	ctx := r.Context()
	id := r.PathValue("invitation")
	if account.ValidID("invitation", id) != nil {
		return "", nil, account.ErrNotFound
	}
	if err := p.setLocation(ctx, c); err != nil {
		return "", nil, err
	}
	d := &invitationData{ID: id, Code: r.URL.Query().Get("code")}
	found := false
	for inv, err := range account.All(ctx, p.svc, c.me, account.MyInvitations{}) {
		if err != nil {
			return "", nil, err
		}
		if inv.ID == id {
			d.Tenant, found = inv.Tenant.String(), true
			if !inv.Expires.IsZero() {
				d.Expires = until(c.now(), inv.Expires) + " (" + c.date(inv.Expires) + ")"
			}
		}
	}
	if !found && d.Code != "" {
		expired, err := p.invitationExpired(ctx, c, id, d.Code)
		if err != nil {
			return "", nil, err
		}
		found, d.Expired = expired, expired
		d.ExpiredRule, d.ExpiredText = rbac.RuleInviteExpiry, rbac.RuleInviteExpiry.Text()
	}
	if !found {
		return "", nil, account.ErrNotFound
	}
	return "invitation", &pageData{Title: "Accept an invitation", Page: d}, nil
}

// invitationExpired reports whether the invitation id, of which the user holds the
// secret code, has expired (the library answers its addressee only).
func (p *pages) invitationExpired(ctx context.Context, c *call, id, code string) (bool, error) {
	v, err := account.Get(ctx, p.svc, c.me, account.AddressedInvitation{Invitation: rbac.Invite(id), Secret: code})
	if errors.Is(err, account.ErrNotFound) {
		return false, nil
	}
	return v.Expired, err
}

func (p *pages) acceptInvitation(r *http.Request, c *call) (string, flash, error) {
	id := r.PathValue("invitation")
	back := p.profileBack("accounts")
	if account.ValidID("invitation", id) != nil {
		return back, flash{}, account.ErrNotFound
	}
	op := account.AcceptInvitation{Invitation: rbac.Invite(id), Secret: r.PostForm.Get("code")}
	if _, err := account.Do(r.Context(), p.svc, c.me, op); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Invitation accepted: the account is in your list."}, nil
}

func (p *pages) declineInvitation(r *http.Request, c *call) (string, flash, error) {
	id := r.PathValue("invitation")
	back := p.profileBack("accounts")
	if account.ValidID("invitation", id) != nil {
		return back, flash{}, account.ErrNotFound
	}
	op := account.DeclineInvitation{Invitation: rbac.Invite(id), Secret: r.PostForm.Get("code")}
	if _, err := account.Do(r.Context(), p.svc, c.me, op); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Invitation declined: it is gone."}, nil
}
