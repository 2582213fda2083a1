package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

var checkCmd = &command{
	name: "check", args: "ACTION HOLDER SCOPE", nargs: 3,
	about: `Decides whether HOLDER may do ACTION on SCOPE, as the service's every request does
(account.Service.Check), and prints the decision with its reason: the grant that
allows it, or the rule that refuses it. A token acts within its own grants, capped by
what its creator holds now, and as nothing once expired or reset.

Exit status 0 when allowed, 1 when denied, 3 when the holder or the scope does not exist.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error { return runCheck },
}

var explainCmd = &command{
	name: "explain", args: "ACTION HOLDER SCOPE", nargs: 3,
	about: `Explains the decision on HOLDER doing ACTION on SCOPE (account.Service.Explain): the
decision and its reason, the scope's path from its root, and every grant weighed —
the holder's own, its teams', and the owner's on an owned account — the deciding one
marked. For a token, the grants are the token's own; its creator's access caps them.

Exit status 0 when allowed, 1 when denied, 3 when the holder or the scope does not exist.
`,
	flags: func(fs *flag.FlagSet) func(*env, []string) error { return runExplain },
}

// decisionArgs parses ACTION HOLDER SCOPE and checks that the holder exists.
func decisionArgs(e *env, args []string) (rbac.Action, rbac.Holder, rbac.Ref, error) {
	action, err := parseAction(args[0])
	if err != nil {
		return 0, rbac.Holder{}, rbac.Ref{}, err
	}
	holder, err := parseHolder(args[1])
	if err != nil {
		return 0, rbac.Holder{}, rbac.Ref{}, err
	}
	scope, err := parseScope(args[2])
	if err != nil {
		return 0, rbac.Holder{}, rbac.Ref{}, err
	}
	return action, holder, scope, checkHolder(e.ctx, e.st, holder)
}

// scopeErr names the scope in a not-found error of Check or Explain.
func scopeErr(scope rbac.Ref, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(scope)
	}
	return err
}

func runCheck(e *env, args []string) error {
	action, holder, scope, err := decisionArgs(e, args)
	if err != nil {
		return err
	}
	d, err := e.svc.Check(e.ctx, holder, action, scope)
	if err != nil {
		return scopeErr(scope, err)
	}
	if e.opt.json {
		err = writeJSON(e.stdout, decisionOf(holder, d))
	} else {
		_, err = fmt.Fprintln(e.stdout, d.Reason())
	}
	if err == nil && !d.Allowed {
		err = errDenied
	}
	return err
}

// explanationJSON is explain's JSON output.
type explanationJSON struct {
	decisionJSON
	Path   []string           `json:"path"`
	Grants []weighedGrantJSON `json:"grants"`
}

type weighedGrantJSON struct {
	grantJSON
	Deciding bool `json:"deciding"` // the grant the decision names
}

func runExplain(e *env, args []string) error {
	action, holder, scope, err := decisionArgs(e, args)
	if err != nil {
		return err
	}
	x, err := e.svc.Explain(e.ctx, holder, action, scope)
	if err != nil {
		return scopeErr(scope, err)
	}
	path := make([]string, len(x.Path))
	for i, r := range x.Path {
		path[i] = r.String()
	}
	if e.opt.json {
		j := explanationJSON{decisionJSON: decisionOf(holder, x.Decision), Path: path, Grants: []weighedGrantJSON{}}
		for _, g := range x.Grants {
			j.Grants = append(j.Grants, weighedGrantJSON{grantJSON: *grantOf(g), Deciding: g == x.Grant})
		}
		err = writeJSON(e.stdout, j)
	} else {
		err = printExplanation(e, holder, x.Decision, path, x.Grants)
	}
	if err == nil && !x.Allowed {
		err = errDenied
	}
	return err
}

func printExplanation(e *env, holder rbac.Holder, d rbac.Decision, path []string, grants []rbac.Grant) error {
	tw := table(e.stdout)
	fmt.Fprintln(tw, d.Reason())
	fmt.Fprintln(tw)
	fmt.Fprintf(tw, "holder:\t%s\n", holder)
	fmt.Fprintf(tw, "action:\t%s (needs %s on %s)\n", d.Action, d.Need, scopeKinds(d.Action))
	fmt.Fprintf(tw, "path:\t%s\n", strings.Join(path, " > "))
	fmt.Fprintf(tw, "level:\t%s\n", d.Level)
	fmt.Fprintf(tw, "rule:\t%s: %s\n", d.Rule, d.Rule.Text())
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(grants) == 0 {
		_, err := fmt.Fprintln(e.stdout, "\ngrants weighed: none reaches the scope")
		return err
	}
	fmt.Fprintln(e.stdout, "\ngrants weighed:")
	tw = table(e.stdout)
	fmt.Fprintln(tw, "HOLDER\tLEVEL\tON\tCONTENT\tDECIDING")
	for _, g := range grants {
		deciding := ""
		if g == d.Grant {
			deciding = "yes"
		}
		content := ""
		if g.ViewContent {
			content = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Holder, g.Level, g.Scope, content, deciding)
	}
	return tw.Flush()
}

// scopeKinds lists the kinds an action applies to: "project" or "organization, account".
func scopeKinds(a rbac.Action) string {
	var ks []string
	for _, k := range a.Kinds().Kinds() {
		ks = append(ks, k.String())
	}
	return strings.Join(ks, ", ")
}
