package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// sessionsEnv is an environment with its own data and config directories
// and a key for the loopback gateway.
func sessionsEnv(t *testing.T) map[string]string {
	dir := t.TempDir()
	return map[string]string{"XDG_DATA_HOME": filepath.Join(dir, "data"), "XDG_CONFIG_HOME": filepath.Join(dir, "config"),
		"PARLEY_API_KEY": "sk-cli-test-key-42"}
}

func listSessions(t *testing.T, env map[string]string) []map[string]any {
	t.Helper()
	out, stderr, code := run(t, env, "sessions", "--output", "json")
	if code != 0 {
		t.Fatalf("sessions: exit %d: %s", code, stderr)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("sessions --output json: %v\n%s", err, out)
	}
	return list
}

func TestPrintModeIsSavedAndResumed(t *testing.T) {
	rec := &recorder{}
	srv := rec.server(t)
	env := sessionsEnv(t)
	gw := []string{"--base-url", srv.URL + "/v1", "-m", "m-1"}
	for _, prompt := range []string{"first question", "second question"} {
		if _, stderr, code := run(t, env, append([]string{"-p", prompt}, gw...)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	list := listSessions(t, env)
	if len(list) != 2 || list[0]["title"] != "second question" || list[1]["title"] != "first question" ||
		list[0]["model"] != "m-1" || list[0]["messages"] != 2.0 || list[0]["created"] == nil {
		t.Fatalf("listing %v", list)
	}
	first := list[1]["id"].(string)

	// -C continues the latest; the request carries its messages.
	if _, stderr, code := run(t, env, append([]string{"-C", "-p", "and then?"}, gw...)...); code != 0 {
		t.Fatalf("-C: exit %d: %s", code, stderr)
	}
	if got := messagesOf(rec.bodies[2]); got != "second question|ok|and then?" {
		t.Fatalf("-C request carries %q", got)
	}
	// -c with a prefix continues that one, with its saved model unless -m
	// says otherwise.
	if _, stderr, code := run(t, env, "-c", first[:6], "-p", "more", "--base-url", srv.URL+"/v1"); code != 0 {
		t.Fatalf("-c: exit %d: %s", code, stderr)
	}
	if got := messagesOf(rec.bodies[3]); got != "first question|ok|more" || rec.bodies[3]["model"] != "m-1" {
		t.Fatalf("-c request carries %q with model %v", got, rec.bodies[3]["model"])
	}
	if list := listSessions(t, env); len(list) != 2 || list[0]["id"] != first || list[0]["messages"] != 4.0 {
		t.Fatalf("after resuming: %v", list)
	}
	// An unknown or ambiguous ID is a usage error.
	if _, stderr, code := run(t, env, append([]string{"-c", "zzzz", "-p", "x"}, gw...)...); code != ExitUsage || !strings.Contains(stderr, "no saved conversation") {
		t.Fatalf("unknown id: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run(t, env, append([]string{"-c", "x", "-C", "-p", "x"}, gw...)...); code != ExitUsage || !strings.Contains(stderr, "cannot be combined") {
		t.Fatalf("-c and -C: exit %d, %s", code, stderr)
	}
	// --no-save and save = false keep a conversation out.
	if _, stderr, code := run(t, env, append([]string{"-p", "secret stuff", "--no-save"}, gw...)...); code != 0 {
		t.Fatalf("--no-save: exit %d: %s", code, stderr)
	}
	cfg := filepath.Join(env["XDG_CONFIG_HOME"], "parley", "config.toml")
	os.MkdirAll(filepath.Dir(cfg), 0o700)
	os.WriteFile(cfg, []byte("save = false\n"), 0o600)
	if _, stderr, code := run(t, env, append([]string{"-p", "more secret stuff"}, gw...)...); code != 0 {
		t.Fatalf("save = false: exit %d: %s", code, stderr)
	}
	if list := listSessions(t, env); len(list) != 2 {
		t.Fatalf("unsaved conversations listed: %v", list)
	}
	// The key is in no file.
	filepath.Walk(env["XDG_DATA_HOME"], func(path string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), env["PARLEY_API_KEY"]) {
				t.Errorf("%s holds the API key", path)
			}
		}
		return nil
	})
}

