package cli

import (
	"context"
	"io"
	"syscall"
	"testing"
	"time"
)

func TestReadPromptEndsWithContext(t *testing.T) {
	r, w := io.Pipe() // a writer that never writes, like (sleep 25; echo x) | parley
	defer w.Close()
	a := &app{env: &Env{Stdin: r}}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := a.readPrompt(ctx, []string{"hi"})
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if exitCode(err) != ExitInterrupted {
			t.Fatalf("err = %v (exit %d), want an interruption", err, exitCode(err))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("readPrompt still blocked on stdin after its context ended")
	}
}

func TestSignalsCancelWithTheirExitStatus(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGQUIT} {
		forced := make(chan int, 1)
		ctx, stop := onSignals(context.Background(), func(status int) { forced <- status })
		if err := syscall.Kill(syscall.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not cancel the context", sig)
		}
		if got, want := signalStatus(ctx, ExitInterrupted), 128+int(sig); got != want {
			t.Errorf("%v: exit status %d, want %d", sig, got, want)
		}
		if got := signalStatus(ctx, ExitOK); got != ExitOK {
			t.Errorf("%v: a command that succeeded anyway exits %d", sig, got)
		}
		// A command that does not wind down is ended all the same.
		select {
		case st := <-forced:
			if st != 128+int(sig) {
				t.Errorf("%v: forced exit status %d", sig, st)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("%v: no forced exit", sig)
		}
		stop()
	}
	if got := signalStatus(context.Background(), ExitInterrupted); got != ExitInterrupted {
		t.Errorf("without a signal: %d", got)
	}
}
