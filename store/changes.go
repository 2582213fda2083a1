package store

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"

	"github.com/tenantry/tenantry/rbac"
)

// ChangeKind is the kind of fact about access a Change records.
type ChangeKind uint8

// The kinds of Change. Each names the Writer call that made it, and the fields of
// Change it sets.
const (
	// ChangeGrant: Holder's grant on Scope went from Before to After (rbac.None:
	// no grant), After with ViewContent (PutGrant, DeleteGrant).
	ChangeGrant ChangeKind = iota + 1
	// ChangeScope: Scope was added under Parent (an account's organization, zero
	// for a root) and, for an account or organization, owned by Holder
	// (InsertAccount, InsertResource); with Removed, Scope was removed with every
	// scope below it and every grant on them, and for an account or organization
	// with its memberships, teams and tokens (DeleteAccount, DeleteResource).
	ChangeScope
	// ChangeOwner: the account or organization Scope is owned by Holder from now
	// on (UpdateAccount).
	ChangeOwner
	// ChangeMember: the user Holder became a member of the account or organization
	// Scope; with Removed, left it, with the user's grants on its scopes and places
	// in its teams (InsertMember, DeleteMember).
	ChangeMember
	// ChangeTeam: the team Team was made in Scope; with Removed, it was removed with
	// its places and grants (InsertTeam, DeleteTeam).
	ChangeTeam
	// ChangeTeamMember: the user Holder joined the team Team; with Removed, left it
	// (InsertTeamMember, DeleteTeamMember).
	ChangeTeamMember
	// ChangeToken: the API token Holder of the tenant Scope, made by the user
	// Creator, works until Expires (zero: no end); recorded when it is made and when
	// its creator, expiry or IP allowlist changes; with Removed, it was removed with
	// its grants (InsertToken, UpdateToken, DeleteToken).
	ChangeToken
	// ChangeUser: with Removed, the user Holder was removed with its memberships,
	// places in teams and grants (DeleteUser); without it, the user's email address
	// changed, which single sign-on enforcement reads (UpdateUser).
	ChangeUser
	// ChangePolicy: the security policy of the account or organization Scope was set
	// (PutSecurityPolicy).
	ChangePolicy
)

var changeKindNames = [...]string{ChangeGrant: "grant", ChangeScope: "scope", ChangeOwner: "owner",
	ChangeMember: "member", ChangeTeam: "team", ChangeTeamMember: "team_member", ChangeToken: "token", ChangeUser: "user", ChangePolicy: "policy"}

// String returns the kind's name in the JSON form of events: "grant", "scope",
// "owner", "member", "team", "team_member", "token", "user" or "policy".
func (k ChangeKind) String() string {
	if int(k) < len(changeKindNames) && changeKindNames[k] != "" {
		return changeKindNames[k]
	}
	return fmt.Sprintf("ChangeKind(%d)", uint8(k))
}

// ParseChangeKind returns the ChangeKind named s.
func ParseChangeKind(s string) (ChangeKind, error) {
	for k, name := range changeKindNames {
		if name != "" && name == s {
			return ChangeKind(k), nil
		}
	}
	return 0, fmt.Errorf("store: unknown change kind %q", s)
}

// Change is one fact about access that a write transaction changed, recorded with
// the audit event of the operation that made it (Event.Changes): together, in
// order, the changes of the log say what access every holder had at any time since
// the store was created. Which fields a kind sets is said at each ChangeKind.
type Change struct {
	Kind        ChangeKind
	Holder      rbac.Holder
	Scope       rbac.Ref
	Parent      rbac.Ref   // ChangeScope: the new scope's parent
	Team        string     // ChangeTeam, ChangeTeamMember: the team's ID
	Creator     string     // ChangeToken: the token's creator
	Expires     time.Time  // ChangeToken: its expiry
	Before      rbac.Level // ChangeGrant: the level before (rbac.None: no grant)
	After       rbac.Level // ChangeGrant: the level after (rbac.None: no grant)
	ViewContent bool       // ChangeGrant: the grant after lets its holder read content
	Removed     bool       // the fact ended (see each ChangeKind)
}

// changeJSON is the form in which the SQL stores keep Changes: kinds as numbers,
// empty fields omitted.
type changeJSON struct {
	K  ChangeKind      `json:"k"`
	HK rbac.HolderKind `json:"hk,omitempty"`
	H  string          `json:"h,omitempty"`
	SK rbac.Kind       `json:"sk,omitempty"`
	S  string          `json:"s,omitempty"`
	PK rbac.Kind       `json:"pk,omitempty"`
	P  string          `json:"p,omitempty"`
	T  string          `json:"t,omitempty"`
	C  string          `json:"c,omitempty"`
	E  *time.Time      `json:"e,omitempty"`
	B  rbac.Level      `json:"b,omitempty"`
	A  rbac.Level      `json:"a,omitempty"`
	V  bool            `json:"v,omitempty"`
	R  bool            `json:"r,omitempty"`
}

// MarshalChanges encodes cs for a store to keep; nil (and an empty list) encode
// as the empty string. UnmarshalChanges decodes it.
func MarshalChanges(cs []Change) (string, error) {
	if len(cs) == 0 {
		return "", nil
	}
	out := make([]changeJSON, len(cs))
	for i, c := range cs {
		j := changeJSON{K: c.Kind, HK: c.Holder.Kind, H: c.Holder.ID, SK: c.Scope.Kind, S: c.Scope.ID,
			PK: c.Parent.Kind, P: c.Parent.ID, T: c.Team, C: c.Creator, B: c.Before, A: c.After, V: c.ViewContent, R: c.Removed}
		if !c.Expires.IsZero() {
			e := c.Expires.UTC()
			j.E = &e
		}
		out[i] = j
	}
	b, err := json.Marshal(out)
	return string(b), err
}

// UnmarshalChanges decodes what MarshalChanges encoded; the empty string is nil.
func UnmarshalChanges(s string) ([]Change, error) {
	if s == "" {
		return nil, nil
	}
	var in []changeJSON
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("store: decoding an event's changes: %w", err)
	}
	out := make([]Change, len(in))
	for i, j := range in {
		c := Change{Kind: j.K, Holder: rbac.Holder{Kind: j.HK, ID: j.H}, Scope: rbac.Ref{Kind: j.SK, ID: j.S},
			Parent: rbac.Ref{Kind: j.PK, ID: j.P}, Team: j.T, Creator: j.C, Before: j.B, After: j.A, ViewContent: j.V, Removed: j.R}
		if j.E != nil {
			c.Expires = j.E.UTC()
		}
		out[i] = c
	}
	return out, nil
}

// EncodeEventFields returns the forms in which a SQL store keeps e's ClientIP (its
// text, "" when unknown) and Changes (MarshalChanges). DecodeEventFields reverses it.
func EncodeEventFields(e Event) (clientIP, changes string, err error) {
	if e.ClientIP.IsValid() {
		clientIP = e.ClientIP.String()
	}
	changes, err = MarshalChanges(e.Changes)
	return clientIP, changes, err
}

// DecodeEventFields decodes what EncodeEventFields encoded.
func DecodeEventFields(clientIP, changes string) (netip.Addr, []Change, error) {
	var ip netip.Addr
	if clientIP != "" {
		var err error
		if ip, err = netip.ParseAddr(clientIP); err != nil {
			return netip.Addr{}, nil, fmt.Errorf("store: decoding an event's client address: %w", err)
		}
	}
	cs, err := UnmarshalChanges(changes)
	return ip, cs, err
}
