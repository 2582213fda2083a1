package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// AccountJSON is an entry of GET /api/accounts.
type AccountJSON struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	AccessLevels []int  `json:"access_levels"`
}

// listAccounts serves GET /api/accounts: every account the caller belongs to with its
// levels there (D29); for a token, its own account.
func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	accts, err := h.svc.MyAccounts(r.Context(), actor)
	if err != nil {
		return err
	}
	out := make([]AccountJSON, 0, len(accts))
	for _, a := range accts {
		levels := make([]int, 0, len(a.Levels))
		for _, l := range a.Levels {
			levels = append(levels, int(l))
		}
		out = append(out, AccountJSON{ID: a.Account.Ref.ID, Name: a.Account.Name, AccessLevels: levels})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// AccessJSON is an account access: a user or a pending invitation, its resources and
// what the caller may do with it.
type AccessJSON struct {
	ID            string          `json:"id"`
	SpecifierType string          `json:"specifier_type"`
	Specifier     SpecifierJSON   `json:"specifier"`
	Resources     []ResourceJSON  `json:"resources"`
	Permissions   PermissionsJSON `json:"permissions"`
}

// SpecifierJSON is the user, or the invitation, of an access.
type SpecifierJSON struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	TwoFactor bool   `json:"two_factor_authentication_enabled"`
}

// ResourceJSON is a grant: a level on a resource.
type ResourceJSON struct {
	ResourceID   string `json:"resource_id"`
	ResourceType string `json:"resource_type"`
	AccessLevel  int    `json:"access_level"`
}

// PermissionsJSON says what the caller may do with an access.
type PermissionsJSON struct {
	CanRead    bool `json:"can_read"`
	CanUpdate  bool `json:"can_update"`
	CanDestroy bool `json:"can_destroy"`
	CanLeave   bool `json:"can_leave"`
}

// listAccesses serves GET /api/accounts/{account_id}/account_accesses: the users and
// invitations the caller may see (D18), optionally narrowed to those with access to
// given projects, inboxes or domains.
func (h *handler) listAccesses(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	f, err := parseFilter(r.URL.RawQuery)
	if err != nil {
		return err
	}
	acct := rbac.Account(r.PathValue("account_id"))
	list, err := h.svc.Members(r.Context(), actor, acct, f)
	if err != nil {
		return err
	}
	out := make([]AccessJSON, 0, len(list))
	for _, m := range list {
		a := AccessJSON{
			ID:        m.Holder.String(),
			Resources: make([]ResourceJSON, 0, len(m.Grants)+1),
			Permissions: PermissionsJSON{
				CanRead: true, CanUpdate: m.CanUpdate, CanDestroy: m.CanDestroy, CanLeave: m.CanLeave,
			},
		}
		switch m.Holder.Kind {
		case rbac.HolderUser:
			a.SpecifierType = "User"
			a.Specifier = SpecifierJSON{ID: m.User.ID, Email: m.User.Email, Name: m.User.Name, TwoFactor: m.User.TwoFactor}
		case rbac.HolderInvite:
			a.SpecifierType = "Invite"
			a.Specifier = SpecifierJSON{ID: m.Invitation.ID, Email: m.Invitation.Email}
		}
		if m.Owner {
			a.Resources = append(a.Resources, ResourceJSON{ResourceID: acct.ID, ResourceType: "account", AccessLevel: int(rbac.Owner)})
		}
		for _, g := range m.Grants {
			a.Resources = append(a.Resources, resourceOf(g))
		}
		out = append(out, a)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func resourceOf(g store.Grant) ResourceJSON {
	return ResourceJSON{ResourceID: g.Scope.ID, ResourceType: resourceType(g.Scope.Kind), AccessLevel: int(g.Level)}
}

// IDJSON is the body of a deletion's response.
type IDJSON struct {
	ID string `json:"id"`
}

// deleteAccess serves DELETE /api/accounts/{account_id}/account_accesses/{id}: a user
// is removed from the account (D13), an invitation revoked, a token deleted.
func (h *handler) deleteAccess(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	acct := rbac.Account(r.PathValue("account_id"))
	id := r.PathValue("id")
	holder, ok := parseAccessID(id)
	if !ok {
		return account.ErrNotFound
	}
	ctx := r.Context()
	var err error
	switch holder.Kind {
	case rbac.HolderUser:
		err = h.svc.RemoveMember(ctx, actor, acct, holder.ID)
	case rbac.HolderInvite:
		err = h.svc.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
			// The invitation must be one of this account's.
			inv, err := tx.Reader().Invitation(ctx, holder.ID)
			if err != nil || inv.Tenant != acct {
				return account.ErrNotFound
			}
			return tx.RevokeInvitation(ctx, actor, holder.ID)
		})
	case rbac.HolderToken:
		err = h.deleteTokenIn(ctx, actor, acct, holder.ID)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, IDJSON{ID: id})
	return nil
}