// messagesOf joins the contents of a request body's messages.
func messagesOf(body map[string]any) string {
	var out []string
	msgs, _ := body["messages"].([]any)
	for _, m := range msgs {
		out = append(out, fmt.Sprint(m.(map[string]any)["content"]))
	}
	return strings.Join(out, "|")
}

func TestSessionsCommands(t *testing.T) {
	rec := &recorder{}
	srv := rec.server(t)
	env := sessionsEnv(t)
	gw := []string{"--base-url", srv.URL + "/v1", "-m", "m-1"}
	for _, prompt := range []string{"tell me about naïve caching", "something else"} {
		if _, stderr, code := run(t, env, append([]string{"-p", prompt}, gw...)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
	}
	list := listSessions(t, env)
	id := list[1]["id"].(string)

	out, _, code := run(t, env, "sessions", "search", "naive")
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "**naïve**") || strings.Contains(out, "something else") {
		t.Fatalf("search: exit %d\n%s", code, out)
	}
	out, _, _ = run(t, env, "sessions", "search", "--output", "json", "caching")
	var hits []map[string]any
	if err := json.Unmarshal([]byte(out), &hits); err != nil || len(hits) != 1 || hits[0]["id"] != id ||
		hits[0]["highlighted"] != "tell me about naïve **caching**" {
		t.Fatalf("search json: %v\n%s", err, out)
	}
	if _, stderr, code := run(t, env, "sessions", "search", `"`); code != ExitUsage || !strings.Contains(stderr, "nothing to search") {
		t.Fatalf("empty search: exit %d, %s", code, stderr)
	}

	out, _, code = run(t, env, "sessions", "show", id[:5])
	if code != 0 || !strings.Contains(out, "▌ you\ntell me about naïve caching\n") || !strings.Contains(out, "◆ assistant · m-1\nok\n") {
		t.Fatalf("show: exit %d\n%s", code, out)
	}

	out, _, code = run(t, env, "sessions", "export", id)
	if code != 0 || !strings.HasPrefix(out, "---\ntitle: \"tell me about naïve caching\"\n") || !strings.Contains(out, "## m-1\n\nok\n") {
		t.Fatalf("export md: exit %d\n%s", code, out)
	}
	file := filepath.Join(t.TempDir(), "conv.json")
	if _, stderr, code := run(t, env, "sessions", "export", id, "-o", file); code != 0 {
		t.Fatalf("export json: exit %d: %s", code, stderr)
	}
	if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("exported file: %v", err)
	}
	if _, stderr, code := run(t, env, "sessions", "import", file); code != ExitUsage || !strings.Contains(stderr, "saved already") {
		t.Fatalf("import of a saved one: exit %d, %s", code, stderr)
	}
	if out, stderr, code := run(t, env, "sessions", "rename", id, "Caching", "notes"); code != 0 || !strings.Contains(out, "renamed") {
		t.Fatalf("rename: exit %d: %s", code, stderr)
	}
	if out, stderr, code := run(t, env, "sessions", "rm", id); code != 0 || !strings.Contains(out, "deleted "+id) {
		t.Fatalf("rm: exit %d: %s", code, stderr)
	}
	if list := listSessions(t, env); len(list) != 1 {
		t.Fatalf("after rm: %v", list)
	}
	if out, stderr, code := run(t, env, "sessions", "import", file); code != 0 || !strings.Contains(out, "imported "+id) {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	list = listSessions(t, env)
	if len(list) != 2 || list[1]["title"] != "tell me about naïve caching" {
		t.Fatalf("after import: %v", list)
	}
	out, _, _ = run(t, env, "sessions")
	if !strings.Contains(out, "ID") || !strings.Contains(out, id[:8]) || !strings.Contains(out, "something else") {
		t.Fatalf("sessions table:\n%s", out)
	}
	if _, stderr, code := run(t, env, "sessions", "show", "nope"); code != ExitUsage || !strings.Contains(stderr, "no saved conversation") {
		t.Fatalf("show unknown: exit %d, %s", code, stderr)
	}
}

