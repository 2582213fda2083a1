package main

import (
	"context"
	"errors"
	"strings"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// parseAction parses an action of the policy table.
func parseAction(s string) (rbac.Action, error) {
	a, err := rbac.ParseAction(s)
	if err != nil {
		return 0, usagef("unknown action %q ('tenantry policy' lists them)", s)
	}
	return a, nil
}

// parseHolder parses "user:ID", "team:ID", "token:ID" or "invite:ID" ("invitation:ID"
// too). IDs may hold colons: the kind ends at the first one.
func parseHolder(s string) (rbac.Holder, error) {
	kind, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || id == "" {
		return rbac.Holder{}, usagef("holder %q: want user:ID, team:ID, token:ID or invite:ID", s)
	}
	switch strings.ToLower(kind) {
	case "user":
		return rbac.User(id), nil
	case "team":
		return rbac.Team(id), nil
	case "token":
		return rbac.Token(id), nil
	case "invite", "invitation":
		return rbac.Invite(id), nil
	}
	return rbac.Holder{}, usagef("holder %q: unknown kind %q (want user, team, token or invite)", s, kind)
}

// parseKind parses a scope kind as rbac.ParseKind does, and "org" for organization.
func parseKind(s string) (rbac.Kind, error) {
	if strings.EqualFold(s, "org") {
		return rbac.KindOrganization, nil
	}
	return rbac.ParseKind(s)
}

// parseScope parses "kind:ID": account:ID, project:ID, inbox:ID...
func parseScope(s string) (rbac.Ref, error) {
	kind, id, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok || id == "" {
		return rbac.Ref{}, usagef("scope %q: want KIND:ID, such as account:ID or inbox:ID", s)
	}
	k, err := parseKind(kind)
	if err != nil {
		return rbac.Ref{}, usagef("scope %q: unknown kind %q", s, kind)
	}
	return rbac.Ref{Kind: k, ID: id}, nil
}

// resolveTenant parses an account or organization: "account:ID", "organization:ID",
// "org:ID", or a bare ID, which names the account with that ID, else the organization
// (an account when neither exists, so that the caller reports it not found).
func resolveTenant(ctx context.Context, st store.Store, s string) (rbac.Ref, error) {
	if kind, _, ok := strings.Cut(s, ":"); ok {
		if _, err := parseKind(kind); err == nil {
			ref, err := parseScope(s)
			if err != nil {
				return ref, err
			}
			if !ref.Kind.Ownable() {
				return ref, usagef("%s is not an account or organization", ref)
			}
			return ref, nil
		}
	}
	id := strings.TrimSpace(s)
	if id == "" {
		return rbac.Ref{}, usagef("want an account or organization, got %q", s)
	}
	ref := rbac.Account(id)
	err := st.View(ctx, func(ctx context.Context, r store.Reader) error {
		if _, err := r.Account(ctx, ref); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if _, err := r.Account(ctx, rbac.Org(id)); err == nil {
			ref = rbac.Org(id)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return nil
	})
	return ref, err
}

// holderName returns a holder's email (users and invitations) or name (teams and
// tokens), and a notFoundError when it does not exist.
func holderName(ctx context.Context, r store.Reader, h rbac.Holder) (string, error) {
	var (
		name string
		err  error
	)
	switch h.Kind {
	case rbac.HolderUser:
		var u store.User
		u, err = r.User(ctx, h.ID)
		name = u.Email
	case rbac.HolderTeam:
		var t store.Team
		t, err = r.Team(ctx, h.ID)
		name = t.Name
	case rbac.HolderToken:
		var t store.Token
		t, err = r.Token(ctx, h.ID)
		name = t.Name
	case rbac.HolderInvite:
		var inv store.Invitation
		inv, err = r.Invitation(ctx, h.ID)
		name = inv.Email
	default:
		return "", notFound(h)
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", notFound(h)
	}
	return name, err
}

// scopeName returns the name of a scope, and a notFoundError when it does not exist.
func scopeName(ctx context.Context, r store.Reader, ref rbac.Ref) (string, error) {
	var (
		name string
		err  error
	)
	if ref.Kind.Ownable() {
		var a store.Account
		a, err = r.Account(ctx, ref)
		name = a.Name
	} else {
		var res store.Resource
		res, err = r.Resource(ctx, ref)
		name = res.Name
	}
	if errors.Is(err, store.ErrNotFound) {
		return "", notFound(ref)
	}
	return name, err
}

// checkHolder reports a notFoundError when h does not exist.
func checkHolder(ctx context.Context, st store.Store, h rbac.Holder) error {
	return st.View(ctx, func(ctx context.Context, r store.Reader) error {
		_, err := holderName(ctx, r, h)
		return err
	})
}
