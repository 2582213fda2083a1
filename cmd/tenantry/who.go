package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

var whoCanCmd = &command{
	name: "who-can", args: "ACTION SCOPE", nargs: 2,
	about: `Lists every holder allowed to do ACTION on SCOPE, with the grant that allows it:
the users who are members of the scope's account and of its organization, the teams,
tokens and pending invitations made there, and any other holder of a grant on the
scope's path — each checked as the service checks it (account.Service.Check).
Expired and reset tokens, and tokens whose creator lost the access, are not allowed.

Exit status 0 (even when nobody is allowed), 3 when the scope does not exist.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error { return runWhoCan },
}

var whatCanCmd = &command{
	name: "what-can", args: "HOLDER SCOPE", nargs: 2,
	about: `Lists what HOLDER may do on SCOPE and on every scope below it: for an account, the
account and everything in it; for an organization, its sub-accounts too. Every action
that applies to a scope's kind is checked (account.Service.Check); the allowed ones are
listed with the grant that allows them, and with --all the refused ones too, with
the rule that refuses them. SCOPE may be a bare account or organization ID.

Exit status 0, 3 when the holder or the scope does not exist.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error {
		all := fs.Bool("all", false, "list the refused actions too, with their rule")
		return func(e *env, args []string) error { return runWhatCan(e, args, *all) }
	},
}

// candidate is a holder that may have access somewhere in some tenants.
type candidate struct {
	holder   rbac.Holder
	name     string     // a user's or invitation's email, a team's or token's name
	memberOf []rbac.Ref // the tenants it belongs to, or was made in
}

// candidates collects, in one read, the users who are members of the tenants, and the
// tokens, invitations (and with teams, the teams) made in them, ordered by kind and ID.
func candidates(ctx context.Context, r store.Reader, tenants []rbac.Ref, teams bool) ([]*candidate, error) {
	byHolder := map[rbac.Holder]*candidate{}
	var out []*candidate
	add := func(h rbac.Holder, name string, tenant rbac.Ref) {
		c := byHolder[h]
		if c == nil {
			c = &candidate{holder: h, name: name}
			byHolder[h] = c
			out = append(out, c)
		}
		if !tenant.IsZero() && !slices.Contains(c.memberOf, tenant) {
			c.memberOf = append(c.memberOf, tenant)
		}
	}
	for _, t := range tenants {
		after := ""
		for {
			page, err := r.Members(ctx, t, after, 500)
			if err != nil {
				return nil, err
			}
			for _, m := range page {
				u, err := r.User(ctx, m.User)
				if err != nil {
					return nil, err
				}
				add(rbac.User(m.User), u.Email, t)
			}
			if len(page) < 500 {
				break
			}
			after = page[len(page)-1].User
		}
		var invs []store.Invitation
		for inv, err := range r.Invitations(ctx, t) {
			if err != nil {
				return nil, err
			}
			invs = append(invs, inv)
		}
		for _, inv := range invs {
			add(rbac.Invite(inv.ID), inv.Email, t)
		}
		var toks []store.Token
		for tok, err := range r.Tokens(ctx, t) {
			if err != nil {
				return nil, err
			}
			toks = append(toks, tok)
		}
		for _, tok := range toks {
			add(rbac.Token(tok.ID), tok.Name, t)
		}
		if teams {
			var ts []store.Team
			for tm, err := range r.Teams(ctx, t) {
				if err != nil {
					return nil, err
				}
				ts = append(ts, tm)
			}
			for _, tm := range ts {
				add(rbac.Team(tm.ID), tm.Name, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b *candidate) int { return a.holder.Compare(b.holder) })
	return out, nil
}

// tenantsOf returns the accounts and organizations on a path, root first.
func tenantsOf(p rbac.Path) []rbac.Ref {
	var ts []rbac.Ref
	for _, r := range p {
		if r.Kind.Ownable() {
			ts = append(ts, r)
		}
	}
	return ts
}

// whoRow is a line of who-can.
type whoRow struct {
	Holder   string     `json:"holder"`
	Name     string     `json:"name"`
	MemberOf []string   `json:"member_of"`
	Level    string     `json:"level"`
	Grant    *grantJSON `json:"grant"`
	Rule     string     `json:"rule"`
	Reason   string     `json:"reason"`
}

func refStrings(rs []rbac.Ref) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

func runWhoCan(e *env, args []string) error {
	action, err := parseAction(args[0])
	if err != nil {
		return err
	}
	scope, err := parseScope(args[1])
	if err != nil {
		return err
	}
	var cands []*candidate
	err = e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		path, err := r.Path(ctx, scope, nil)
		if errors.Is(err, store.ErrNotFound) {
			return notFound(scope)
		}
		if err != nil {
			return err
		}
		if cands, err = candidates(ctx, r, tenantsOf(path), true); err != nil {
			return err
		}
		// Any other holder of a grant on the path: none should be outside the lists
		// above, but an auditor's list must not rely on it.
		known := map[rbac.Holder]bool{}
		for _, c := range cands {
			known[c.holder] = true
		}
		for _, s := range path {
			var gs []store.Grant
			for g, err := range r.ScopeGrants(ctx, s, false) {
				if err != nil {
					return err
				}
				gs = append(gs, g)
			}
			for _, g := range gs {
				if known[g.Holder] {
					continue
				}
				known[g.Holder] = true
				name, err := holderName(ctx, r, g.Holder)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				cands = append(cands, &candidate{holder: g.Holder, name: name})
			}
		}
		slices.SortFunc(cands, func(a, b *candidate) int { return a.holder.Compare(b.holder) })
		return nil
	})
	if err != nil {
		return err
	}
	rows := []whoRow{}
	for _, c := range cands {
		d, err := e.svc.Check(e.ctx, c.holder, action, scope)
		if err != nil {
			return scopeErr(scope, err)
		}
		if !d.Allowed {
			continue
		}
		rows = append(rows, whoRow{
			Holder: c.holder.String(), Name: c.name, MemberOf: refStrings(c.memberOf),
			Level: d.Level.String(), Grant: grantOf(d.Grant), Rule: string(d.Rule), Reason: d.Reason(),
		})
	}
	if e.opt.json {
		return writeJSON(e.stdout, rows)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintf(e.stdout, "nobody may do %s on %s\n", action, scope)
		return err
	}
	tw := table(e.stdout)
	fmt.Fprintln(tw, "HOLDER\tNAME\tLEVEL\tGRANT\tRULE")
	for _, r := range rows {
		g := "-"
		if r.Grant != nil {
			g = r.Grant.Holder + " " + r.Grant.Level + " on " + r.Grant.Scope
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Holder, r.Name, r.Level, g, r.Rule)
	}
	return tw.Flush()
}

