package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tenantry/tenantry/rbac"
)

// MaxBodyBytes is the largest request body the API reads; a larger one is refused
// with 413 Request Entity Too Large.
const MaxBodyBytes = 1 << 20

// MaxFilters is the most resource filters one listing accepts.
const MaxFilters = 100

// ID is an identifier in a request body. The platform's SDKs send IDs as JSON numbers
// (3229) or strings ("3229"); both decode to the same ID. A number must be a
// non-negative integer written without a fraction or exponent. null leaves the ID
// empty, which the library refuses as invalid where an ID is needed.
type ID string

// UnmarshalJSON decodes an ID from a JSON string or number.
func (id *ID) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case string(b) == "null":
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = ID(s)
		return nil
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return fmt.Errorf("an ID must be a string or a non-negative integer, not %.40s", b)
		}
	}
	if len(b) == 0 {
		return errors.New("empty ID")
	}
	*id = ID(b)
	return nil
}

// requestError is a client's mistake found before the library is called: malformed
// JSON, a wrong type, an unknown field, an oversized body, a bad query string.
type requestError struct {
	status int
	field  string // the input at fault, when known
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(field, format string, args ...any) error {
	return &requestError{status: http.StatusUnprocessableEntity, field: field, msg: fmt.Sprintf(format, args...)}
}

// decodeJSON decodes the request body, one JSON value of at most MaxBodyBytes with no
// field that v does not declare, into v.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			if tooLarge := jsonError(err); tooLarge.(*requestError).status == http.StatusRequestEntityTooLarge {
				return tooLarge
			}
		}
		return badRequest("body", "the body must hold a single JSON value")
	}
	return nil
}

// jsonError turns a decoding error into a requestError.
func jsonError(err error) error {
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return &requestError{status: http.StatusRequestEntityTooLarge, field: "body", msg: fmt.Sprintf("the body is larger than %d bytes", tooLarge.Limit)}
	case errors.Is(err, io.EOF):
		return badRequest("body", "empty body, want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("body", "malformed JSON: unexpected end of input")
	case errors.As(err, &syntax):
		return badRequest("body", "malformed JSON at offset %d: %v", syntax.Offset, syntax)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "body"
		}
		return badRequest(field, "must be a JSON %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		return badRequest(strings.Trim(f, `"`), "unknown field")
	}
	return badRequest("body", "%s", strings.TrimPrefix(msg, "json: "))
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

// resourceType returns the API name of a scope kind: the platform calls a domain
// "mailsend_domain".
func resourceType(k rbac.Kind) string {
	if k == rbac.KindDomain {
		return "mailsend_domain"
	}
	return k.String()
}

// parseRef turns an API resource (type and ID) into a scope reference.
func parseRef(field, typ string, id ID) (rbac.Ref, error) {
	k, err := rbac.ParseKind(typ)
	if err != nil {
		return rbac.Ref{}, badRequest(field+".resource_type", "unknown resource type %q", typ)
	}
	return rbac.Ref{Kind: k, ID: string(id)}, nil
}

// filterKinds are the query parameters that narrow a listing of accesses, with the
// kind of resource each names. Some SDKs send domain_ids, others domain_uuids.
var filterKinds = map[string]rbac.Kind{
	"project_ids":  rbac.KindProject,
	"inbox_ids":    rbac.KindInbox,
	"domain_uuids": rbac.KindDomain,
	"domain_ids":   rbac.KindDomain,
}

// parseFilter reads the resource filters of a query string, the scopes of a Members
// listing. Arrays come as name[]=v, as name=v repeated, or indexed as name[0]=v;
// empty values are ignored, other parameters too.
func parseFilter(rawQuery string) ([]rbac.Ref, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, badRequest("query", "malformed query string")
	}
	var scopes []rbac.Ref
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range q {
			if !yield(k) {
				return
			}
		}
	}) {
		kind, ok := filterKinds[arrayName(key)]
		if !ok {
			continue
		}
		for _, v := range q[key] {
			if v == "" {
				continue
			}
			if len(scopes) == MaxFilters {
				return nil, badRequest(key, "more than %d filters", MaxFilters)
			}
			scopes = append(scopes, rbac.Ref{Kind: kind, ID: v})
		}
	}
	return scopes, nil
}

// arrayName strips an array suffix from a query parameter's name: "ids[]" and
// "ids[3]" are "ids".
func arrayName(key string) string {
	i := strings.IndexByte(key, '[')
	if i < 0 || !strings.HasSuffix(key, "]") {
		return key
	}
	inner := key[i+1 : len(key)-1]
	if inner != "" {
		if _, err := strconv.ParseUint(inner, 10, 16); err != nil {
			return key
		}
	}
	return key[:i]
}

// Expiry is a token's expires_at: an RFC 3339 time, the string "never", or null
// (or absent) for the default lifetime of one year (D23).
type Expiry struct {
	Time  time.Time
	Never bool
}

// UnmarshalJSON decodes an Expiry.
func (e *Expiry) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*e = Expiry{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`expires_at must be an RFC 3339 time, "never" or null`)
	}
	if strings.EqualFold(s, "never") {
		*e = Expiry{Never: true}
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errors.New(`expires_at must be an RFC 3339 time, "never" or null`)
	}
	*e = Expiry{Time: t}
	return nil
}

// parseAccessID decodes the id of an account access: the holder's string form,
// "user:ID", "invite:ID" or "token:ID" (as listings give it).
func parseAccessID(s string) (rbac.Holder, bool) {
	kind, id, ok := strings.Cut(s, ":")
	if !ok || id == "" {
		return rbac.Holder{}, false
	}
	switch kind {
	case "user":
		return rbac.User(id), true
	case "invite":
		return rbac.Invite(id), true
	case "token":
		return rbac.Token(id), true
	}
	return rbac.Holder{}, false
}
