package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// A client that trusts the proxy's CA reaches the service as https://mailtrap.io
// through the proxy; other hosts are refused.
func TestProxy(t *testing.T) {
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Authorization"))
	}))
	defer svc.Close()
	target, _ := url.Parse(svc.URL)
	p, caPEM, err := newProxy(target, []string{"mailtrap.io"})
	if err != nil {
		t.Fatal(err)
	}
	ps := httptest.NewServer(p)
	defer ps.Close()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA certificate")
	}
	proxyURL, _ := url.Parse(ps.URL)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL), TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for range 2 {
		req, _ := http.NewRequest("GET", "https://mailtrap.io/api/accounts?x=1", nil)
		req.Header.Set("Authorization", "Bearer s")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(b) != "GET /api/accounts?x=1 Bearer s" {
			t.Errorf("got %q", b)
		}
	}
	if _, err := c.Get("https://example.com/"); err == nil {
		t.Error("a CONNECT to another host went through")
	}
}
