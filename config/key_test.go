package config

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const secretValue = "sk-test-7f3c9a1b2d4e"

func TestResolveKey(t *testing.T) {
	tests := []struct {
		name     string
		p        Provider
		env      map[string]string
		want     string // the key, or "" when an error is expected
		source   string
		missing  []string // variables the missing-key error must name
		notNamed []string // variables it must not name
	}{
		{
			name:   "PARLEY_API_KEY wins over everything",
			p:      Provider{Name: "a", Dialect: "openai", APIKeyEnv: "A_KEY", APIKeyCmd: "echo from-cmd"},
			env:    map[string]string{"PARLEY_API_KEY": "k-parley", "A_KEY": "k-a", "OPENAI_API_KEY": "k-openai"},
			want:   "k-parley",
			source: "PARLEY_API_KEY",
		},
		{
			name:   "api_key_env before api_key_cmd",
			p:      Provider{Name: "a", Dialect: "openai", APIKeyEnv: "A_KEY", APIKeyCmd: "echo from-cmd"},
			env:    map[string]string{"A_KEY": "k-a", "OPENAI_API_KEY": "k-openai"},
			want:   "k-a",
			source: "$A_KEY",
		},
		{
			name:   "api_key_cmd when api_key_env is empty",
			p:      Provider{Name: "a", Dialect: "openai", APIKeyEnv: "A_KEY", APIKeyCmd: "echo '  from-cmd  '; echo 'second line'"},
			env:    map[string]string{"A_KEY": "", "OPENAI_API_KEY": "k-openai"},
			want:   "from-cmd",
			source: "api_key_cmd",
		},
		{
			name:   "dialect variable for a profile that names no source",
			p:      Provider{Name: "g", Dialect: "gemini"},
			env:    map[string]string{"GEMINI_API_KEY": "k-gem", "OPENAI_API_KEY": "k-openai"},
			want:   "k-gem",
			source: "$GEMINI_API_KEY",
		},
		{
			name:   "dialect variable for cuadra",
			p:      Provider{Dialect: "cuadra"},
			env:    map[string]string{"CUADRA_API_KEY": "k-cu"},
			want:   "k-cu",
			source: "$CUADRA_API_KEY",
		},
		{
			name:     "api_key_env unset: the dialect variable is not used",
			p:        Provider{Name: "cutad", Dialect: "openai", APIKeyEnv: "CUTAD_API_KEY"},
			env:      map[string]string{"OPENAI_API_KEY": "k-openai"},
			missing:  []string{"PARLEY_API_KEY", "CUTAD_API_KEY"},
			notNamed: []string{"OPENAI_API_KEY"},
		},
		{
			name:    "nothing set for an ad hoc provider",
			p:       Provider{Dialect: "openai"},
			env:     map[string]string{},
			missing: []string{"PARLEY_API_KEY", "OPENAI_API_KEY"},
		},
		{
			name:    "whitespace-only variables count as unset",
			p:       Provider{Dialect: "gemini"},
			env:     map[string]string{"PARLEY_API_KEY": "  ", "GEMINI_API_KEY": "\n"},
			missing: []string{"PARLEY_API_KEY", "GEMINI_API_KEY"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.p
			k, err := ResolveKey(context.Background(), &p, mapEnv(tt.env), 5*time.Second)
			if tt.want != "" {
				if err != nil {
					t.Fatal(err)
				}
				if k.Secret.Reveal() != tt.want || k.Source != tt.source {
					t.Errorf("got %q from %q, want %q from %q", k.Secret.Reveal(), k.Source, tt.want, tt.source)
				}
				return
			}
			var me *MissingKeyError
			if !errors.As(err, &me) {
				t.Fatalf("error = %v, want *MissingKeyError", err)
			}
			for _, v := range tt.missing {
				if !strings.Contains(err.Error(), v) {
					t.Errorf("%q does not name %s", err, v)
				}
			}
			for _, v := range tt.notNamed {
				if strings.Contains(err.Error(), v) {
					t.Errorf("%q names %s", err, v)
				}
			}
		})
	}
}

