package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/web"
)

// What a user-management screen needs besides the platform's API: invitations,
// ownership, leaving, seats, the audit log and teams.

func grantOf(h rbac.Holder, scope rbac.Ref, l rbac.Level) store.Grant {
	return store.Grant{Grant: rbac.Grant{Holder: h, Scope: scope, Level: l}}
}

// InviteJSON is the body of POST /api/accounts/{account_id}/invitations: an email
// address, its grants and the teams it joins (D19).
type InviteJSON struct {
	Email     string              `json:"email"`
	Resources []TokenResourceJSON `json:"resources"`
	TeamIDs   []ID                `json:"team_ids"`
}

// invite serves POST /api/accounts/{account_id}/invitations.
func (h *handler) invite(w http.ResponseWriter, r *http.Request) error {
	var body InviteJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	acct := rbac.Account(r.PathValue("account_id"))
	op := account.Invite{Tenant: acct, Email: body.Email}
	for i, res := range body.Resources {
		ref, err := h.parseRef("resources["+strconv.Itoa(i)+"]", res.ResourceType, res.ResourceID)
		if err != nil {
			return err
		}
		op.Grants = append(op.Grants, account.GrantSpec{Scope: ref, Level: res.AccessLevel})
	}
	for _, t := range body.TeamIDs {
		op.Teams = append(op.Teams, rbac.Team(string(t)))
	}
	inv, err := account.Do(r.Context(), h.svc, web.Actor(r), op)
	if err != nil {
		return err
	}
	a := account.Access{Holder: rbac.Invite(inv.ID), Invitation: inv.Invitation}
	for _, g := range op.Grants {
		a.Grants = append(a.Grants, grantOf(a.Holder, g.Scope, g.Level))
	}
	out := h.invitationJSON(a, acct, "")
	out.Secret = inv.Secret
	return web.WriteJSON(w, http.StatusCreated, out)
}

// invitation finds a pending invitation of acct that the actor sees (D18).
func (h *handler) invitation(r *http.Request) (rbac.Ref, account.Access, error) {
	acct := rbac.Account(r.PathValue("account_id"))
	inv := rbac.Invite(r.PathValue("invitation_id"))
	m, err := h.member(r.Context(), web.Actor(r), acct, inv)
	return acct, m, err
}

// resendInvitation serves POST /api/accounts/{account_id}/invitations/{invitation_id}/resend:
// the host's mailer sends the invitation again. The library keeps nothing to change
// (invitations do not expire yet), so nothing is written; who may not invite is
// refused as for a new invitation.
func (h *handler) resendInvitation(w http.ResponseWriter, r *http.Request) error {
	acct, m, err := h.invitation(r)
	if err != nil {
		return err
	}
	if err := h.svc.Authorize(r.Context(), web.Actor(r), rbac.AccountMembersInvite, acct); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusAccepted, h.invitationJSON(m, acct, ""))
}

// revokeInvitation serves DELETE /api/accounts/{account_id}/invitations/{invitation_id}.
func (h *handler) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("invitation_id")
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.RevokeInvitation{Tenant: rbac.Account(r.PathValue("account_id")), Invitation: rbac.Invite(id)}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: ID(id)})
}

// MyInvitationJSON is a pending invitation of the signed-in user's address.
type MyInvitationJSON struct {
	ID        ID        `json:"id"`
	AccountID ID        `json:"account_id"`
	Email     string    `json:"email"`
	CreatedAt time.Time `json:"created_at"`
}

// myInvitations serves GET /api/invitations: what the signed-in user may accept.
func (h *handler) myInvitations(w http.ResponseWriter, r *http.Request) error {
	p, err := web.PageRequest(r)
	if err != nil {
		return err
	}
	page, err := account.Get(r.Context(), h.svc, web.Actor(r), account.MyInvitations{Page: p})
	if err != nil {
		return err
	}
	return web.WritePage(w, page, func(inv store.Invitation) MyInvitationJSON {
		return MyInvitationJSON{ID: ID(inv.ID), AccountID: ID(inv.Tenant.ID), Email: inv.Email, CreatedAt: inv.Created.UTC()}
	})
}

// AcceptJSON is the body of POST /api/invitations/{invitation_id}/accept: the secret
// the invitation's address received.
type AcceptJSON struct {
	Secret string `json:"secret"`
}

// acceptInvitation serves POST /api/invitations/{invitation_id}/accept (D19).
func (h *handler) acceptInvitation(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("invitation_id")
	var body AcceptJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.AcceptInvitation{Invitation: rbac.Invite(id), Secret: body.Secret}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, MessageJSON{Message: "Invitation accepted"})
}

// leave serves POST /api/accounts/{account_id}/leave (D15).
func (h *handler) leave(w http.ResponseWriter, r *http.Request) error {
	acct := rbac.Account(r.PathValue("account_id"))
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.Leave{Account: acct}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: ID(acct.ID)})
}

// TransferJSON is the body of POST /api/accounts/{account_id}/transfer.
type TransferJSON struct {
	UserID ID `json:"user_id"`
}

// transfer serves POST /api/accounts/{account_id}/transfer (D16, C2).
func (h *handler) transfer(w http.ResponseWriter, r *http.Request) error {
	var body TransferJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	acct := rbac.Account(r.PathValue("account_id"))
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.TransferOwnership{Account: acct, To: rbac.User(string(body.UserID))}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, MessageJSON{Message: "Ownership transferred"})
}

