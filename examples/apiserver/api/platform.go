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

// The platform's account-access API: accounts, account accesses, permissions, API
// tokens and sub-accounts, in the shapes its SDKs type.

// AccountJSON is an entry of GET /api/accounts.
type AccountJSON struct {
	ID           ID     `json:"id"`
	Name         string `json:"name"`
	AccessLevels []int  `json:"access_levels"`
}

// listAccounts serves GET /api/accounts: every account the caller belongs to with its
// levels there (D29); for a token, its own account.
func (h *handler) listAccounts(w http.ResponseWriter, r *http.Request) error {
	out := []AccountJSON{}
	for a, err := range account.All(r.Context(), h.svc, web.Actor(r), account.MyAccounts{}) {
		if err != nil {
			return err
		}
		levels := make([]int, 0, len(a.Levels))
		for _, l := range a.Levels {
			levels = append(levels, int(l))
		}
		out = append(out, AccountJSON{ID: ID(a.Account.Ref.ID), Name: a.Account.Name, AccessLevels: levels})
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// AccessJSON is an account access: a user or a pending invitation, its resources and
// what the caller may do with it.
type AccessJSON struct {
	ID            ID              `json:"id"`
	SpecifierType string          `json:"specifier_type"`
	Specifier     SpecifierJSON   `json:"specifier"`
	Resources     []ResourceJSON  `json:"resources"`
	Permissions   PermissionsJSON `json:"permissions"`
}

// SpecifierJSON is the user, or the invitation, of an access.
type SpecifierJSON struct {
	ID        ID     `json:"id"`
	Email     string `json:"email"`
	Name      string `json:"name"`
	TwoFactor bool   `json:"two_factor_authentication_enabled"`
}

// ResourceJSON is a grant: a level on a resource.
type ResourceJSON struct {
	ResourceID   ID     `json:"resource_id"`
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

// accessJSON is an entry of a member listing of acct as the API shows it.
func (h *handler) accessJSON(acct rbac.Ref, m account.Access) AccessJSON {
	a := AccessJSON{
		ID:          AccessID(acct, m.Holder),
		Resources:   make([]ResourceJSON, 0, len(m.Grants)+1),
		Permissions: PermissionsJSON{CanRead: true, CanUpdate: m.CanUpdate, CanDestroy: m.CanDestroy, CanLeave: m.CanLeave},
	}
	switch m.Holder.Kind {
	case rbac.HolderUser:
		a.SpecifierType = "User"
		a.Specifier = SpecifierJSON{ID: ID(m.User.ID), Email: m.User.Email, Name: m.User.Name, TwoFactor: m.User.TwoFactor}
	case rbac.HolderInvite:
		a.SpecifierType = "Invite"
		a.Specifier = SpecifierJSON{ID: ID(m.Invitation.ID), Email: m.Invitation.Email}
	}
	if m.Owner {
		a.Resources = append(a.Resources, ResourceJSON{ResourceID: ID(acct.ID), ResourceType: "account", AccessLevel: int(rbac.Owner)})
	}
	for _, g := range m.Grants {
		a.Resources = append(a.Resources, h.resourceOf(g))
	}
	return a
}

// listAccesses serves GET /api/accounts/{account_id}/account_accesses: the users and
// invitations the caller may see (D18), optionally narrowed to those with access to
// given projects, inboxes or domains.
func (h *handler) listAccesses(w http.ResponseWriter, r *http.Request) error {
	scopes, err := parseFilter(r.URL.RawQuery)
	if err != nil {
		return err
	}
	acct := rbac.Account(r.PathValue("account_id"))
	out := []AccessJSON{}
	for m, err := range account.All(r.Context(), h.svc, web.Actor(r), account.Members{Tenant: acct, Scopes: scopes}) {
		if err != nil {
			return err
		}
		out = append(out, h.accessJSON(acct, m))
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

func (h *handler) resourceOf(g store.Grant) ResourceJSON {
	return ResourceJSON{ResourceID: ID(g.Scope.ID), ResourceType: h.types.name(g.Scope), AccessLevel: int(g.Level)}
}

// IDJSON is the body of a deletion's response.
type IDJSON struct {
	ID ID `json:"id"`
}

// deleteAccess serves DELETE /api/accounts/{account_id}/account_accesses/{access_id}:
// a user is removed from the account (D13), an invitation revoked, a token deleted.
// An invitation or token of another account is not found under this one.
func (h *handler) deleteAccess(w http.ResponseWriter, r *http.Request) error {
	acct := rbac.Account(r.PathValue("account_id"))
	id := r.PathValue("access_id")
	holder, ok := ParseAccessID(acct, id)
	if !ok {
		return account.ErrNotFound
	}
	ctx, actor := r.Context(), web.Actor(r)
	var err error
	switch holder.Kind {
	case rbac.HolderUser:
		_, err = account.Do(ctx, h.svc, actor, account.RemoveMember{Tenant: acct, Member: holder})
	case rbac.HolderInvite:
		_, err = account.Do(ctx, h.svc, actor, account.RevokeInvitation{Tenant: acct, Invitation: holder})
	case rbac.HolderToken:
		_, err = account.Do(ctx, h.svc, actor, account.DeleteToken{Tenant: acct, Token: holder})
	default:
		err = account.ErrNotFound
	}
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: AccessID(acct, holder)})
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
func (h *handler) decodeBulkPermissions(r *http.Request) ([]account.PermissionChange, error) {
	var body BulkPermissionsJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return nil, err
	}
	if body.Permissions == nil {
		return nil, web.Invalid("permissions", "missing")
	}
	changes := make([]account.PermissionChange, 0, len(body.Permissions))
	for i, p := range body.Permissions {
		ref, err := h.parseRef("permissions["+strconv.Itoa(i)+"]", p.ResourceType, p.ResourceID)
		if err != nil {
			return nil, err
		}
		changes = append(changes, account.PermissionChange{Scope: ref, Level: p.AccessLevel, Destroy: p.Destroy})
	}
	return changes, nil
}

// bulkPermissions serves PUT .../account_accesses/{access_id}/permissions/bulk: the
// grants of the access's holder are created, updated or removed, all or nothing
// (D9–D12, D24).
func (h *handler) bulkPermissions(w http.ResponseWriter, r *http.Request) error {
	acct := rbac.Account(r.PathValue("account_id"))
	changes, err := h.decodeBulkPermissions(r)
	if err != nil {
		return err
	}
	holder, ok := ParseAccessID(acct, r.PathValue("access_id"))
	if !ok {
		return account.ErrNotFound
	}
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.SetPermissions{Tenant: acct, Holder: holder, Changes: changes}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, MessageJSON{Message: "Permissions have been updated!"})
}

// NodeJSON is a scope of the resource tree with the caller's level on it.
type NodeJSON struct {
	ID          ID         `json:"id"`
	Name        string     `json:"name"`
	Type        string     `json:"type"`
	AccessLevel int        `json:"access_level"`
	Resources   []NodeJSON `json:"resources"`
}

func (h *handler) nodeJSON(n account.Node) NodeJSON {
	out := NodeJSON{ID: ID(n.Ref.ID), Name: n.Name, Type: h.types.name(n.Ref), AccessLevel: int(n.Level), Resources: make([]NodeJSON, 0, len(n.Children))}
	for _, c := range n.Children {
		out.Resources = append(out.Resources, h.nodeJSON(c))
	}
	return out
}

// resources serves GET /api/accounts/{account_id}/permissions/resources: the tree of
// resources the caller administers.
func (h *handler) resources(w http.ResponseWriter, r *http.Request) error {
	acct, err := web.PathScope(rbac.KindAccount, "account_id")(r)
	if err != nil {
		return err
	}
	nodes, err := account.Get(r.Context(), h.svc, web.Actor(r), account.Resources{Account: acct})
	if err != nil {
		return err
	}
	out := make([]NodeJSON, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, h.nodeJSON(n))
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// TokenJSON is an API token as the API shows it; Token holds the secret, only in the
// responses that create or reset the token (D23). ExpiresAt is null for a token
// that never expires.
type TokenJSON struct {
	ID        ID             `json:"id"`
	Name      string         `json:"name"`
	Last4     string         `json:"last_4_digits"`
	CreatedBy string         `json:"created_by"`
	ExpiresAt *time.Time     `json:"expires_at"`
	Resources []ResourceJSON `json:"resources"`
	Token     string         `json:"token,omitempty"`
}

func (h *handler) tokenJSON(t account.TokenInfo, secret string) TokenJSON {
	out := TokenJSON{ID: ID(t.ID), Name: t.Name, Last4: t.Last4, CreatedBy: t.CreatedBy, Resources: make([]ResourceJSON, 0, len(t.Grants)), Token: secret}
	if !t.Expires.IsZero() {
		e := t.Expires.UTC()
		out.ExpiresAt = &e
	}
	for _, g := range t.Grants {
		out.Resources = append(out.Resources, h.resourceOf(g))
	}
	return out
}

// TokenResourceJSON is a grant requested for a new token.
type TokenResourceJSON struct {
	ResourceID   ID         `json:"resource_id"`
	ResourceType string     `json:"resource_type"`
	AccessLevel  rbac.Level `json:"access_level"`
}

// CreateTokenJSON is the body of POST .../api_tokens. ExpiresAt absent is the
// default of one year; null (or "never") is never.
type CreateTokenJSON struct {
	Name      string              `json:"name"`
	Resources []TokenResourceJSON `json:"resources"`
	ExpiresAt Expiry              `json:"expires_at"`
}

// ResetTokenJSON is the optional body of POST .../api_tokens/{token_id}/reset.
// ExpiresAt absent keeps the token's expiry; null (or "never") is never.
type ResetTokenJSON struct {
	ExpiresAt Expiry `json:"expires_at"`
}

// decodeCreateToken decodes the body of a token creation into the library's request,
// for the account acct.
func (h *handler) decodeCreateToken(r *http.Request, acct rbac.Ref) (account.CreateToken, error) {
	var body CreateTokenJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return account.CreateToken{}, err
	}
	op := account.CreateToken{Tenant: acct, Name: body.Name, Expires: body.ExpiresAt.Time, NeverExpires: body.ExpiresAt.Never}
	for i, res := range body.Resources {
		ref, err := h.parseRef("resources["+strconv.Itoa(i)+"]", res.ResourceType, res.ResourceID)
		if err != nil {
			return account.CreateToken{}, err
		}
		op.Grants = append(op.Grants, account.GrantSpec{Scope: ref, Level: res.AccessLevel})
	}
	return op, nil
}

// listTokens serves GET /api/accounts/{account_id}/api_tokens.
func (h *handler) listTokens(w http.ResponseWriter, r *http.Request) error {
	out := []TokenJSON{}
	for t, err := range account.All(r.Context(), h.svc, web.Actor(r), account.Tokens{Tenant: rbac.Account(r.PathValue("account_id"))}) {
		if err != nil {
			return err
		}
		out = append(out, h.tokenJSON(t, ""))
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// createToken serves POST /api/accounts/{account_id}/api_tokens (D22, D23).
func (h *handler) createToken(w http.ResponseWriter, r *http.Request) error {
	op, err := h.decodeCreateToken(r, rbac.Account(r.PathValue("account_id")))
	if err != nil {
		return err
	}
	tok, err := account.Do(r.Context(), h.svc, web.Actor(r), op)
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, h.tokenJSON(tok.TokenInfo, tok.Secret))
}

// The token routes name the account: the library answers a token of another account
// as one that does not exist, so it is not found under this one.

// getToken serves GET /api/accounts/{account_id}/api_tokens/{token_id}.
func (h *handler) getToken(w http.ResponseWriter, r *http.Request) error {
	t, err := account.Get(r.Context(), h.svc, web.Actor(r), account.Token{Tenant: rbac.Account(r.PathValue("account_id")), Token: rbac.Token(r.PathValue("token_id"))})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, h.tokenJSON(t, ""))
}

// deleteToken serves DELETE /api/accounts/{account_id}/api_tokens/{token_id}.
func (h *handler) deleteToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("token_id")
	if _, err := account.Do(r.Context(), h.svc, web.Actor(r), account.DeleteToken{Tenant: rbac.Account(r.PathValue("account_id")), Token: rbac.Token(id)}); err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, IDJSON{ID: ID(id)})
}

