package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley/provider"
)

// Runner starts streams on one provider. Each stream runs in its own
// goroutine with a cancellable context.
type Runner struct {
	Provider provider.Provider
	seq      atomic.Uint64
}

// NewRunner returns a runner for p.
func NewRunner(p provider.Provider) *Runner {
	return &Runner{Provider: p}
}

// Run is one stream in flight.
type Run struct {
	// ID is unique among the runner's runs; the UI uses it to drop events
	// from a run it has already given up on.
	ID     uint64
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// Start sends req in a new goroutine and calls emit with every event, in
// order, from that goroutine. Whatever the provider does, emit sees exactly
// one terminal event (Done or Error) and nothing after it: a provider that
// returns without one gets a synthesized one, and a panic in the provider
// becomes an Error event.
func (r *Runner) Start(ctx context.Context, req *provider.Request, emit func(provider.Event)) *Run {
	ctx, cancel := context.WithCancel(ctx)
	run := &Run{ID: r.seq.Add(1), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(run.done)
		defer cancel()
		ended := false
		send := func(ev provider.Event) {
			if ended || ev == nil {
				return
			}
			switch ev.(type) {
			case provider.Done, provider.Error:
				ended = true
			}
			emit(ev)
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

func safeStream(ctx context.Context, p provider.Provider, req *provider.Request, emit func(provider.Event)) (err error) {
	defer func() {
		if v := recover(); v != nil {
			ae := &provider.APIError{Kind: provider.KindStream, Title: "internal error", Message: fmt.Sprint(v)}
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
