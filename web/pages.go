package web

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
)

//go:embed pages
var pagesFS embed.FS

// PagesCSP is the Content-Security-Policy of every response of Pages: scripts,
// styles and images from the pages' own origin only, no inline script or style, forms
// posted to the same origin, and no framing.
const PagesCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// PagesOptions configure Pages.
type PagesOptions struct {
	// Prefix is the path the pages are mounted at, such as "/app": the host routes
	// Prefix+"/" to the handler. Empty mounts them at the root.
	Prefix string
	// CSRFKey is the secret from which each signed-in user's form token and the key
	// of the flash-message cookie are derived, at least 32 random bytes. Every
	// instance of a service must share it; when nil, a random key is made, which
	// suits one process (tokens of forms already shown stop working on restart).
	CSRFKey []byte
	// SignInURL is where a request without a signed-in user is redirected, with the
	// page it asked for as the query parameter "next"; empty answers 401.
	SignInURL string
	// InvitationURL returns the link that the host mails to an invitee, shown once to
	// the inviter with the invitation's secret. When nil, the link is the pages' own
	// acceptance page, Prefix+"/invitations/{id}?code={secret}".
	InvitationURL func(inv account.NewInvitation) string
	// InviteLinkURL returns the invite link shown once to the admin who creates or
	// rotates it. When nil, it is the pages' own join page,
	// Prefix+"/join/{id}?code={secret}".
	InviteLinkURL func(l account.NewInviteLink) string
	// ProfileDeleted is called after a user deleted their profile, before the
	// redirect to Prefix+"/deleted", so that the host ends the user's sessions (and
	// clears its cookie through w); nil does nothing.
	ProfileDeleted func(w http.ResponseWriter, r *http.Request, userID string)
	// Brand is the product name in the pages' header; "Tenantry" when empty.
	Brand string
	// Logger receives the errors answered with 500; nil logs nothing.
	Logger *slog.Logger
}

// Pages returns the handler of the User Management, My Profile and account audit
// log pages, served under opts.Prefix:
//
//	GET  {prefix}/profile                              My Profile
//	GET  {prefix}/accounts/{id}/users                  User Management (?project=&inbox=&domain=, or ?inactive=DAYS)
//	GET  {prefix}/accounts/{id}/members/{holder}       a member's permissions (holder "user:ID" or "invite:ID")
//	GET  {prefix}/accounts/{id}/audit                  the account's audit log (?cursor=)
//	GET  {prefix}/accounts/{id}/security               the account's security policy: required 2FA, IP allowlist
//	GET  {prefix}/invitations/{id}                     accept or decline an invitation (?code=)
//	GET  {prefix}/join/{id}                            join through an invite link (?code=)
//
// (organizations under {prefix}/organizations/{id}/… alike), and the forms they post.
// The host mounts it behind Server.Handler with its sessions, which puts the
// signed-in user in the request context (FromContext); the pages act as that user
// through account.Do and account.Get, so every decision is the library's. A request
// without a signed-in user is sent to opts.SignInURL; one authenticated with an API
// token is refused (403): the pages belong to users.
//
// The pages are rendered on the server from embedded templates, one stylesheet and
// a small script that only enhances them: they work without JavaScript. Every
// response carries PagesCSP and X-Frame-Options; every POST must come from the same
// origin (http.CrossOriginProtection) and carry the form token derived from
// opts.CSRFKey and the session, or it is refused with 403 and changes nothing. Every
// POST answers with a redirect to a page that shows its outcome once (a flash
// message in an encrypted cookie): a success, a secret shown only then (an
// invitation's, an invite link's, a new API token's), or a refusal with its reason
// and rule. An outcome too long for a cookie (the links of many invitations) is shown
// instead by that page answering the POST itself. A page that fails shows the error
// with the status of Status: a refusal of the policy (403) with its reason, and what
// the user cannot see exactly as what does not exist (404). A refusal by an account's
// security policy (rbac.RuleRequire2FA, rbac.RuleIPAllowlist) says what to do about
// it, and every account page carries a notice when two-factor authentication becomes
// required there at a date still ahead.
func Pages(svc *account.Service, opts PagesOptions) http.Handler {
	p := &pages{svc: svc, opts: opts, prefix: strings.TrimSuffix(opts.Prefix, "/"), log: opts.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.opts.Brand == "" {
		p.opts.Brand = "Tenantry"
	}
	key := opts.CSRFKey
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	p.keys = newPageKeys(key)
	p.tmpl = parsePageTemplates()
	p.mux = http.NewServeMux()
	p.routes()

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.renderError(w, r, nil, errCrossOrigin)
	}))
	inner := cop.Handler(p.mux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", PagesCSP)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		inner.ServeHTTP(w, r)
	})
}

