package web

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// DefaultMaxBodyBytes is the largest request body read when Options.MaxBodyBytes is
// zero: 1 MiB.
const DefaultMaxBodyBytes = 1 << 20

// Options configure a Server. The zero value authenticates API tokens, limits each
// to the platform's rate, reads bodies of up to 1 MiB and logs nothing.
type Options struct {
	// Authenticator turns credentials into an actor; when nil, API tokens
	// (TokenAuth) and then Sessions, if set.
	Authenticator Authenticator
	// Sessions are the host's sessions, tried after API tokens when Authenticator is
	// nil.
	Sessions SessionFunc
	// RateLimit is each actor's rate; the zero value is the platform's, 150 requests
	// per 10 seconds.
	RateLimit RateLimit
	// NoRateLimit turns rate limiting off.
	NoRateLimit bool
	// MaxBodyBytes is the largest request body read (413 past it); 0 means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger receives one record per request and the errors answered with 500; nil
	// logs nothing.
	Logger *slog.Logger
	// Now is the clock of the rate limiter and of Auth.At; time.Now when nil.
	Now func() time.Time
}

// Server is the HTTP layer over an account.Service: Handler is its middleware,
// Func, Public and Authorize adapt a service's handlers to it. It is safe for
// concurrent use.
type Server struct {
	svc     *account.Service
	auth    Authenticator
	limiter *Limiter // nil: no rate limit
	log     *slog.Logger
	maxBody int64
	now     func() time.Time
}

// New returns a Server over svc.
func New(svc *account.Service, opts Options) *Server {
	s := &Server{svc: svc, auth: opts.Authenticator, log: opts.Logger, maxBody: opts.MaxBodyBytes, now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if s.auth == nil {
		c := Chain{TokenAuth{Service: svc}}
		if opts.Sessions != nil {
			c = append(c, opts.Sessions)
		}
		s.auth = c
	}
	if !opts.NoRateLimit {
		s.limiter = NewLimiter(opts.RateLimit, s.now)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	return s
}

// Service returns the account.Service the server runs on.
func (s *Server) Service() *account.Service { return s.svc }

// HandlerFunc is a handler that returns its error instead of writing it: the Server
// writes it with WriteError.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// Handler is the middleware in front of next. For each request it logs one record,
// turns a panic into a 500, limits the body to MaxBodyBytes, authenticates the
// request (a bad credential is answered 401 here; a request with none goes on,
// unauthenticated) and puts its Auth in the context, and counts it against its
// actor's rate limit (or its client address's, without credentials), answering 429
// past it. When next is an *http.ServeMux, a path it has no route for is answered
// 404, and a path with routes for other methods only 405 with Allow, as JSON.
func (s *Server) Handler(next http.Handler) http.Handler {
	mux, _ := next.(*http.ServeMux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		var au Auth
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.LogAttrs(r.Context(), slog.LevelError, "panic", slog.Any("panic", p), slog.String("path", r.URL.Path))
				if !rec.wrote {
					_ = WriteJSON(rec, http.StatusInternalServerError, ErrorBody{Errors: "internal server error"})
				}
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", rec.status),
				slog.Int64("bytes", rec.bytes),
				slog.Duration("took", s.now().Sub(start)),
				slog.String("remote", r.RemoteAddr),
			}
			if !au.Actor.IsZero() {
				attrs = append(attrs, slog.String("actor", au.Actor.String()), slog.String("auth", string(au.Method)))
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			s.log.LogAttrs(r.Context(), level, "request", attrs...)
		}()
		r.Body = http.MaxBytesReader(rec, r.Body, s.maxBody)

		a, err := s.auth.Authenticate(r)
		switch {
		case err == nil && !a.Actor.IsZero():
			au = a
			if au.At.IsZero() {
				au.At = start
			}
			if !au.ClientIP.IsValid() {
				au.ClientIP = clientIP(r)
			}
			r = r.WithContext(account.WithAuth(NewContext(r.Context(), au), au.rbac()))
		case err == nil, errors.Is(err, ErrNoCredentials):
		default:
			WriteError(rec, r, s.log, err)
			return
		}

		if s.limiter != nil {
			key := "ip:" + clientIP(r).String()
			if !au.Actor.IsZero() {
				key = au.Actor.String()
			}
			left, err := s.limiter.Allow(key)
			rec.Header().Set("X-RateLimit-Limit", strconv.Itoa(s.limiter.Limit()))
			rec.Header().Set("X-RateLimit-Remaining", strconv.Itoa(left))
			if err != nil {
				WriteError(rec, r, s.log, err)
				return
			}
		}

		if mux != nil {
			if _, pattern := mux.Handler(r); pattern == "" {
				s.noRoute(rec, r, mux)
				return
			}
		}
		next.ServeHTTP(rec, r)
	})
}

// clientIP returns the address of the request's client, as its connection gives it.
func clientIP(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, _ := netip.ParseAddr(host)
	return ip.Unmap()
}

// noRoute answers a request that mux has no route for: 405 with Allow when the path
// has routes for other methods, else 404.
func (s *Server) noRoute(w http.ResponseWriter, r *http.Request, mux *http.ServeMux) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		WriteError(w, r, s.log, ErrMethodNotAllowed)
		return
	}
	WriteError(w, r, s.log, account.ErrNotFound)
}

// Func returns a handler for a route that needs an authenticated actor: 401 without
// one, else fn, whose error is written with WriteError. The library's operations
// and queries that fn runs decide what the actor may do and see.
func (s *Server) Func(fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if Actor(r).IsZero() {
			WriteError(w, r, s.log, ErrNoCredentials)
			return
		}
		if err := fn(w, r); err != nil {
			WriteError(w, r, s.log, err)
		}
	})
}

// Public returns a handler for a route that needs no actor (a health check, a
// document): fn runs whether or not the request authenticated.
func (s *Server) Public(fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			WriteError(w, r, s.log, err)
		}
	})
}

// ScopeFunc returns the scope a request acts on, usually from its path.
type ScopeFunc func(r *http.Request) (rbac.Ref, error)

// PathScope returns the scope of the given kind whose ID is the path value name
// ("GET /api/accounts/{account}/…": PathScope(rbac.KindAccount, "account")).
func PathScope(kind rbac.Kind, name string) ScopeFunc {
	return func(r *http.Request) (rbac.Ref, error) {
		id := r.PathValue(name)
		if err := account.ValidID(name, id); err != nil {
			return rbac.Ref{}, err
		}
		return rbac.Ref{Kind: kind, ID: id}, nil
	}
}

// Authorize returns a handler for a route that needs action on the scope that scope
// names: 401 without an actor; 404 when the actor cannot see the scope or it does
// not exist; 403, with the rule, when it can see it but may not act; else fn. It is
// account.Service.Authorize before fn.
func (s *Server) Authorize(action rbac.Action, scope ScopeFunc, fn HandlerFunc) http.Handler {
	return s.Func(func(w http.ResponseWriter, r *http.Request) error {
		ref, err := scope(r)
		if err != nil {
			return err
		}
		if err := s.svc.Authorize(r.Context(), Actor(r), action, ref); err != nil {
			return err
		}
		return fn(w, r)
	})
}

// recorder remembers the status and size of a response, for the request log.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
