package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes of the parley command.
const (
	ExitOK          = 0   // success
	ExitFailure     = 1   // API, network or stream error
	ExitUsage       = 2   // usage or configuration error
	ExitInterrupted = 130 // cancelled (128 + SIGINT); Main reports 128 + whichever signal it was
)

// exitError carries an exit code with an error. silent errors have already
// been reported and print nothing more.
type exitError struct {
	code   int
	err    error
	silent bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageErrorf is a usage or configuration error: exit code 2.
func usageErrorf(format string, args ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, args...)}
}

// failure is an API, network or stream error: exit code 1.
func failure(err error) error {
	return &exitError{code: ExitFailure, err: err}
}

// exitCode maps an error returned by a command to the process exit code.
// Errors not marked otherwise come from flag parsing, argument checks or
// configuration, so they are usage errors.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitUsage
}

// redact removes every occurrence of secret from s. Secrets too short to be
// real keys are left alone rather than mangling ordinary text.
func redact(s, secret string) string {
	if len(secret) < minSecretLen {
		return s
	}
	return strings.ReplaceAll(s, secret, "[redacted]")
}

const minSecretLen = 6

// redactWriter passes bytes through to w with every occurrence of a secret
// replaced, even when the secret is split across writes: it holds back the
// shortest tail that could be the start of the secret until the next write
// or Flush. It is not safe for concurrent use.
type redactWriter struct {
	w       io.Writer
	secret  []byte
	pending []byte
}

// newRedactWriter wraps w; with a secret too short to redact it returns a
// writer that passes everything through.
func newRedactWriter(w io.Writer, secret string) *redactWriter {
	r := &redactWriter{w: w}
	if len(secret) >= minSecretLen {
		r.secret = []byte(secret)
	}
	return r
}

func (r *redactWriter) Write(p []byte) (int, error) {
	if r.secret == nil {
		return r.w.Write(p)
	}
	buf := append(r.pending, p...)
	buf = bytes.ReplaceAll(buf, r.secret, []byte("[redacted]"))
	hold := 0
	for k := min(len(r.secret)-1, len(buf)); k > 0; k-- {
		if bytes.HasSuffix(buf, r.secret[:k]) {
			hold = k
			break
		}
	}
	out := buf[:len(buf)-hold]
	r.pending = append([]byte(nil), buf[len(buf)-hold:]...)
	if len(out) > 0 {
		if _, err := r.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes whatever was held back.
func (r *redactWriter) Flush() error {
	if len(r.pending) == 0 {
		return nil
	}
	_, err := r.w.Write(r.pending)
	r.pending = nil
	return err
}
