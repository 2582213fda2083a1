package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/tenantry/tenantry/account"
)

// WriteJSON writes v as the JSON body of a response with the given status, and
// returns nil, so that a handler may end with it. When v cannot be encoded the
// response is a 500 and the error is returned.
func WriteJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"errors":"internal server error"}`)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
	return err
}

// DecodeJSON decodes the request body into v: one JSON value with no field that v
// does not declare. Its errors are *Error values (422 with the field at fault), or
// the *http.MaxBytesError of a body over the limit (413).
func DecodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tooBig
		}
		return Invalid("body", "the body must hold a single JSON value")
	}
	return nil
}

// DecodeOptionalJSON is DecodeJSON for a body that may be absent: an empty body
// leaves v as it is.
func DecodeOptionalJSON(r *http.Request, v any) error {
	err := DecodeJSON(r, v)
	var e *Error
	if errors.As(err, &e) && e.Field == "body" && e.Message == emptyBody {
		return nil
	}
	return err
}

const emptyBody = "empty body, want a JSON value"

// jsonError turns a decoding error into an *Error, or returns the error of a body
// over the limit.
func jsonError(err error) error {
	var tooBig *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return tooBig
	case errors.Is(err, io.EOF):
		return Invalid("body", emptyBody)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Invalid("body", "malformed JSON: unexpected end of input")
	case errors.As(err, &syntax):
		return Invalid("body", "malformed JSON at offset %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return Invalid(field, "must be a JSON %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return Invalid(strings.Trim(f, `"`), "unknown field")
	}
	return Invalid("body", "%s", strings.TrimPrefix(msg, "json: "))
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "struct", "map":
		return "object"
	}
	if strings.HasPrefix(kind, "int") || strings.HasPrefix(kind, "uint") || strings.HasPrefix(kind, "float") {
		return "number"
	}
	return kind
}

// PageRequest reads a page request from the query parameters "cursor" (the Next of
// the previous page) and "limit" (1 to account.MaxPageSize; the library's default
// when absent).
func PageRequest(r *http.Request) (account.PageRequest, error) {
	q := r.URL.Query()
	p := account.PageRequest{After: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > account.MaxPageSize {
			return p, Invalid("limit", "must be a whole number from 1 to %d", account.MaxPageSize)
		}
		p.Limit = n
	}
	return p, nil
}

// PageJSON is one page of a listing as the HTTP layer writes it: the items, and the
// cursor of the next page ("" on the last), to pass back as ?cursor=.
type PageJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// WritePage writes one page of a listing with status 200, each item converted by
// conv.
func WritePage[T, U any](w http.ResponseWriter, p account.Page[T], conv func(T) U) error {
	out := PageJSON[U]{Items: make([]U, 0, len(p.Items)), NextCursor: p.Next}
	for _, it := range p.Items {
		out.Items = append(out.Items, conv(it))
	}
	return WriteJSON(w, http.StatusOK, out)
}
