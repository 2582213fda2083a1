package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

// Seed 001's calls: POST /api/team/invite, PATCH and DELETE /api/users/{user_id}.
// Their roles and feature permissions are mapped onto the scope tree by
// rbac.RoleAccess (POLICY.md, "Roles and feature permissions"). They act on the
// caller's account: a token's own, or for a session the account_id query parameter
// (needed when the user belongs to several accounts).

// tenantOf returns the account a seed 001 call acts on.
func (h *handler) tenantOf(r *http.Request) (rbac.Ref, error) {
	if id := r.URL.Query().Get("account_id"); id != "" {
		if err := account.ValidID("account_id", id); err != nil {
			return rbac.Ref{}, err
		}
		return rbac.Account(id), nil
	}
	page, err := account.Get(r.Context(), h.svc, web.Actor(r), account.MyAccounts{Page: account.PageRequest{Limit: 2}})
	if err != nil {
		return rbac.Ref{}, err
	}
	if len(page.Items) != 1 {
		return rbac.Ref{}, web.Invalid("account_id", "required: the caller belongs to %d accounts or more; name one with ?account_id=", len(page.Items))
	}
	return page.Items[0].Account.Ref, nil
}

// scopesOf returns the projects and domains of acct that the actor administers (the
// resource tree): what features may expand to, since the actor could grant nothing
// elsewhere (D11).
func (h *handler) scopesOf(ctx context.Context, actor rbac.Holder, acct rbac.Ref) (rbac.AccountScopes, []account.Node, error) {
	sc := rbac.AccountScopes{Account: acct}
	nodes, err := account.Get(ctx, h.svc, actor, account.Resources{Account: acct})
	if err != nil {
		return sc, nil, err
	}
	var walk func([]account.Node)
	walk = func(ns []account.Node) {
		for _, n := range ns {
			switch n.Ref.Kind {
			case rbac.KindProject:
				sc.Projects = append(sc.Projects, n.Ref)
			case rbac.KindDomain:
				sc.Domains = append(sc.Domains, n.Ref)
			}
			walk(n.Children)
		}
	}
	walk(nodes)
	return sc, nodes, nil
}

// resolveProjects turns the projects of a request, IDs or names, into scopes: a name
// must be a project of the tree; an ID is passed on for the library to find (or not).
func resolveProjects(field string, ids []ID, nodes []account.Node) ([]rbac.Ref, error) {
	var projects []account.Node
	var walk func([]account.Node)
	walk = func(ns []account.Node) {
		for _, n := range ns {
			if n.Ref.Kind == rbac.KindProject {
				projects = append(projects, n)
			}
			walk(n.Children)
		}
	}
	walk(nodes)
	out := make([]rbac.Ref, 0, len(ids))
next:
	for i, id := range ids {
		for _, p := range projects {
			if p.Ref.ID == string(id) || strings.EqualFold(p.Name, string(id)) {
				out = append(out, p.Ref)
				continue next
			}
		}
		if account.ValidID("", string(id)) != nil || strings.ContainsFunc(string(id), func(r rune) bool { return r < '0' || r > '9' }) {
			return nil, web.Invalid(field+"["+strconv.Itoa(i)+"]", "no project named %q that you administer", id)
		}
		out = append(out, rbac.Project(string(id)))
	}
	return out, nil
}

// resolveTeams turns the teams of a request, IDs or names, into holders, as
// resolveProjects.
func (h *handler) resolveTeams(ctx context.Context, actor rbac.Holder, acct rbac.Ref, ids []ID) ([]rbac.Holder, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var teams []rbac.Holder
	var names []string
	var teamIDs []string
	for t, err := range account.All(ctx, h.svc, actor, account.Teams{Tenant: acct}) {
		if err != nil {
			return nil, err
		}
		teamIDs, names = append(teamIDs, t.ID), append(names, t.Name)
	}
next:
	for i, id := range ids {
		for j := range teamIDs {
			if teamIDs[j] == string(id) || strings.EqualFold(names[j], string(id)) {
				teams = append(teams, rbac.Team(teamIDs[j]))
				continue next
			}
		}
		if _, ok := number(string(id)); !ok {
			return nil, web.Invalid("teams["+strconv.Itoa(i)+"]", "no team named %q", id)
		}
		teams = append(teams, rbac.Team(string(id)))
	}
	return teams, nil
}

