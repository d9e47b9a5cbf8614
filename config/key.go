package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parley-chat/parley/provider"
)

// KeyEnv is the environment variable that, when set, supplies the API key
// for whichever provider is in use.
const KeyEnv = "PARLEY_API_KEY"

// DefaultKeyCmdTimeout bounds how long an api_key_cmd may run; a password
// manager may need a moment to unlock.
const DefaultKeyCmdTimeout = 30 * time.Second

// maxKeyCmdOutput bounds what an api_key_cmd may print on stdout: a key is
// one line. A command that prints more is stopped.
const maxKeyCmdOutput = 64 << 10

// keyCmdWaitDelay is how long Parley waits, once the command has exited
// (or been stopped), for the processes it started to let go of its output.
const keyCmdWaitDelay = time.Second

// errKeyCmdOutput stops a command that printed more than maxKeyCmdOutput.
var errKeyCmdOutput = errors.New("api_key_cmd printed too much")

// DialectKeyEnv returns the usual API key variable of a dialect:
// OPENAI_API_KEY, CUADRA_API_KEY or GEMINI_API_KEY ("" for an unknown one).
func DialectKeyEnv(dialect provider.Dialect) string {
	switch dialect {
	case provider.DialectOpenAI:
		return "OPENAI_API_KEY"
	case provider.DialectCuadra:
		return "CUADRA_API_KEY"
	case provider.DialectGemini:
		return "GEMINI_API_KEY"
	}
	return ""
}

// Secret is an API key. Its String, GoString and text forms are redacted,
// so printing one by accident (%v, %s, %#v, JSON) never reveals it; call
// Reveal to get the value for an auth header.
type Secret struct {
	value string
}

// NewSecret wraps a key.
func NewSecret(v string) Secret { return Secret{value: v} }

// Reveal returns the key itself.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether no key is held.
func (s Secret) IsZero() bool { return s.value == "" }

func (s Secret) String() string   { return "[redacted]" }
func (s Secret) GoString() string { return "config.Secret{[redacted]}" }

