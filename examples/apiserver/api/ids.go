package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/web"
)

// MaxFilters is the most resource filters one listing accepts.
const MaxFilters = 100

// maxSafe is the largest integer a JSON number carries exactly in JavaScript (2^53-1):
// the largest ID served as a number.
const maxSafe = 1<<53 - 1

// NewID returns a new ID for a record of any kind: a random integer from 1 to 2^51-1,
// in decimal. Give it to account.Options.NewID so that every ID is served as a JSON
// number, as the platform's SDKs type them, and so that an access ID can encode its
// holder (see AccessID).
func NewID(string) string { return strconv.FormatUint(1+rand.Uint64N(1<<51-1), 10) }

// ID is an identifier in a request or a response. The platform's SDKs send IDs as
// JSON numbers (3229) or strings ("3229"); both decode to the same ID. A number must
// be a non-negative integer written without a fraction or exponent. null leaves the
// ID empty, which the library refuses as invalid where an ID is needed. An ID is
// written as a JSON number when it is a decimal integer up to 2^53-1 (every ID of a
// service that uses NewID), else as a string.
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

// MarshalJSON writes the ID as a JSON number when it is one, else as a string.
func (id ID) MarshalJSON() ([]byte, error) {
	if n, ok := number(string(id)); ok {
		return strconv.AppendUint(nil, n, 10), nil
	}
	return json.Marshal(string(id))
}

// number parses a decimal ID up to maxSafe, written without a sign or leading zero.
func number(s string) (uint64, bool) {
	if s == "" || (s[0] == '0' && s != "0") {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil && n <= maxSafe
}

// holderCodes number the holder kinds in an access ID.
var holderCodes = map[rbac.HolderKind]uint64{rbac.HolderTeam: 0, rbac.HolderUser: 1, rbac.HolderInvite: 2, rbac.HolderToken: 3}

// accessMask is the tenant's part of its access IDs: 53 bits of a hash of its ref.
func accessMask(tenant rbac.Ref) uint64 {
	h := fnv.New64a()
	h.Write([]byte(tenant.String()))
	return h.Sum64() & maxSafe
}

// AccessID returns the ID of the account access of holder in tenant, as listings
// give it: a number of its own, as on the platform, that encodes the holder and the
// tenant (the same user has another access ID in another account) and never
// changes. A holder whose ID is not a number below 2^51 gets its string form
// ("user:ID") instead; ParseAccessID reads both.
func AccessID(tenant rbac.Ref, h rbac.Holder) ID {
	n, ok := number(h.ID)
	code, known := holderCodes[h.Kind]
	if !ok || n == 0 || n >= 1<<51 || !known {
		return ID(h.String())
	}
	return ID(strconv.FormatUint((n<<2|code)^accessMask(tenant), 10))
}

// ParseAccessID decodes an access ID of tenant: the number AccessID makes, or a
// holder's string form ("user:ID", "invite:ID", "token:ID", "team:ID").
func ParseAccessID(tenant rbac.Ref, s string) (rbac.Holder, bool) {
	if kind, id, ok := strings.Cut(s, ":"); ok {
		if id == "" {
			return rbac.Holder{}, false
		}
		switch kind {
		case "user":
			return rbac.User(id), true
		case "invite":
			return rbac.Invite(id), true
		case "token":
			return rbac.Token(id), true
		case "team":
			return rbac.Team(id), true
		}
		return rbac.Holder{}, false
	}
	n, ok := number(s)
	if !ok {
		return rbac.Holder{}, false
	}
	n ^= accessMask(tenant)
	id := strconv.FormatUint(n>>2, 10)
	if n>>2 == 0 {
		return rbac.Holder{}, false
	}
	for kind, code := range holderCodes {
		if n&3 == code {
			return rbac.Holder{Kind: kind, ID: id}, true
		}
	}
	return rbac.Holder{}, false
}

// spellings remembers, per scope, the resource type name a client used for it when
// that is not the default one ("sending_domain" where the platform's API says
// "mailsend_domain", "sandbox" for "inbox"), so that responses echo the names their
// clients send. It is kept in memory: a restart falls back to the defaults.
type spellings struct {
	mu sync.Mutex
	m  map[rbac.Ref]string
}

// maxSpellings bounds what spellings remembers.
const maxSpellings = 100_000

// defaultType is the resource type name of a kind when no client used another: the
// platform calls a domain "mailsend_domain".
func defaultType(k rbac.Kind) string {
	if k == rbac.KindDomain {
		return "mailsend_domain"
	}
	return k.String()
}

// note remembers that a request named ref's type typ.
func (s *spellings) note(ref rbac.Ref, typ string) {
	typ = strings.ToLower(strings.TrimSpace(typ))
	s.mu.Lock()
	defer s.mu.Unlock()
	if typ == defaultType(ref.Kind) {
		delete(s.m, ref)
		return
	}
	if s.m == nil {
		s.m = map[rbac.Ref]string{}
	}
	if len(s.m) < maxSpellings {
		s.m[ref] = typ
	}
}

// name returns the resource type name of ref.
func (s *spellings) name(ref rbac.Ref) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.m[ref]; ok {
		return t
	}
	return defaultType(ref.Kind)
}

// parseRef turns an API resource (type and ID) into a scope reference, and
// remembers the type name it was given.
func (h *handler) parseRef(field, typ string, id ID) (rbac.Ref, error) {
	k, err := rbac.ParseKind(typ)
	if err != nil {
		return rbac.Ref{}, web.Invalid(field+".resource_type", "unknown resource type %q", typ)
	}
	ref := rbac.Ref{Kind: k, ID: string(id)}
	if id != "" {
		h.types.note(ref, typ)
	}
	return ref, nil
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
		return nil, web.Invalid("query", "malformed query string")
	}
	var scopes []rbac.Ref
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		kind, ok := filterKinds[arrayName(key)]
		if !ok {
			continue
		}
		for _, v := range q[key] {
			if v == "" {
				continue
			}
			if len(scopes) == MaxFilters {
				return nil, web.Invalid(key, "more than %d filters", MaxFilters)
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

// Expiry is a token's expires_at: an RFC 3339 time; null, or the string "never",
// for a token that never expires; absent for the default (D23).
type Expiry struct {
	Time  time.Time
	Never bool
}

// UnmarshalJSON decodes an Expiry.
func (e *Expiry) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		*e = Expiry{Never: true}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New(`expires_at must be an RFC 3339 time, null or "never"`)
	}
	if strings.EqualFold(s, "never") {
		*e = Expiry{Never: true}
		return nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return errors.New(`expires_at must be an RFC 3339 time, null or "never"`)
	}
	*e = Expiry{Time: t}
	return nil
}
