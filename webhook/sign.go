package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Header names of a delivery.
const (
	SignatureHeader   = "Tenantry-Signature"
	IdempotencyHeader = "Idempotency-Key"
	EventHeader       = "Tenantry-Event"
)

// DefaultTolerance is how far from the receiver's clock Verify accepts a signature's
// time when its tolerance is zero.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify, matched with errors.Is.
var (
	// ErrSignature: the header is missing or malformed, or no signature in it is the
	// body's under the secret.
	ErrSignature = errors.New("webhook: invalid signature")
	// ErrTimestamp: the signature's time is too far from now (a replay, or a clock
	// that is off).
	ErrTimestamp = errors.New("webhook: signature time out of tolerance")
)

// Sign returns the value of the Tenantry-Signature header for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<unix seconds>.<body>" under secret>".
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks header, a delivery's Tenantry-Signature, against its raw body and the
// subscription's secret: one of its v1 signatures (a header may carry several) must be
// the body's at its time t, compared in constant time, and t must be within tolerance
// of now (DefaultTolerance when tolerance is zero). It returns nil, or an error
// matching ErrSignature or ErrTimestamp.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance == 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: malformed header %q", ErrSignature, header)
		}
		switch k {
		case "t":
			if ts != "" {
				return fmt.Errorf("%w: two times in header", ErrSignature)
			}
			ts = v
		case "v1":
			b, err := hex.DecodeString(v)
			if err != nil {
				return fmt.Errorf("%w: v1 is not hex", ErrSignature)
			}
			sigs = append(sigs, b)
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: header needs t=<unix> and v1=<hex>", ErrSignature)
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		ok = hmac.Equal(s, want) || ok
	}
	if !ok {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(unix, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: signed %v from now", ErrTimestamp, d.Round(time.Second))
	}
	return nil
}