// PermissionJSON is an entry of a bulk permissions update.
type PermissionJSON struct {
	ResourceID   ID         `json:"resource_id"`
	ResourceType string     `json:"resource_type"`
	AccessLevel  rbac.Level `json:"access_level"`
	Destroy      bool       `json:"_destroy"`
}

// BulkPermissionsJSON is the body of PUT .../permissions/bulk.
type BulkPermissionsJSON struct {
	Permissions []PermissionJSON `json:"permissions"`
}

// MessageJSON is the body of a response that only says what happened.
type MessageJSON struct {
	Message string `json:"message"`
}

// decodeBulkPermissions decodes the body of a bulk permissions update into the
// library's changes.
func decodeBulkPermissions(r *http.Request) ([]account.PermissionChange, error) {
	var body BulkPermissionsJSON
	if err := decodeJSON(r, &body); err != nil {
		return nil, err
	}
	if body.Permissions == nil {
		return nil, badRequest("permissions", "missing")
	}
	changes := make([]account.PermissionChange, 0, len(body.Permissions))
	for i, p := range body.Permissions {
		ref, err := parseRef("permissions["+strconv.Itoa(i)+"]", p.ResourceType, p.ResourceID)
		if err != nil {
			return nil, err
		}
		changes = append(changes, account.PermissionChange{Scope: ref, Level: p.AccessLevel, Destroy: p.Destroy})
	}
	return changes, nil
}

// bulkPermissions serves PUT .../account_accesses/{id}/permissions/bulk: the grants of
// the access's holder are created, updated or removed, all or nothing (D9–D12, D24).
func (h *handler) bulkPermissions(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	acct := rbac.Account(r.PathValue("account_id"))
	changes, err := decodeBulkPermissions(r)
	if err != nil {
		return err
	}
	holder, ok := parseAccessID(r.PathValue("id"))
	if !ok {
		return account.ErrNotFound
	}
	if err := h.svc.SetPermissions(r.Context(), actor, acct, holder, changes); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, MessageJSON{Message: "Permissions have been updated!"})
	return nil
}

// NodeJSON is a scope of the resource tree with the caller's level on it.
type NodeJSON struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	AccessLevel int        `json:"access_level"`
	Resources   []NodeJSON `json:"resources"`
}

func nodeJSON(n account.Node) NodeJSON {
	out := NodeJSON{ID: n.Ref.ID, Name: n.Name, Type: resourceType(n.Ref.Kind), AccessLevel: int(n.Level), Resources: make([]NodeJSON, 0, len(n.Children))}
	for _, c := range n.Children {
		out.Resources = append(out.Resources, nodeJSON(c))
	}
	return out
}

// resources serves GET /api/accounts/{account_id}/permissions/resources: the tree of
// resources the caller administers.
func (h *handler) resources(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	nodes, err := h.svc.Resources(r.Context(), actor, r.PathValue("account_id"))
	if err != nil {
		return err
	}
	out := make([]NodeJSON, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, nodeJSON(n))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// TokenJSON is an API token as the API shows it; Token holds the secret, only in the
// responses that create or reset the token (D23).
type TokenJSON struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Last4     string         `json:"last_4_digits"`
	CreatedBy string         `json:"created_by"`
	ExpiresAt *time.Time     `json:"expires_at"`
	Resources []ResourceJSON `json:"resources"`
	Token     string         `json:"token,omitempty"`
}

func tokenJSON(t account.TokenInfo, secret string) TokenJSON {
	out := TokenJSON{ID: t.ID, Name: t.Name, Last4: t.Last4, CreatedBy: t.CreatedBy, Resources: make([]ResourceJSON, 0, len(t.Grants)), Token: secret}
	if !t.Expires.IsZero() {
		e := t.Expires.UTC()
		out.ExpiresAt = &e
	}
	for _, g := range t.Grants {
		out.Resources = append(out.Resources, resourceOf(g))
	}
	return out
}

// TokenResourceJSON is a grant requested for a new token.
type TokenResourceJSON struct {
	ResourceID   ID         `json:"resource_id"`
	ResourceType string     `json:"resource_type"`
	AccessLevel  rbac.Level `json:"access_level"`
}

// CreateTokenJSON is the body of POST .../api_tokens.
type CreateTokenJSON struct {
	Name      string              `json:"name"`
	Resources []TokenResourceJSON `json:"resources"`
	ExpiresAt Expiry              `json:"expires_at"`
}

