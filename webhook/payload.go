package webhook

import (
	"encoding/json"
	"time"

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
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Before  string    `json:"before"`
	After   string    `json:"after"`
}

// Ref is a scope or a holder in a Payload: its kind's name in package rbac and its ID.
type Ref struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// NewPayload returns the Payload of e.
func NewPayload(e store.Event) Payload {
	p := Payload{Version: Version, Seq: e.Seq, Time: e.Time.UTC(), Action: e.Action, Target: e.Target, Before: e.Before, After: e.After}
	if !e.Tenant.IsZero() {
		p.Tenant = &Ref{Kind: e.Tenant.Kind.String(), ID: e.Tenant.ID}
	}
	if !e.Actor.IsZero() {
		p.Actor = &Ref{Kind: e.Actor.Kind.String(), ID: e.Actor.ID}
	}
	return p
}

// Marshal returns the body of e's delivery: its Payload as JSON.
func Marshal(e store.Event) ([]byte, error) {
	return json.Marshal(NewPayload(e))
}
