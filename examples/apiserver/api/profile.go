package api

import (
	"context"
	"net/http"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/web"
)

// The signed-in user's own profile (D25–D30): routes for a session only.

// ProfileJSON is the signed-in user's profile.
type ProfileJSON struct {
	ID        ID          `json:"id"`
	Email     string      `json:"email"`
	Name      string      `json:"name"`
	TimeZone  string      `json:"time_zone"`
	TwoFactor bool        `json:"two_factor_authentication_enabled"`
	OAuth     []OAuthJSON `json:"oauth"`
	CreatedAt time.Time   `json:"created_at"`
}

// OAuthJSON is a linked OAuth identity.
type OAuthJSON struct {
	Provider string `json:"provider"`
	Subject  string `json:"subject"`
}

func (h *handler) writeProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := account.Get(r.Context(), h.svc, web.Actor(r), profile.Get{})
	if err != nil {
		return err
	}
	out := ProfileJSON{ID: ID(p.ID), Email: p.Email, Name: p.Name, TimeZone: p.TimeZone, TwoFactor: p.TwoFactor, OAuth: []OAuthJSON{}, CreatedAt: p.Created.UTC()}
	for _, l := range p.OAuth {
		out.OAuth = append(out.OAuth, OAuthJSON{Provider: l.Provider, Subject: l.Subject})
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// getProfile serves GET /api/me.
func (h *handler) getProfile(w http.ResponseWriter, r *http.Request) error {
	return h.writeProfile(w, r)
}

// UpdateProfileJSON is the body of PATCH /api/me: the fields to change.
type UpdateProfileJSON struct {
	Name     *string `json:"name"`
	TimeZone *string `json:"time_zone"`
}

// updateProfile serves PATCH /api/me: the name and the time zone, in one transaction.
func (h *handler) updateProfile(w http.ResponseWriter, r *http.Request) error {
	var body UpdateProfileJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Name == nil && body.TimeZone == nil {
		return web.Invalid("body", "give a name or a time_zone")
	}
	actor := web.Actor(r)
	err := h.svc.Update(r.Context(), func(ctx context.Context, tx *account.Tx) error {
		if body.Name != nil {
			if _, err := account.Run(ctx, tx, actor, profile.Rename{Name: *body.Name}); err != nil {
				return err
			}
		}
		if body.TimeZone != nil {
			if _, err := account.Run(ctx, tx, actor, profile.SetTimeZone{TimeZone: *body.TimeZone}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return h.writeProfile(w, r)
}

// EmailJSON is the body of PUT /api/me/email.
type EmailJSON struct {
	Email string `json:"email"`
}

// changeEmail serves PUT /api/me/email (D27). A real host verifies the new address
// first; this example trusts the signed-in user.
func (h *handler) changeEmail(w http.ResponseWriter, r *http.Request) error {
	var body EmailJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), profile.ChangeEmail{Email: body.Email}); err != nil {
		return err
	}
	return h.writeProfile(w, r)
}

// linkOAuth serves POST /api/me/oauth (D26).
func (h *handler) linkOAuth(w http.ResponseWriter, r *http.Request) error {
	var body OAuthJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), profile.LinkOAuth{Provider: body.Provider, Subject: body.Subject}); err != nil {
		return err
	}
	return h.writeProfile(w, r)
}

// unlinkOAuth serves DELETE /api/me/oauth/{provider}/{subject}.
func (h *handler) unlinkOAuth(w http.ResponseWriter, r *http.Request) error {
	op := profile.UnlinkOAuth{Provider: r.PathValue("provider"), Subject: r.PathValue("subject")}
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), op); err != nil {
		return err
	}
	return h.writeProfile(w, r)
}

// DeleteProfileJSON is the body of DELETE /api/me: the profile's email address,
// typed to confirm.
type DeleteProfileJSON struct {
	Confirm string `json:"confirm"`
}

// deleteProfile serves DELETE /api/me (D30): irreversible; the user's sessions end.
func (h *handler) deleteProfile(w http.ResponseWriter, r *http.Request) error {
	var body DeleteProfileJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	actor := web.Actor(r)
	if _, err := account.Do(r.Context(), h.svc, actor, profile.Delete{Confirm: body.Confirm}); err != nil {
		return err
	}
	if h.sessions != nil {
		h.sessions.End(actor.ID)
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: ID(actor.ID)})
}