// roleRequest reads a role, feature permissions and projects from a seed 001 body.
func roleRequest(role string, permissions map[string]string, projects []rbac.Ref) (rbac.RoleRequest, error) {
	req := rbac.RoleRequest{Projects: projects}
	if role != "" {
		r, err := rbac.ParseRole(role)
		if err != nil {
			return req, web.Invalid("role", "%s", strings.TrimPrefix(err.Error(), "rbac: "))
		}
		req.Role = r
	}
	if permissions != nil {
		req.Features = map[rbac.Feature]rbac.FeatureLevel{}
	}
	for name, level := range permissions {
		f, err := rbac.ParseFeature(name)
		if err != nil {
			return req, web.Invalid("permissions."+name, "%s", strings.TrimPrefix(err.Error(), "rbac: "))
		}
		l, err := rbac.ParseFeatureLevel(level)
		if err != nil {
			return req, web.Invalid("permissions."+name, "%s", strings.TrimPrefix(err.Error(), "rbac: "))
		}
		req.Features[f] = l
	}
	return req, nil
}

// TeamInviteJSON is the body of POST /api/team/invite (seed 001). Role is owner,
// admin, member (the default) or viewer; teams and projects are IDs or names;
// permissions map features to full, read or none.
type TeamInviteJSON struct {
	Email       string            `json:"email"`
	Role        string            `json:"role"`
	Teams       []ID              `json:"teams"`
	Projects    []ID              `json:"projects"`
	Permissions map[string]string `json:"permissions"`
}

// InvitationJSON is a pending invitation.
type InvitationJSON struct {
	ID        ID             `json:"id"`
	AccessID  ID             `json:"access_id"`
	AccountID ID             `json:"account_id"`
	Email     string         `json:"email"`
	Role      string         `json:"role,omitempty"`
	Resources []ResourceJSON `json:"resources"`
	Teams     []ID           `json:"teams"`
	CreatedAt time.Time      `json:"created_at"`
	// Secret is the invitation's secret, in the response that made it only: the host
	// delivers it to the address, and the invitee accepts with it.
	Secret string `json:"secret,omitempty"`
}

func (h *handler) invitationJSON(inv account.Access, acct rbac.Ref, role rbac.Role) InvitationJSON {
	out := InvitationJSON{
		ID: ID(inv.Invitation.ID), AccessID: AccessID(acct, inv.Holder), AccountID: ID(acct.ID), Email: inv.Invitation.Email,
		Role: string(role), Resources: []ResourceJSON{}, Teams: []ID{}, CreatedAt: inv.Invitation.Created.UTC(),
	}
	for _, g := range inv.Grants {
		out.Resources = append(out.Resources, h.resourceOf(g))
	}
	for _, t := range inv.Invitation.Teams {
		out.Teams = append(out.Teams, ID(t))
	}
	return out
}

// teamInvite serves POST /api/team/invite: seed 001's invitation, its role and
// features mapped by rbac.RoleAccess, run as one account.Invite (D19, D20, D21).
func (h *handler) teamInvite(w http.ResponseWriter, r *http.Request) error {
	var body TeamInviteJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	ctx, actor := r.Context(), web.Actor(r)
	acct, err := h.tenantOf(r)
	if err != nil {
		return err
	}
	if err := h.svc.Authorize(ctx, actor, rbac.AccountMembersInvite, acct); err != nil {
		return err
	}
	if body.Role == "" {
		body.Role = string(rbac.RoleMember)
	}
	sc, nodes, err := h.scopesOf(ctx, actor, acct)
	if err != nil {
		return err
	}
	projects, err := resolveProjects("projects", body.Projects, nodes)
	if err != nil {
		return err
	}
	req, err := roleRequest(body.Role, body.Permissions, projects)
	if err != nil {
		return err
	}
	teams, err := h.resolveTeams(ctx, actor, acct, body.Teams)
	if err != nil {
		return err
	}
	entries, err := rbac.RoleAccess(req, sc)
	if err != nil {
		return err
	}
	op := account.Invite{Tenant: acct, Email: body.Email, Teams: teams}
	for _, e := range entries {
		if e.Level != rbac.None {
			op.Grants = append(op.Grants, account.GrantSpec{Scope: e.Scope, Level: e.Level})
		}
	}
	inv, err := account.Do(ctx, h.svc, actor, op)
	if err != nil {
		return err
	}
	a := account.Access{Holder: rbac.Invite(inv.ID), Invitation: inv.Invitation}
	for _, g := range op.Grants {
		a.Grants = append(a.Grants, grantOf(a.Holder, g.Scope, g.Level))
	}
	out := h.invitationJSON(a, acct, req.Role)
	out.Secret = inv.Secret
	return web.WriteJSON(w, http.StatusCreated, out)
}

