package cli

import (
	"context"
	"errors"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// exitSignals are the signals that end Parley; its exit status is then
// 128 + the signal's number (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 131
// SIGQUIT).
var exitSignals = []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// forceExitAfter is how long Parley gives a command, after a signal, to
// wind down by itself (the request cancelled, the chat closed and the
// terminal restored) before it exits anyway: a read blocked in the kernel,
// on a pipe or FIFO nobody writes to, cannot be cancelled.
const forceExitAfter = 900 * time.Millisecond

// signalError is the cancellation cause of a context ended by a signal.
type signalError struct{ sig syscall.Signal }

func (e *signalError) Error() string { return "interrupted by " + e.sig.String() }

// status is the exit status for the signal.
func (e *signalError) status() int { return 128 + int(e.sig) }

// onSignals returns a context that the first of exitSignals cancels, with
// a *signalError as its cause, and a function that stops listening.
// Signals the process started with ignored (nohup, the SIGINT of a
// background job) stay ignored. If the process is still running
// forceExitAfter after the first signal, force is called with the exit
// status; later signals change nothing.
func onSignals(parent context.Context, force func(status int)) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	for _, s := range exitSignals {
		if !signal.Ignored(s) {
			signal.Notify(ch, s)
		}
	}
	done := make(chan struct{})
	var once sync.Once
	var timer *time.Timer
	var mu sync.Mutex
	go func() {
		select {
		case s := <-ch:
			se := &signalError{sig: s.(syscall.Signal)}
			cancel(se)
			mu.Lock()
			timer = time.AfterFunc(forceExitAfter, func() { force(se.status()) })
			mu.Unlock()
		case <-done:
		}
	}()
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			mu.Lock()
			if timer != nil {
				timer.Stop()
			}
			mu.Unlock()
			cancel(nil)
		})
	}
}

// signalStatus is the exit status of a command that ended with code under
// ctx: 128 + the signal's number when a signal stopped it, else code.
func signalStatus(ctx context.Context, code int) int {
	var se *signalError
	if code != ExitOK && errors.As(context.Cause(ctx), &se) {
		return se.status()
	}
	return code
}

// silenceStdLogger stops the standard logger from writing anywhere. Go's
// HTTP client and server report protocol trouble through it, quoting raw
// bytes from the wire (a gateway's echo of the key among them) straight
// onto the terminal, past Parley's redaction and sanitizing and over the
// chat screen. Parley itself never logs through it.
func silenceStdLogger() {
	log.SetOutput(io.Discard)
	log.SetFlags(0)
}
