package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
)

// ErrorBody is the body of every error response: Errors is a message, or for
// invalid input an object of reasons by field ({"email": ["is taken"]}); a refusal
// of the policy adds the rule it cites and the decision's reason.
type ErrorBody struct {
	Errors any       `json:"errors"`
	Rule   rbac.Rule `json:"rule,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// Error is a client's mistake that the HTTP layer or a handler finds before the
// library is called: malformed JSON, a wrong type, an unknown field, a bad query
// parameter. It is answered with Status (422 when zero) and
// {"errors": {Field: [Message]}}.
type Error struct {
	Status  int    // 0 means 422
	Field   string // the input at fault: "body", "email", "permissions[2].resource_id"
	Message string
}

// Error returns "FIELD: MESSAGE".
func (e *Error) Error() string { return e.Field + ": " + e.Message }

// Invalid returns an *Error for field, answered 422.
func Invalid(field, format string, args ...any) error {
	return &Error{Field: field, Message: fmt.Sprintf(format, args...)}
}

// RateLimitError refuses a request over its actor's rate limit: 429, with
// Retry-After.
type RateLimitError struct {
	RetryAfter time.Duration
}

// Error says when to retry.
func (e *RateLimitError) Error() string {
	return "rate limit exceeded; retry after " + strconv.Itoa(retrySeconds(e.RetryAfter)) + "s"
}

func retrySeconds(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// ErrMethodNotAllowed is answered 405: the path has routes, for other methods.
var ErrMethodNotAllowed = errors.New("web: method not allowed")

// Status returns the HTTP status of err and the body that says it, the one mapping
// from the library's errors to responses (see the package documentation). A nil err
// is 200.
func Status(err error) (int, ErrorBody) {
	var (
		werr    *Error
		denied  *rbac.DeniedError
		invalid *account.InvalidError
		limited *RateLimitError
		tooBig  *http.MaxBytesError
	)
	switch {
	case err == nil:
		return http.StatusOK, ErrorBody{}
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, ErrorBody{Errors: map[string][]string{"body": {fmt.Sprintf("the body is larger than %d bytes", tooBig.Limit)}}}
	case errors.As(err, &werr):
		status := werr.Status
		if status == 0 {
			status = http.StatusUnprocessableEntity
		}
		return status, ErrorBody{Errors: map[string][]string{werr.Field: {werr.Message}}}
	case errors.Is(err, account.ErrUnauthenticated), errors.Is(err, ErrNoCredentials):
		return http.StatusUnauthorized, ErrorBody{Errors: "unauthorized"}
	case errors.As(err, &denied):
		return http.StatusForbidden, ErrorBody{Errors: "forbidden", Rule: denied.Decision.Rule, Reason: denied.Decision.Reason()}
	case errors.Is(err, account.ErrNotFound):
		return http.StatusNotFound, ErrorBody{Errors: "not found"}
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed, ErrorBody{Errors: "method not allowed"}
	case errors.As(err, &invalid):
		return http.StatusUnprocessableEntity, ErrorBody{Errors: map[string][]string{invalid.Field: {invalid.Reason}}}
	case errors.Is(err, account.ErrExists), errors.Is(err, account.ErrSeatLimit), errors.Is(err, account.ErrPlan),
		errors.Is(err, account.ErrLimit), errors.Is(err, account.ErrExpired):
		msg := err.Error()
		for _, p := range []string{"store: ", "account: "} {
			msg = strings.TrimPrefix(msg, p)
		}
		return http.StatusUnprocessableEntity, ErrorBody{Errors: msg}
	case errors.Is(err, account.ErrConflict):
		return http.StatusConflict, ErrorBody{Errors: "conflict with a concurrent change; try again"}
	case errors.As(err, &limited):
		return http.StatusTooManyRequests, ErrorBody{Errors: limited.Error()}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, ErrorBody{Errors: "request canceled"}
	}
	return http.StatusInternalServerError, ErrorBody{Errors: "internal server error"}
}

// WriteError writes err as the response, with the status and body of Status and the
// headers that go with them (WWW-Authenticate on 401, Retry-After on 429). A 500 is
// logged to logger (slog.Default when nil) with the error, which its body does not
// show.
func WriteError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status, body := Status(err)
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
	case http.StatusTooManyRequests:
		var limited *RateLimitError
		errors.As(err, &limited)
		w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(limited.RetryAfter)))
	case http.StatusInternalServerError:
		if logger == nil {
			logger = slog.Default()
		}
		logger.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("err", err.Error()))
	}
	_ = WriteJSON(w, status, body)
}
