package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestVersionAndHelp: the real binary reports a version, and a
// subcommand's help lists only the flags it takes.
func TestVersionAndHelp(t *testing.T) {
	line := regexp.MustCompile(`^parley (v\S+|\(devel\))( \(commit [0-9a-f]+.*\))? go1\.\S+ \w+/\w+\n$`)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := parley(t, runOpts{}, args...)
		if r.code != 0 || r.stderr != "" || !line.MatchString(r.stdout) {
			t.Errorf("parley %s: exit %d, stdout %q, stderr %q", args[0], r.code, r.stdout, r.stderr)
		}
	}
	r := parley(t, runOpts{}, "models", "--help")
	if r.code != 0 || strings.Contains(r.stdout, "--temperature") || strings.Contains(r.stdout, "--theme") ||
		!strings.Contains(r.stdout, "--provider") || !strings.Contains(r.stdout, "--output") {
		t.Errorf("models --help: exit %d\n%s", r.code, r.stdout)
	}
	r = parley(t, runOpts{}, "image")
	if r.code != 2 || r.stderr != "parley: image: missing PROMPT — e.g. parley image \"a lighthouse at dusk\"\n" {
		t.Errorf("image without a prompt: exit %d, stderr %q", r.code, r.stderr)
	}
}

// waitForExit waits until the pane's program has exited, then checks
// that the screen and its scrollback show every want: tmux 3.3 may scroll
// what a program printed just before exiting at once off the top of the
// pane. (Its exit status is not checked here: tmux does not always record
// it for a program that exits that fast; the unit tests check it.)
func waitForExit(p *tmuxPane, timeout time.Duration, wants ...string) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for p.display("#{pane_dead}") != "1" {
		if time.Now().After(deadline) {
			p.t.Fatalf("parley did not exit within %v:\n%s", timeout, p.capture())
		}
		time.Sleep(50 * time.Millisecond)
	}
	all := p.run("-L", p.sock, "capture-pane", "-p", "-S", "-", "-t", "t")
	for _, w := range wants {
		if !strings.Contains(all, w) {
			p.t.Errorf("the pane never showed %q:\n%s", w, all)
		}
	}
}

// noKeys empties every variable that could hold a key, whatever the
// machine running the tests exports.
var noKeys = []string{"PARLEY_API_KEY=", "OPENAI_API_KEY=", "CUADRA_API_KEY=", "GEMINI_API_KEY="}

// TestFirstRunSaysHowToStart: parley in a terminal with nothing
// configured names the ways to start instead of only an error.
func TestFirstRunSaysHowToStart(t *testing.T) {
	p := startTUI(t, noKeys)
	waitForExit(p, 10*time.Second, "parley: no gateway is set up yet. To start:",
		"\n  parley config init ", "\n  parley --demo ", "\n  parley --base-url URL -m MODEL ")
}

// modelsGateway is a loopback OpenAI-compatible gateway whose model list
// needs key.
func modelsGateway(t *testing.T, key string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/v1/models" {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+key {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"Invalid API key","code":"invalid_api_key"}}`)
			return
		}
		fmt.Fprint(w, `{"object":"list","data":[{"id":"gamma","object":"model"},{"id":"alpha","object":"model"},{"id":"beta","object":"model"}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestConfigInit drives the setup form in tmux against a loopback
// gateway: a key source that fails the live check, the answers changed,
// a default model picked from the gateway's list, and a file that
// Parley then runs with. A second run keeps the file unless told to
// replace it.
func TestConfigInit(t *testing.T) {
	srv := modelsGateway(t, testKey)
	path := filepath.Join(t.TempDir(), "conf", "parley.toml")
	p := startTUI(t, append(noKeys, "GW_KEY="+testKey), "config", "init", "--config", path)
	const wait = 15 * time.Second
	typeOver := func(text string) {
		p.keys("C-u")
		p.keys("-l", text)
		p.keys("Enter")
	}

	p.waitFor(wait, "Which API does the gateway speak?", "OpenAI-compatible")
	p.keys("Enter")
	p.waitFor(wait, "Base URL", "https://api.openai.com/v1")
	typeOver(srv.URL + "/v1")
	p.waitFor(wait, "Where does the API key come from?")
	p.keys("Enter")
	p.waitFor(wait, "The environment variable's name", "OPENAI_API_KEY")
	typeOver("NOPE_KEY")
	p.waitFor(wait, "The check failed. What now?", "NOPE_KEY is not set in this shell")
	p.keys("Enter") // change the answers

	p.waitFor(wait, "Which API does the gateway speak?")
	p.keys("Enter")
	p.waitFor(wait, "Base URL", srv.URL+"/v1")
	p.keys("Enter")
	p.waitFor(wait, "Where does the API key come from?")
	p.keys("Enter")
	p.waitFor(wait, "The environment variable's name", "NOPE_KEY")
	typeOver("GW_KEY")
	p.waitFor(wait, "Default model", "alpha", "beta", "gamma")
	p.keys("Down")
	p.keys("Enter")
	screen := p.waitFor(wait, "Wrote "+path)
	for _, w := range []string{
		"✗ NOPE_KEY is not set in this shell",
		"✓ the key from $GW_KEY works: the gateway offers 3 model(s)",
		"  model     beta",
	} {
		if !strings.Contains(screen, w) {
			t.Errorf("screen lacks %q:\n%s", w, screen)
		}
	}
	if strings.Contains(screen, testKey) {
		t.Errorf("the key is on the screen:\n%s", screen)
	}
	waitForExit(p, wait, "Next: parley")

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, w := range []string{`default_provider = "local"`, "[providers.local]", `dialect = "openai"`,
		`base_url = "` + srv.URL + `/v1"`, `api_key_env = "GW_KEY"`, `default_model = "beta"`, "# API keys are never stored here"} {
		if !strings.Contains(text, w) {
			t.Errorf("config lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, testKey) {
		t.Errorf("the key is in the file")
	}
	for f, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %o (%v)", f, st.Mode().Perm(), want, err)
		}
	}

	// Parley runs with the file as written.
	r := parley(t, runOpts{noKey: true, env: []string{"GW_KEY=" + testKey}}, "--config", path, "models")
	if r.code != 0 || !regexp.MustCompile(`(?m)^beta\s+\(default\)$`).MatchString(r.stdout) {
		t.Errorf("models with the written file: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}

	// A second run asks before replacing the file; "keep" leaves it.
	p2 := startTUI(t, noKeys, "config", "init", "--config", path)
	p2.waitFor(wait, "already exists. Replace it?")
	p2.keys("n")
	waitForExit(p2, wait, "parley: kept "+path+"; nothing written")
	if after, _ := os.ReadFile(path); string(after) != text {
		t.Errorf("the file changed")
	}
}