// SeatsJSON is the seats of an account's pool: used, and the limit (0: none).
type SeatsJSON struct {
	Used  int `json:"used"`
	Limit int `json:"limit"`
}

// seats serves GET /api/accounts/{account_id}/seats (D20).
func (h *handler) seats(w http.ResponseWriter, r *http.Request) error {
	s, err := account.Get(r.Context(), h.svc, web.Actor(r), account.Seats{Tenant: rbac.Account(r.PathValue("account_id"))})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, SeatsJSON{Used: s.Used, Limit: s.Limit})
}

// EventJSON is an audit event (D31).
type EventJSON struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	Before string    `json:"before"`
	After  string    `json:"after"`
}

// events serves GET /api/accounts/{account_id}/events?cursor=&limit=: the audit log,
// a page at a time.
func (h *handler) events(w http.ResponseWriter, r *http.Request) error {
	p, err := web.PageRequest(r)
	if err != nil {
		return err
	}
	page, err := account.Get(r.Context(), h.svc, web.Actor(r), account.Events{Tenant: rbac.Account(r.PathValue("account_id")), Page: p})
	if err != nil {
		return err
	}
	return web.WritePage(w, page, func(e store.Event) EventJSON {
		return EventJSON{Seq: e.Seq, Time: e.Time.UTC(), Actor: e.Actor.String(), Action: e.Action, Target: e.Target, Before: e.Before, After: e.After}
	})
}

// TeamJSON is a team; AccessID names its grants in .../account_accesses/{id}/permissions/bulk.
type TeamJSON struct {
	ID       ID     `json:"id"`
	AccessID ID     `json:"access_id"`
	Name     string `json:"name"`
}

// NameJSON is a body with a name.
type NameJSON struct {
	Name string `json:"name"`
}

// listTeams serves GET /api/accounts/{account_id}/teams.
func (h *handler) listTeams(w http.ResponseWriter, r *http.Request) error {
	p, err := web.PageRequest(r)
	if err != nil {
		return err
	}
	acct := rbac.Account(r.PathValue("account_id"))
	page, err := account.Get(r.Context(), h.svc, web.Actor(r), account.Teams{Tenant: acct, Page: p})
	if err != nil {
		return err
	}
	return web.WritePage(w, page, func(t store.Team) TeamJSON {
		return TeamJSON{ID: ID(t.ID), AccessID: AccessID(acct, rbac.Team(t.ID)), Name: t.Name}
	})
}

// createTeam serves POST /api/accounts/{account_id}/teams.
func (h *handler) createTeam(w http.ResponseWriter, r *http.Request) error {
	var body NameJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	acct := rbac.Account(r.PathValue("account_id"))
	t, err := account.Do(r.Context(), h.svc, web.Actor(r), account.CreateTeam{Tenant: acct, Name: body.Name})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, TeamJSON{ID: ID(t.ID), AccessID: AccessID(acct, rbac.Team(t.ID)), Name: t.Name})
}

// renameTeam serves PATCH /api/accounts/{account_id}/teams/{team_id}.
func (h *handler) renameTeam(w http.ResponseWriter, r *http.Request) error {
	var body NameJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	acct, team := rbac.Account(r.PathValue("account_id")), rbac.Team(r.PathValue("team_id"))
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.RenameTeam{Tenant: acct, Team: team, Name: body.Name}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, TeamJSON{ID: ID(team.ID), AccessID: AccessID(acct, team), Name: body.Name})
}

// deleteTeam serves DELETE /api/accounts/{account_id}/teams/{team_id}.
func (h *handler) deleteTeam(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("team_id")
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.DeleteTeam{Tenant: rbac.Account(r.PathValue("account_id")), Team: rbac.Team(id)}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: ID(id)})
}

// teamMembers serves GET /api/accounts/{account_id}/teams/{team_id}/members: user
// IDs.
func (h *handler) teamMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := web.PageRequest(r)
	if err != nil {
		return err
	}
	page, err := account.Get(r.Context(), h.svc, web.Actor(r), account.TeamMembers{Tenant: rbac.Account(r.PathValue("account_id")), Team: rbac.Team(r.PathValue("team_id")), Page: p})
	if err != nil {
		return err
	}
	return web.WritePage(w, page, func(u rbac.Holder) IDJSON { return IDJSON{ID: ID(u.ID)} })
}

// addTeamMember serves PUT /api/accounts/{account_id}/teams/{team_id}/members/{user_id}.
func (h *handler) addTeamMember(w http.ResponseWriter, r *http.Request) error {
	op := account.AddTeamMember{Tenant: rbac.Account(r.PathValue("account_id")), Team: rbac.Team(r.PathValue("team_id")), Member: rbac.User(r.PathValue("user_id"))}
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), op); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: ID(op.Member.ID)})
}

// removeTeamMember serves DELETE /api/accounts/{account_id}/teams/{team_id}/members/{user_id}.
func (h *handler) removeTeamMember(w http.ResponseWriter, r *http.Request) error {
	op := account.RemoveTeamMember{Tenant: rbac.Account(r.PathValue("account_id")), Team: rbac.Team(r.PathValue("team_id")), Member: rbac.User(r.PathValue("user_id"))}
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), op); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: ID(op.Member.ID)})
}