// pages serves the pages of Pages.
type pages struct {
	svc    *account.Service
	opts   PagesOptions
	prefix string
	keys   pageKeys
	tmpl   map[string]*template.Template
	mux    *http.ServeMux
	log    *slog.Logger
}

// Errors the pages answer themselves.
var (
	errCrossOrigin = &Error{Status: http.StatusForbidden, Field: "form", Message: "the form was posted from another site"}
	errBadToken    = &Error{Status: http.StatusForbidden, Field: "form", Message: "the form's token is missing or wrong: reload the page and try again"}
	errTokenActor  = &Error{Status: http.StatusForbidden, Field: "session", Message: "these pages belong to signed-in users; an API token has no profile"}
)

// call is one request to the pages, from a signed-in user.
type call struct {
	w    http.ResponseWriter
	auth Auth
	me   rbac.Holder
	csrf string
	loc  *time.Location // the user's time zone, once setLocation has read it; UTC before
}

// now is the time of the request: when the host authenticated it.
func (c *call) now() time.Time {
	if c.auth.At.IsZero() {
		return time.Now()
	}
	return c.auth.At
}

// date is t's day in the user's time zone.
func (c *call) date(t time.Time) string { return t.In(c.loc).Format("2 Jan 2006") }

// setLocation reads the user's time zone into c.loc.
func (p *pages) setLocation(ctx context.Context, c *call) error {
	u, err := account.Get(ctx, p.svc, c.me, profile.Get{})
	if err != nil {
		return err
	}
	c.setZone(u.TimeZone)
	return nil
}

// setZone sets c.loc to the IANA time zone tz, when it is one; UTC otherwise.
func (c *call) setZone(tz string) {
	if l, err := time.LoadLocation(tz); err == nil {
		c.loc = l
	}
}

// plural is n with the unit, in the plural unless n is 1: "1 day", "3 days".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// ago says how long before now t was: "just now", "5 minutes ago", "yesterday",
// "12 days ago", then its date; "never" for the zero time.
func ago(now, t time.Time, loc *time.Location) string {
	d := now.Sub(t)
	switch {
	case t.IsZero():
		return "never"
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 48*time.Hour:
		return "yesterday"
	case d < 30*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return t.In(loc).Format("2 Jan 2006")
}

// until says how long after now t is: "in 40 minutes", "in 5 hours", "in 6 days".
func until(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d <= 0:
		return "now"
	case d < time.Hour:
		return "in " + plural(max(int(d/time.Minute), 1), "minute")
	case d < 48*time.Hour:
		return "in " + plural(int(d/time.Hour), "hour")
	}
	return "in " + plural(int(d/(24*time.Hour)), "day")
}

// getFunc answers a page: the template to render and its data.
type getFunc func(r *http.Request, c *call) (string, any, error)

// postFunc runs a form: where to go next, and what to say on success.
type postFunc func(r *http.Request, c *call) (back string, ok flash, err error)

// tenantRoutes are the two path segments that name a tenant.
var tenantRoutes = []struct {
	seg  string
	kind rbac.Kind
}{{"accounts", rbac.KindAccount}, {"organizations", rbac.KindOrganization}}

