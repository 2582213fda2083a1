package account

import (
	"context"
	"slices"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// CreateProject creates a project in the account (account admin, D7).
func (tx *Tx) CreateProject(ctx context.Context, actor rbac.Holder, acct string, name string) (store.Resource, error) {
	return tx.createResource(ctx, actor, rbac.ProjectCreate, rbac.Account(acct), rbac.KindProject, "proj", name)
}

// CreateInbox creates an inbox in the project (project admin, D7).
func (tx *Tx) CreateInbox(ctx context.Context, actor rbac.Holder, project string, name string) (store.Resource, error) {
	return tx.createResource(ctx, actor, rbac.InboxCreate, rbac.Project(project), rbac.KindInbox, "inbox", name)
}

// CreateDomain creates a sending domain in the account (account admin, D7).
func (tx *Tx) CreateDomain(ctx context.Context, actor rbac.Holder, acct string, name string) (store.Resource, error) {
	return tx.createResource(ctx, actor, rbac.DomainCreate, rbac.Account(acct), rbac.KindDomain, "dom", name)
}

func (tx *Tx) createResource(ctx context.Context, actor rbac.Holder, action rbac.Action, parent rbac.Ref, kind rbac.Kind, prefix, name string) (store.Resource, error) {
	if err := validRef("parent", parent); err != nil {
		return store.Resource{}, err
	}
	name, err := ValidName("name", name)
	if err != nil {
		return store.Resource{}, err
	}
	p, _, err := tx.authorize(ctx, actor, action, parent)
	if err != nil {
		return store.Resource{}, err
	}
	tenant := p.Tenant()
	r := store.Resource{Ref: rbac.Ref{Kind: kind, ID: tx.s.newID(prefix)}, Parent: parent, Account: tenant.ID, Name: name, Created: tx.s.now()}
	if err := tx.w.InsertResource(ctx, r); err != nil {
		return store.Resource{}, err
	}
	return r, tx.Audit(ctx, tenant, actor, kind.String()+".create", r.Ref.String(), "", parent.String())
}

var renameAction = map[rbac.Kind]rbac.Action{
	rbac.KindProject: rbac.ProjectRename, rbac.KindInbox: rbac.InboxRename, rbac.KindDomain: rbac.DomainRename,
}

var deleteAction = map[rbac.Kind]rbac.Action{
	rbac.KindProject: rbac.ProjectDelete, rbac.KindInbox: rbac.InboxDelete, rbac.KindDomain: rbac.DomainDelete,
}

// RenameResource renames a project, inbox or domain (admin there).
func (tx *Tx) RenameResource(ctx context.Context, actor rbac.Holder, ref rbac.Ref, name string) error {
	action, ok := renameAction[ref.Kind]
	if !ok {
		return invalid("resource.kind", "only projects, inboxes and domains are renamed")
	}
	if err := validRef("resource", ref); err != nil {
		return err
	}
	name, err := ValidName("name", name)
	if err != nil {
		return err
	}
	p, _, err := tx.authorize(ctx, actor, action, ref)
	if err != nil {
		return err
	}
	r, err := tx.r.Resource(ctx, ref)
	if err != nil {
		return err
	}
	r.Name = name
	if err := tx.w.UpdateResource(ctx, r); err != nil {
		return err
	}
	return tx.Audit(ctx, p.Tenant(), actor, ref.Kind.String()+".rename", ref.String(), "", "")
}

// DeleteResource deletes a project (with its inboxes), an inbox or a domain, and every
// grant on them (admin there).
func (tx *Tx) DeleteResource(ctx context.Context, actor rbac.Holder, ref rbac.Ref) error {
	action, ok := deleteAction[ref.Kind]
	if !ok {
		return invalid("resource.kind", "only projects, inboxes and domains are deleted")
	}
	if err := validRef("resource", ref); err != nil {
		return err
	}
	p, _, err := tx.authorize(ctx, actor, action, ref)
	if err != nil {
		return err
	}
	if err := tx.w.DeleteResource(ctx, ref); err != nil {
		return err
	}
	return tx.Audit(ctx, p.Tenant(), actor, ref.Kind.String()+".delete", ref.String(), "", "")
}

// Node is a scope of the resource tree with the actor's effective level on it.
type Node struct {
	Ref      rbac.Ref
	Name     string
	Level    rbac.Level
	Children []Node
}

// Resources returns the tree of scopes of the account that the actor administers
// (its effective level there is admin or owner), as the platform's
// permissions/resources: the account itself when the actor administers it, else each
// administered resource with the resources below it.
func (tx *Tx) Resources(ctx context.Context, actor rbac.Holder, acct string) ([]Node, error) {
	if err := ValidID("account", acct); err != nil {
		return nil, err
	}
	ref := rbac.Account(acct)
	if err := tx.checkActor(ctx, actor); err != nil {
		return nil, err
	}
	a, err := tx.r.Account(ctx, ref)
	if err != nil {
		return nil, notFound(ref)
	}
	root, err := tx.tree(ctx, actor, ref, a.Name)
	if err != nil {
		return nil, err
	}
	var out []Node
	var walk func(n Node)
	walk = func(n Node) {
		if n.Level >= rbac.Admin {
			out = append(out, n)
			return
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(root)
	if out == nil {
		if lvl := root.Level; lvl == rbac.None {
			if m, _ := tx.isMember(ctx, actor, ref); !m {
				return nil, notFound(ref)
			}
		}
	}
	return out, nil
}

// tree builds the scope tree under ref with actor's level at every node.
func (tx *Tx) tree(ctx context.Context, actor rbac.Holder, ref rbac.Ref, name string) (Node, error) {
	lvl, err := tx.level(ctx, actor, ref)
	if err != nil {
		return Node{}, err
	}
	n := Node{Ref: ref, Name: name, Level: lvl}
	var kids []store.Resource
	for r, err := range tx.r.Children(ctx, ref) {
		if err != nil {
			return Node{}, err
		}
		kids = append(kids, r)
	}
	slices.SortFunc(kids, func(a, b store.Resource) int { return a.Ref.Compare(b.Ref) })
	for _, k := range kids {
		c, err := tx.tree(ctx, actor, k.Ref, k.Name)
		if err != nil {
			return Node{}, err
		}
		n.Children = append(n.Children, c)
	}
	return n, nil
}
