package rbac

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Level is an access level. Levels are totally ordered: None < Viewer < Admin < Owner.
// The numbers are the platform's own (its API sends 10, 100 and 1000), so a Level
// converts to and from the wire without a table.
type Level int16

// The access levels. None is the zero value: no access (deny by default, D6).
const (
	None   Level = 0
	Viewer Level = 10
	Admin  Level = 100
	Owner  Level = 1000
)

// Levels lists every level above None, lowest first.
var Levels = [...]Level{Viewer, Admin, Owner}

// ErrInvalidLevel is matched (with errors.Is) by every error that ParseLevel and the
// Level decoders return for input that names no level.
var ErrInvalidLevel = errors.New("rbac: invalid access level")

// LevelError reports input that names no access level.
type LevelError struct {
	Input string // the rejected input, as given
}

// Error describes the rejected input.
func (e *LevelError) Error() string {
	return fmt.Sprintf("rbac: invalid access level %q (want viewer, admin, owner, 10, 100 or 1000)", e.Input)
}

// Is reports whether target is ErrInvalidLevel.
func (e *LevelError) Is(target error) bool { return target == ErrInvalidLevel }

// Valid reports whether l is one of None, Viewer, Admin or Owner.
func (l Level) Valid() bool {
	switch l {
	case None, Viewer, Admin, Owner:
		return true
	}
	return false
}

// String returns the API name of the level ("viewer", "admin", "owner", "none"), or
// "Level(N)" for a value that is not a level.
func (l Level) String() string {
	switch l {
	case None:
		return "none"
	case Viewer:
		return "viewer"
	case Admin:
		return "admin"
	case Owner:
		return "owner"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// ParseLevel parses a level from its API name ("viewer", "admin", "owner", any case,
// surrounding space ignored) or its number ("10", "100", "1000"). "none" and "0" parse
// as None. Anything else is a *LevelError.
func ParseLevel(s string) (Level, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "none", "0":
		return None, nil
	case "viewer", "10":
		return Viewer, nil
	case "admin", "100":
		return Admin, nil
	case "owner", "1000":
		return Owner, nil
	}
	return None, &LevelError{Input: s}
}

// MarshalText encodes the level as its API name.
func (l Level) MarshalText() ([]byte, error) {
	if !l.Valid() {
		return nil, &LevelError{Input: strconv.Itoa(int(l))}
	}
	return []byte(l.String()), nil
}

// UnmarshalText decodes a level from its name or number, as ParseLevel.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// UnmarshalJSON decodes a level from a JSON string ("admin", "100") or a JSON number
// (100), the two forms the platform's SDKs send.
func (l *Level) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		u, err := strconv.Unquote(s)
		if err != nil {
			return &LevelError{Input: s}
		}
		s = u
	}
	return l.UnmarshalText([]byte(s))
}
