package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// noticeView is a security notice the viewer must act on: two-factor authentication
// becomes required in an account at a date still ahead (rbac.RuleRequire2FA).
type noticeView struct {
	Account string // the account's name
	Date    string // the day it becomes required, in the viewer's time zone
	In      string // how long until then: "in 6 days"
}

// notice returns the D32 notice of an allowed decision, or nil.
func (c *call) notice(d rbac.Decision, name string) *noticeView {
	if !d.Allowed || d.Notice != rbac.RuleRequire2FA {
		return nil
	}
	return &noticeView{Account: name, Date: c.date(d.NoticeAt), In: until(c.now(), d.NoticeAt)}
}

// tenantNotice sets t.Notice from the viewer's decisions in the tenant: on the tenant
// itself, or, for who holds access inside it only, on the first scope of flat they
// view.
func (p *pages) tenantNotice(ctx context.Context, c *call, t *tenantView, flat []nodeView) {
	if t.Notice != nil || t.viewsTenant {
		return
	}
	for _, n := range flat {
		if n.Level < rbac.Viewer {
			continue
		}
		if d, err := p.svc.Check(ctx, c.me, viewAction[n.Ref.Kind], n.Ref); err == nil {
			t.Notice = c.notice(d, t.Name)
		}
		return
	}
}

// policyView is an account's security policy as the Security tab shows it.
type policyView struct {
	Required  bool   // two-factor authentication is required, now or from a date
	Since     bool   // it is required already
	Date      string // the day it is (or becomes) required
	In        string // how long until then, when ahead
	DateValue string // the date input's value: the day it becomes required, when ahead
	IPs       []string
	Updated   string // "by ann@acme.test on 2 Dec 2026", or "" when never set
}

// securityData is the Security tab of an account or organization.
type securityData struct {
	Policy    policyView
	Org       *policyView // the organization's policy, for a sub-account, when the user may read it and it restricts anything
	OrgName   string
	IPText    string // the allowlist's textarea: one range a line
	MyIP      string // the address of this request
	MyIPIn    bool   // the account's list allows the address of this request (or is empty)
	TwoFactor bool   // the user has two-factor authentication on in their profile
	Passed    bool   // this request passed a second factor
	Today     string // today's date in the user's time zone, the date input's minimum
	PlanNote  string // why the plan refuses policies, when it does
	Max       int
}

func (p *pages) policyView(c *call, sp store.SecurityPolicy, emails map[string]string) policyView {
	v := policyView{Required: !sp.Require2FA.IsZero()}
	if v.Required {
		v.Date = c.date(sp.Require2FA)
		if c.now().Before(sp.Require2FA) {
			v.In = until(c.now(), sp.Require2FA)
			v.DateValue = sp.Require2FA.In(c.loc).Format(time.DateOnly)
		} else {
			v.Since = true
		}
	}
	for _, pr := range sp.IPAllowlist {
		v.IPs = append(v.IPs, pr.String())
	}
	if sp.UpdatedBy != "" {
		who := emails[sp.UpdatedBy]
		if who == "" {
			who = rbac.User(sp.UpdatedBy).String()
		}
		v.Updated = "by " + who + " on " + c.date(sp.Updated)
	}
	return v
}

func (p *pages) securityPage(r *http.Request, c *call, kind rbac.Kind) (string, any, error) {
	ctx := r.Context()
	ref, err := tenantRef(r, kind)
	if err != nil {
		return "", nil, err
	}
	t, err := p.tenant(ctx, c, ref)
	if err != nil {
		return "", nil, err
	}
	sp, err := account.Get(ctx, p.svc, c.me, account.SecurityPolicy{Tenant: t.Ref})
	if err != nil {
		return "", nil, err
	}
	me, err := account.Get(ctx, p.svc, c.me, profile.Get{})
	if err != nil {
		return "", nil, err
	}
	c.setZone(me.TimeZone)
	emails := map[string]string{}
	for a, err := range account.All(ctx, p.svc, c.me, account.Members{Tenant: t.Ref}) {
		if err != nil || a.Holder.Kind != rbac.HolderUser {
			break
		}
		emails[a.Holder.ID] = a.Email()
	}
	d := &securityData{
		Policy: p.policyView(c, sp, emails), TwoFactor: me.TwoFactor, Passed: c.auth.SecondFactor,
		Today: c.now().In(c.loc).Format(time.DateOnly), Max: account.MaxAllowlist,
	}
	d.IPText = strings.Join(d.Policy.IPs, "\n")
	if c.auth.ClientIP.IsValid() {
		d.MyIP = c.auth.ClientIP.String()
	}
	d.MyIPIn = rbac.Allows(sp.IPAllowlist, c.auth.ClientIP)
	if t.org != "" {
		if op, err := account.Get(ctx, p.svc, c.me, account.SecurityPolicy{Tenant: t.orgRef}); err == nil && !op.Policy().IsZero() {
			v := p.policyView(c, op, emails)
			d.Org, d.OrgName = &v, t.org
		}
	}
	d.PlanNote = p.planNote(t)
	return "security", &pageData{Title: "Security · " + t.Name, Tenant: t, Tab: "security", Page: d}, nil
}

