package account

import (
	"context"
	"slices"

	"github.com/tenantry/tenantry/internal/txn"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// createRule is, for each kind of resource that is created, the action creating it needs
// on its parent ([rbac.RuleCreateChild]) and the prefix of its IDs.
var createRule = map[rbac.Kind]struct {
	action rbac.Action
	parent rbac.Kind
	prefix string
}{
	rbac.KindProject: {rbac.ProjectCreate, rbac.KindAccount, "proj"},
	rbac.KindInbox:   {rbac.InboxCreate, rbac.KindProject, "inbox"},
	rbac.KindDomain:  {rbac.DomainCreate, rbac.KindAccount, "dom"},
}

// CreateResource creates a project or a sending domain in an account, or an inbox in a
// project: creating a child needs admin on its parent ([rbac.RuleCreateChild]).
type CreateResource struct {
	Parent rbac.Ref
	Kind   rbac.Kind // rbac.KindProject, rbac.KindInbox or rbac.KindDomain
	Name   string
}

// Op returns "resource.create", its log name and audit action.
func (CreateResource) Op() string { return "resource.create" }

// Apply runs the operation; call it through Do or Run.
func (o CreateResource) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (store.Resource, error) {
	tx := open(t)
	rule, ok := createRule[o.Kind]
	if !ok {
		return store.Resource{}, invalid("kind", "only projects, inboxes and domains are created")
	}
	if o.Parent.Kind != rule.parent {
		return store.Resource{}, invalid("parent", "a %v is created in a %v", o.Kind, rule.parent)
	}
	if err := validRef("parent", o.Parent); err != nil {
		return store.Resource{}, err
	}
	name, err := ValidName("name", o.Name)
	if err != nil {
		return store.Resource{}, err
	}
	p, _, err := tx.authorize(ctx, actor, rule.action, o.Parent)
	if err != nil {
		return store.Resource{}, err
	}
	tenant := p.Tenant()
	r := store.Resource{Ref: rbac.Ref{Kind: o.Kind, ID: tx.Env.NewID(rule.prefix)}, Parent: o.Parent, Account: tenant.ID, Name: name, Created: tx.Env.Now()}
	if err := tx.w.InsertResource(ctx, r); err != nil {
		return store.Resource{}, err
	}
	return r, tx.audit(ctx, o, tenant, actor, r.Ref.String(), "", o.Parent.String())
}

var renameAction = map[rbac.Kind]rbac.Action{
	rbac.KindProject: rbac.ProjectRename, rbac.KindInbox: rbac.InboxRename, rbac.KindDomain: rbac.DomainRename,
}

var deleteAction = map[rbac.Kind]rbac.Action{
	rbac.KindProject: rbac.ProjectDelete, rbac.KindInbox: rbac.InboxDelete, rbac.KindDomain: rbac.DomainDelete,
}

// RenameResource renames a project, inbox or domain (admin there).
type RenameResource struct {
	Resource rbac.Ref
	Name     string
}

// Op returns "resource.rename", its log name and audit action.
func (RenameResource) Op() string { return "resource.rename" }

// Apply runs the operation; call it through Do or Run.
func (o RenameResource) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	action, ok := renameAction[o.Resource.Kind]
	if !ok {
		return struct{}{}, invalid("resource.kind", "only projects, inboxes and domains are renamed")
	}
	if err := validRef("resource", o.Resource); err != nil {
		return struct{}{}, err
	}
	name, err := ValidName("name", o.Name)
	if err != nil {
		return struct{}{}, err
	}
	p, _, err := tx.authorize(ctx, actor, action, o.Resource)
	if err != nil {
		return struct{}{}, err
	}
	r, err := tx.r.Resource(ctx, o.Resource)
	if err != nil {
		return struct{}{}, err
	}
	r.Name = name
	if err := tx.w.UpdateResource(ctx, r); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, p.Tenant(), actor, o.Resource.String(), "", "")
}

// DeleteResource deletes a project (with its inboxes), an inbox or a domain, and every
// grant on them (admin there).
type DeleteResource struct {
	Resource rbac.Ref
}

// Op returns "resource.delete", its log name and audit action.
func (DeleteResource) Op() string { return "resource.delete" }

// Apply runs the operation; call it through Do or Run.
func (o DeleteResource) Apply(ctx context.Context, t *txn.Tx, actor rbac.Holder) (struct{}, error) {
	tx := open(t)
	action, ok := deleteAction[o.Resource.Kind]
	if !ok {
		return struct{}{}, invalid("resource.kind", "only projects, inboxes and domains are deleted")
	}
	if err := validRef("resource", o.Resource); err != nil {
		return struct{}{}, err
	}
	p, _, err := tx.authorize(ctx, actor, action, o.Resource)
	if err != nil {
		return struct{}{}, err
	}
	if err := tx.w.DeleteResource(ctx, o.Resource); err != nil {
		return struct{}{}, err
	}
	return struct{}{}, tx.audit(ctx, o, p.Tenant(), actor, o.Resource.String(), "", "")
}

// Resource returns a scope below an account (a project, inbox, domain, billing,
// templates or campaigns scope) that the actor can see, with the actor's effective
// level on it.
type Resource struct {
	Resource rbac.Ref
}

// Op returns "resource.get", its log name.
func (Resource) Op() string { return "resource.get" }

// ResourceInfo is a resource with the actor's effective level on it.
type ResourceInfo struct {
	store.Resource
	Level rbac.Level
}

// Answer answers the query; call it through Get or Read.
func (q Resource) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) (ResourceInfo, error) {
	tx := open(t)
	if err := validRef("resource", q.Resource); err != nil {
		return ResourceInfo{}, err
	}
	if q.Resource.Kind.Ownable() {
		return ResourceInfo{}, invalid("resource.kind", "an account or organization is read with Account")
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return ResourceInfo{}, err
	}
	_, lvl, err := tx.visible(ctx, actor, q.Resource)
	if err != nil {
		return ResourceInfo{}, err
	}
	r, err := tx.r.Resource(ctx, q.Resource)
	if err != nil {
		return ResourceInfo{}, err
	}
	return ResourceInfo{Resource: r, Level: lvl}, nil
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
type Resources struct {
	Account rbac.Ref
}

// Op returns "resource.tree", its log name.
func (Resources) Op() string { return "resource.tree" }

// Answer answers the query; call it through Get or Read.
func (q Resources) Answer(ctx context.Context, t *txn.Tx, actor rbac.Holder) ([]Node, error) {
	tx := open(t)
	if q.Account.Kind != rbac.KindAccount {
		return nil, invalid("account", "not an account")
	}
	if err := ValidID("account", q.Account.ID); err != nil {
		return nil, err
	}
	if err := tx.checkActor(ctx, actor); err != nil {
		return nil, err
	}
	if _, _, err := tx.visible(ctx, actor, q.Account); err != nil {
		return nil, err
	}
	a, err := tx.r.Account(ctx, q.Account)
	if err != nil {
		return nil, err
	}
	root, err := tx.tree(ctx, actor, q.Account, a.Name)
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
	return out, nil
}

// tree builds the scope tree under ref with actor's level at every node.
func (tx *work) tree(ctx context.Context, actor rbac.Holder, ref rbac.Ref, name string) (Node, error) {
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