// resetToken serves POST /api/accounts/{account_id}/api_tokens/{token_id}/reset: the
// old secret stops working and a new token with the same grants is returned, with
// its secret (D23), expiring when the body's expires_at says (absent: as the old).
func (h *handler) resetToken(w http.ResponseWriter, r *http.Request) error {
	var body ResetTokenJSON
	if err := web.DecodeOptionalJSON(r, &body); err != nil {
		return err
	}
	tok, err := account.Do(r.Context(), h.svc, web.Actor(r), account.ResetToken{
		Tenant: rbac.Account(r.PathValue("account_id")), Token: rbac.Token(r.PathValue("token_id")),
		Expires: body.ExpiresAt.Time, NeverExpires: body.ExpiresAt.Never,
	})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusOK, h.tokenJSON(tok.TokenInfo, tok.Secret))
}

// SubAccountJSON is a sub-account of an organization.
type SubAccountJSON struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// CreateSubAccountJSON is the body of POST .../sub_accounts.
type CreateSubAccountJSON struct {
	Account *struct {
		Name string `json:"name"`
	} `json:"account"`
}

// listSubAccounts serves GET /api/organizations/{organization_id}/sub_accounts.
func (h *handler) listSubAccounts(w http.ResponseWriter, r *http.Request) error {
	out := []SubAccountJSON{}
	for a, err := range account.All(r.Context(), h.svc, web.Actor(r), account.SubAccounts{Org: rbac.Org(r.PathValue("organization_id"))}) {
		if err != nil {
			return err
		}
		out = append(out, SubAccountJSON{ID: ID(a.Ref.ID), Name: a.Name})
	}
	return web.WriteJSON(w, http.StatusOK, out)
}

// createSubAccount serves POST /api/organizations/{organization_id}/sub_accounts.
func (h *handler) createSubAccount(w http.ResponseWriter, r *http.Request) error {
	var body CreateSubAccountJSON
	if err := web.DecodeJSON(r, &body); err != nil {
		return err
	}
	if body.Account == nil {
		return web.Invalid("account", "missing")
	}
	a, err := account.Do(r.Context(), h.svc, web.Actor(r), account.CreateSubAccount{Org: rbac.Org(r.PathValue("organization_id")), Name: body.Account.Name})
	if err != nil {
		return err
	}
	return web.WriteJSON(w, http.StatusCreated, SubAccountJSON{ID: ID(a.Ref.ID), Name: a.Name})
}
