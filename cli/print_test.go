package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// panicProvider streams "partial" and then panics, as a broken dialect
// might. Only Stream is ever called.
type panicProvider struct{ provider.Provider }

func (panicProvider) Stream(_ context.Context, _ *provider.Request, emit func(provider.Event)) error {
	emit(provider.TextDelta{Text: "partial"})
	panic("index out of range [3] with length 3")
}

// TestPrintPanickingProvider: a provider that panics mid-answer ends print
// mode with exit 1 and one clear error, the partial answer kept, and in
// JSONL exactly one terminal event.
func TestPrintPanickingProvider(t *testing.T) {
	for _, mode := range []string{"text", "jsonl"} {
		t.Run(mode, func(t *testing.T) {
			var out, errb bytes.Buffer
			a := &app{env: &Env{Stdout: &out, Stderr: &errb}, f: flags{output: mode}}
			err := a.printAnswer(t.Context(), panicProvider{}, session.Settings{Model: "m"}, "hi")
			if code := exitCode(err); code != ExitFailure {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitFailure)
			}
			const want = "internal error: the provider failed unexpectedly (index out of range [3] with length 3)"
			var ee *exitError
			if !errors.As(err, &ee) || ee.Error() != want {
				t.Fatalf("error %q, want %q", err, want)
			}
			if mode == "text" {
				// Reported once, by the printer, in order; nothing more.
				if out.String() != "partial\n" || errb.String() != "parley: "+want+"\n" || !ee.silent {
					t.Fatalf("stdout %q, stderr %q, silent %v", out.String(), errb.String(), ee.silent)
				}
				return
			}
			if ee.silent || errb.Len() != 0 {
				t.Fatalf("jsonl: the caller must report the error on stderr (silent %v, stderr %q)", ee.silent, errb.String())
			}
			var types []string
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var ev struct{ Type, Text, Message string }
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				types = append(types, ev.Type)
				if ev.Type == "error" && !strings.Contains(ev.Message, "index out of range") {
					t.Fatalf("error event %s", line)
				}
			}
			if strings.Join(types, ",") != "text,error" {
				t.Fatalf("events %v, want text then exactly one error", types)
			}
		})
	}
}

// TestPrintExitCodes: the finished turn alone decides the exit code.
func TestPrintExitCodes(t *testing.T) {
	cases := []struct {
		name string
		end  provider.Event
		code int
		out  string
	}{
		{"done", provider.Done{FinishReason: "stop"}, ExitOK, "answer\n"},
		{"error", provider.Error{Err: &provider.APIError{Kind: provider.KindHTTP, Status: 500, Message: "boom"}}, ExitFailure, "answer\n"},
		{"cancelled", provider.Error{Err: &provider.APIError{Kind: provider.KindCanceled}}, ExitInterrupted, "answer\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			a := &app{env: &Env{Stdout: &out, Stderr: &errb}, f: flags{output: "text"}}
			p := scripted{evs: []provider.Event{provider.TextDelta{Text: "answer"}, c.end}}
			err := a.printAnswer(t.Context(), p, session.Settings{Model: "m"}, "hi")
			if exitCode(err) != c.code || out.String() != c.out {
				t.Fatalf("exit %d (%v), stdout %q, stderr %q", exitCode(err), err, out.String(), errb.String())
			}
		})
	}
}

// scripted streams its events and returns. Only Stream is ever called.
type scripted struct {
	provider.Provider
	evs []provider.Event
}

func (s scripted) Stream(_ context.Context, _ *provider.Request, emit func(provider.Event)) error {
	for _, ev := range s.evs {
		emit(ev)
	}
	return nil
}