// planNote says why the tenant's plan refuses security policies, or "" when it
// includes them or the plan is not known.
func (p *pages) planNote(t *tenantView) string {
	if plan, ok := p.svc.Plan(t.plan); ok && !plan.SecurityPolicies {
		return fmt.Sprintf("The plan %q does not include security policies: saving them is refused (%s).", t.plan, rbac.RulePlan)
	}
	return ""
}

// securityBack is the Security tab of t.
func (p *pages) securityBack(t rbac.Ref, anchor string) string {
	return p.tenantPath(t) + "/security#" + anchor
}

// changePolicy reads the tenant's policy, changes it with edit and saves it, in one
// transaction.
func (p *pages) changePolicy(ctx context.Context, c *call, t rbac.Ref, edit func(*account.SetSecurityPolicy)) error {
	return p.svc.Update(ctx, func(ctx context.Context, tx *account.Tx) error {
		sp, err := account.Read(ctx, tx, c.me, account.SecurityPolicy{Tenant: t})
		if err != nil {
			return err
		}
		op := account.SetSecurityPolicy{Tenant: t, Require2FA: sp.Require2FA, IPAllowlist: sp.IPAllowlist}
		edit(&op)
		_, err = account.Run(ctx, tx, c.me, op)
		return err
	})
}

// setRequire2FA requires two-factor authentication from a date, from now, or not
// at all: the form's button "when" says which ("date", "now", "off").
func (p *pages) setRequire2FA(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	ctx := r.Context()
	back := p.securityBack(t, "two-factor")
	if err := p.setLocation(ctx, c); err != nil {
		return back, flash{}, err
	}
	var from time.Time
	switch r.PostForm.Get("when") {
	case "off":
	case "now":
		from = c.now()
	case "date", "":
		s := strings.TrimSpace(r.PostForm.Get("from"))
		if s == "" {
			return back, flash{}, Invalid("from", "choose the date from which two-factor authentication is required")
		}
		d, err := time.ParseInLocation(time.DateOnly, s, c.loc)
		if err != nil {
			return back, flash{}, Invalid("from", "not a date")
		}
		from = d
	default:
		return back, flash{}, Invalid("when", "not a choice of the form")
	}
	if err := p.changePolicy(ctx, c, t, func(op *account.SetSecurityPolicy) { op.Require2FA = from }); err != nil {
		return back, flash{}, err
	}
	switch {
	case from.IsZero():
		return back, flash{Text: "Two-factor authentication is no longer required."}, nil
	case !from.After(c.now()):
		return back, flash{Text: "Two-factor authentication is required from now on: who signs in without a second factor is refused."}, nil
	}
	return back, flash{Text: fmt.Sprintf("Two-factor authentication will be required from %s; until then, users without it see a notice.", c.date(from))}, nil
}

// setIPAllowlist saves the tenant's IP allowlist from the form's textarea.
func (p *pages) setIPAllowlist(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.securityBack(t, "ip-allowlist")
	list, err := parseAllowlist("ip_allowlist", r.PostForm.Get("ip_allowlist"))
	if err != nil {
		return back, flash{}, err
	}
	if err := p.changePolicy(r.Context(), c, t, func(op *account.SetSecurityPolicy) { op.IPAllowlist = list }); err != nil {
		return back, flash{}, err
	}
	if len(list) == 0 {
		return back, flash{Text: "IP allowlist cleared: requests from any address are allowed."}, nil
	}
	return back, flash{Text: "IP allowlist saved: " + plural(len(list), "range") + "; requests from other addresses are refused."}, nil
}

