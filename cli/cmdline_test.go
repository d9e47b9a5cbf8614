package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func TestVersionFrom(t *testing.T) {
	vcs := func(rev, when, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev},
			{Key: "vcs.time", Value: when}, {Key: "vcs.modified", Value: modified}}
	}
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"release", debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}}, "v1.4.0"},
		{"nothing recorded", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)"},
		{"empty version", debug.BuildInfo{}, "(devel)"},
		{"checkout", debug.BuildInfo{
			Main:     debug.Module{Version: "v0.0.0-20261202014505-d285bd61e40e"},
			Settings: vcs("d285bd61e40ed572e6404e5038644075ae2c1518", "2026-12-02T01:45:05Z", "false"),
		}, "v0.0.0-20261202014505-d285bd61e40e (commit d285bd61e40e, 2026-12-02 01:45 UTC)"},
		{"checkout with changes", debug.BuildInfo{
			Main:     debug.Module{Version: "v0.0.0-20261202014505-d285bd61e40e+dirty"},
			Settings: vcs("d285bd61e40ed572e6404e5038644075ae2c1518", "2026-12-02T01:45:05Z", "true"),
		}, "v0.0.0-20261202014505-d285bd61e40e+dirty (commit d285bd61e40e, 2026-12-02 01:45 UTC, with uncommitted changes)"},
		{"vcs without a module version", debug.BuildInfo{
			Main:     debug.Module{Version: "(devel)"},
			Settings: vcs("abc123", "garbage", "false"),
		}, "(devel) (commit abc123)"},
	}
	for _, tt := range tests {
		if got := versionFrom(&tt.info); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestVersionFlagAndCommand(t *testing.T) {
	line := regexp.MustCompile(`^parley \S.* go1\.\S+ \w+/\w+\n$`)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		stdout, stderr, code := run(t, map[string]string{}, args...)
		if code != 0 || stderr != "" || !line.MatchString(stdout) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
		if !strings.Contains(stdout, Version()) {
			t.Errorf("%q: %q lacks %q", args, stdout, Version())
		}
	}
}

