package session

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/parley-chat/parley/provider"
)

// DefaultMaxHold is the longest a request is held back for a rate-limit
// reset. A reset further away (a daily limit) is not waited for in
// silence: the request goes out and the gateway's answer says what is
// wrong.
const DefaultMaxHold = 5 * time.Minute

// PaceKey names one rate-limit budget: a gateway profile and a model.
// Gateways count requests per key and model, so chats on the same
// profile and model share one budget, and chats on different models do
// not.
type PaceKey struct {
	Provider string
	Model    string
}

// PacerOptions configure a Pacer. The zero value is the real clock and
// DefaultMaxHold.
type PacerOptions struct {
	// MaxHold bounds how long a request is held back; 0 means
	// DefaultMaxHold.
	MaxHold time.Duration
	// Now and Sleep are the clock, for tests; nil means time.Now and a
	// sleep that ends early when the context is cancelled.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Pacer asks gateways at a pace they accept, rather than being refused
// and queued: it keeps one Gate per (provider, model), fed by the
// rate-limit headers of every response, and holds a request back while
// its budget has nothing left until the reset. It also keeps the
// rate-limit state shown for each (provider, model), so every chat on one
// shows the same figures. A Pacer is safe for concurrent use; one is
// shared by every chat of a process (ChatOptions.Pacer).
type Pacer struct {
	maxHold time.Duration
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error

	mu     sync.Mutex
	gates  map[PaceKey]*Gate
	limits map[PaceKey]*RateLimits
}

// NewPacer returns a Pacer with no budget known yet: every first request
// goes out at once.
func NewPacer(o PacerOptions) *Pacer {
	p := &Pacer{maxHold: o.MaxHold, now: o.Now, sleep: o.Sleep,
		gates: map[PaceKey]*Gate{}, limits: map[PaceKey]*RateLimits{}}
	if p.maxHold <= 0 {
		p.maxHold = DefaultMaxHold
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.sleep == nil {
		p.sleep = provider.Sleep
	}
	return p
}

// Gate returns the gate of one budget, made on first use.
func (p *Pacer) Gate(k PaceKey) *Gate {
	p.mu.Lock()
	defer p.mu.Unlock()
	g := p.gates[k]
	if g == nil {
		g = &Gate{maxHold: p.maxHold, windows: map[string]*paceWindow{}}
		p.gates[k] = g
	}
	return g
}

// Limits returns the rate-limit state shown for one budget, made on
// first use.
func (p *Pacer) Limits(k PaceKey) *RateLimits {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.limits[k]
	if l == nil {
		l = &RateLimits{}
		p.limits[k] = l
	}
	return l
}

// Wrap returns a provider that streams through prov, each request first
// passing the gate of (prov's name, the request's model). While the gate
// holds a request the stream emits a Paced event (one per wait) and
// waits; cancelling the context ends the wait with a cancellation. Every
// RateLimit event the stream emits feeds the gate.
func (p *Pacer) Wrap(prov provider.Provider) provider.Provider {
	if prov == nil {
		return nil
	}
	return pacedProvider{Provider: prov, pacer: p}
}

// pacedProvider is a provider behind a Pacer (see Pacer.Wrap).
type pacedProvider struct {
	provider.Provider
	pacer *Pacer
}

func (pp pacedProvider) Stream(ctx context.Context, req *provider.Request, emit func(provider.Event)) error {
	g := pp.pacer.Gate(PaceKey{Provider: pp.Name(), Model: req.Model})
	for {
		wait, scope := g.Reserve(pp.pacer.now())
		if wait <= 0 {
			break
		}
		emit(provider.Paced{Scope: scope, Wait: wait})
		if err := pp.pacer.sleep(ctx, wait); err != nil {
			return provider.Finish(emit, &provider.APIError{Kind: provider.KindCanceled, Title: "canceled",
				Message: "request canceled while waiting for the rate limit", Cause: err})
		}
	}
	return pp.Provider.Stream(ctx, req, func(ev provider.Event) {
		if rl, ok := ev.(provider.RateLimit); ok {
			g.Observe(rl)
		}
		emit(ev)
	})
}

// Gate is the pacing state of one (provider, model) budget: for each
// rate-limit scope, the limit, what remains and when the window resets,
// as the gateway last reported them and as the requests sent since have
// spent them. It is safe for concurrent use.
type Gate struct {
	maxHold time.Duration

	mu      sync.Mutex
	windows map[string]*paceWindow
}

// paceWindow is one scope's budget. remaining is -1 when unknown; reset
// is zero when unknown or when the window has rolled over.
type paceWindow struct {
	limit, remaining int
	reset            time.Time
}

// sameWindow is how far apart two reports' resets may be and still name
// one window (gateways round resets to whole seconds).
const sameWindow = time.Second

// Observe records a scope's state as a response reported it. A report
// about the window already known keeps the lower remaining count (a
// response may overtake an earlier one, and requests sent since may not
// have been counted in it yet); a report about an older window is
// ignored; a later window replaces the state.
func (g *Gate) Observe(rl provider.RateLimit) {
	if rl.Remaining < 0 {
		return // nothing to pace by
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.windows[rl.Scope]
	if w != nil && !w.reset.IsZero() && !rl.Reset.IsZero() {
		switch d := rl.Reset.Sub(w.reset); {
		case d < -sameWindow:
			return
		case d <= sameWindow:
			w.limit = rl.Limit
			w.remaining = min(w.remaining, rl.Remaining)
			if w.remaining < 0 {
				w.remaining = rl.Remaining
			}
			return
		}
	}
	g.windows[rl.Scope] = &paceWindow{limit: rl.Limit, remaining: rl.Remaining, reset: rl.Reset}
}

// Reserve asks to send one request at now. When some scope has nothing
// left until a reset no further away than the gate's longest hold, it
// returns how long to wait and the scope, and reserves nothing: ask again
// after the wait. Otherwise it counts the request against the requests
// scope and returns zero. A window whose reset has passed starts again
// full.
func (g *Gate) Reserve(now time.Time) (time.Duration, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var wait time.Duration
	scope := ""
	names := make([]string, 0, len(g.windows))
	for name := range g.windows {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		w := g.windows[name]
		if !w.reset.IsZero() && !now.Before(w.reset) {
			w.remaining, w.reset = w.limit, time.Time{}
			continue
		}
		if w.remaining == 0 && !w.reset.IsZero() {
			if d := w.reset.Sub(now); d <= g.maxHold && d > wait {
				wait, scope = d, name
			}
		}
	}
	if wait > 0 {
		return wait, scope
	}
	if w := g.windows["requests"]; w != nil && w.remaining > 0 {
		w.remaining--
	}
	return 0, ""
}
