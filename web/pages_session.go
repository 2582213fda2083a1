package web

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"

	"github.com/tenantry/tenantry/rbac"
)

// pageKeys are the keys of the pages, derived from PagesOptions.CSRFKey: one for
// the form tokens, one for the flash cookie.
type pageKeys struct {
	csrf  []byte
	flash cipher.AEAD
}

func newPageKeys(key []byte) pageKeys {
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	block, err := aes.NewCipher(derive("tenantry pages flash"))
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return pageKeys{csrf: derive("tenantry pages csrf"), flash: aead}
}

// csrfToken is the form token of a signed-in user's session: an HMAC of the actor
// and the host's session identifier.
func (k pageKeys) csrfToken(a Auth) string {
	m := hmac.New(sha256.New, k.csrf)
	m.Write([]byte(a.Actor.String()))
	m.Write([]byte{0})
	m.Write([]byte(a.Session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validToken reports whether token is the session's form token.
func (k pageKeys) validToken(a Auth, token string) bool {
	return token != "" && hmac.Equal([]byte(token), []byte(k.csrfToken(a)))
}

// flash is the outcome of a form, shown once by the page it redirects to.
type flash struct {
	Error    bool      `json:"e,omitempty"`
	Status   int       `json:"s,omitempty"`
	Text     string    `json:"t,omitempty"`
	Rule     rbac.Rule `json:"r,omitempty"`
	RuleText string    `json:"rt,omitempty"`
	// Secret is shown once, with SecretLabel, and Link when there is one.
	Secret      string `json:"x,omitempty"`
	SecretLabel string `json:"xl,omitempty"`
	Link        string `json:"l,omitempty"`
	// Links are several invitations' links, each shown once with its address.
	Links []flashLink `json:"ls,omitempty"`
}

// flashLink is one invitation's link in a flash message.
type flashLink struct {
	Email string `json:"e"`
	Link  string `json:"l"`
}

// maxFlashCookie is the longest flash cookie value set: with its name and
// attributes, the cookie stays within the 4096 bytes every browser keeps.
const maxFlashCookie = 3800

// flashCookie is the name of the cookie that carries a flash message.
const flashCookie = "tenantry_flash"

// setFlash sets the flash cookie: encrypted and authenticated, bound to the user,
// so that only they read it (it may hold a secret). It reports false, setting
// nothing, when the message is too long for a cookie.
func (p *pages) setFlash(w http.ResponseWriter, r *http.Request, c *call, f flash) bool {
	b, err := json.Marshal(f)
	if err != nil {
		return false
	}
	nonce := make([]byte, p.keys.flash.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := p.keys.flash.Seal(nonce, nonce, b, []byte(c.me.String()))
	value := base64.RawURLEncoding.EncodeToString(sealed)
	if len(value) > maxFlashCookie {
		return false
	}
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: value,
		Path: p.cookiePath(), MaxAge: 120, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	return true
}

// flashKey is the context key of a flash message handed to a page directly.
type flashKey struct{}

// withFlash returns ctx carrying f, the flash message of the page rendered in the
// answer to a form whose outcome does not fit in a cookie.
func withFlash(ctx context.Context, f flash) context.Context {
	return context.WithValue(ctx, flashKey{}, &f)
}

// takeFlash returns the request's flash message, if any, and clears the cookie.
func (p *pages) takeFlash(w http.ResponseWriter, r *http.Request, c *call) *flash {
	if f, ok := r.Context().Value(flashKey{}).(*flash); ok {
		return f
	}
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return nil
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: p.cookiePath(), MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	raw, err := base64.RawURLEncoding.DecodeString(ck.Value)
	n := p.keys.flash.NonceSize()
	if err != nil || len(raw) < n {
		return nil
	}
	b, err := p.keys.flash.Open(nil, raw[:n], raw[n:], []byte(c.me.String()))
	if err != nil {
		return nil
	}
	var f flash
	if json.Unmarshal(b, &f) != nil {
		return nil
	}
	return &f
}

func (p *pages) cookiePath() string {
	if p.prefix == "" {
		return "/"
	}
	return p.prefix + "/"
}
