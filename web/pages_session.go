package web

import (
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
}

// flashCookie is the name of the cookie that carries a flash message.
const flashCookie = "tenantry_flash"

// setFlash sets the flash cookie: encrypted and authenticated, bound to the user,
// so that only they read it (it may hold a secret).
func (p *pages) setFlash(w http.ResponseWriter, r *http.Request, c *call, f flash) {
	b, err := json.Marshal(f)
	if err != nil {
		return
	}
	nonce := make([]byte, p.keys.flash.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := p.keys.flash.Seal(nonce, nonce, b, []byte(c.me.String()))
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: base64.RawURLEncoding.EncodeToString(sealed),
		Path: p.cookiePath(), MaxAge: 120, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
}

// takeFlash returns the request's flash message, if any, and clears the cookie.
func (p *pages) takeFlash(w http.ResponseWriter, r *http.Request, c *call) *flash {
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
