package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parley-chat/parley/provider"
)

func TestRedactWriter(t *testing.T) {
	const secret = "sk-abcdef123456"
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"no secret", []string{"hello ", "world"}, "hello world"},
		{"whole secret", []string{"key " + secret + " end"}, "key [redacted] end"},
		{"split in two", []string{"key sk-abc", "def123456 end"}, "key [redacted] end"},
		{"split byte by byte", strings.Split("x"+secret+"y", ""), "x[redacted]y"},
		{"prefix that is not the secret", []string{"sk-ab", "cd"}, "sk-abcd"},
		{"held prefix flushed at end", []string{"ends with sk-abc"}, "ends with sk-abc"},
		{"twice", []string{secret + secret}, "[redacted][redacted]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			w := newRedactWriter(&out, secret)
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				if err != nil || n != len(s) {
					t.Fatalf("Write = %d, %v", n, err)
				}
				if strings.Contains(out.String(), secret) {
					t.Fatalf("secret written: %q", out.String())
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %q, want %q", out.String(), tt.want)
			}
		})
	}
	// A short secret is not redacted (it would mangle ordinary text).
	var out bytes.Buffer
	w := newRedactWriter(&out, "ab")
	w.Write([]byte("abc"))
	w.Flush()
	if out.String() != "abc" {
		t.Errorf("short secret: %q", out.String())
	}
}

