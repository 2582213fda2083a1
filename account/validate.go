package account

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tenantry/tenantry/rbac"
)

// Limits on input.
const (
	MaxNameLen  = 100 // runes in a name
	MaxIDLen    = 128 // bytes in an ID
	MaxEmailLen = 254 // bytes in an email address
	MaxGrants   = 200 // grants in one request
)

// ValidName trims s and checks that it is a usable name: 1 to MaxNameLen runes of
// valid UTF-8 without control characters and without invisible format characters —
// bidirectional controls (U+202E…), zero-width spaces and joiners (U+200B…), the
// byte-order mark — which could make a name display as another.
func ValidName(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		return "", invalid(field, "not valid UTF-8")
	case s == "":
		return "", invalid(field, "empty")
	case utf8.RuneCountInString(s) > MaxNameLen:
		return "", invalid(field, "longer than %d characters", MaxNameLen)
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return "", invalid(field, "contains control characters")
	case strings.IndexFunc(s, invisible) >= 0:
		return "", invalid(field, "contains invisible or bidirectional formatting characters")
	}
	return s, nil
}

// invisible reports whether r is a format character (Unicode category Cf: the
// bidirectional controls, zero-width spaces, joiners and non-joiners, the byte-order
// mark, invisible operators…).
func invisible(r rune) bool { return unicode.Is(unicode.Cf, r) }

// ValidID checks that id is a well-formed ID: 1 to MaxIDLen bytes of letters, digits
// and "_-.:".
func ValidID(field, id string) error {
	if id == "" || len(id) > MaxIDLen {
		return invalid(field, "must be 1 to %d bytes", MaxIDLen)
	}
	if !idChars(id) {
		return invalid(field, "has a character other than letters, digits and _-.:")
	}
	return nil
}

// idChars reports whether id has only letters, digits and "_-.:".
func idChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// validIDOf is ValidID for the field field+".id", whose name is made only for an
// error.
func validIDOf(field, id string) error {
	if id != "" && len(id) <= MaxIDLen && idChars(id) {
		return nil
	}
	return ValidID(field+".id", id)
}

// validRef checks a scope reference.
func validRef(field string, r rbac.Ref) error {
	if !r.Kind.Valid() {
		return invalid(field+".kind", "not a scope kind")
	}
	return validIDOf(field, r.ID)
}

func validHolder(field string, h rbac.Holder) error {
	if !h.Kind.Valid() {
		return invalid(field+".kind", "not a holder kind")
	}
	return validIDOf(field, h.ID)
}

// simpleAddress reports whether s is local@domain with each side dot-separated words
// of letters and digits (and "_", "+", "-" in the local part, "-" in the domain), the
// shape of nearly every address: mail.ParseAddress reads such an s as itself, without
// a name, and NormalizeEmail does not need to call it.
func simpleAddress(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return false
	}
	return dotWords(s[:at], "_+-") && dotWords(s[at+1:], "-")
}

// dotWords reports whether s is one or more words separated by single dots, each of
// ASCII letters, digits and the bytes of extra.
func dotWords(s, extra string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
		case c == '.':
			if s[i-1] == '.' {
				return false
			}
		case strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
	}
	return true
}

// NormalizeEmail validates an email address and returns its normal form: trimmed,
// lower-cased, without a display name. Addresses are unique without regard to case
// ([rbac.RuleEmailIdentity]).
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", invalid("email", "empty")
	}
	if len(s) > MaxEmailLen {
		return "", invalid("email", "longer than %d bytes", MaxEmailLen)
	}
	if !simpleAddress(s) {
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" || a.Address != s {
			return "", invalid("email", "not a plain email address")
		}
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at > 64 || at == len(s)-1 || !strings.Contains(s[at+1:], ".") && s[at+1:] != "localhost" {
		return "", invalid("email", "not a plain email address")
	}
	for _, r := range s {
		if r > unicode.MaxASCII || unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", invalid("email", "only ASCII addresses are accepted")
		}
	}
	return strings.ToLower(s), nil
}