// parseAllowlist reads an IP allowlist written one range a line (or separated by
// commas or spaces): CIDR ranges, or single addresses, which stand for themselves.
func parseAllowlist(field, s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, line := range strings.Split(s, "\n") {
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\r' }) {
			if len(out) == account.MaxAllowlist {
				return nil, Invalid(field, "more than %d ranges", account.MaxAllowlist)
			}
			if pr, err := netip.ParsePrefix(f); err == nil {
				out = append(out, pr)
				continue
			}
			ip, err := netip.ParseAddr(f)
			if err != nil || ip.Zone() != "" {
				return nil, Invalid(field, "line %d: %q is not a CIDR range such as 203.0.113.0/24 or 2001:db8::/32", i+1, f)
			}
			out = append(out, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return out, nil
}

// setTwoFactor records whether the user has two-factor authentication on.
func (p *pages) setTwoFactor(r *http.Request, c *call) (string, flash, error) {
	back := p.profileBack("two-factor")
	var on bool
	switch r.PostForm.Get("two_factor") {
	case "on":
		on = true
	case "off":
	default:
		return back, flash{}, Invalid("two_factor", "not a choice of the form")
	}
	if _, err := account.Do(r.Context(), p.svc, c.me, profile.SetTwoFactor{On: on}); err != nil {
		return back, flash{}, err
	}
	if on {
		return back, flash{Text: "Two-factor authentication is on. Sign in with your second factor to enter accounts that require it."}, nil
	}
	return back, flash{Text: "Two-factor authentication is off. Accounts that require it will refuse you."}, nil
}

// setTokenAllowlist saves a token's own IP allowlist.
func (p *pages) setTokenAllowlist(r *http.Request, c *call, t rbac.Ref) (string, flash, error) {
	back := p.profileBack("tokens")
	id := r.PathValue("token")
	if account.ValidID("token", id) != nil {
		return back, flash{}, account.ErrNotFound
	}
	list, err := parseAllowlist("ip_allowlist", r.PostForm.Get("ip_allowlist"))
	if err != nil {
		return back, flash{}, err
	}
	tk, err := account.Do(r.Context(), p.svc, c.me, account.SetTokenAllowlist{Tenant: t, Token: rbac.Token(id), IPAllowlist: list})
	if err != nil {
		return back, flash{}, err
	}
	if len(tk.IPAllowlist) == 0 {
		return back, flash{Text: "Token " + tk.Name + " is allowed from any address the account allows."}, nil
	}
	return back, flash{Text: "IP allowlist of the token " + tk.Name + " saved: " + plural(len(tk.IPAllowlist), "range") + "."}, nil
}

// refusalHelp fills the headline and advice of a refusal by an account's security
// policy (D32, D35), which the pages show in full rather than as a bare 403.
func (p *pages) refusalHelp(r *http.Request, ev *errorView, denied *rbac.DeniedError) {
	a, _ := FromContext(r.Context())
	switch denied.Decision.Rule {
	case rbac.RuleRequire2FA:
		ev.Heading = "Two-factor authentication required"
		on := false
		if !a.Actor.IsZero() {
			if u, err := account.Get(r.Context(), p.svc, a.Actor, profile.Get{}); err == nil {
				on = u.TwoFactor
			}
		}
		if on {
			ev.Help = "This account requires two-factor authentication, and you signed in without your second factor. Sign out and sign in again with it to continue."
		} else {
			ev.Help = "This account requires two-factor authentication, and you signed in without a second factor. Turn two-factor authentication on in My Profile, then sign in again with your second factor."
			ev.HelpLink = p.prefix + "/profile#two-factor"
		}
	case rbac.RuleIPAllowlist:
		ev.Heading = "Your address is not allowed"
		ip := "unknown"
		if a.ClientIP.IsValid() {
			ip = a.ClientIP.String()
		}
		ev.Help = "This account accepts requests from the addresses of its IP allowlist only, and yours, " + ip + ", is outside it. Connect from an allowed network, or ask an admin of the account to add your address."
	case rbac.RuleSSO:
		ev.Heading = "Single sign-on required"
		ev.Help = "This account requires the users of its email domains to sign in through its single sign-on. Sign out and sign in again through your organization's identity provider to continue."
	}
}

// ruleSuffix finds the rule that a message cites at its end: "… (D21)".
func ruleSuffix(msg string) rbac.Rule {
	i := strings.LastIndex(msg, "(D")
	if i < 0 || !strings.HasSuffix(msg, ")") {
		return ""
	}
	r := rbac.Rule(msg[i+1 : len(msg)-1])
	if _, err := strconv.Atoi(string(r[1:])); err != nil || r.Text() == "" {
		return ""
	}
	return r
}

// fieldLabels name the fields of the forms whose refusals a page shows.
var fieldLabels = map[string]string{
	"require_2fa":  "Two-factor requirement",
	"ip_allowlist": "IP allowlist",
	"from":         "Required from",
}
