// Package api serves the platform's account-access API over Tenantry:
// accounts, account accesses with their permissions, the resource tree, API tokens
// and sub-accounts, as JSON under /api.
//
// Every request authenticates with one of Tenantry's API tokens, sent as
// "Authorization: Bearer SECRET" or, as older SDKs do, "Api-Token: SECRET". Handlers
// only translate: every decision is the library's, and its errors map to statuses:
//
//	401 account.ErrUnauthenticated, or no token
//	403 *rbac.DeniedError (the body cites the rule)
//	404 account.ErrNotFound, also for what the caller may not see; an unknown route
//	405 a known route with another method
//	409 account.ErrConflict (the store gave up retrying; try again)
//	413 a body larger than MaxBodyBytes
//	422 account.ErrInvalid, ErrExists, ErrSeatLimit, ErrPlan; malformed JSON, unknown
//	    fields, wrong types, several JSON values, a malformed query string
//
// Every error body is {"errors": ...}: a message, or for an invalid field
// {"errors": {"field": ["reason"]}}.
//
// An account access is identified by its holder, "user:ID", "invite:ID" or
// "token:ID", the id that listings return.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// handler serves the API on an account.Service.
type handler struct {
	svc *account.Service
	log *slog.Logger
	mux *http.ServeMux
}

// NewHandler returns the API's http.Handler on svc. It logs one record per request
// to logger (nil: no logging), limits request bodies to MaxBodyBytes, and turns a
// panic into a 500 response.
func NewHandler(svc *account.Service, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{svc: svc, log: logger, mux: http.NewServeMux()}
	routes := map[string]func(http.ResponseWriter, *http.Request, rbac.Holder) error{
		"GET /api/accounts": h.listAccounts,
		"GET /api/accounts/{account_id}/account_accesses":                       h.listAccesses,
		"DELETE /api/accounts/{account_id}/account_accesses/{id}":               h.deleteAccess,
		"PUT /api/accounts/{account_id}/account_accesses/{id}/permissions/bulk": h.bulkPermissions,
		"GET /api/accounts/{account_id}/permissions/resources":                  h.resources,
		"GET /api/accounts/{account_id}/api_tokens":                             h.listTokens,
		"POST /api/accounts/{account_id}/api_tokens":                            h.createToken,
		"GET /api/accounts/{account_id}/api_tokens/{id}":                        h.getToken,
		"DELETE /api/accounts/{account_id}/api_tokens/{id}":                     h.deleteToken,
		"POST /api/accounts/{account_id}/api_tokens/{id}/reset":                 h.resetToken,
		"GET /api/organizations/{organization_id}/sub_accounts":                 h.listSubAccounts,
		"POST /api/organizations/{organization_id}/sub_accounts":                h.createSubAccount,
	}
	for pattern, fn := range routes {
		h.mux.Handle(pattern, h.authenticated(fn))
	}
	h.mux.HandleFunc("/", h.noRoute)
	return h
}

// ServeHTTP logs the request, limits its body and recovers from a panic.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	info := &requestInfo{}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	r.Body = http.MaxBytesReader(rec, r.Body, MaxBodyBytes)
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			h.log.LogAttrs(r.Context(), slog.LevelError, "panic", slog.Any("panic", p), slog.String("path", r.URL.Path))
			if !rec.wrote {
				writeJSON(rec, http.StatusInternalServerError, errorBody{Errors: "internal server error"})
			}
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.Int("status", rec.status),
			slog.Int64("bytes", rec.bytes),
			slog.Duration("took", time.Since(start)),
			slog.String("remote", r.RemoteAddr),
		}
		if !info.actor.IsZero() {
			attrs = append(attrs, slog.String("actor", info.actor.String()))
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelError
		}
		h.log.LogAttrs(r.Context(), level, "request", attrs...)
	}()
	h.mux.ServeHTTP(rec, r)
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

type infoKey struct{}

// requestInfo is what a request's log record needs to learn from its handler.
type requestInfo struct{ actor rbac.Holder }

// authenticated authenticates the request's token and runs fn as its holder,
// writing fn's error as the response.
func (h *handler) authenticated(fn func(http.ResponseWriter, *http.Request, rbac.Holder) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := tokenOf(r)
		if !ok {
			h.fail(w, r, account.ErrUnauthenticated)
			return
		}
		actor, err := h.svc.Authenticate(r.Context(), secret)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
			info.actor = actor
		}
		if err := fn(w, r, actor); err != nil {
			h.fail(w, r, err)
		}
	})
}

// tokenOf returns the secret a request authenticates with: "Authorization: Bearer
// SECRET" (the scheme in any case), or the legacy "Api-Token: SECRET".
func tokenOf(r *http.Request) (string, bool) {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, secret, ok := strings.Cut(a, " ")
		secret = strings.TrimSpace(secret)
		return secret, ok && strings.EqualFold(scheme, "Bearer") && secret != ""
	}
	if t := strings.TrimSpace(r.Header.Get("Api-Token")); t != "" {
		return t, true
	}
	return "", false
}

// noRoute answers a request no route matches: 405 when the path has routes for other
// methods, else 404.
func (h *handler) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := h.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeJSON(w, http.StatusMethodNotAllowed, errorBody{Errors: "method not allowed"})
		return
	}
	writeJSON(w, http.StatusNotFound, errorBody{Errors: "not found"})
}

// errorBody is the body of every error response.
type errorBody struct {
	Errors any       `json:"errors"`
	Rule   rbac.Rule `json:"rule,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// fail writes err as the response, with the status of its kind.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var (
		req     *requestError
		denied  *rbac.DeniedError
		invalid *account.InvalidError
	)
	switch {
	case errors.As(err, &req):
		writeJSON(w, req.status, errorBody{Errors: map[string][]string{req.field: {req.msg}}})
	case errors.Is(err, account.ErrUnauthenticated):
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		writeJSON(w, http.StatusUnauthorized, errorBody{Errors: "unauthorized"})
	case errors.As(err, &denied):
		writeJSON(w, http.StatusForbidden, errorBody{Errors: "forbidden", Rule: denied.Decision.Rule, Reason: denied.Decision.Reason()})
	case errors.Is(err, account.ErrNotFound):
		writeJSON(w, http.StatusNotFound, errorBody{Errors: "not found"})
	case errors.As(err, &invalid):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Errors: map[string][]string{invalid.Field: {invalid.Reason}}})
	case errors.Is(err, account.ErrExists), errors.Is(err, account.ErrSeatLimit), errors.Is(err, account.ErrPlan):
		writeJSON(w, http.StatusUnprocessableEntity, errorBody{Errors: strings.TrimPrefix(err.Error(), "store: ")})
	case errors.Is(err, account.ErrConflict):
		writeJSON(w, http.StatusConflict, errorBody{Errors: "conflict with a concurrent change; try again"})
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away; nobody reads the answer.
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Errors: "request canceled"})
	default:
		h.log.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("path", r.URL.Path), slog.String("err", err.Error()))
		writeJSON(w, http.StatusInternalServerError, errorBody{Errors: "internal server error"})
	}
}

// writeJSON writes v as the JSON body of a response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":"internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
