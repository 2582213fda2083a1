// Command quickstart is Tenantry's first example: on the in-memory store it builds
// one account with a project, two inboxes and a sending domain, invites three
// people, and then tries what the platform's rules allow and refuse, printing for
// every step whether it was allowed and which rule (D1…D31 of POLICY.md's rule book) decided.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store/memstore"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// sequentialIDs returns an ID generator that numbers records in creation order
// ("user-1", "acct-2"...), so that the output is the same on every run.
func sequentialIDs() func(kind string) string {
	n := 0
	return func(kind string) string {
		n++
		return kind + "-" + strconv.Itoa(n)
	}
}

// demo holds the state of the walk-through and prints its steps.
type demo struct {
	ctx   context.Context
	svc   *account.Service
	out   *tabwriter.Writer
	names map[string]string // user ID → first name, to print holders readably
	cited []rbac.Rule       // the rules cited so far, for the legend
}

// run builds the example account and walks through the rules, writing to w.
func run(w io.Writer) error {
	ctx := context.Background()
	svc := account.New(memstore.New(), account.Options{NewID: sequentialIDs()})
	d := &demo{
		ctx:   ctx,
		svc:   svc,
		out:   tabwriter.NewWriter(w, 0, 0, 2, ' ', 0),
		names: map[string]string{},
	}
	if err := d.walk(); err != nil {
		d.out.Flush()
		return err
	}
	return d.out.Flush()
}