func TestReadPrompt(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		stdin    string
		terminal bool
		want     string
		wantErr  bool
	}{
		{"argument", []string{"what is Go?"}, "", true, "what is Go?", false},
		{"several arguments", []string{"what", "is", "Go?"}, "", true, "what is Go?", false},
		{"stdin only", nil, "explain this\n", false, "explain this", false},
		{"both", []string{"Summarise:"}, "\nline 1\nline 2\n\n", false, "Summarise:\n\nline 1\nline 2", false},
		{"terminal stdin is not read", []string{"hi"}, "ignored", true, "hi", false},
		{"empty piped stdin", []string{"hi"}, "", false, "hi", false},
		{"nothing", nil, "", false, "", true},
		{"blank", []string{"  "}, " \n ", false, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &app{env: &Env{Stdin: strings.NewReader(tt.stdin), StdinIsTerminal: tt.terminal}}
			got, err := a.readPrompt(context.Background(), tt.args)
			if tt.wantErr {
				if exitCode(err) != ExitUsage {
					t.Errorf("err = %v, want a usage error", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestNewProviderErrorsAreUsageErrors(t *testing.T) {
	if _, err := newProvider(provider.DialectOpenAI, provider.Options{BaseURL: "ftp://x", APIKey: "sk-secret-123"}); exitCode(err) != ExitUsage {
		t.Errorf("bad options: %v", err)
	}
	if _, err := newProvider("klingon", provider.Options{BaseURL: "http://127.0.0.1:1/v1"}); exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "unknown dialect") {
		t.Errorf("unknown dialect: %v", err)
	}
}

// recorder is a loopback gateway that records chat request bodies and
// answers with a fixed stream.
type recorder struct {
	mu     sync.Mutex
	bodies []map[string]any
	auth   []string
}

func (rec *recorder) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &body)
		rec.mu.Lock()
		rec.bodies = append(rec.bodies, body)
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`+"\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &Env{
		Stdin:           strings.NewReader(""),
		Stdout:          &out,
		Stderr:          &errb,
		Getenv:          func(k string) string { return env[k] },
		StdinIsTerminal: true,
	}
	code = Run(context.Background(), args, e)
	return out.String(), errb.String(), code
}

func TestFlagsOverrideConfig(t *testing.T) {
	rec := &recorder{}
	srv := rec.server(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "parley", "config.toml")
	if err := os.MkdirAll(filepath.Dir(cfgPath), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`
default_provider = "gw"
[defaults]
temperature = 0.3
top_p = 0.5
max_tokens = 100
stop = ["END"]
system = "from config"
[providers.gw]
dialect = "openai"
base_url = %q
api_key_cmd = "printf 'key-from-cmd-0123'"
models = ["m-one", "m-two"]
[providers.gw.headers]
X-Team = "t1"
`, srv.URL+"/v1")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_CONFIG_HOME": dir}

	// Config alone: defaults, first model, key from api_key_cmd.
	stdout, stderr, code := run(t, env, "-p", "hi")
	if code != 0 || stdout != "ok\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	b := rec.bodies[0]
	if b["model"] != "m-one" || b["temperature"] != 0.3 || b["top_p"] != 0.5 || b["max_tokens"] != 100.0 ||
		fmt.Sprint(b["stop"]) != "[END]" || !strings.Contains(fmt.Sprint(b["messages"]), "from config") {
		t.Errorf("config request = %v", b)
	}
	if rec.auth[0] != "Bearer key-from-cmd-0123" {
		t.Errorf("auth = %q", rec.auth[0])
	}

	// Flags win; PARLEY_API_KEY wins over the command.
	env["PARLEY_API_KEY"] = "key-from-env-4567"
	_, stderr, code = run(t, env, "-p", "hi", "-m", "m-two", "--temperature", "0", "--top-p", "1",
		"--max-tokens", "7", "--stop", "a,b", "--stop", "c", "--system", "from flag")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b = rec.bodies[1]
	if b["model"] != "m-two" || b["temperature"] != 0.0 || b["top_p"] != 1.0 || b["max_tokens"] != 7.0 ||
		fmt.Sprint(b["stop"]) != "[a,b c]" || !strings.Contains(fmt.Sprint(b["messages"]), "from flag") ||
		strings.Contains(fmt.Sprint(b["messages"]), "from config") {
		t.Errorf("flag request = %v", b)
	}
	if rec.auth[1] != "Bearer key-from-env-4567" {
		t.Errorf("auth = %q", rec.auth[1])
	}

	// --system "" clears the configured system prompt.
	if _, stderr, code = run(t, env, "-p", "hi", "--system", ""); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(fmt.Sprint(rec.bodies[2]["messages"]), "system") {
		t.Errorf("system prompt not cleared: %v", rec.bodies[2]["messages"])
	}

	// --provider with an unknown name is a usage error naming the known ones.
	_, stderr, code = run(t, env, "-p", "hi", "--provider", "nope")
	if code != ExitUsage || !strings.Contains(stderr, `unknown provider "nope" (configured: gw)`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestTUIFlagsNeedPrint(t *testing.T) {
	_, stderr, code := run(t, map[string]string{}, "--output", "jsonl", "hello")
	if code != ExitUsage || !strings.Contains(stderr, "-p") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

func TestDescribeRetry(t *testing.T) {
	got := describeRetry(provider.Retry{Attempt: 1, Max: 2, Status: 429, Wait: 1500e6, Queued: true})
	if got != "queued by the gateway (429), retrying in 1.5s (attempt 1 of 2)" {
		t.Errorf("got %q", got)
	}
	got = describeRetry(provider.Retry{Attempt: 2, Max: 2, Status: 503, Wait: 1e9, Message: "busy"})
	if got != "HTTP 503: busy; retrying in 1s (attempt 2 of 2)" {
		t.Errorf("got %q", got)
	}
	got = describeRetry(provider.Retry{Attempt: 1, Max: 3, Wait: 5e8, Message: "connection refused"})
	if got != "connection failed: connection refused; retrying in 500ms (attempt 1 of 3)" {
		t.Errorf("got %q", got)
	}
}

// TestFlagsHeldToTheFileRules: flag values get the checks file values
// get, at configuration time (exit 2), and nothing is sent.
func TestFlagsHeldToTheFileRules(t *testing.T) {
	rec := &recorder{}
	srv := rec.server(t)
	env := map[string]string{"PARLEY_API_KEY": "sk-test-0123456789", "XDG_CONFIG_HOME": t.TempDir()}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--base-url", srv.URL + "/v1", "--max-retries", "1000000000"}, "--max-retries must be between 0 and 100"},
		{[]string{"--base-url", "http://127.0.0.1:99999/v1"}, "port 99999 is out of range"},
		{[]string{"--base-url", "https://bad..host/v1"}, "not a valid host"},
		{[]string{"--base-url", srv.URL + "/v1", "--header-timeout", "0s"}, "--header-timeout must be positive"},
	} {
		_, stderr, code := run(t, env, append([]string{"-p", "hi", "-m", "M"}, c.args...)...)
		if code != ExitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	if len(rec.bodies) != 0 {
		t.Errorf("%d requests sent", len(rec.bodies))
	}
}
