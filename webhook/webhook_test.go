package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/profile"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
	"github.com/tenantry/tenantry/store/memstore"
	"github.com/tenantry/tenantry/webhook"
)

var secret = []byte("s3cret")

// receiver is a webhook endpoint that checks every request's signature, fails as
// fail says, and remembers each event once by its idempotency key.
type receiver struct {
	t    *testing.T
	srv  *httptest.Server
	fail func(n int) int // the status to answer the n-th request with (from 1); 0: hang past the timeout

	mu       sync.Mutex
	requests int
	badSig   int
	keys     map[uint64]bool
	events   []webhook.Payload // deduplicated, in arrival order
	bodies   map[uint64]string
}

func newReceiver(t *testing.T, fail func(n int) int) *receiver {
	r := &receiver{t: t, fail: fail, keys: map[uint64]bool{}, bodies: map[uint64]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	r.mu.Lock()
	r.requests++
	n := r.requests
	r.mu.Unlock()
	status := http.StatusOK
	if r.fail != nil {
		status = r.fail(n)
	}
	if status == 0 { // a receiver that does not answer in time
		select {
		case <-req.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	if status/100 != 2 {
		w.WriteHeader(status)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := webhook.Verify(secret, req.Header.Get(webhook.SignatureHeader), body, time.Now(), 0); err != nil {
		r.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	key, err := strconv.ParseUint(req.Header.Get(webhook.IdempotencyHeader), 10, 64)
	if err != nil {
		r.t.Errorf("bad idempotency key %q", req.Header.Get(webhook.IdempotencyHeader))
		return
	}
	var p webhook.Payload
	if err := json.Unmarshal(body, &p); err != nil {
		r.t.Errorf("bad body %s: %v", body, err)
		return
	}
	if p.Seq != key || req.Header.Get(webhook.EventHeader) != p.Action {
		r.t.Errorf("headers %v do not match the body %s", req.Header, body)
	}
	if prev, ok := r.bodies[key]; ok && prev != string(body) {
		r.t.Errorf("two deliveries of key %d with different bodies", key)
	}
	r.bodies[key] = string(body)
	if !r.keys[key] {
		r.keys[key] = true
		r.events = append(r.events, p)
	}
}

// got returns the deduplicated events' Seqs and the number of requests.
func (r *receiver) got() ([]uint64, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var seqs []uint64
	for _, p := range r.events {
		seqs = append(seqs, p.Seq)
	}
	return seqs, r.requests
}

// waitFor waits until the receiver holds want (as its deduplicated Seqs), failing
// the test after 20 s.
func (r *receiver) waitFor(want []uint64) {
	r.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := r.got()
		if slices.Equal(got, want) {
			return
		}
		if len(got) > len(want) || !slices.Equal(got, want[:len(got)]) {
			r.t.Fatalf("the receiver got %v, which is not in order or not a prefix of %v", got, want)
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("the receiver got %v within 20 s, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// world is a memstore service with some history.
type world struct {
	svc         *account.Service
	owner       rbac.Holder
	acct, other rbac.Ref
	n           int
}

func newWorld(t *testing.T) *world {
	ctx := t.Context()
	svc := account.New(memstore.New(), account.Options{})
	reg, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "ann@acme.test", Name: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{svc: svc, owner: rbac.User(reg.User.ID), acct: reg.Account.Ref}
	reg2, err := account.Do(ctx, svc, rbac.Holder{}, profile.Register{Email: "bob@else.test", Name: "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	w.other = reg2.Account.Ref
	return w
}

// change makes n changes in the owner's account: resources created, then renamed.
func (w *world) change(t *testing.T, n int) {
	for range n {
		w.n++
		r, err := account.Do(t.Context(), w.svc, w.owner, account.CreateResource{Parent: w.acct, Kind: rbac.KindProject, Name: fmt.Sprint("P", w.n)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := account.Do(t.Context(), w.svc, w.owner, account.RenameResource{Resource: r.Ref, Name: fmt.Sprint("Q", w.n)}); err != nil {
			t.Fatal(err)
		}
	}
}

// seqs returns the Seqs of the feed's events that sub selects.
func (w *world) seqs(t *testing.T, sub webhook.Subscription) []uint64 {
	evs, err := w.svc.Changes(t.Context(), 0, account.MaxPageSize)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	for _, e := range evs {
		if sub.Selects(e) {
			out = append(out, e.Seq)
		}
	}
	return out
}

var fast = webhook.Options{MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond, Timeout: 200 * time.Millisecond}

// run starts d; the returned function stops it and returns Run's error.
func run(t *testing.T, d *webhook.Dispatcher) func() error {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			t.Fatal("Run did not return within 20 s of its context's end")
			return nil
		}
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// TestDeliveryThroughFailures: a receiver that answers 500s and lets requests time out
// for a while, then recovers, gets every event, in order, each signature valid; the
// idempotency keys make the retries' duplicates harmless.
func TestDeliveryThroughFailures(t *testing.T) {
	w := newWorld(t)
	w.change(t, 5)
	rcv := newReceiver(t, func(n int) int {
		switch {
		case n <= 4:
			return http.StatusInternalServerError
		case n <= 6:
			return 0 // time out
		case n%3 == 0 && n < 20:
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	sub := webhook.Subscription{ID: "all", URL: rcv.srv.URL, Secret: secret}
	d, err := webhook.New(w.svc, []webhook.Subscription{sub}, fast)
	if err != nil {
		t.Fatal(err)
	}
	stop := run(t, d)
	w.change(t, 5) // while delivering
	want := w.seqs(t, sub)
	rcv.waitFor(want)
	w.change(t, 3) // after catching up: delivered as they commit
	want = w.seqs(t, sub)
	rcv.waitFor(want)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	got, requests := rcv.got()
	if requests <= len(got) {
		t.Errorf("the receiver failed requests, so deliveries must have been retried: %d requests for %d events", requests, len(got))
	}
	if rcv.badSig != 0 {
		t.Errorf("%d requests had an invalid signature", rcv.badSig)
	}
}

// TestFilters: each subscription gets exactly the events its filter selects, in
// order; the cursor moves past the others.
func TestFilters(t *testing.T) {
	w := newWorld(t)
	w.change(t, 3)
	byTenant := newReceiver(t, nil)
	byAction := newReceiver(t, nil)
	both := newReceiver(t, nil)
	subs := []webhook.Subscription{
		{ID: "tenant", URL: byTenant.srv.URL, Secret: secret, Tenants: []rbac.Ref{w.other}},
		{ID: "action", URL: byAction.srv.URL, Secret: secret, Actions: []string{"resource.rename", "profile."}},
		{ID: "both", URL: both.srv.URL, Secret: secret, Tenants: []rbac.Ref{w.acct}, Actions: []string{"resource.create"}},
	}
	d, err := webhook.New(w.svc, subs, fast)
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	w.change(t, 2)
	for i, r := range []*receiver{byTenant, byAction, both} {
		want := w.seqs(t, subs[i])
		if len(want) == 0 {
			t.Fatalf("subscription %s selects nothing: the test proves nothing", subs[i].ID)
		}
		r.waitFor(want)
	}
	if got, _ := both.got(); len(got) != 5 {
		t.Errorf("the account's resource.create events are 5; the subscription got %d", len(got))
	}
}

// TestFailingSubscriptionHoldsOnlyItself: a receiver that always fails does not delay
// another subscription's deliveries.
func TestFailingSubscriptionHoldsOnlyItself(t *testing.T) {
	w := newWorld(t)
	down := newReceiver(t, func(int) int { return http.StatusServiceUnavailable })
	up := newReceiver(t, nil)
	subs := []webhook.Subscription{
		{ID: "down", URL: down.srv.URL, Secret: secret},
		{ID: "up", URL: up.srv.URL, Secret: secret},
	}
	d, err := webhook.New(w.svc, subs, fast)
	if err != nil {
		t.Fatal(err)
	}
	run(t, d)
	w.change(t, 4)
	up.waitFor(w.seqs(t, subs[1]))
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, requests := down.got()
		if len(got) != 0 {
			t.Fatalf("the failing receiver accepted %v", got)
		}
		if requests >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failing receiver's delivery must be retried; %d requests in 20 s", requests)
		}
	}
}

// TestRestartResumesFromCursor: a dispatcher stopped and made anew on the same cursor
// file resumes after the last event delivered: every event arrives, in order, and
// only the last one before the stop may arrive twice.
func TestRestartResumesFromCursor(t *testing.T) {
	w := newWorld(t)
	w.change(t, 3)
	path := filepath.Join(t.TempDir(), "cursors.json")
	rcv := newReceiver(t, nil)
	sub := webhook.Subscription{ID: "all", URL: rcv.srv.URL, Secret: secret, Actions: []string{"resource."}}
	start := func() func() error {
		cursors, err := webhook.NewFileCursors(path)
		if err != nil {
			t.Fatal(err)
		}
		opts := fast
		opts.Cursors = cursors
		d, err := webhook.New(w.svc, []webhook.Subscription{sub}, opts)
		if err != nil {
			t.Fatal(err)
		}
		return run(t, d)
	}
	stop := start()
	first := w.seqs(t, sub)
	rcv.waitFor(first)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, before := rcv.got()
	cursors, err := webhook.NewFileCursors(path)
	if err != nil {
		t.Fatal(err)
	}
	// The last delivery may have been answered after the stop: its cursor then was
	// not saved, and it is delivered again. Every delivery before it was saved.
	if c, _ := cursors.Load(t.Context(), "all"); c < first[len(first)-2] {
		t.Fatalf("the saved cursor is %d, before the events delivered before the last one (%v)", c, first)
	}
	w.change(t, 3) // while stopped
	start()
	rcv.waitFor(w.seqs(t, sub))
	got, after := rcv.got()
	if redelivered := after - before - (len(got) - len(first)); redelivered > 1 {
		t.Errorf("a restart must resume after the cursor: %d events were delivered again", redelivered)
	}
}

// TestNewRefuses: New refuses subscriptions it cannot deliver to.
func TestNewRefuses(t *testing.T) {
	svc := account.New(memstore.New(), account.Options{})
	for _, subs := range [][]webhook.Subscription{
		{{URL: "http://x.test/", Secret: secret}},
		{{ID: "a", URL: "http://x.test/", Secret: secret}, {ID: "a", URL: "http://y.test/", Secret: secret}},
		{{ID: "a", URL: "http://x.test/"}},
		{{ID: "a", URL: "ftp://x.test/", Secret: secret}},
		{{ID: "a", URL: "/relative", Secret: secret}},
	} {
		if _, err := webhook.New(svc, subs, webhook.Options{}); !errors.Is(err, webhook.ErrInvalid) {
			t.Errorf("New(%+v) = %v, want ErrInvalid", subs, err)
		}
	}
}

// TestRunWithoutFeed: Run fails at once on a store without a feed.
func TestRunWithoutFeed(t *testing.T) {
	svc := account.New(struct{ store.Store }{memstore.New()}, account.Options{})
	d, err := webhook.New(svc, nil, webhook.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Run(t.Context()); !errors.Is(err, account.ErrNoFeed) {
		t.Errorf("Run = %v, want ErrNoFeed", err)
	}
}

// TestPayloadForm: the JSON form of an event, field by field; a profile change's
// tenant and an actor-less change's actor are null.
func TestPayloadForm(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 500, time.FixedZone("CET", 3600))
	for _, c := range []struct {
		e    store.Event
		want string
	}{
		{store.Event{Seq: 42, Time: at, Tenant: rbac.Account("acct_1"), Actor: rbac.User("user_1"), Action: "member.invite", Target: "invite:inv_7", After: "viewer"},
			`{"version":1,"seq":42,"time":"2026-03-01T11:00:00.0000005Z","tenant":{"kind":"account","id":"acct_1"},"actor":{"kind":"user","id":"user_1"},"auth":null,"client_ip":null,"action":"member.invite","target":"invite:inv_7","before":"","after":"viewer","changes":[]}`},
		{store.Event{Seq: 7, Time: at, Actor: rbac.Token("tok_1"), Action: "profile.rename", Target: "user:u", Before: "A", After: "B"},
			`{"version":1,"seq":7,"time":"2026-03-01T11:00:00.0000005Z","tenant":null,"actor":{"kind":"token","id":"tok_1"},"auth":null,"client_ip":null,"action":"profile.rename","target":"user:u","before":"A","after":"B","changes":[]}`},
		{store.Event{Seq: 1, Time: at, Tenant: rbac.Org("org_1"), Action: "profile.register"},
			`{"version":1,"seq":1,"time":"2026-03-01T11:00:00.0000005Z","tenant":{"kind":"organization","id":"org_1"},"actor":null,"auth":null,"client_ip":null,"action":"profile.register","target":"","before":"","after":"","changes":[]}`},
		{store.Event{Seq: 9, Time: at, Tenant: rbac.Account("acct_1"), Actor: rbac.User("user_1"), Auth: rbac.AuthSSO, ClientIP: netip.MustParseAddr("2001:db8::7"),
			Action: "permissions.set", Target: "user:user_2", Changes: []store.Change{
				{Kind: store.ChangeGrant, Holder: rbac.User("user_2"), Scope: rbac.Project("prj_1"), Before: rbac.Viewer, After: rbac.Admin},
				{Kind: store.ChangeToken, Holder: rbac.Token("tok_2"), Scope: rbac.Account("acct_1"), Creator: "user_1", Expires: at.Add(time.Hour)},
			}},
			`{"version":1,"seq":9,"time":"2026-03-01T11:00:00.0000005Z","tenant":{"kind":"account","id":"acct_1"},"actor":{"kind":"user","id":"user_1"},"auth":"sso","client_ip":"2001:db8::7","action":"permissions.set","target":"user:user_2","before":"","after":"","changes":[` +
				`{"kind":"grant","holder":{"kind":"user","id":"user_2"},"scope":{"kind":"project","id":"prj_1"},"parent":null,"team":"","creator":"","expires":null,"before":"viewer","after":"admin","view_content":false,"removed":false},` +
				`{"kind":"token","holder":{"kind":"token","id":"tok_2"},"scope":{"kind":"account","id":"acct_1"},"parent":null,"team":"","creator":"user_1","expires":"2026-03-01T12:00:00.0000005Z","before":"","after":"","view_content":false,"removed":false}]}`},
	} {
		b, err := webhook.Marshal(c.e)
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%+v) =\n%s, %v\nwant\n%s", c.e, b, err, c.want)
		}
	}
}

// TestVerify: Verify accepts the signature Sign makes and refuses any change to the
// body, the secret, the time or the header, and a time out of tolerance.
func TestVerify(t *testing.T) {
	now := time.Unix(1_770_000_000, 0)
	body := []byte(`{"version":1}`)
	h := webhook.Sign(secret, now, body)
	if !strings.HasPrefix(h, "t=1770000000,v1=") || len(h) != len("t=1770000000,v1=")+64 {
		t.Fatalf("Sign = %q, want t=<unix>,v1=<64 hex digits>", h)
	}
	if err := webhook.Verify(secret, h, body, now.Add(time.Minute), 0); err != nil {
		t.Errorf("Verify refused a valid signature: %v", err)
	}
	rotated := webhook.Sign([]byte("old"), now, body) + "," + strings.Split(h, ",")[1]
	if err := webhook.Verify(secret, rotated, body, now, 0); err != nil {
		t.Errorf("Verify must accept a header where one of several v1 signatures is valid: %v", err)
	}
	forged := strings.Replace(h, "t=1770000000", "t=1770000001", 1)
	for _, c := range []struct {
		name   string
		secret []byte
		header string
		body   string
		now    time.Time
		want   error
	}{
		{"body changed", secret, h, `{"version":2}`, now, webhook.ErrSignature},
		{"other secret", []byte("other"), h, string(body), now, webhook.ErrSignature},
		{"time changed", secret, forged, string(body), now, webhook.ErrSignature},
		{"no header", secret, "", string(body), now, webhook.ErrSignature},
		{"no signature", secret, "t=1770000000", string(body), now, webhook.ErrSignature},
		{"not hex", secret, "t=1770000000,v1=zz", string(body), now, webhook.ErrSignature},
		{"malformed", secret, "t1770000000", string(body), now, webhook.ErrSignature},
		{"too old", secret, h, string(body), now.Add(6 * time.Minute), webhook.ErrTimestamp},
		{"from the future", secret, h, string(body), now.Add(-6 * time.Minute), webhook.ErrTimestamp},
	} {
		if err := webhook.Verify(c.secret, c.header, []byte(c.body), c.now, 0); !errors.Is(err, c.want) {
			t.Errorf("%s: Verify = %v, want %v", c.name, err, c.want)
		}
	}
}

// TestFileCursors: saved cursors survive a new FileCursors on the file, every
// subscription's; concurrent saves leave a whole, readable file.
func TestFileCursors(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "c.json")
	c, err := webhook.NewFileCursors(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c.Load(ctx, "a"); v != 0 || err != nil {
		t.Fatalf("a new file's cursor = %d, %v; want 0", v, err)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 20 {
				if err := c.Save(ctx, fmt.Sprint("s", g), uint64(i+1)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	again, err := webhook.NewFileCursors(path)
	if err != nil {
		t.Fatal(err)
	}
	for g := range 4 {
		if v, err := again.Load(ctx, fmt.Sprint("s", g)); v != 20 || err != nil {
			t.Errorf("cursor s%d after reopening = %d, %v; want 20", g, v, err)
		}
	}
	if _, err := webhook.NewFileCursors(filepath.Join(t.TempDir(), "missing", "c.json")); err != nil {
		t.Errorf("a file that does not exist holds no cursors, it is no error: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := webhook.NewFileCursors(bad); err == nil {
		t.Error("NewFileCursors must refuse a file that does not hold cursors")
	}
}
