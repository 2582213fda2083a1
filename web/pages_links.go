package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// linkView is an invite link as User Management lists it.
type linkView struct {
	ID       string
	Level    string
	Scopes   []string
	Joined   int
	Disabled bool
	Created  string
	Path     string // the link's forms: Path+"/disable", "/rotate", "/delete"
}

// linksView is the invite links of a tenant, for who may manage them.
type linksView struct {
	List []linkView
	More bool // more links than the page lists
}

// links returns the tenant's invite links, or nil when the user may not manage them.
func (p *pages) links(ctx context.Context, c *call, t *tenantView, names scopeNames) (*linksView, error) {
	page, err := account.Get(ctx, p.svc, c.me, account.InviteLinks{Tenant: t.Ref})
	if refusedOrHidden(err) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	v := &linksView{List: []linkView{}, More: page.Next != ""}
	for _, l := range page.Items {
		lv := linkView{
			ID: l.ID, Level: l.Level.String(), Joined: l.Joined, Disabled: l.Disabled,
			Created: c.date(l.Created), Path: t.Path + "/links/" + url.PathEscape(l.ID),
		}
		for _, s := range l.Scopes {
			lv.Scopes = append(lv.Scopes, names.of(s))
		}
		v.List = append(v.List, lv)
	}
	return v, nil
}

// joinLink is the link that joins through an invite link.
func (p *pages) joinLink(l account.NewInviteLink) string {
	if p.opts.InviteLinkURL != nil {
		return p.opts.InviteLinkURL(l)
	}
	return p.prefix + "/join/" + url.PathEscape(l.ID) + "?code=" + url.QueryEscape(l.Secret)
}

// linkID reads the invite link of the path.
func linkID(r *http.Request) (string, error) {
	id := r.PathValue("link")
	if account.ValidID("link", id) != nil {
		return "", account.ErrNotFound
	}
	return id, nil
}

func (p *pages) createLink(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	l, err := rbac.ParseLevel(r.PostForm.Get("level"))
	if err != nil {
		return back, flash{}, Invalid("level", "not a level")
	}
	op := account.CreateInviteLink{Tenant: t, Level: l}
	for _, s := range r.PostForm["scope"] {
		ref, err := parseScope("scope", s)
		if err != nil {
			return back, flash{}, err
		}
		if !slices.Contains(op.Scopes, ref) {
			op.Scopes = append(op.Scopes, ref)
		}
	}
	if len(op.Scopes) == 0 {
		return back, flash{}, Invalid("scope", "choose where the link gives access")
	}
	slices.SortFunc(op.Scopes, rbac.Ref.Compare)
	n, err := account.Do(r.Context(), p.svc, c.me, op)
	if err != nil {
		return back, flash{}, err
	}
	return back, flash{
		Text:   "Invite link created: whoever opens it signed in joins as " + n.Level.String() + ". Copy it now: it is shown only once.",
		Secret: n.Secret, SecretLabel: "Link code", Link: p.joinLink(n),
	}, nil
}

func (p *pages) disableLink(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	id, err := linkID(r)
	if err != nil {
		return back, flash{}, err
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.DisableInviteLink{Tenant: t, Link: id}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Invite link disabled: nobody joins through it. Rotate it to enable it again with a new link."}, nil
}

func (p *pages) rotateLink(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	id, err := linkID(r)
	if err != nil {
		return back, flash{}, err
	}
	n, err := account.Do(r.Context(), p.svc, c.me, account.RotateInviteLink{Tenant: t, Link: id})
	if err != nil {
		return back, flash{}, err
	}
	return back, flash{
		Text:   "Invite link rotated: the earlier link no longer works. Copy the new one now: it is shown only once.",
		Secret: n.Secret, SecretLabel: "Link code", Link: p.joinLink(n),
	}, nil
}

func (p *pages) deleteLink(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.tenantPath(t) + "/users"
	id, err := linkID(r)
	if err != nil {
		return back, flash{}, err
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, account.DeleteInviteLink{Tenant: t, Link: id}); err != nil {
		return back, flash{}, err
	}
	return back, flash{Text: "Invite link deleted; who joined through it stays."}, nil
}

// joinData is the page that joins through an invite link.
type joinData struct {
	ID, Code string
}

func (p *pages) joinPage(r *http.Request, c *call) (string, any, error) {
	id, err := linkID(r)
	if err != nil {
		return "", nil, err
	}
	return "join", &pageData{Title: "Join through an invite link", Page: &joinData{ID: id, Code: r.URL.Query().Get("code")}}, nil
}

func (p *pages) join(r *http.Request, c *call) (string, flash, error) {
	id, err := linkID(r)
	if err != nil {
		return p.profileBack("accounts"), flash{}, err
	}
	code := r.PostForm.Get("code")
	m, err := account.Do(r.Context(), p.svc, c.me, account.JoinByLink{Link: id, Secret: code})
	if err != nil {
		// Back to the link's page, which shows the refusal and lets them try again.
		return p.prefix + "/join/" + url.PathEscape(id) + "?" + url.Values{"code": {code}}.Encode(), flash{}, err
	}
	name := m.Tenant.String()
	if a, err := account.Get(r.Context(), p.svc, c.me, account.Account{Account: m.Tenant}); err == nil {
		name = a.Name
	}
	return p.profileBack("accounts"), flash{Text: "You joined " + name + ": it is in your list."}, nil
}
