package sqlitestore

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"strings"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// encodeStrings encodes l as a JSON array of strings, in order, or NULL when it is
// empty.
func encodeStrings(l []string) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// stringListScan reads what encodeStrings wrote: nil for NULL or an empty array.
type stringListScan struct{ l *[]string }

func (p stringListScan) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*p.l = nil
		return nil
	case string:
		var l []string
		if err := json.Unmarshal([]byte(v), &l); err != nil {
			return fmt.Errorf("sqlitestore: stored list %q: %w", v, err)
		}
		if len(l) == 0 {
			l = nil
		}
		*p.l = l
		return nil
	}
	return fmt.Errorf("sqlitestore: stored list of type %T", v)
}

func stringList(l *[]string) stringListScan { return stringListScan{l} }

// encodeMapped encodes a member's mapped grants as a JSON array of [scope kind, scope
// ID, level] arrays, in order, or NULL when there is none.
func encodeMapped(l []store.MappedGrant) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	rows := make([][3]any, len(l))
	for i, g := range l {
		rows[i] = [3]any{int(g.Scope.Kind), g.Scope.ID, int(g.Level)}
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

// mappedScan reads what encodeMapped wrote: nil for NULL or an empty array.
type mappedScan struct{ l *[]store.MappedGrant }

func (p mappedScan) Scan(v any) error {
	*p.l = nil
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		var raw [][3]json.RawMessage
		if err := json.Unmarshal([]byte(v), &raw); err != nil {
			return fmt.Errorf("sqlitestore: stored mapped grants %q: %w", v, err)
		}
		if len(raw) == 0 {
			return nil
		}
		out := make([]store.MappedGrant, len(raw))
		for i, r := range raw {
			var kind, level int
			if err := unmarshalAll(r[:], &kind, &out[i].Scope.ID, &level); err != nil {
				return fmt.Errorf("sqlitestore: stored mapped grants %q: %w", v, err)
			}
			out[i].Scope.Kind, out[i].Level = rbac.Kind(kind), rbac.Level(level)
		}
		*p.l = out
		return nil
	}
	return fmt.Errorf("sqlitestore: stored mapped grants of type %T", v)
}

func mappedList(l *[]store.MappedGrant) mappedScan { return mappedScan{l} }

// encodeMapping encodes a connection's role mapping as a JSON array of [group, scope
// kind, scope ID, level] arrays, in order, or NULL when there is none.
func encodeMapping(l []store.RoleMapping) (any, error) {
	if len(l) == 0 {
		return nil, nil
	}
	rows := make([][4]any, len(l))
	for i, m := range l {
		rows[i] = [4]any{m.Group, int(m.Scope.Kind), m.Scope.ID, int(m.Level)}
	}
	b, err := json.Marshal(rows)
	return string(b), err
}

// mappingScan reads what encodeMapping wrote: nil for NULL or an empty array.
type mappingScan struct{ l *[]store.RoleMapping }

func (p mappingScan) Scan(v any) error {
	*p.l = nil
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		var raw [][4]json.RawMessage
		if err := json.Unmarshal([]byte(v), &raw); err != nil {
			return fmt.Errorf("sqlitestore: stored role mapping %q: %w", v, err)
		}
		if len(raw) == 0 {
			return nil
		}
		out := make([]store.RoleMapping, len(raw))
		for i, r := range raw {
			var kind, level int
			if err := unmarshalAll(r[:], &out[i].Group, &kind, &out[i].Scope.ID, &level); err != nil {
				return fmt.Errorf("sqlitestore: stored role mapping %q: %w", v, err)
			}
			out[i].Scope.Kind, out[i].Level = rbac.Kind(kind), rbac.Level(level)
		}
		*p.l = out
		return nil
	}
	return fmt.Errorf("sqlitestore: stored role mapping of type %T", v)
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