func TestKeyCmdFailures(t *testing.T) {
	tests := []struct {
		name    string
		cmd     string
		timeout time.Duration
		want    []string
	}{
		{"exit status with stderr", "echo " + secretValue + "; echo 'vault is locked' >&2; exit 3", 0, []string{"exit status 3", "vault is locked"}},
		{"stderr echoing stdout is redacted", "echo " + secretValue + "; echo 'bad " + secretValue + "' >&2; exit 1", 0, []string{"[redacted]"}},
		{"no output", "true", 0, []string{"printed nothing"}},
		{"no output with stderr", "echo 'not logged in' >&2", 0, []string{"printed nothing", "not logged in"}},
		{"timeout", "echo " + secretValue + "; sleep 10", 300 * time.Millisecond, []string{"timed out after 300ms"}},
		{"command not found", "parley-no-such-command-xyz", 0, []string{"exit status 127"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Provider{Name: "vault", Dialect: "openai", APIKeyCmd: tt.cmd}
			start := time.Now()
			_, err := ResolveKey(context.Background(), p, mapEnv(nil), tt.timeout)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("took %v", elapsed)
			}
			var ke *KeyCmdError
			if !errors.As(err, &ke) {
				t.Fatalf("error = %v, want *KeyCmdError", err)
			}
			if !strings.Contains(err.Error(), `provider "vault"`) {
				t.Errorf("%q does not name the provider", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error reveals the command's output: %q", err)
			}
		})
	}
}

func TestSecretNeverPrints(t *testing.T) {
	k := Key{Secret: NewSecret(secretValue), Source: "PARLEY_API_KEY"}
	b, err := json.Marshal(k)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s", k, k, k, k.Secret), string(b)} {
		if strings.Contains(s, secretValue) {
			t.Errorf("secret printed: %s", s)
		}
	}
	if k.Secret.Reveal() != secretValue || k.Secret.IsZero() {
		t.Error("Reveal lost the value")
	}
}

func TestMissingKeyMessage(t *testing.T) {
	e := &MissingKeyError{Provider: "cutad", Dialect: "openai", Vars: []string{"PARLEY_API_KEY", "CUTAD_API_KEY"}}
	if got, want := e.Error(), `no API key for provider "cutad": set PARLEY_API_KEY or CUTAD_API_KEY`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	e = &MissingKeyError{Dialect: "openai", Vars: []string{"PARLEY_API_KEY", "OPENAI_API_KEY"}}
	if got, want := e.Error(), `no API key for the openai provider: set PARLEY_API_KEY or OPENAI_API_KEY`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestKeyCmdInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := &Provider{Name: "pm", Dialect: "openai", APIKeyCmd: "sleep 10; echo k"}
	done := make(chan error, 1)
	go func() {
		_, err := ResolveKey(ctx, p, func(string) string { return "" }, 30*time.Second)
		done <- err
	}()
	cancel() // Ctrl+C at the password manager's prompt
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled (the CLI turns it into exit 130)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("api_key_cmd was not stopped")
	}
}

func TestKeyWithControlCharacters(t *testing.T) {
	env := func(k string) string {
		if k == KeyEnv {
			return "sk-\x1b[31mred"
		}
		return ""
	}
	_, err := ResolveKey(context.Background(), &Provider{Dialect: "openai"}, env, 0)
	if err == nil || !strings.Contains(err.Error(), KeyEnv) || strings.Contains(err.Error(), "red") {
		t.Fatalf("err = %v", err)
	}
}

// TestKeyCmdOutputBudget: a command that prints for ever is stopped at
// once with a clear error, and one that exits while a process it started
// keeps its output open says so.
func TestKeyCmdOutputBudget(t *testing.T) {
	tests := []struct {
		name, cmd string
		want      string
		within    time.Duration
	}{
		{"prints for ever", "yes " + secretValue, "printed more than 64 KB on stdout and was stopped", 5 * time.Second},
		{"prints for ever from a child", "yes " + secretValue + " | cat", "printed more than 64 KB", 5 * time.Second},
		{"a child holds stdout", "echo " + secretValue + "; (sleep 20 &)", "a process it started still held its output open", 5 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Provider{Name: "vault", Dialect: "openai", APIKeyCmd: tt.cmd}
			start := time.Now()
			_, err := ResolveKey(context.Background(), p, mapEnv(nil), 20*time.Second)
			if elapsed := time.Since(start); elapsed > tt.within {
				t.Errorf("took %v", elapsed)
			}
			var ke *KeyCmdError
			if !errors.As(err, &ke) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("error reveals the output: %q", err)
			}
		})
	}
}