func (d *demo) walk() error {
	ctx, svc := d.ctx, d.svc
	fmt.Fprintln(d.out, "Tenantry quick start: one account, four people, the rules at work.")
	fmt.Fprintln(d.out)

	// The owner registers: a profile and a free account she owns (D25).
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"})
	if err != nil {
		return err
	}
	ann, acct := rbac.User(reg.User.ID), reg.Account
	d.names[reg.User.ID] = "ann"
	if _, err := account.Do(ctx, svc, ann, account.RenameAccount{Account: acct.Ref, Name: "Acme"}); err != nil {
		return err
	}
	// Inviting people needs a plan with user management (D21).
	if _, err := account.Do(ctx, svc, ann, account.SetPlan{Account: acct.Ref, Plan: "team"}); err != nil {
		return err
	}
	plan, _ := svc.Plan("team")
	d.setup("ann@acme.test registers; her account %q is on plan %q (%d seats)", "Acme", plan.Name, plan.Seats)

	web, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: acct.Ref, Kind: rbac.KindProject, Name: "Web"})
	if err != nil {
		return err
	}
	staging, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: web.Ref, Kind: rbac.KindInbox, Name: "Staging"})
	if err != nil {
		return err
	}
	production, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: web.Ref, Kind: rbac.KindInbox, Name: "Production"})
	if err != nil {
		return err
	}
	if _, err := account.Do(ctx, svc, ann, account.CreateResource{Parent: acct.Ref, Kind: rbac.KindDomain, Name: "mail.acme.test"}); err != nil {
		return err
	}
	d.setup("project Web with inboxes Staging and Production; domain mail.acme.test; billing")

	join := func(name string, scope rbac.Ref, level rbac.Level, what string) (rbac.Holder, error) {
		email := name + "@acme.test"
		reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: email, Name: strings.ToUpper(name[:1]) + name[1:]})
		if err != nil {
			return rbac.Holder{}, err
		}
		user := rbac.User(reg.User.ID)
		inv, err := account.Do(ctx, svc, ann, account.Invite{
			Tenant: acct.Ref,
			Email:  email,
			Grants: []account.GrantSpec{{Scope: scope, Level: level}},
		})
		if err != nil {
			return rbac.Holder{}, err
		}
		if _, err := account.Do(ctx, svc, user, account.AcceptInvitation{Invitation: rbac.Invite(inv.ID), Secret: inv.Secret}); err != nil {
			return rbac.Holder{}, err
		}
		d.names[user.ID] = name
		d.setup("%s is invited and accepts: %s", email, what)
		return user, nil
	}
	carol, err := join("carol", acct.Ref, rbac.Admin, "account admin")
	if err != nil {
		return err
	}
	dave, err := join("dave", staging.Ref, rbac.Admin, "admin of inbox Staging")
	if err != nil {
		return err
	}
	erin, err := join("erin", web.Ref, rbac.Viewer, "viewer of project Web")
	if err != nil {
		return err
	}
	fmt.Fprintln(d.out)

	// Checks: what a service asks on every request (D1, D5, D7, C1).
	if err := d.check("erin (project viewer) reads inbox Production", erin, rbac.InboxRead, production.Ref); err != nil {
		return err
	}
	if err := d.check("erin (project viewer) renames inbox Production", erin, rbac.InboxRename, production.Ref); err != nil {
		return err
	}
	if err := d.check("dave (inbox admin) resets Staging's credentials", dave, rbac.InboxCredentialsReset, staging.Ref); err != nil {
		return err
	}
	if err := d.check("dave (inbox admin) creates an inbox in Web", dave, rbac.InboxCreate, web.Ref); err != nil {
		return err
	}
	if err := d.check("carol (account admin) manages billing", carol, rbac.BillingManage, rbac.Billing(acct.Ref.ID)); err != nil {
		return err
	}

	// D14 and D20: removed from the project, erin stays in the account and on the seats.
	if err := d.seats("seats in use before erin leaves project Web", ann, acct.Ref); err != nil {
		return err
	}
	if err := d.try("carol removes erin from project Web", rbac.RuleRemoveResource,
		errOf(account.Do(ctx, svc, carol, account.RemoveFromResource{Scope: web.Ref, Member: erin}))); err != nil {
		return err
	}
	if err := d.check("erin reads inbox Production now", erin, rbac.InboxRead, production.Ref); err != nil {
		return err
	}
	if err := d.seats("seats in use after: erin is still a member", ann, acct.Ref); err != nil {
		return err
	}

	// D18: who sees whom.
	if err := d.members("ann (owner) lists the members", ann, acct.Ref); err != nil {
		return err
	}
	if err := d.members("dave (admin of Staging) lists the members", dave, acct.Ref); err != nil {
		return err
	}

	// The rules on changing access.
	if err := d.try("carol (admin) transfers the ownership to herself", "",
		errOf(account.Do(ctx, svc, carol, account.TransferOwnership{Account: acct.Ref, To: carol}))); err != nil {
		return err
	}
	if err := d.try("carol lowers her own access to viewer", "",
		errOf(account.Do(ctx, svc, carol, account.SetPermissions{
			Tenant: acct.Ref, Holder: carol, Changes: []account.PermissionChange{{Scope: acct.Ref, Level: rbac.Viewer}},
		}))); err != nil {
		return err
	}
	if err := d.try("dave makes himself admin of project Web", "",
		errOf(account.Do(ctx, svc, dave, account.SetPermissions{
			Tenant: acct.Ref, Holder: dave, Changes: []account.PermissionChange{{Scope: web.Ref, Level: rbac.Admin}},
		}))); err != nil {
		return err
	}
	if err := d.try("carol removes ann, the owner, from the account", "",
		errOf(account.Do(ctx, svc, carol, account.RemoveMember{Tenant: acct.Ref, Member: ann}))); err != nil {
		return err
	}
	if err := d.try("ann (owner) leaves the account", "",
		errOf(account.Do(ctx, svc, ann, account.Leave{Account: acct.Ref}))); err != nil {
		return err
	}
	if err := d.try("carol removes erin from the account", rbac.RuleRemoveMember,
		errOf(account.Do(ctx, svc, carol, account.RemoveMember{Tenant: acct.Ref, Member: erin}))); err != nil {
		return err
	}
	if err := d.seats("seats in use after erin's removal", ann, acct.Ref); err != nil {
		return err
	}

	// D30: deleting a profile deletes the accounts it owns.
	// Deleting asks for the address, as a person types it to confirm.
	if err := d.try("ann deletes her profile", rbac.RuleDeleteProfile,
		errOf(account.Do(ctx, svc, ann, profile.Delete{Confirm: "ann@acme.test"}))); err != nil {
		return err
	}
	_, err = account.Get(ctx, svc, carol, account.Account{Account: acct.Ref})
	switch {
	case errors.Is(err, account.ErrNotFound):
		d.line("gone", rbac.RuleDeleteProfile, "carol opens account Acme", "not found: the account went with its owner's profile")
	case err != nil:
		return err
	default:
		d.line("FOUND", rbac.RuleDeleteProfile, "carol opens account Acme", "the account outlived its owner's profile")
	}
	var names []string
	for m, err := range account.All(ctx, svc, carol, account.MyAccounts{}) {
		if err != nil {
			return err
		}
		names = append(names, strconv.Quote(m.Account.Name))
	}
	d.line("ok", rbac.RuleMyAccounts, "carol's accounts now", strings.Join(names, ", ")+" (users stay, D17)")

	d.legend()
	return nil
}