// MarshalText writes the redacted form.
func (s Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Key is a resolved API key and where it came from.
type Key struct {
	Secret Secret
	// Source says where the key was found, for messages: "PARLEY_API_KEY",
	// "$CUTAD_API_KEY", "api_key_cmd". It never contains the key.
	Source string
}

// MissingKeyError says that no key was found and which variables to set.
type MissingKeyError struct {
	Provider string   // profile name, or "" for a provider given by flags
	Dialect  string   // the provider's dialect
	Vars     []string // environment variables that would supply the key
}

func (e *MissingKeyError) Error() string {
	who := "the " + e.Dialect + " provider"
	if e.Provider != "" {
		who = fmt.Sprintf("provider %q", e.Provider)
	}
	return fmt.Sprintf("no API key for %s: set %s", who, strings.Join(e.Vars, " or "))
}

// KeyCmdError reports a failed api_key_cmd. It carries the command's exit
// status and a short excerpt of its stderr, never its stdout.
type KeyCmdError struct {
	Provider string
	Msg      string
}

func (e *KeyCmdError) Error() string {
	return fmt.Sprintf("api_key_cmd of provider %q %s", e.Provider, e.Msg)
}

// ResolveKey finds the API key for profile p in this order:
//
//  1. PARLEY_API_KEY, when set and not empty;
//  2. the variable named by p.APIKeyEnv, when set and not empty;
//  3. p.APIKeyCmd, run with "sh -c" (stdin closed, at most timeout; the
//     first line of its trimmed stdout is the key);
//  4. only when p names neither api_key_env nor api_key_cmd: the dialect's
//     usual variable (OPENAI_API_KEY, CUADRA_API_KEY, GEMINI_API_KEY).
//
// The environment comes before the command so that a key exported for one
// session overrides the password manager without editing the file. The
// dialect's variable is not consulted for a profile that says where its key
// lives, so a key meant for one vendor is never sent to another gateway.
// p may be an unnamed profile built from flags. A timeout of 0 means
// DefaultKeyCmdTimeout.
func ResolveKey(ctx context.Context, p *Provider, getenv Getenv, timeout time.Duration) (Key, error) {
	k, err := resolveKey(ctx, p, getenv, timeout)
	if err != nil {
		return k, err
	}
	if i := strings.IndexFunc(k.Secret.Reveal(), func(r rune) bool { return r < 0x20 || r == 0x7f || r == utf8.RuneError }); i >= 0 {
		// Such a key cannot go in a header; say where it came from,
		// never what it is.
		return Key{}, fmt.Errorf("the API key from %s contains control characters or invalid UTF-8 (at byte %d): check that source", k.Source, i)
	}
	return k, nil
}

func resolveKey(ctx context.Context, p *Provider, getenv Getenv, timeout time.Duration) (Key, error) {
	if v := strings.TrimSpace(getenv(KeyEnv)); v != "" {
		return Key{Secret: NewSecret(v), Source: KeyEnv}, nil
	}
	vars := []string{KeyEnv}
	if p.APIKeyEnv != "" {
		if v := strings.TrimSpace(getenv(p.APIKeyEnv)); v != "" {
			return Key{Secret: NewSecret(v), Source: "$" + p.APIKeyEnv}, nil
		}
		vars = append(vars, p.APIKeyEnv)
	}
	if p.APIKeyCmd != "" {
		v, err := runKeyCmd(ctx, p, timeout)
		if err != nil {
			return Key{}, err
		}
		return Key{Secret: NewSecret(v), Source: "api_key_cmd"}, nil
	}
	if p.APIKeyEnv == "" {
		if name := DialectKeyEnv(p.Dialect); name != "" {
			if v := strings.TrimSpace(getenv(name)); v != "" {
				return Key{Secret: NewSecret(v), Source: "$" + name}, nil
			}
			vars = append(vars, name)
		}
	}
	return Key{}, &MissingKeyError{Provider: p.Name, Dialect: string(p.Dialect), Vars: vars}
}

func runKeyCmd(ctx context.Context, p *Provider, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = DefaultKeyCmdTimeout
	}
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	cmd := exec.CommandContext(ctx, "sh", "-c", p.APIKeyCmd)
	var stderr bytes.Buffer
	stdout := &limitedBuffer{buf: &bytes.Buffer{}, max: maxKeyCmdOutput, full: func() { stop(errKeyCmdOutput) }}
	cmd.Stdout = stdout
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 4096}
	// A grandchild that keeps the pipes open must not hang us after the
	// command has exited or been stopped.
	cmd.WaitDelay = keyCmdWaitDelay
	err := cmd.Run()
	out := strings.TrimSpace(stdout.buf.String())
	if first, _, ok := strings.Cut(out, "\n"); ok {
		out = strings.TrimSpace(first)
	}
	switch {
	case context.Cause(ctx) == errKeyCmdOutput:
		return "", &KeyCmdError{Provider: p.Name, Msg: fmt.Sprintf(
			"printed more than %d KB on stdout and was stopped (it should print the key, one line)", maxKeyCmdOutput>>10)}
	case parent.Err() != nil:
		// The user pressed Ctrl+C at the password manager's prompt.
		return "", parent.Err()
	case ctx.Err() == context.DeadlineExceeded:
		return "", &KeyCmdError{Provider: p.Name, Msg: fmt.Sprintf("timed out after %s", timeout)}
	case errors.Is(err, exec.ErrWaitDelay):
		return "", &KeyCmdError{Provider: p.Name, Msg: fmt.Sprintf(
			"exited, but a process it started still held its output open %s later: start background processes "+
				"with their output redirected (>/dev/null 2>&1), or use exec for the last command", keyCmdWaitDelay)}
	case err != nil:
		msg := "failed"
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg = fmt.Sprintf("failed (%s)", ee.ProcessState.String())
		} else if errors.Is(err, exec.ErrNotFound) {
			msg = "failed: sh not found"
		} else {
			msg = "failed: " + err.Error()
		}
		if e := stderrExcerpt(stderr.String(), out); e != "" {
			msg += ": " + e
		}
		return "", &KeyCmdError{Provider: p.Name, Msg: msg}
	}
	if out == "" {
		msg := "printed nothing on stdout"
		if e := stderrExcerpt(stderr.String(), ""); e != "" {
			msg += " (stderr: " + e + ")"
		}
		return "", &KeyCmdError{Provider: p.Name, Msg: msg}
	}
	return out, nil
}

// stderrExcerpt returns the last non-empty line of a command's stderr,
// printable characters only, at most 200 runes, with anything the command
// printed on stdout removed from it.
func stderrExcerpt(stderr, stdout string) string {
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := ""
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.TrimSpace(lines[i]) != "" {
			last = lines[i]
			break
		}
	}
	if stdout != "" {
		last = strings.ReplaceAll(last, stdout, "[redacted]")
	}
	var b strings.Builder
	n := 0
	for _, r := range last {
		if !unicode.IsPrint(r) && r != ' ' {
			continue
		}
		if n == 200 {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimSpace(b.String())
}

// limitedBuffer keeps at most max bytes of what is written to it and
// drops the rest; full, if set, is called once when something is dropped.
type limitedBuffer struct {
	buf     *bytes.Buffer
	max     int
	full    func()
	tripped bool
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := l.max - l.buf.Len(); n > room {
		if l.full != nil && !l.tripped {
			l.tripped = true
			l.full()
		}
		p = p[:max(room, 0)]
	}
	l.buf.Write(p)
	return n, nil
}
