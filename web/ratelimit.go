package web

import (
	"sync"
	"time"
)

// The platform's rate limit: requests per window, per API token.
const (
	DefaultRateLimit  = 150
	DefaultRateWindow = 10 * time.Second
)

// RateLimit is how many requests one actor may make in a window of time.
type RateLimit struct {
	Requests int           // 0 means DefaultRateLimit
	Window   time.Duration // 0 means DefaultRateWindow
}

// Limiter counts requests per key (an actor, a client address) in fixed windows:
// a key's window opens with its first request and lasts Window; up to Requests
// requests are allowed in it, and the rest are refused until it ends. It is safe for
// concurrent use, and forgets the keys whose windows have ended.
type Limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	windows   map[string]*rateWindow
	lastSweep time.Time
}

type rateWindow struct {
	start time.Time
	n     int
}

// NewLimiter returns a Limiter for rl, reading the time from now (time.Now when nil).
func NewLimiter(rl RateLimit, now func() time.Time) *Limiter {
	if rl.Requests <= 0 {
		rl.Requests = DefaultRateLimit
	}
	if rl.Window <= 0 {
		rl.Window = DefaultRateWindow
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{limit: rl.Requests, window: rl.Window, now: now, windows: map[string]*rateWindow{}}
}

// Limit returns the number of requests allowed per window.
func (l *Limiter) Limit() int { return l.limit }

// Allow counts a request of key. It returns the requests left in the key's window
// after this one, and nil; or, when the window is full, a *RateLimitError saying how
// long until it ends.
func (l *Limiter) Allow(key string) (remaining int, err error) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) >= l.window {
		for k, w := range l.windows {
			if now.Sub(w.start) >= l.window {
				delete(l.windows, k)
			}
		}
		l.lastSweep = now
	}
	w := l.windows[key]
	if w == nil || now.Sub(w.start) >= l.window || now.Before(w.start) {
		w = &rateWindow{start: now}
		l.windows[key] = w
	}
	if w.n >= l.limit {
		return 0, &RateLimitError{RetryAfter: w.start.Add(l.window).Sub(now)}
	}
	w.n++
	return l.limit - w.n, nil
}

// keys returns the number of keys the limiter remembers, for tests.
func (l *Limiter) keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.windows)
}
