package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/parley-chat/parley/provider"
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

// redact removes every occurrence of secret from s, however it is written
// (see provider.Redactor). Secrets too short to be real keys are left
// alone rather than mangling ordinary text.
func redact(s, secret string) string {
	return provider.NewRedactor(secret).Clean(s)
}

// redactWriter passes bytes through to w with every occurrence of a secret
// replaced, by the same rules as the events' guard, even when the secret
// is split across writes: it holds back a tail that could be the start of
// the secret (or of an escape sequence inside it) until the next write or
// Flush. It is not safe for concurrent use.
type redactWriter struct {
	w       io.Writer
	r       *provider.Redactor
	pending string
}

// newRedactWriter wraps w; with a secret too short to redact it returns a
// writer that passes everything through.
func newRedactWriter(w io.Writer, secret string) *redactWriter {
	return &redactWriter{w: w, r: provider.NewRedactor(secret)}
}

func (r *redactWriter) Write(p []byte) (int, error) {
	if r.r == nil {
		return r.w.Write(p)
	}
	out, held := r.r.Filter(r.pending+string(p), false)
	r.pending = held
	if out != "" {
		if _, err := io.WriteString(r.w, out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Flush writes whatever was held back.
func (r *redactWriter) Flush() error {
	if r.pending == "" {
		return nil
	}
	out, _ := r.r.Filter(r.pending, true)
	r.pending = ""
	_, err := io.WriteString(r.w, out)
	return err
}