// flagsOf lists the names of the flags a command's --help shows.
func flagsOf(t *testing.T, args ...string) []string {
	t.Helper()
	stdout, stderr, code := run(t, map[string]string{}, append(args, "--help")...)
	if code != 0 {
		t.Fatalf("%q --help: exit %d: %s", args, code, stderr)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([\w-]+)`).FindAllStringSubmatch(stdout, -1) {
		names = append(names, m[1])
	}
	return names
}

// TestHelpListsOnlyFlagsThatApply: each command's help shows its own flags
// and the groups it reads, nothing else.
func TestHelpListsOnlyFlagsThatApply(t *testing.T) {
	provider := []string{"config", "provider", "dialect", "base-url", "demo", "max-retries", "idle-timeout", "header-timeout"}
	model := []string{"model"}
	request := []string{"system", "temperature", "top-p", "max-tokens", "stop", "reasoning", "reasoning-budget", "tools", "json-schema", "ui-stream"}
	chat := []string{"print", "output", "show-reasoning", "raw", "theme", "hide-reasoning", "continue", "continue-last", "no-save"}
	tests := []struct {
		args []string
		want []string
	}{
		{nil, slices.Concat([]string{"version", "help"}, chat, provider, model, request)},
		{[]string{"models"}, slices.Concat([]string{"output", "help"}, provider, model)},
		{[]string{"usage"}, slices.Concat([]string{"output", "help"}, provider)},
		{[]string{"image"}, slices.Concat([]string{"size", "quality", "count", "out", "format", "help"}, provider, model)},
		{[]string{"config", "init"}, []string{"config", "help"}},
		{[]string{"config", "path"}, []string{"config", "help"}},
		{[]string{"version"}, []string{"help"}},
		{[]string{"sessions"}, []string{"output", "limit", "help"}},
		{[]string{"sessions", "search"}, []string{"output", "limit", "help"}},
		{[]string{"sessions", "export"}, []string{"format", "output", "help"}},
		{[]string{"sessions", "show"}, []string{"help"}},
	}
	for _, tt := range tests {
		got := flagsOf(t, tt.args...)
		if !slices.Equal(got, tt.want) {
			t.Errorf("parley %s --help lists\n  %q\nwant\n  %q", strings.Join(tt.args, " "), got, tt.want)
		}
	}
	stdout, _, _ := run(t, map[string]string{}, "models", "--help")
	if strings.Contains(stdout, "--temperature") {
		t.Errorf("models --help shows --temperature:\n%s", stdout)
	}
	for _, section := range []string{"\nFlags:\n", "\nProvider:\n"} {
		if !strings.Contains(stdout, section) {
			t.Errorf("models --help lacks the section %q:\n%s", section, stdout)
		}
	}
}

// TestEveryFlagHasAGroup: a flag added to the root outside a group would
// silently be offered by no subcommand that needs it.
func TestEveryFlagHasAGroup(t *testing.T) {
	a := &app{env: &Env{Getenv: func(string) string { return "" }}}
	root := a.rootCommand()
	root.InitDefaultHelpFlag()
	root.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" || f.Name == "version" {
			return
		}
		if len(f.Annotations[groupAnnotation]) != 1 {
			t.Errorf("--%s belongs to no flag group", f.Name)
		}
	})
}

// TestFlagsBeforeTheSubcommand: a shared flag works on either side of the
// subcommand's name.
func TestFlagsBeforeTheSubcommand(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	for _, args := range [][]string{{"--demo", "models"}, {"models", "--demo"}} {
		stdout, stderr, code := run(t, env, args...)
		if code != 0 || !strings.Contains(stdout, "demo-fast") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestArgumentErrorsInWords(t *testing.T) {
	env := map[string]string{"XDG_CONFIG_HOME": t.TempDir()}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"image"}, `parley: image: missing PROMPT — e.g. parley image "a lighthouse at dusk"`},
		{[]string{"image", " "}, `parley: image: empty PROMPT — e.g. parley image "a lighthouse at dusk"`},
		{[]string{"models", "gpt-4o"}, `parley: models takes no arguments, but was given "gpt-4o" (see parley models --help)`},
		{[]string{"usage", "today"}, `parley: usage takes no arguments, but was given "today" (see parley usage --help)`},
		{[]string{"version", "x"}, `parley: version takes no arguments, but was given "x" (see parley version --help)`},
		{[]string{"config"}, `parley: config: missing COMMAND — init or path, e.g. parley config init`},
		{[]string{"config", "edit"}, `parley: config: unknown COMMAND "edit" — init or path (see parley config --help)`},
		{[]string{"config", "init", "now"}, `parley: config init takes no arguments, but was given "now" (see parley config init --help)`},
		{[]string{"completion"}, `parley: completion: missing SHELL — bash, fish, powershell or zsh, e.g. parley completion bash`},
		{[]string{"completion", "tcsh"}, `parley: completion: unknown SHELL "tcsh" — bash, fish, powershell or zsh (see parley completion --help)`},
		{[]string{"completion", "bash", "x"}, `parley: completion bash takes no arguments, but was given "x" (see parley completion bash --help)`},
		{[]string{"models", "--temperature", "1"}, `parley: models does not take --temperature (a flag of parley and parley compare; see parley models --help)`},
		{[]string{"config", "init", "--provider", "x"}, `parley: config init does not take --provider (a flag of parley, parley compare, parley image, parley models and parley usage; see parley config init --help)`},
		{[]string{"models", "--frobnicate"}, `parley: unknown flag: --frobnicate (see parley models --help)`},
	}
	for _, tt := range tests {
		stdout, stderr, code := run(t, env, tt.args...)
		if code != ExitUsage || stderr != tt.want+"\n" || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr\n  %q\nwant\n  %q", tt.args, code, stdout, stderr, tt.want)
		}
	}
}

// complete runs the hidden command the shell completion scripts run and
// returns the values offered (descriptions cut off) and the directive.
func complete(t *testing.T, env map[string]string, args ...string) ([]string, string) {
	t.Helper()
	stdout, stderr, code := run(t, env, append([]string{cobra.ShellCompRequestCmd}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %q: exit %d: %s", args, code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	var values []string
	for _, l := range lines[:len(lines)-1] {
		v, _, _ := strings.Cut(l, "\t")
		values = append(values, v)
	}
	return values, lines[len(lines)-1]
}

func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "parley"), 0o700); err != nil {
		t.Fatal(err)
	}
	// The key command would fail the test if completion ran it.
	cfg := `
default_provider = "gw"
[providers.gw]
dialect = "openai"
base_url = "https://gw.example/v1"
api_key_env = "GW_KEY"
models = ["gpt-4o", "claude-sonnet"]
default_model = "gpt-4o"
[providers.gem]
dialect = "gemini"
base_url = "https://g.example/v1beta"
api_key_cmd = "touch ` + filepath.Join(dir, "ran") + `"
models = ["gemini-2.5-pro"]
default_model = "gemini-2.5-flash"
`
	if err := os.WriteFile(filepath.Join(dir, "parley", "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.toml")
	if err := os.WriteFile(other, []byte("[providers.solo]\ndialect = \"cuadra\"\nbase_url = \"https://c.example/v1\"\nmodels = [\"m1\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"XDG_CONFIG_HOME": dir}
	const noFiles = ":4"
	tests := []struct {
		args []string
		want []string
		dir  string
	}{
		{[]string{"--provider", ""}, []string{"gem", "gw"}, noFiles},
		{[]string{"--provider", "g"}, []string{"gem", "gw"}, noFiles},
		{[]string{"-m", ""}, []string{"gpt-4o", "claude-sonnet"}, noFiles},
		{[]string{"--provider", "gem", "-m", ""}, []string{"gemini-2.5-flash", "gemini-2.5-pro"}, noFiles},
		{[]string{"models", "--provider", "gem", "--model", ""}, []string{"gemini-2.5-flash", "gemini-2.5-pro"}, noFiles},
		{[]string{"--config", other, "-m", ""}, []string{"m1"}, noFiles},
		{[]string{"--demo", "-m", ""}, []string{"demo-fast", "demo-think", "demo-image"}, noFiles},
		{[]string{"--dialect", ""}, []string{"openai", "cuadra", "gemini"}, noFiles},
		{[]string{"--theme", ""}, []string{"auto", "dark", "light", "ascii"}, noFiles},
		{[]string{"--output", ""}, []string{"text", "jsonl"}, noFiles},
		{[]string{"models", "--output", ""}, []string{"table", "json"}, noFiles},
		{[]string{"usage", "--output", ""}, []string{"table", "json"}, noFiles},
		{[]string{"--tools", ""}, []string{"none", "ask", "auto"}, noFiles},
		{[]string{"image", "--quality", ""}, []string{"standard", "hd"}, noFiles},
		{[]string{"image", "--out", ""}, nil, ":16"},
		{[]string{"--config", ""}, []string{"toml"}, ":8"},
		{[]string{"config", ""}, []string{"init", "path"}, noFiles},
	}
	for _, tt := range tests {
		got, dirv := complete(t, env, tt.args...)
		if !slices.Equal(got, tt.want) || dirv != tt.dir {
			t.Errorf("complete %q = %q %s, want %q %s", tt.args, got, dirv, tt.want, tt.dir)
		}
	}
	// With several profiles and none chosen, -m offers every profile's.
	two := filepath.Join(dir, "two.toml")
	err := os.WriteFile(two, []byte("[providers.a]\ndialect = \"openai\"\nbase_url = \"https://a.example/v1\"\nmodels = [\"x\", \"y\"]\n[providers.b]\ndialect = \"openai\"\nbase_url = \"https://b.example/v1\"\nmodels = [\"y\", \"z\"]\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := complete(t, env, "--config", two, "-m", ""); !slices.Equal(got, []string{"x", "y", "z"}) {
		t.Errorf("several profiles: %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "ran")); err == nil {
		t.Errorf("completion ran api_key_cmd")
	}
}

func TestUIStreamWarningOutsideCuadra(t *testing.T) {
	rec := &recorder{}
	srv := rec.server(t)
	env := map[string]string{"PARLEY_API_KEY": "sk-test-0123456789", "XDG_CONFIG_HOME": t.TempDir()}
	stdout, stderr, code := run(t, env, "-p", "hi", "-m", "M", "--base-url", srv.URL+"/v1", "--ui-stream")
	want := "parley: warning: --ui-stream applies only to the cuadra dialect; " + strings.TrimPrefix(srv.URL, "http://") + " speaks openai, so it is ignored\n"
	if code != 0 || stdout != "ok\n" || stderr != want {
		t.Errorf("exit %d, stdout %q, stderr\n  %q\nwant\n  %q", code, stdout, stderr, want)
	}
}

// TestFirstRunHint: in a terminal with nothing configured, parley says
// how to start; elsewhere the error stays one line.
func TestFirstRunHint(t *testing.T) {
	dir := t.TempDir()
	runTerm := func(env map[string]string, terminal bool, args ...string) (string, int) {
		var out, errb bytes.Buffer
		e := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return env[k] },
			StdinIsTerminal: terminal, StdoutIsTerminal: terminal, StderrIsTerminal: terminal}
		code := Run(context.Background(), args, e)
		return errb.String(), code
	}
	env := map[string]string{"XDG_CONFIG_HOME": filepath.Join(dir, "cfg"), "HOME": dir}
	stderr, code := runTerm(env, true, "-p", "hi")
	want := `parley: no gateway is set up yet. To start:
  parley config init               answer a few questions; writes ~/cfg/parley/config.toml
  parley --demo                    try Parley on its built-in demo gateway (no key, no network)
  parley --base-url URL -m MODEL   use a gateway once, with the key in PARLEY_API_KEY
`
	if code != ExitUsage || stderr != want {
		t.Errorf("exit %d, stderr\n%s\nwant\n%s", code, stderr, want)
	}
	oneLine := func(stderr string) bool {
		return strings.HasPrefix(stderr, "parley: no provider configured") && strings.Count(stderr, "\n") == 1 &&
			strings.Contains(stderr, "parley config init")
	}
	if stderr, code := runTerm(env, false, "-p", "hi"); code != ExitUsage || !oneLine(stderr) {
		t.Errorf("not a terminal: exit %d, %q", code, stderr)
	}
	env["OPENAI_API_KEY"] = "sk-test-0123456789"
	if stderr, code := runTerm(env, true, "-p", "hi"); code != ExitUsage || !oneLine(stderr) {
		t.Errorf("key in the environment: exit %d, %q", code, stderr)
	}
}

// TestModelsTableAndJSON: the table gains a NAME column when the gateway
// names its models, and the JSON carries the fields models --help lists.
func TestModelsTableAndJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"data":[{"id":"model_b","name":"Beta Large","provider":"acme"},{"id":"model_a","name":"model_a"}],"hasMore":false}`)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"PARLEY_API_KEY": "sk-test-0123456789", "XDG_CONFIG_HOME": t.TempDir()}
	args := []string{"models", "--dialect", "cuadra", "--base-url", srv.URL + "/v1", "-m", "model_b"}
	stdout, stderr, code := run(t, env, args...)
	want := "MODEL    NAME        OWNED BY  CREATED\nmodel_a  model_a               \nmodel_b  Beta Large  acme        (default)\n"
	if code != 0 || stdout != want {
		t.Errorf("exit %d, stderr %q, table\n%q\nwant\n%q", code, stderr, stdout, want)
	}
	stdout, _, code = run(t, env, append(args, "--output", "json")...)
	var got []map[string]any
	if err := json.Unmarshal([]byte(stdout), &got); code != 0 || err != nil || len(got) != 2 ||
		got[1]["id"] != "model_b" || got[1]["name"] != "Beta Large" || got[1]["owned_by"] != "acme" {
		t.Errorf("json: exit %d, %v, %s", code, err, stdout)
	}
	for _, m := range got {
		for k := range m {
			if !slices.Contains([]string{"id", "name", "owned_by", "created"}, k) {
				t.Errorf("field %q is not among those models --help names", k)
			}
		}
	}
}
