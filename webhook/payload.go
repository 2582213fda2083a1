package webhook

import (
	"encoding/json"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Version is the version of the payload's form that this package sends.
const Version = 1

// Payload is the JSON form of an event that a delivery's body carries; see the package
// documentation for its fields.
type Payload struct {
	Version int       `json:"version"`
	Seq     uint64    `json:"seq"`
	Time    time.Time `json:"time"`
	Tenant  *Ref      `json:"tenant"` // nil (null) for a profile change
	Actor   *Ref      `json:"actor"`  // nil (null) when the change had no actor
	// Auth is how the actor signed in ("password", "oauth", "sso", "token"), and
	// ClientIP where it came from; nil (null) when the host did not say.
	Auth     *string `json:"auth"`
	ClientIP *string `json:"client_ip"`
	Action   string  `json:"action"`
	Target   string  `json:"target"`
	Before   string  `json:"before"`
	After    string  `json:"after"`
	// Changes are the facts about access the change made, as structured values (see
	// store.Change); an empty array for none.
	Changes []Change `json:"changes"`
}

// Change is a store.Change in a Payload. Fields that do not apply to its kind are
// null, "", false.
type Change struct {
	Kind        string     `json:"kind"` // "grant", "scope", "owner", "member", "team", "team_member", "token", "user", "policy"
	Holder      *Ref       `json:"holder"`
	Scope       *Ref       `json:"scope"`
	Parent      *Ref       `json:"parent"`
	Team        string     `json:"team"`
	Creator     string     `json:"creator"`
	Expires     *time.Time `json:"expires"`
	Before      string     `json:"before"` // a grant's level before: "none", "viewer", "admin", "owner"
	After       string     `json:"after"`  // and after
	ViewContent bool       `json:"view_content"`
	Removed     bool       `json:"removed"`
}

// Ref is a scope or a holder in a Payload: its kind's name in package rbac and its ID.
type Ref struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// NewPayload returns the Payload of e.
func NewPayload(e store.Event) Payload {
	p := Payload{Version: Version, Seq: e.Seq, Time: e.Time.UTC(), Action: e.Action, Target: e.Target, Before: e.Before, After: e.After,
		Tenant: scopeRef(e.Tenant), Actor: holderRef(e.Actor), Changes: make([]Change, 0, len(e.Changes))}
	if e.Auth != rbac.AuthUnknown {
		a := e.Auth.String()
		p.Auth = &a
	}
	if e.ClientIP.IsValid() {
		ip := e.ClientIP.String()
		p.ClientIP = &ip
	}
	for _, c := range e.Changes {
		pc := Change{Kind: c.Kind.String(), Holder: holderRef(c.Holder), Scope: scopeRef(c.Scope), Parent: scopeRef(c.Parent),
			Team: c.Team, Creator: c.Creator, ViewContent: c.ViewContent, Removed: c.Removed}
		if c.Kind == store.ChangeGrant {
			pc.Before, pc.After = c.Before.String(), c.After.String()
		}
		if !c.Expires.IsZero() {
			t := c.Expires.UTC()
			pc.Expires = &t
		}
		p.Changes = append(p.Changes, pc)
	}
	return p
}

func scopeRef(r rbac.Ref) *Ref {
	if r.IsZero() {
		return nil
	}
	return &Ref{Kind: r.Kind.String(), ID: r.ID}
}

func holderRef(h rbac.Holder) *Ref {
	if h.IsZero() {
		return nil
	}
	return &Ref{Kind: h.Kind.String(), ID: h.ID}
}

// Marshal returns the body of e's delivery: its Payload as JSON.
func Marshal(e store.Event) ([]byte, error) {
	return json.Marshal(NewPayload(e))
}