// setup prints a line of the setup.
func (d *demo) setup(format string, args ...any) {
	fmt.Fprintf(d.out, "setup\t\t%s\n", fmt.Sprintf(format, args...))
}

// line prints one step: its outcome, the rule, what was attempted, and why.
func (d *demo) line(outcome string, rule rbac.Rule, what, why string) {
	if rule != "" && !slices.Contains(d.cited, rule) {
		d.cited = append(d.cited, rule)
	}
	fmt.Fprintf(d.out, "%s\t%s\t%s\n", outcome, rule, what)
	if why != "" {
		fmt.Fprintf(d.out, "\t\t  %s\n", why)
	}
}

// check asks the service whether holder may do action on scope, and prints the
// decision.
func (d *demo) check(what string, holder rbac.Holder, action rbac.Action, scope rbac.Ref) error {
	dec, err := d.svc.Check(d.ctx, holder, action, scope)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	outcome := "allowed"
	if !dec.Allowed {
		outcome = "refused"
	}
	d.line(outcome, dec.Rule, what, reason(dec))
	return nil
}

// errOf returns the error of an operation's result, for try.
func errOf[R any](_ R, err error) error { return err }

// try prints the outcome of an operation: done (citing rule), refused with the
// decision of its *rbac.DeniedError, or not found. Other errors stop the walk.
func (d *demo) try(what string, rule rbac.Rule, err error) error {
	var denied *rbac.DeniedError
	switch {
	case err == nil:
		d.line("done", rule, what, "")
	case errors.As(err, &denied):
		d.line("refused", denied.Decision.Rule, what, reason(denied.Decision))
	case errors.Is(err, account.ErrNotFound):
		d.line("refused", rule, what, "not found: "+err.Error())
	default:
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// seats prints the seats in use in the account.
func (d *demo) seats(what string, actor rbac.Holder, acct rbac.Ref) error {
	n, err := account.Get(d.ctx, d.svc, actor, account.Seats{Tenant: acct})
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	d.line("ok", rbac.RuleSeats, what, fmt.Sprintf("%d of %d seats", n.Used, n.Limit))
	return nil
}

// members prints who actor sees in the account's member list.
func (d *demo) members(what string, actor rbac.Holder, acct rbac.Ref) error {
	// The listing is paged; All reads every page.
	var who []string
	for m, err := range account.All(d.ctx, d.svc, actor, account.Members{Tenant: acct}) {
		if err != nil {
			return d.try(what, rbac.RuleVisibility, err)
		}
		who = append(who, d.name(m.Holder))
	}
	d.line("ok", rbac.RuleVisibility, what, fmt.Sprintf("sees %d people: %s", len(who), strings.Join(who, ", ")))
	return nil
}

// name returns a holder's first name, or its ID when it has none.
func (d *demo) name(h rbac.Holder) string {
	if n, ok := d.names[h.ID]; ok && h.Kind == rbac.HolderUser {
		return n
	}
	return h.String()
}

// legend prints the text of every rule cited.
func (d *demo) legend() {
	fmt.Fprintln(d.out)
	fmt.Fprintln(d.out, "Rules cited (the rule book of POLICY.md):")
	slices.SortFunc(d.cited, func(a, b rbac.Rule) int {
		return slices.Index(rbac.Rules(), a) - slices.Index(rbac.Rules(), b)
	})
	for _, r := range d.cited {
		fmt.Fprintf(d.out, "\t%s\t%s\n", r, r.Text())
	}
}

// reason returns the decision's reason without the rule's text, which the legend
// prints once.
func reason(dec rbac.Decision) string {
	s := dec.Reason()
	if i := strings.Index(s, " ("+string(dec.Rule)+": "); i >= 0 {
		s = s[:i]
	}
	return s
}
