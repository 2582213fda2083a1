package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tenantry/tenantry/account"
	"github.com/tenantry/tenantry/rbac"
	"github.com/tenantry/tenantry/store"
)

// Defaults of Options' zero values.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = time.Minute
)

// saveEvery is how many events a subscription's filter passes over before its cursor
// is saved anyway; a delivery saves it at once.
const saveEvery = 100

// ErrInvalid is matched by the error of New for a subscription it refuses.
var ErrInvalid = errors.New("webhook: invalid subscription")

// Subscription is an endpoint and the events it receives.
type Subscription struct {
	// ID names the subscription and its cursor; unique among a Dispatcher's.
	ID string
	// URL is where the events are POSTed: http or https.
	URL string
	// Secret is the key of the deliveries' signature, shared with the receiver.
	Secret []byte
	// Tenants, when not empty, selects the events of these accounts and
	// organizations only (the zero Ref selects the profile changes).
	Tenants []rbac.Ref
	// Actions, when not empty, selects the events whose action begins with one of
	// these prefixes ("member." for every member.* action, "plan.set" for one).
	Actions []string
}

// Selects reports whether the subscription's filter selects e.
func (s Subscription) Selects(e store.Event) bool {
	if len(s.Tenants) > 0 && !contains(s.Tenants, e.Tenant) {
		return false
	}
	if len(s.Actions) == 0 {
		return true
	}
	for _, p := range s.Actions {
		if strings.HasPrefix(e.Action, p) {
			return true
		}
	}
	return false
}

func contains(refs []rbac.Ref, r rbac.Ref) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

// Options configure a Dispatcher. The zero value is ready to use.
type Options struct {
	// Cursors keeps the subscriptions' cursors; a MemoryCursors of the Dispatcher's
	// own when nil, which a restart loses.
	Cursors CursorStore
	// Client sends the requests; http.DefaultClient when nil. Timeout bounds each.
	Client *http.Client
	// Timeout bounds one delivery attempt, the answer's body included; zero means
	// DefaultTimeout.
	Timeout time.Duration
	// MinBackoff and MaxBackoff bound the waits between the attempts of one delivery
	// (and between reads of the feed after it failed): after the n-th failure in a
	// row, a random duration between MinBackoff/2 and min(MaxBackoff, MinBackoff·2ⁿ⁻¹)
	// (exponential, with jitter). Zero means DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// Now is the clock of the signatures' times; time.Now when nil.
	Now func() time.Time
	// Logger receives a warning per failed attempt and per error of the feed or the
	// cursors; nothing is logged when nil.
	Logger *slog.Logger
}

// Dispatcher delivers the change feed of a Service to its subscriptions. Make one with
// New and call Run.
type Dispatcher struct {
	svc  *account.Service
	subs []Subscription
	opts Options
	log  *slog.Logger
}