// scopeInfo is a scope of a tree, with its name.
type scopeInfo struct {
	ref  rbac.Ref
	name string
}

// tree returns root and every scope below it, depth first, children by kind and ID;
// for an organization, its sub-accounts with their trees.
func tree(ctx context.Context, r store.Reader, root rbac.Ref) ([]scopeInfo, error) {
	name, err := scopeName(ctx, r, root)
	if err != nil {
		return nil, err
	}
	out := []scopeInfo{{root, name}}
	var walk func(parent rbac.Ref) error
	walk = func(parent rbac.Ref) error {
		var kids []store.Resource
		for c, err := range r.Children(ctx, parent) {
			if err != nil {
				return err
			}
			kids = append(kids, c)
		}
		for _, c := range kids {
			out = append(out, scopeInfo{c.Ref, c.Name})
			if err := walk(c.Ref); err != nil {
				return err
			}
		}
		if parent.Kind == rbac.KindOrganization {
			var subs []store.Account
			for a, err := range r.SubAccounts(ctx, parent.ID) {
				if err != nil {
					return err
				}
				subs = append(subs, a)
			}
			for _, a := range subs {
				out = append(out, scopeInfo{a.Ref, a.Name})
				if err := walk(a.Ref); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return out, walk(root)
}

// whatRow is a line of what-can.
type whatRow struct {
	Scope     string     `json:"scope"`
	ScopeName string     `json:"scope_name"`
	Action    string     `json:"action"`
	Allowed   bool       `json:"allowed"`
	Need      string     `json:"need"`
	Level     string     `json:"level"`
	Grant     *grantJSON `json:"grant"`
	Rule      string     `json:"rule"`
	RuleText  string     `json:"rule_text"`
}

func runWhatCan(e *env, args []string, all bool) error {
	holder, err := parseHolder(args[0])
	if err != nil {
		return err
	}
	root, err := parseScope(args[1])
	if err != nil {
		if root, err = resolveTenant(e.ctx, e.st, args[1]); err != nil {
			return err
		}
	}
	var scopes []scopeInfo
	err = e.st.View(e.ctx, func(ctx context.Context, r store.Reader) error {
		if _, err := holderName(ctx, r, holder); err != nil {
			return err
		}
		scopes, err = tree(ctx, r, root)
		return err
	})
	if err != nil {
		return err
	}
	rows := []whatRow{}
	for _, s := range scopes {
		for _, a := range rbac.Actions() {
			if !a.Kinds().Has(s.ref.Kind) {
				continue
			}
			d, err := e.svc.Check(e.ctx, holder, a, s.ref)
			if err != nil {
				return scopeErr(s.ref, err)
			}
			if !d.Allowed && !all {
				continue
			}
			rows = append(rows, whatRow{
				Scope: s.ref.String(), ScopeName: s.name, Action: a.String(), Allowed: d.Allowed,
				Need: d.Need.String(), Level: d.Level.String(), Grant: grantOf(d.Grant),
				Rule: string(d.Rule), RuleText: d.Rule.Text(),
			})
		}
	}
	if e.opt.json {
		return writeJSON(e.stdout, rows)
	}
	if len(rows) == 0 {
		_, err := fmt.Fprintf(e.stdout, "%s may do nothing on %s or below it\n", holder, root)
		return err
	}
	tw := table(e.stdout)
	fmt.Fprintln(tw, "SCOPE\tNAME\tACTION\tDECISION\tNEED\tLEVEL\tGRANT\tRULE")
	for _, r := range rows {
		decision, g := "allowed", "-"
		if !r.Allowed {
			decision = "denied"
		}
		if r.Grant != nil {
			g = r.Grant.Holder + " " + r.Grant.Level + " on " + r.Grant.Scope
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scope, r.ScopeName, r.Action, decision, r.Need, r.Level, g, r.Rule)
	}
	return tw.Flush()
}
