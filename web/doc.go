// Package web is the HTTP layer a service mounts in front of its handlers: it
// authenticates the request (Tenantry's API tokens built in, the host's sessions
// plugged in as a function), puts the actor and how it authenticated in the request
// context, limits each token's rate, authorizes a route by an action on a scope taken
// from the path, and writes every error of the library with one mapping to a status
// and a {"errors": …} body. It uses the standard library only.
//
// Mounting it takes two lines:
//
//	api := web.New(svc, web.Options{})         // API tokens; Options.Sessions plugs in the host's sessions
//	err := http.ListenAndServe(addr, api.Handler(mux)) // mux: the service's own *http.ServeMux
//
// and each route names what it needs:
//
//	mux.Handle("POST /api/accounts/{account}/projects",
//		api.Authorize(rbac.ProjectCreate, web.PathScope(rbac.KindAccount, "account"), createProject))
//
//	func createProject(w http.ResponseWriter, r *http.Request) error {
//		var body struct{ Name string }
//		if err := web.DecodeJSON(r, &body); err != nil {
//			return err
//		}
//		p, err := account.Do(r.Context(), svc, web.Actor(r), account.CreateResource{…})
//		if err != nil {
//			return err // written by WriteError: 403 with the rule, 404, 422…
//		}
//		return web.WriteJSON(w, http.StatusCreated, p)
//	}
//
// # Pages
//
// Pages serves the product's User Management, My Profile and audit log pages,
// rendered on the server, for the signed-in user that Handler put in the context:
//
//	mux.Handle("/app/", web.Pages(svc, web.PagesOptions{Prefix: "/app", CSRFKey: key, SignInURL: "/sign-in"}))
//	err := http.ListenAndServe(addr, web.New(svc, web.Options{Sessions: sessions}).Handler(mux))
//
// Every form is protected against cross-site requests, every response carries a
// strict Content-Security-Policy (PagesCSP), and every refusal is shown with its
// reason and rule.
//
// # Security policies
//
// Handler also attaches the request's authentication to its context with
// account.WithAuth (the client's address, and for a session whether it passed a second
// factor and its SSO connection, as the host's session function says), so that every
// check and operation of the request decides the account's security policies
// (required two-factor authentication, IP allowlists) on it. The pages' Security tab
// sets them, My Profile turns two-factor authentication on and restricts tokens to
// addresses, and a refusal by a policy says what to do about it.
//
// # Existence
//
// Authorize answers 404 when the caller cannot see the scope, exactly as when it does
// not exist, and 403 (with the rule and the reason) only on what the caller can see:
// the answer of account.Service.Authorize. A route with no scope in its path uses Func
// and lets the library's operation decide, with the same answers.
//
// # Errors
//
// Status and WriteError are the one mapping from errors to responses:
//
//	401 account.ErrUnauthenticated, ErrNoCredentials (WWW-Authenticate: Bearer)
//	403 *rbac.DeniedError: {"errors": "forbidden", "rule": "D9", "reason": "denied: …"}
//	404 account.ErrNotFound, also for what the caller may not see
//	405 a path with routes for other methods only (Allow lists them)
//	409 account.ErrConflict: the store gave up retrying; try again
//	413 a body over Options.MaxBodyBytes
//	422 *account.InvalidError and *Error: {"errors": {"field": ["reason"]}};
//	    account.ErrExists, ErrSeatLimit, ErrPlan, ErrLimit,
//	    ErrExpired: {"errors": "message"}
//	429 *RateLimitError, with Retry-After in seconds
//	500 anything else, logged; the body says only "internal server error"
//
// # Rate limits
//
// Every authenticated actor (each API token, each session's user) may make
// DefaultRateLimit requests (150) per DefaultRateWindow (10 s), as the platform
// allows; the next is answered 429 with Retry-After until its window ends. Requests
// without credentials are counted per client address. Options.RateLimit changes the
// numbers; Options.NoRateLimit turns it off.
package web