// New returns a Dispatcher of svc's change feed (the store must implement
// store.Feed; Run fails with account.ErrNoFeed otherwise) to subs. It refuses, with
// an error matching ErrInvalid, a subscription without an ID, with an ID another has,
// without a secret, or whose URL is not an absolute http or https URL.
func New(svc *account.Service, subs []Subscription, opts Options) (*Dispatcher, error) {
	seen := map[string]bool{}
	for i, s := range subs {
		switch {
		case s.ID == "":
			return nil, fmt.Errorf("%w: subscriptions[%d] has no ID", ErrInvalid, i)
		case seen[s.ID]:
			return nil, fmt.Errorf("%w: two subscriptions named %q", ErrInvalid, s.ID)
		case len(s.Secret) == 0:
			return nil, fmt.Errorf("%w: subscription %q has no secret", ErrInvalid, s.ID)
		}
		u, err := url.Parse(s.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%w: subscription %q: URL %q is not an http(s) URL", ErrInvalid, s.ID, s.URL)
		}
		seen[s.ID] = true
	}
	if opts.Cursors == nil {
		opts.Cursors = &MemoryCursors{}
	}
	if opts.Client == nil {
		opts.Client = http.DefaultClient
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = DefaultMinBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	d := &Dispatcher{svc: svc, subs: append([]Subscription(nil), subs...), opts: opts, log: opts.Logger}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	return d, nil
}

// Run delivers the feed to every subscription, each from its cursor and in a
// goroutine of its own, until ctx is done; it then returns nil once every
// subscription has stopped and saved its cursor. It returns an error at once when a
// cursor cannot be loaded or the store has no feed. Errors of the feed while running
// (a database that is down) are logged and retried with backoff, from the cursor.
func (d *Dispatcher) Run(ctx context.Context) error {
	if _, err := d.svc.Changes(ctx, 0, 1); errors.Is(err, account.ErrNoFeed) {
		return err
	}
	starts := make([]uint64, len(d.subs))
	for i, s := range d.subs {
		c, err := d.opts.Cursors.Load(ctx, s.ID)
		if err != nil {
			return fmt.Errorf("webhook: load the cursor of %q: %w", s.ID, err)
		}
		starts[i] = c
	}
	var wg sync.WaitGroup
	for i, s := range d.subs {
		wg.Go(func() { d.follow(ctx, s, starts[i]) })
	}
	wg.Wait()
	return nil
}

// follow delivers the events after cursor to s until ctx is done.
func (d *Dispatcher) follow(ctx context.Context, s Subscription, cursor uint64) {
	saved, skipped := cursor, 0
	save := func() {
		if cursor == saved {
			return
		}
		// Saved even when ctx is done: what was delivered stays delivered.
		if err := d.opts.Cursors.Save(context.WithoutCancel(ctx), s.ID, cursor); err != nil {
			d.log.WarnContext(ctx, "webhook: saving a cursor failed", "subscription", s.ID, "seq", cursor, "err", err)
			return
		}
		saved, skipped = cursor, 0
	}
	defer save()
	for failures := 0; ctx.Err() == nil; failures++ {
		for e, err := range d.svc.Follow(ctx, cursor) {
			if err != nil {
				d.log.WarnContext(ctx, "webhook: reading the feed failed", "subscription", s.ID, "after", cursor, "err", err)
				break
			}
			failures = 0
			if !s.Selects(e) {
				cursor = e.Seq
				if skipped++; skipped >= saveEvery {
					save()
				}
				continue
			}
			if !d.deliver(ctx, s, e) {
				return // ctx is done
			}
			cursor = e.Seq
			save()
		}
		if !sleep(ctx, d.backoff(failures)) {
			return
		}
	}
}

// deliver POSTs e to s until an attempt is answered with a 2xx status, and reports
// whether it was (false: ctx is done).
func (d *Dispatcher) deliver(ctx context.Context, s Subscription, e store.Event) bool {
	body, err := Marshal(e)
	if err != nil { // a Payload always marshals
		panic("webhook: " + err.Error())
	}
	for attempt := 0; ; attempt++ {
		err := d.attempt(ctx, s, e, body)
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		d.log.WarnContext(ctx, "webhook: delivery failed", "subscription", s.ID, "seq", e.Seq, "attempt", attempt+1, "err", err)
		if !sleep(ctx, d.backoff(attempt)) {
			return false
		}
	}
}

// attempt makes one attempt at delivering body.
func (d *Dispatcher) attempt(ctx context.Context, s Subscription, e store.Event, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "tenantry-webhook/1")
	req.Header.Set(IdempotencyHeader, strconv.FormatUint(e.Seq, 10))
	req.Header.Set(EventHeader, e.Action)
	req.Header.Set(SignatureHeader, Sign(s.Secret, d.opts.Now(), body))
	resp, err := d.opts.Client.Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("webhook: %s answered %s", s.URL, resp.Status)
	}
	return err
}

// backoff returns the wait after failure number n+1 (n from 0): a random duration
// between MinBackoff/2 and min(MaxBackoff, MinBackoff·2ⁿ).
func (d *Dispatcher) backoff(n int) time.Duration {
	ceil := d.opts.MaxBackoff
	if n < 40 {
		ceil = min(ceil, d.opts.MinBackoff<<n)
	}
	floor := d.opts.MinBackoff / 2
	return floor + time.Duration(rand.Int64N(int64(ceil-floor)+1))
}

// sleep waits d, and reports false when ctx ends first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