// decodeCreateToken decodes the body of a token creation into the library's request.
func decodeCreateToken(r *http.Request) (account.TokenRequest, error) {
	var body CreateTokenJSON
	if err := decodeJSON(r, &body); err != nil {
		return account.TokenRequest{}, err
	}
	req := account.TokenRequest{Name: body.Name, Expires: body.ExpiresAt.Time, NeverExpires: body.ExpiresAt.Never}
	for i, res := range body.Resources {
		ref, err := parseRef("resources["+strconv.Itoa(i)+"]", res.ResourceType, res.ResourceID)
		if err != nil {
			return account.TokenRequest{}, err
		}
		req.Grants = append(req.Grants, account.GrantSpec{Scope: ref, Level: res.AccessLevel})
	}
	return req, nil
}

// listTokens serves GET /api/accounts/{account_id}/api_tokens.
func (h *handler) listTokens(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	toks, err := h.svc.Tokens(r.Context(), actor, rbac.Account(r.PathValue("account_id")))
	if err != nil {
		return err
	}
	out := make([]TokenJSON, 0, len(toks))
	for _, t := range toks {
		out = append(out, tokenJSON(t, ""))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createToken serves POST /api/accounts/{account_id}/api_tokens (D22, D23).
func (h *handler) createToken(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	req, err := decodeCreateToken(r)
	if err != nil {
		return err
	}
	info, secret, err := h.svc.CreateToken(r.Context(), actor, rbac.Account(r.PathValue("account_id")), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, tokenJSON(info, secret))
	return nil
}

// tokenIn runs fn on the token id in one transaction, after checking that the actor
// may see it and that it is one of acct's: a token of another account is not found
// under this one.
func (h *handler) tokenIn(ctx context.Context, actor rbac.Holder, acct rbac.Ref, id string, fn func(ctx context.Context, tx *account.Tx) error) error {
	return h.svc.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		t, err := tx.Token(ctx, actor, id)
		if err != nil {
			return err
		}
		if t.Tenant != acct {
			return account.ErrNotFound
		}
		return fn(ctx, tx)
	})
}

func (h *handler) deleteTokenIn(ctx context.Context, actor rbac.Holder, acct rbac.Ref, id string) error {
	return h.tokenIn(ctx, actor, acct, id, func(ctx context.Context, tx *account.Tx) error {
		return tx.DeleteToken(ctx, actor, id)
	})
}

// getToken serves GET /api/accounts/{account_id}/api_tokens/{id}.
func (h *handler) getToken(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	t, err := h.svc.Token(r.Context(), actor, r.PathValue("id"))
	if err != nil {
		return err
	}
	if t.Tenant != rbac.Account(r.PathValue("account_id")) {
		return account.ErrNotFound
	}
	writeJSON(w, http.StatusOK, tokenJSON(t, ""))
	return nil
}

// deleteToken serves DELETE /api/accounts/{account_id}/api_tokens/{id}.
func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	id := r.PathValue("id")
	if err := h.deleteTokenIn(r.Context(), actor, rbac.Account(r.PathValue("account_id")), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, IDJSON{ID: id})
	return nil
}

// resetToken serves POST /api/accounts/{account_id}/api_tokens/{id}/reset: the old
// secret stops working and a new token with the same grants is returned, with its
// secret (D23).
func (h *handler) resetToken(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	id := r.PathValue("id")
	var info account.TokenInfo
	var secret string
	err := h.tokenIn(r.Context(), actor, rbac.Account(r.PathValue("account_id")), id, func(ctx context.Context, tx *account.Tx) error {
		var err error
		info, secret, err = tx.ResetToken(ctx, actor, id)
		return err
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, tokenJSON(info, secret))
	return nil
}

// SubAccountJSON is a sub-account of an organization.
type SubAccountJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CreateSubAccountJSON is the body of POST .../sub_accounts.
type CreateSubAccountJSON struct {
	Account *struct {
		Name string `json:"name"`
	} `json:"account"`
}

// listSubAccounts serves GET /api/organizations/{organization_id}/sub_accounts.
func (h *handler) listSubAccounts(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	subs, err := h.svc.SubAccounts(r.Context(), actor, r.PathValue("organization_id"))
	if err != nil {
		return err
	}
	out := make([]SubAccountJSON, 0, len(subs))
	for _, a := range subs {
		out = append(out, SubAccountJSON{ID: a.Ref.ID, Name: a.Name})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// createSubAccount serves POST /api/organizations/{organization_id}/sub_accounts.
func (h *handler) createSubAccount(w http.ResponseWriter, r *http.Request, actor rbac.Holder) error {
	var body CreateSubAccountJSON
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	if body.Account == nil {
		return badRequest("account", "missing")
	}
	a, err := h.svc.CreateSubAccount(r.Context(), actor, r.PathValue("organization_id"), body.Account.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, SubAccountJSON{ID: a.Ref.ID, Name: a.Name})
	return nil
}
