package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley/provider"
)

// Stamped is one provider event as its stream emitted it: the run that
// produced it and the moment the stream's goroutine emitted it. Stamping
// at the source keeps a timeline true however late the owner gets round
// to the event, and with several streams at once.
type Stamped struct {
	Run   uint64
	At    time.Time
	Event provider.Event
}

// Runner starts streams on one provider. Each stream runs in its own
// goroutine with a cancellable context.
type Runner struct {
	Provider provider.Provider
	// Now stamps the events; nil means time.Now. It is called from the
	// stream goroutines, so it must be safe for concurrent use.
	Now func() time.Time
	seq atomic.Uint64
}

// NewRunner returns a runner for p.
func NewRunner(p provider.Provider) *Runner {
	return &Runner{Provider: p}
}

// Run is one stream in flight.
type Run struct {
	// ID is unique among the runner's runs: every event of the run
	// carries it, so an owner can tell the events of a run it has given
	// up on.
	ID     uint64
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// Start sends req in a new goroutine and calls emit with every event, in
// order, from that goroutine, each stamped with the run's ID and the time
// it was emitted. Whatever the provider does, emit sees exactly one
// terminal event (Done or Error) and nothing after it: a provider that
// returns without one gets a synthesized one, and a panic in the provider
// becomes an Error event.
func (r *Runner) Start(ctx context.Context, req *provider.Request, emit func(Stamped)) *Run {
	ctx, cancel := context.WithCancel(ctx)
	run := &Run{ID: r.seq.Add(1), cancel: cancel, done: make(chan struct{})}
	now := r.Now
	if now == nil {
		now = time.Now
	}
	go func() {
		defer close(run.done)
		defer cancel()
		ended := false
		send := func(ev provider.Event) {
			if ended || ev == nil {
				return
			}
			ended = Terminal(ev)
			emit(Stamped{Run: run.ID, At: now(), Event: ev})
		}
		err := safeStream(ctx, r.Provider, req, send)
		run.mu.Lock()
		run.err = err
		run.mu.Unlock()
		if ended {
			return
		}
		switch {
		case ctx.Err() != nil:
			send(provider.Error{Err: &provider.APIError{Kind: provider.KindCanceled, Title: "cancelled", Cause: ctx.Err()}})
		case err != nil:
			var ae *provider.APIError
			if !errors.As(err, &ae) {
				ae = &provider.APIError{Kind: provider.KindNetwork, Message: err.Error(), Cause: err}
			}
			send(provider.Error{Err: ae})
		default:
			send(provider.Done{})
		}
	}()
	return run
}

// Terminal reports whether ev ends a stream: Done or Error.
func Terminal(ev provider.Event) bool {
	switch ev.(type) {
	case provider.Done, provider.Error:
		return true
	}
	return false
}

func safeStream(ctx context.Context, p provider.Provider, req *provider.Request, emit func(provider.Event)) (err error) {
	defer func() {
		if v := recover(); v != nil {
			ae := &provider.APIError{Kind: provider.KindStream, Title: "internal error",
				Message: fmt.Sprintf("the provider failed unexpectedly (%v)", v)}
			emit(provider.Error{Err: ae})
			err = ae
		}
	}()
	if p == nil {
		return &provider.APIError{Kind: provider.KindStream, Title: "no provider configured"}
	}
	return p.Stream(ctx, req, emit)
}

// Cancel asks the stream to stop. The terminal event still follows.
func (r *Run) Cancel() { r.cancel() }

// Done is closed when the stream's goroutine has returned, after its
// terminal event was emitted.
func (r *Run) Done() <-chan struct{} { return r.done }

// Err is what the provider's Stream returned; valid after Done is closed.
func (r *Run) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}
