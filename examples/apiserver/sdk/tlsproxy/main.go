// Command tlsproxy is the forward proxy through which the SDK contract test
// (.ci/sdk-contract.sh) points the platform's unchanged Node SDK at the example
// service on loopback. The SDK calls https://mailtrap.io through axios, which honours
// the standard HTTPS_PROXY variable by opening a CONNECT tunnel; tlsproxy answers
// CONNECT for the hosts it is told, ends TLS with a certificate of a certificate
// authority it makes at start (written to -ca-out, for NODE_EXTRA_CA_CERTS), and
// forwards the requests to the service. Any other host is refused.
//
//	tlsproxy -to http://127.0.0.1:8080 -hosts mailtrap.io -ca-out ca.pem -addr-out proxy.addr
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "listen address")
	to := flag.String("to", "", "the service's base URL, e.g. http://127.0.0.1:8080")
	hosts := flag.String("hosts", "mailtrap.io", "comma-separated host names to intercept")
	caOut := flag.String("ca-out", "", "write the certificate authority's PEM certificate here")
	addrOut := flag.String("addr-out", "", "write the proxy's address here once it listens")
	flag.Parse()
	target, err := url.Parse(*to)
	if err != nil || target.Host == "" {
		log.Fatalf("tlsproxy: -to must be a URL, got %q", *to)
	}
	p, caPEM, err := newProxy(target, strings.Split(*hosts, ","))
	if err != nil {
		log.Fatal(err)
	}
	if *caOut != "" {
		if err := os.WriteFile(*caOut, caPEM, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	if *addrOut != "" {
		if err := os.WriteFile(*addrOut, []byte(ln.Addr().String()+"\n"), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	log.Printf("tlsproxy: %s → %s for %s", ln.Addr(), target, *hosts)
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		c := make(chan os.Signal, 1)
		signal.Notify(c, os.Interrupt, syscall.SIGTERM)
		<-c
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// proxy answers CONNECT for its hosts and serves the tunnel's requests with fwd.
type proxy struct {
	hosts []string
	tls   *tls.Config
	fwd   http.Handler
}

// newProxy makes a certificate authority and a certificate for hosts signed by it,
// and returns the proxy and the authority's certificate in PEM.
func newProxy(target *url.URL, hosts []string) (*proxy, []byte, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	ca := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "tenantry SDK contract test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	if ca, err = x509.ParseCertificate(caDER); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: hosts[0]},
		DNSNames:     hosts,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	cert := tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: key}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	p := &proxy{hosts: hosts, tls: &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, fwd: rp}
	return p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), nil
}

// ServeHTTP answers a CONNECT to one of the proxy's hosts with a TLS tunnel whose
// requests go to the service; anything else is refused.
func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if r.Method != http.MethodConnect || err != nil || !slices.Contains(p.hosts, host) {
		http.Error(w, fmt.Sprintf("tlsproxy: only CONNECT to %v", p.hosts), http.StatusForbidden)
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if _, err := buf.WriteString("HTTP/1.1 200 Connection Established\r\n\r\n"); err != nil || buf.Flush() != nil {
		conn.Close()
		return
	}
	tc := tls.Server(conn, p.tls)
	srv := &http.Server{Handler: p.fwd, ReadHeaderTimeout: 10 * time.Second}
	_ = srv.Serve(&oneConn{conn: tc, done: make(chan struct{})})
}

// oneConn is a listener that accepts one connection, then waits until it is closed.
type oneConn struct {
	conn net.Conn
	done chan struct{}
	used bool
}

func (l *oneConn) Accept() (net.Conn, error) {
	if !l.used {
		l.used = true
		return &closeNotify{Conn: l.conn, done: l.done}, nil
	}
	<-l.done
	return nil, net.ErrClosed
}

func (l *oneConn) Close() error   { return nil }
func (l *oneConn) Addr() net.Addr { return l.conn.LocalAddr() }

// closeNotify closes done when the connection is closed.
type closeNotify struct {
	net.Conn
	done chan struct{}
	once bool
}

func (c *closeNotify) Close() error {
	if !c.once {
		c.once = true
		close(c.done)
	}
	return c.Conn.Close()
}