// UpdateUserJSON is the body of PATCH /api/users/{user_id} (seed 001): a role,
// feature permissions, and the projects sandbox reaches; at least one of them.
type UpdateUserJSON struct {
	Role        string            `json:"role"`
	Permissions map[string]string `json:"permissions"`
	Projects    []ID              `json:"projects"`
}

// UserJSON is a member of an account with its seed 001 role and its grants there.
type UserJSON struct {
	ID        ID             `json:"id"`
	AccessID  ID             `json:"access_id"`
	Email     string         `json:"email"`
	Name      string         `json:"name"`
	Role      string         `json:"role"`
	Resources []ResourceJSON `json:"resources"`
}

// member finds the user in the listing of acct that the actor sees: ErrNotFound when
// the actor does not see them (D18).
func (h *handler) member(ctx context.Context, actor rbac.Holder, acct rbac.Ref, user rbac.Holder) (account.Access, error) {
	for m, err := range account.All(ctx, h.svc, actor, account.Members{Tenant: acct}) {
		if errors.Is(err, rbac.ErrDenied) {
			return account.Access{}, account.ErrNotFound // who sees no member sees not this one
		}
		if err != nil {
			return account.Access{}, err
		}
		if m.Holder == user {
			return m, nil
		}
	}
	return account.Access{}, account.ErrNotFound
}

func (h *handler) userJSON(acct rbac.Ref, m account.Access) UserJSON {
	level := rbac.None
	out := UserJSON{ID: ID(m.User.ID), AccessID: AccessID(acct, m.Holder), Email: m.User.Email, Name: m.User.Name, Resources: []ResourceJSON{}}
	for _, g := range m.Grants {
		if g.Scope == acct {
			level = g.Level
		}
		out.Resources = append(out.Resources, h.resourceOf(g))
	}
	out.Role = string(rbac.RoleOf(m.Owner, level))
	return out
}

// updateUser serves PATCH /api/users/{user_id}: the role and features are mapped by
// rbac.RoleAccess and applied as one all-or-nothing SetPermissions (D9–D12). role
// owner is refused (D4: ownership moves only by transfer).
func (h *handler) updateUser(w http.ResponseWriter, r *http.Request) error {
	var body UpdateUserJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Role == "" && body.Permissions == nil && body.Projects == nil {
		return web.Invalid("body", "give a role, permissions or projects")
	}
	ctx, actor := r.Context(), web.Actor(r)
	acct, err := h.tenantOf(r)
	if err != nil {
		return err
	}
	user := rbac.User(r.PathValue("user_id"))
	m, err := h.member(ctx, actor, acct, user)
	if err != nil {
		return err
	}
	sc, nodes, err := h.scopesOf(ctx, actor, acct)
	if err != nil {
		return err
	}
	projects, err := resolveProjects("projects", body.Projects, nodes)
	if err != nil {
		return err
	}
	req, err := roleRequest(body.Role, body.Permissions, projects)
	if err != nil {
		return err
	}
	entries, err := rbac.RoleAccess(req, sc)
	if err != nil {
		return err
	}
	has := map[rbac.Ref]bool{}
	for _, g := range m.Grants {
		has[g.Scope] = true
	}
	var changes []account.PermissionChange
	for _, e := range entries {
		switch {
		case m.Owner:
			// The owner's access is immutable (D9): the library refuses, citing it.
			changes = []account.PermissionChange{{Scope: acct, Level: rbac.Viewer}}
		case e.Level != rbac.None:
			changes = append(changes, account.PermissionChange{Scope: e.Scope, Level: e.Level})
		case has[e.Scope]:
			changes = append(changes, account.PermissionChange{Scope: e.Scope, Destroy: true})
		}
	}
	if len(changes) > 0 {
		if _, err := account.Do(ctx, h.svc, actor, account.SetPermissions{Tenant: acct, Holder: user, Changes: changes}); err != nil {
			return err
		}
		if m, err = h.member(ctx, actor, acct, user); err != nil {
			return err
		}
	}
	return web.WriteJSON(w, http.StatusOK, h.userJSON(acct, m))
}

