package session

import (
	"sort"
	"sync"
	"time"

	"github.com/parley-chat/parley/provider"
)

// Phase is where a request stands, as the status bar shows it.
type Phase int

// The phases of a request.
const (
	PhaseIdle        Phase = iota // nothing sent yet
	PhaseConnecting               // sent, no answer yet
	PhaseQueued                   // the gateway holds the request in its queue (429 with auto-queue)
	PhaseRetrying                 // the request failed and will be sent again
	PhaseStreaming                // the answer is arriving
	PhaseDone                     // the answer is complete
	PhaseInterrupted              // the user cancelled
	PhaseError                    // the request failed for good
	PhaseWaiting                  // held back before sending: the rate limit has nothing left until its reset
)

// String is the phase's lower-case name.
func (p Phase) String() string {
	switch p {
	case PhaseConnecting:
		return "connecting"
	case PhaseQueued:
		return "queued"
	case PhaseRetrying:
		return "retrying"
	case PhaseStreaming:
		return "streaming"
	case PhaseDone:
		return "done"
	case PhaseInterrupted:
		return "interrupted"
	case PhaseError:
		return "error"
	case PhaseWaiting:
		return "waiting"
	}
	return "idle"
}

// Active reports whether a request is under way in this phase.
func (p Phase) Active() bool {
	return p == PhaseConnecting || p == PhaseQueued || p == PhaseRetrying || p == PhaseStreaming || p == PhaseWaiting
}

// StreamState is the queue and retry state of the current request, folded
// from its events. Print mode, the TUI and compare mode share it. It is not
// safe for concurrent use.
type StreamState struct {
	Phase Phase
	// Attempt and MaxRetries describe the latest retry (Attempt 1 is the
	// first retry); RetryAt is when it will be sent, or, while the phase
	// is PhaseWaiting, when the paced request will be.
	Attempt    int
	MaxRetries int
	RetryAt    time.Time
	Status     int    // HTTP status of the latest failure
	Message    string // the gateway's words about the latest retry or error
	// Since is when the current attempt went out (the request at Begin, a
	// retry when its wait is over): until the answer begins, the wait for
	// the gateway is counted from it.
	Since time.Time
}

// Begin resets the state for a new request sent now.
func (s *StreamState) Begin() {
	*s = StreamState{Phase: PhaseConnecting, Since: time.Now()}
}

// Apply folds one event into the state at time now.
func (s *StreamState) Apply(ev provider.Event, now time.Time) {
	switch e := ev.(type) {
	case provider.Retry:
		s.Attempt, s.MaxRetries, s.Status, s.Message = e.Attempt, e.Max, e.Status, e.Message
		s.RetryAt = now.Add(e.Wait)
		s.Since = s.RetryAt
		if e.Queued {
			s.Phase = PhaseQueued
		} else {
			s.Phase = PhaseRetrying
		}
	case provider.Paced:
		s.Phase = PhaseWaiting
		s.RetryAt = now.Add(e.Wait)
	case provider.RateLimit:
		// Headers arrive only once the held request has gone out.
		if s.Phase == PhaseWaiting {
			s.Phase, s.RetryAt = PhaseConnecting, time.Time{}
		}
	case provider.TextDelta, provider.ReasoningDelta, provider.ToolCallEvent, provider.Started:
		if s.Phase != PhaseStreaming {
			s.Phase = PhaseStreaming
			s.RetryAt = time.Time{}
		}
	case provider.Done:
		s.Phase = PhaseDone
	case provider.Error:
		if e.Err != nil && e.Err.Kind == provider.KindCanceled {
			s.Phase = PhaseInterrupted
			return
		}
		s.Phase = PhaseError
		if e.Err != nil {
			s.Status, s.Message = e.Err.Status, e.Err.Message
		}
	}
}

// Interrupt marks the request as cancelled by the user.
func (s *StreamState) Interrupt() {
	if s.Phase.Active() {
		s.Phase = PhaseInterrupted
	}
}

// RetryIn is the time left before the pending retry at now; zero when it is
// due or there is none.
func (s *StreamState) RetryIn(now time.Time) time.Duration {
	if s.RetryAt.IsZero() || !now.Before(s.RetryAt) {
		return 0
	}
	return s.RetryAt.Sub(now)
}

// RateLimits keeps the latest rate-limit state per scope. It is safe for
// concurrent use, so several panes or a print loop may share one.
type RateLimits struct {
	mu      sync.Mutex
	byScope map[string]provider.RateLimit
	order   map[string]int
}

// Update records rl as the latest state of its scope.
func (r *RateLimits) Update(rl provider.RateLimit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byScope == nil {
		r.byScope = map[string]provider.RateLimit{}
		r.order = map[string]int{}
	}
	if _, ok := r.order[rl.Scope]; !ok {
		r.order[rl.Scope] = len(r.order)
	}
	r.byScope[rl.Scope] = rl
}

// Snapshot returns the latest state of every scope, in the order the
// scopes were first seen.
func (r *RateLimits) Snapshot() []provider.RateLimit {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]provider.RateLimit, 0, len(r.byScope))
	for _, rl := range r.byScope {
		out = append(out, rl)
	}
	sort.Slice(out, func(i, j int) bool { return r.order[out[i].Scope] < r.order[out[j].Scope] })
	return out
}

// Reset forgets every scope.
func (r *RateLimits) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byScope, r.order = nil, nil
}