func TestShortIDs(t *testing.T) {
	if got := shortIDs([]string{"abcdef0123", "abcdef0199", "ffff"}); strings.Join(got, " ") != "abcdef012 abcdef019 ffff" {
		t.Fatalf("short ids %q", got)
	}
	if got := shortIDs([]string{"abcdef0123", "12345678ab"}); strings.Join(got, " ") != "abcdef01 12345678" {
		t.Fatalf("short ids %q", got)
	}
	if got := exportName("How do *goroutines* work? A long title that goes on and on and on", "0123456789abcdef"); got != "parley-how-do-goroutines-work-a-long-title-that-01234567.md" {
		t.Fatalf("export name %q", got)
	}
}

func TestShowAndExportOnATerminal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		delta, _ := json.Marshal(map[string]string{"content": "# Title\n\nSome **bold** \x1b]0;PWNED\x07 text.\n\n```go\nx := 1\n```\n"})
		fmt.Fprintf(w, "data: {\"choices\":[{\"index\":0,\"delta\":%s,\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n", delta)
	}))
	t.Cleanup(srv.Close)
	env := sessionsEnv(t)
	if _, stderr, code := run(t, env, "-p", "show me", "--base-url", srv.URL+"/v1", "-m", "m"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	id := listSessions(t, env)[0]["id"].(string)
	tty := func(args ...string) string {
		var out, errb bytes.Buffer
		e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
			StdinIsTerminal: true, StdoutIsTerminal: true, StderrIsTerminal: true}
		if code := Run(context.Background(), args, e); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	shown := tty("sessions", "show", id)
	plain := ansi.Strip(shown)
	if !strings.Contains(plain, "show me") || !strings.Contains(plain, "Some bold") || strings.Contains(plain, "**bold**") ||
		strings.Contains(plain, "```") || !strings.Contains(plain, "x := 1") {
		t.Fatalf("show on a terminal is not rendered:\n%s", plain)
	}
	for name, out := range map[string]string{"show": shown, "export": tty("sessions", "export", id)} {
		if strings.Contains(out, "\x1b]0;") || strings.Contains(out, "\x07") {
			t.Errorf("%s writes the answer's escape sequence to the terminal: %q", name, out)
		}
	}
}

func TestCompleteConversationIDs(t *testing.T) {
	rec := &recorder{}
	srv := rec.server(t)
	env := sessionsEnv(t)
	// Nothing saved yet: no completions, and no database is created.
	out, _, _ := run(t, env, "__complete", "-c", "")
	if strings.Contains(out, "\t") {
		t.Fatalf("completions with nothing saved: %q", out)
	}
	if _, err := os.Stat(filepath.Join(env["XDG_DATA_HOME"], "parley")); err == nil {
		t.Fatal("completing created the data directory")
	}
	if _, stderr, code := run(t, env, "-p", "a titled question", "--base-url", srv.URL+"/v1", "-m", "m"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	id := listSessions(t, env)[0]["id"].(string)
	for _, args := range [][]string{{"__complete", "-c", id[:3]}, {"__complete", "sessions", "show", ""}} {
		out, _, _ := run(t, env, args...)
		if !strings.Contains(out, id+"\ta titled question") {
			t.Errorf("%v: %q", args, out)
		}
	}
}

func TestSessionsArgumentsInWords(t *testing.T) {
	env := sessionsEnv(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"sessions", "bogus"}, `sessions: unknown COMMAND "bogus"`},
		{[]string{"sessions", "show"}, "sessions show: missing ID — e.g. parley sessions show 5f0c"},
		{[]string{"sessions", "show", "a", "b"}, `sessions show takes one ID, but was given "a b"`},
		{[]string{"sessions", "rename", "abc"}, "sessions rename: missing TITLE"},
		{[]string{"sessions", "search"}, "sessions search: missing QUERY"},
		{[]string{"sessions", "list", "x"}, "sessions list takes no arguments"},
		{[]string{"sessions", "--output", "yaml"}, "--output must be text or json"},
	} {
		_, stderr, code := run(t, env, tt.args...)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tt.args, code, stderr, tt.want)
		}
	}
}