// RemoveUserJSON is the optional body of DELETE /api/users/{user_id} (seed 001).
// TransferOwnershipTo is a member's email address or user ID; PreserveData must be
// true or absent.
type RemoveUserJSON struct {
	TransferOwnershipTo ID    `json:"transfer_ownership_to"`
	PreserveData        *bool `json:"preserve_data"`
}

// RemovedJSON is the answer of DELETE /api/users/{user_id}.
type RemovedJSON struct {
	ID                     ID   `json:"id"`
	OwnershipTransferredTo *ID  `json:"ownership_transferred_to"`
	DataPreserved          bool `json:"data_preserved"`
}

// removeUser serves DELETE /api/users/{user_id}: the user leaves the account (D13;
// D15 when it is the caller). With transfer_ownership_to, the owner first transfers
// ownership to that member (D16), in the same transaction. The account's data is
// never deleted with a member, so preserve_data: false is refused.
func (h *handler) removeUser(w http.ResponseWriter, r *http.Request) error {
	var body RemoveUserJSON
	if err := web.DecodeOptionalJSON(r, &body); err != nil {
		return err
	}
	if body.PreserveData != nil && !*body.PreserveData {
		return web.Invalid("preserve_data", "must be true: removing a member never deletes the account's data, which belongs to the account (D13); "+
			"to delete data, delete its resources or the account (D17), or the user deletes their own profile (D30)")
	}
	ctx, actor := r.Context(), web.Actor(r)
	acct, err := h.tenantOf(r)
	if err != nil {
		return err
	}
	user := rbac.User(r.PathValue("user_id"))
	if err := account.ValidID("user_id", user.ID); err != nil {
		return err
	}
	var to rbac.Holder
	if body.TransferOwnershipTo != "" {
		a, err := account.Get(ctx, h.svc, actor, account.Account{Account: acct})
		if err != nil {
			return err
		}
		if a.Owner != user.ID {
			if _, err := h.member(ctx, actor, acct, user); err != nil {
				return err
			}
			return web.Invalid("transfer_ownership_to", "the user is not the account's owner: there is no ownership to transfer")
		}
		if to, err = h.memberByEmailOrID(ctx, actor, acct, string(body.TransferOwnershipTo)); err != nil {
			return err
		}
	}
	err = h.svc.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		if !to.IsZero() {
			if _, err := account.Run(ctx, tx, actor, account.TransferOwnership{Account: acct, To: to}); err != nil {
				return err
			}
		}
		if user == actor {
			_, err := account.Run(ctx, tx, actor, account.Leave{Account: acct})
			return err
		}
		_, err := account.Run(ctx, tx, actor, account.RemoveMember{Tenant: acct, Member: user})
		return err
	})
	if err != nil {
		return err
	}
	out := RemovedJSON{ID: ID(user.ID), DataPreserved: true}
	if !to.IsZero() {
		id := ID(to.ID)
		out.OwnershipTransferredTo = &id
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// memberByEmailOrID finds a user of acct by email address or ID, among the members
// the actor sees.
func (h *handler) memberByEmailOrID(ctx context.Context, actor rbac.Holder, acct rbac.Ref, s string) (rbac.Holder, error) {
	email, _ := account.NormalizeEmail(s)
	for m, err := range account.All(ctx, h.svc, actor, account.Members{Tenant: acct}) {
		if err != nil {
			return rbac.Holder{}, err
		}
		if m.Holder.Kind == rbac.HolderUser && (m.User.ID == s || (email != "" && strings.EqualFold(m.User.Email, email))) {
			return m.Holder, nil
		}
	}
	return rbac.Holder{}, web.Invalid("transfer_ownership_to", "no member of the account with that address or ID")
}