func (p *pages) routes() {
	p.mux.Handle("GET "+p.prefix+"/static/{file}", p.static())
	p.mux.HandleFunc("GET "+p.prefix+"/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p.prefix+"/profile", http.StatusSeeOther)
	})
	p.mux.HandleFunc("GET "+p.prefix+"/deleted", func(w http.ResponseWriter, r *http.Request) {
		p.render(w, r, http.StatusOK, "deleted", &pageData{Title: "Profile deleted"})
	})
	p.get("/profile", p.profilePage)
	p.post("/profile/name", p.rename)
	p.post("/profile/email", p.changeEmail)
	p.post("/profile/time-zone", p.setTimeZone)
	p.post("/profile/oauth/unlink", p.unlinkOAuth)
	p.post("/profile/delete", p.deleteProfile)
	p.post("/profile/two-factor", p.setTwoFactor)
	p.post("/accounts", p.createAccount)
	p.get("/invitations/{invitation}", p.invitationPage)
	p.post("/invitations/{invitation}/accept", p.acceptInvitation)
	p.post("/invitations/{invitation}/decline", p.declineInvitation)
	p.get("/join/{link}", p.joinPage)
	p.post("/join/{link}", p.join)
	for _, t := range tenantRoutes {
		base := "/" + t.seg + "/{tenant}"
		kind := t.kind
		p.get(base+"/users", func(r *http.Request, c *call) (string, any, error) { return p.usersPage(r, c, kind) })
		p.get(base+"/members/{holder}", func(r *http.Request, c *call) (string, any, error) { return p.memberPage(r, c, kind) })
		p.get(base+"/audit", func(r *http.Request, c *call) (string, any, error) { return p.auditPage(r, c, kind) })
		p.get(base+"/security", func(r *http.Request, c *call) (string, any, error) { return p.securityPage(r, c, kind) })
		for path, fn := range map[string]func(*http.Request, *call, rbac.Ref) (string, flash, error){
			"/invitations":                     p.invite,
			"/invitations/{invitation}/revoke": p.revokeInvitation,
			"/invitations/{invitation}/resend": p.resendInvitation,
			"/links":                           p.createLink,
			"/links/{link}/disable":            p.disableLink,
			"/links/{link}/rotate":             p.rotateLink,
			"/links/{link}/delete":             p.deleteLink,
			"/members/{holder}/permissions":    p.setPermissions,
			"/members/{holder}/remove":         p.removeMember,
			"/members/{holder}/remove-from":    p.removeFromResource,
			"/transfer":                        p.transfer,
			"/leave":                           p.leave,
			"/tokens":                          p.createToken,
			"/tokens/{token}/delete":           p.deleteToken,
			"/tokens/{token}/allowlist":        p.setTokenAllowlist,
			"/security/two-factor":             p.setRequire2FA,
			"/security/ip-allowlist":           p.setIPAllowlist,
		} {
			p.post(base+path, func(r *http.Request, c *call) (string, flash, error) {
				ref, err := tenantRef(r, kind)
				if err != nil {
					return p.prefix + "/profile", flash{}, err
				}
				return fn(r, c, ref)
			})
		}
	}
	p.mux.HandleFunc(p.prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		p.renderError(w, r, nil, account.ErrNotFound)
	})
}

// tenantRef returns the tenant that the path names.
func tenantRef(r *http.Request, kind rbac.Kind) (rbac.Ref, error) {
	id := r.PathValue("tenant")
	if account.ValidID("account", id) != nil {
		return rbac.Ref{}, account.ErrNotFound
	}
	return rbac.Ref{Kind: kind, ID: id}, nil
}