// SetMapped implements store.Writer.
func (w *rw) SetMapped(ctx context.Context, tenant rbac.Ref, user string, mapped []store.MappedGrant) error {
	const op = "set mapped"
	enc, err := encodeMapped(mapped)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	n, err := w.exec(ctx, op, qSetMapped, int64(tenant.Kind), tenant.ID, user, enc)
	if err == nil && n == 0 {
		err = notFound(op + ": member " + user + " of " + tenant.String())
	}
	return err
}

func scanConnection(r scanner) (store.SSOConnection, error) {
	var c store.SSOConnection
	var kind int64
	err := r.Scan(&c.ID, &kind, &c.Tenant.ID, &c.Name, &c.Enforce, &c.NoPersonalAccount, mappingScan{&c.Mapping}, &c.CreatedBy, tm(&c.Created))
	c.Tenant.Kind = rbac.Kind(kind)
	return c, err
}

func scanDomain(r scanner) (store.Domain, error) {
	var d store.Domain
	var kind, capture int64
	err := r.Scan(&d.Name, &kind, &d.Tenant.ID, &d.VerifiedBy, tm(&d.Verified), &capture)
	d.Tenant.Kind, d.Capture = rbac.Kind(kind), rbac.Level(capture)
	return d, err
}

// SSOConnection implements store.Reader.
func (w *rw) SSOConnection(ctx context.Context, id string) (store.SSOConnection, error) {
	return get(ctx, w, "SSO connection", scanConnection, qSSOConnection, id)
}

// SSOConnections implements store.Reader.
func (w *rw) SSOConnections(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.SSOConnection, error] {
	return list(ctx, w, "SSO connections", scanConnection, qSSOConnections, int64(tenant.Kind), tenant.ID)
}

// Domain implements store.Reader. The name is looked up in lower case.
func (w *rw) Domain(ctx context.Context, name string) (store.Domain, error) {
	return get(ctx, w, "domain", scanDomain, qDomain, strings.ToLower(name))
}

// Domains implements store.Reader.
func (w *rw) Domains(ctx context.Context, tenant rbac.Ref) iter.Seq2[store.Domain, error] {
	return list(ctx, w, "domains", scanDomain, qDomains, int64(tenant.Kind), tenant.ID)
}

// PutSSOConnection implements store.Writer. A foreign key deletes the connection with
// its tenant.
func (w *rw) PutSSOConnection(ctx context.Context, c store.SSOConnection) error {
	const op = "put SSO connection"
	mapping, err := encodeMapping(c.Mapping)
	if err != nil {
		return fmt.Errorf("sqlitestore: %s: %w", op, err)
	}
	found, err := w.flag(ctx, op, qConnectionExists, c.ID)
	if err != nil {
		return err
	}
	if found {
		_, err = w.exec(ctx, op, qUpdateSSOConnection, c.ID, c.Name, c.Enforce, c.NoPersonalAccount, mapping, c.CreatedBy, dbTime(c.Created))
		return err
	}
	if err := w.tenantExists(ctx, op, c.Tenant); err != nil {
		return err
	}
	_, err = w.exec(ctx, op, qInsertSSOConnection, c.ID, int64(c.Tenant.Kind), c.Tenant.ID, c.Name, c.Enforce, c.NoPersonalAccount,
		mapping, c.CreatedBy, dbTime(c.Created))
	return err
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
	var kind int64
	var id string
	switch err := w.row(ctx, op, qDomainTenant, []any{&kind, &id}, name); {
	case err == nil:
		if (rbac.Ref{Kind: rbac.Kind(kind), ID: id}) != d.Tenant {
			return exists(op + " " + name + ": another tenant has it")
		}
	case !isNoRows(err):
		return err
	}
	if err := w.tenantExists(ctx, op, d.Tenant); err != nil {
		return err
	}
	_, err := w.exec(ctx, op, qPutDomain, name, int64(d.Tenant.Kind), d.Tenant.ID, d.VerifiedBy, dbTime(d.Verified), int64(d.Capture))
	return err
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
