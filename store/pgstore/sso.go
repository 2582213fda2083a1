package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// encodeMapped encodes a member's mapped grants as a JSON array of [scope kind, scope
// ID, level] arrays, in order, or NULL (nil) when there is none.
func encodeMapped(l []store.MappedGrant) (*string, error) {
	if len(l) == 0 {
		return nil, nil
	}
	rows := make([][3]any, len(l))
	for i, g := range l {
		rows[i] = [3]any{int(g.Scope.Kind), g.Scope.ID, int(g.Level)}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// decodeMapped decodes what encodeMapped encoded: nil for NULL or an empty array.
func decodeMapped(b []byte) ([]store.MappedGrant, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var raw [][3]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]store.MappedGrant, len(raw))
	for i, r := range raw {
		var kind, level int
		if err := unmarshalAll(r[:], &kind, &out[i].Scope.ID, &level); err != nil {
			return nil, err
		}
		out[i].Scope.Kind, out[i].Level = rbac.Kind(kind), rbac.Level(level)
	}
	return out, nil
}

// encodeMapping encodes a connection's role mapping as a JSON array of [group, scope
// kind, scope ID, level] arrays, in order, or NULL (nil) when there is none.
func encodeMapping(l []store.RoleMapping) (*string, error) {
	if len(l) == 0 {
		return nil, nil
	}
	rows := make([][4]any, len(l))
	for i, m := range l {
		rows[i] = [4]any{m.Group, int(m.Scope.Kind), m.Scope.ID, int(m.Level)}
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// decodeMapping decodes what encodeMapping encoded: nil for NULL or an empty array.
func decodeMapping(b []byte) ([]store.RoleMapping, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var raw [][4]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, nil
	}
	out := make([]store.RoleMapping, len(raw))
	for i, r := range raw {
		var kind, level int
		if err := unmarshalAll(r[:], &out[i].Group, &kind, &out[i].Scope.ID, &level); err != nil {
			return nil, err
		}
		out[i].Scope.Kind, out[i].Level = rbac.Kind(kind), rbac.Level(level)
	}
	return out, nil
}

// unmarshalAll decodes each of raw into the matching element of dst.
func unmarshalAll(raw []json.RawMessage, dst ...any) error {
	for i, r := range raw {
		if err := json.Unmarshal(r, dst[i]); err != nil {
			return err
		}
	}
	return nil
}

func scanConnection(r scanner) (store.SSOConnection, error) {
	var c store.SSOConnection
	var kind int16
	var mapping []byte
	err := r.Scan(&c.ID, &kind, &c.Tenant.ID, &c.Name, &c.Enforce, &c.NoPersonalAccount, &mapping, &c.CreatedBy, &c.Created)
	if err != nil {
		return c, err
	}
	c.Tenant.Kind, c.Created = rbac.Kind(kind), dbTime(c.Created)
	if c.Mapping, err = decodeMapping(mapping); err != nil {
		return c, fmt.Errorf("pgstore: mapping of SSO connection %s: %w", c.ID, err)
	}
	return c, nil
}

func scanDomain(r scanner) (store.Domain, error) {
	var d store.Domain
	var kind, capture int16
	err := r.Scan(&d.Name, &kind, &d.Tenant.ID, &d.VerifiedBy, &d.Verified, &capture)
	d.Tenant.Kind, d.Capture, d.Verified = rbac.Kind(kind), rbac.Level(capture), dbTime(d.Verified)
	return d, err
}

// SSOConnection implements store.Reader.
func (w *rw) SSOConnection(ctx context.Context, id string) (store.SSOConnection, error) {
	return get(ctx, w, "SSO connection", scanConnection, qSSOConnection, id)
}

// SSOConnections implements store.Reader.
func (w *rw) SSOConnections(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.SSOConnection, error] {
	return list(ctx, w, "SSO connections", scanConnection, qSSOConnections, int16(tenant.Kind), tenant.ID)
}

// Domain implements store.Reader. The name is looked up in lower case.
func (w *rw) Domain(ctx context.Context, name string) (store.Domain, error) {
	return get(ctx, w, "domain", scanDomain, qDomain, strings.ToLower(name))
}

// Domains implements store.Reader.
func (w *rw) Domains(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Domain, error] {
	return list(ctx, w, "domains", scanDomain, qDomains, int16(tenant.Kind), tenant.ID)
}

// PutSSOConnection implements store.Writer. A foreign key deletes the connection with
// its tenant.
func (w *rw) PutSSOConnection(ctx context.Context, c store.SSOConnection) error {
	const op = "put SSO connection"
	mapping, err := encodeMapping(c.Mapping)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", op, err)
	}
	var n int64
	err = w.q.QueryRow(ctx, w.s.sql[qPutSSOConnection], c.ID, int16(c.Tenant.Kind), c.Tenant.ID, c.Name, c.Enforce, c.NoPersonalAccount,
		mapping, c.CreatedBy, c.Created).Scan(&n)
	switch {
	case err != nil:
		return w.fail(ctx, op, err)
	case n == 0:
		return notFound(op + " " + c.ID + ": tenant " + c.Tenant.String())
	}
	return nil
}

// DeleteSSOConnection implements store.Writer.
func (w *rw) DeleteSSOConnection(ctx context.Context, id string) error {
	n, err := w.exec(ctx, "delete SSO connection", qDeleteSSOConnection, id)
	if err == nil && n == 0 {
		err = notFound("delete SSO connection " + id)
	}
	return err
}

// PutDomain implements store.Writer. The name is stored in lower case. A foreign key
// deletes the domain with its tenant.
func (w *rw) PutDomain(ctx context.Context, d store.Domain) error {
	const op = "put domain"
	name := strings.ToLower(d.Name)
	n, err := w.exec(ctx, op, qPutDomain, name, int16(d.Tenant.Kind), d.Tenant.ID, d.VerifiedBy, d.Verified, int16(d.Capture))
	if err != nil || n == 1 {
		return err
	}
	var taken bool
	if err := w.bools(ctx, op, qDomainExists, []*bool{&taken}, name); err != nil {
		return err
	}
	if taken {
		return exists(op + " " + name + ": another tenant has it")
	}
	return notFound(op + " " + name + ": tenant " + d.Tenant.String())
}

// DeleteDomain implements store.Writer. The name is looked up in lower case.
func (w *rw) DeleteDomain(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	n, err := w.exec(ctx, "delete domain", qDeleteDomain, name)
	if err == nil && n == 0 {
		err = notFound("delete domain " + name)
	}
	return err
}