// signedIn returns the call of a request from a signed-in user, or answers it.
func (p *pages) signedIn(w http.ResponseWriter, r *http.Request) (*call, bool) {
	a, ok := FromContext(r.Context())
	switch {
	case !ok || a.Actor.IsZero():
		if p.opts.SignInURL != "" && r.Method == http.MethodGet {
			http.Redirect(w, r, p.opts.SignInURL+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return nil, false
		}
		p.renderError(w, r, nil, ErrNoCredentials)
		return nil, false
	case a.Actor.Kind != rbac.HolderUser:
		p.renderError(w, r, nil, errTokenActor)
		return nil, false
	}
	return &call{auth: a, me: a.Actor, csrf: p.keys.csrfToken(a), loc: time.UTC}, true
}

// get registers a page.
func (p *pages) get(path string, fn getFunc) {
	p.mux.HandleFunc("GET "+p.prefix+path, func(w http.ResponseWriter, r *http.Request) {
		c, ok := p.signedIn(w, r)
		if !ok {
			return
		}
		f := p.takeFlash(w, r, c)
		name, data, err := fn(r, c)
		if err != nil {
			p.renderErrorFlash(w, r, c, err, f)
			return
		}
		pd := data.(*pageData)
		pd.Flash = f
		p.renderFor(w, r, c, http.StatusOK, name, pd)
	})
}

// maxFormBytes is the largest form the pages read.
const maxFormBytes = 64 << 10

// post registers a form: the form token is checked before fn runs, and the answer
// is a redirect to fn's page with a flash message of its outcome.
func (p *pages) post(path string, fn postFunc) {
	p.mux.HandleFunc("POST "+p.prefix+path, func(w http.ResponseWriter, r *http.Request) {
		c, ok := p.signedIn(w, r)
		if !ok {
			return
		}
		c.w = w
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			p.renderError(w, r, c, Invalid("form", "the form could not be read"))
			return
		}
		if !p.keys.validToken(c.auth, r.PostForm.Get("csrf")) {
			p.renderError(w, r, c, errBadToken)
			return
		}
		back, ok2, err := fn(r, c)
		if back == "" {
			back = p.prefix + "/profile"
		}
		f := ok2
		if err != nil {
			f = p.errorFlash(r, err)
		}
		if (f.Text != "" || f.Secret != "") && !p.setFlash(w, r, c, f) {
			p.showInPlace(w, r, back, f)
			return
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	})
}

// showInPlace answers a form whose outcome is too long for the flash cookie (the
// links of many invitations) with the page at back, showing the outcome, instead of a
// redirect to it.
func (p *pages) showInPlace(w http.ResponseWriter, r *http.Request, back string, f flash) {
	path, _, _ := strings.Cut(back, "#")
	u, err := url.Parse(path)
	if err != nil {
		p.renderError(w, r, nil, err)
		return
	}
	r2 := r.Clone(withFlash(r.Context(), f))
	r2.Method, r2.URL, r2.RequestURI, r2.Body, r2.Form, r2.PostForm = http.MethodGet, u, u.RequestURI(), http.NoBody, nil, nil
	p.mux.ServeHTTP(w, r2)
}

// errorFlash is the flash message of a refused or failed form.
func (p *pages) errorFlash(r *http.Request, err error) flash {
	ev := p.errorView(r, err)
	return flash{Error: true, Status: ev.Status, Text: strings.TrimSpace(ev.Help + " " + ev.Message), Rule: ev.Rule, RuleText: ev.RuleText}
}

// errorView is an error as the pages show it.
type errorView struct {
	Status     int
	StatusText string
	Message    string
	Rule       rbac.Rule
	RuleText   string
	// Heading, Help and HelpLink say, for a refusal by an account's security policy,
	// what happened and what to do.
	Heading  string
	Help     string
	HelpLink string
}

func (p *pages) errorView(r *http.Request, err error) errorView {
	status, body := Status(err)
	ev := errorView{Status: status, StatusText: http.StatusText(status)}
	var denied *rbac.DeniedError
	switch {
	case errors.As(err, &denied):
		ev.Rule = body.Rule
		ev.RuleText = body.Rule.Text()
		// The rule's text is shown beside the reason: not twice.
		ev.Message = strings.TrimSuffix(body.Reason, " ("+string(body.Rule)+": "+ev.RuleText+")")
		p.refusalHelp(r, &ev, denied)
	case status == http.StatusNotFound:
		ev.Message = "There is nothing here, or nothing you may see."
	case status == http.StatusInternalServerError:
		p.log.LogAttrs(r.Context(), slog.LevelError, "pages: internal error", slog.String("path", r.URL.Path), slog.String("err", err.Error()))
		ev.Message = "Something went wrong on our side."
	default:
		switch e := body.Errors.(type) {
		case string:
			ev.Message = e
		case map[string][]string:
			var parts []string
			for field, reasons := range e {
				parts = append(parts, cmp.Or(fieldLabels[field], field)+": "+strings.Join(reasons, "; "))
			}
			ev.Message = strings.Join(parts, ", ")
		}
		if ev.Message != "" {
			ev.Message = strings.ToUpper(ev.Message[:1]) + ev.Message[1:]
		}
		// A refusal that cites a rule shows it as the policy's refusals do.
		if ev.Rule = ruleSuffix(ev.Message); ev.Rule != "" {
			ev.RuleText = ev.Rule.Text()
		}
	}
	return ev
}

// renderError answers a page that failed with the status of Status and the error.
func (p *pages) renderError(w http.ResponseWriter, r *http.Request, c *call, err error) {
	p.renderErrorFlash(w, r, c, err, nil)
}

// renderErrorFlash is renderError that also shows the outcome of the form that led
// there.
func (p *pages) renderErrorFlash(w http.ResponseWriter, r *http.Request, c *call, err error, f *flash) {
	ev := p.errorView(r, err)
	if ev.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pages"`)
	}
	pd := &pageData{Title: cmp.Or(ev.Heading, ev.StatusText), Error: &ev, Flash: f}
	p.renderFor(w, r, c, ev.Status, "error", pd)
}

// pageData is what every template is given: the layout's fields and the page's.
type pageData struct {
	Title  string
	Brand  string
	Prefix string
	CSRF   string
	Me     string // the signed-in user's address, for the header
	// TwoFactor: the signed-in user has two-factor authentication on in their profile.
	TwoFactor bool
	Flash     *flash
	Error     *errorView
	Tenant    *tenantView // the account a page is about
	Tab       string      // the account page shown: "users", "audit", "security"
	Page      any         // the page's own data
}

// renderFor renders a page for the signed-in user of c (nil: nobody).
func (p *pages) renderFor(w http.ResponseWriter, r *http.Request, c *call, status int, name string, pd *pageData) {
	if c != nil {
		pd.CSRF = c.csrf
		if u, err := account.Get(r.Context(), p.svc, c.me, profile.Get{}); err == nil {
			pd.Me, pd.TwoFactor = u.Email, u.TwoFactor
		}
	}
	p.render(w, r, status, name, pd)
}

func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, pd *pageData) {
	pd.Brand, pd.Prefix = p.opts.Brand, p.prefix
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, "layout", pd); err != nil {
		p.log.LogAttrs(r.Context(), slog.LevelError, "pages: template", slog.String("page", name), slog.String("err", err.Error()))
		http.Error(w, "internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// static serves the embedded stylesheet, script and icon.
func (p *pages) static() http.Handler {
	sub, _ := fs.Sub(pagesFS, "pages/static")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("file")
		if _, err := fs.Stat(sub, name); err != nil {
			p.renderError(w, r, nil, account.ErrNotFound)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		files.ServeHTTP(w, r2)
	})
}

// parsePageTemplates parses each page with the layout.
func parsePageTemplates() map[string]*template.Template {
	out := map[string]*template.Template{}
	for _, name := range []string{"profile", "users", "member", "audit", "security", "invitation", "join", "error", "deleted"} {
		t := template.New(name).Funcs(pageFuncs)
		out[name] = template.Must(t.ParseFS(pagesFS, "pages/layout.html", "pages/"+name+".html"))
	}
	return out
}
