package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/fixtures"
)

// tmuxPane runs one command in a private tmux server (its own socket), in a
// pane of fixed size (120×40 unless said otherwise), and reads the screen
// back.
type tmuxPane struct {
	t    testing.TB
	sock string
	env  []string
}

var tmuxSeq atomic.Int64

// startTUI runs parley with args in tmux. env holds extra environment
// variables (such as the API key): they reach parley through the tmux
// server's environment, never through any command line.
func startTUI(t testing.TB, env []string, args ...string) *tmuxPane {
	t.Helper()
	return startPane(t, env, append([]string{parleyBin}, args...)...)
}

// startTUISized is startTUI in a pane of cols×rows cells.
func startTUISized(t testing.TB, cols, rows int, env []string, args ...string) *tmuxPane {
	t.Helper()
	return startPaneSized(t, cols, rows, env, append([]string{parleyBin}, args...)...)
}

// startPane runs the command argv in a fresh private tmux server.
func startPane(t testing.TB, env []string, argv ...string) *tmuxPane {
	t.Helper()
	return startPaneSized(t, 120, 40, env, argv...)
}

// startPaneSized is startPane in a pane of cols×rows cells.
func startPaneSized(t testing.TB, cols, rows int, env []string, argv ...string) *tmuxPane {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		fixtures.Missing(t, "tmux is not installed: the TUI end-to-end tests need it (.ci/run installs it)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "tmux.conf")
	// remain-on-exit keeps the screen readable if parley exits early;
	// set-clipboard on makes tmux honour OSC 52, so a leak would show up
	// as a paste buffer.
	if err := os.WriteFile(conf, []byte("set -g remain-on-exit on\nset -g set-clipboard on\nset -g status off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &tmuxPane{t: t, sock: fmt.Sprintf("parley-e2e-%d-%d", os.Getpid(), tmuxSeq.Add(1)),
		env: append(os.Environ(), append([]string{"TERM=xterm-256color", "XDG_CONFIG_HOME=" + dir,
			"XDG_DATA_HOME=" + filepath.Join(dir, "data"), "NO_COLOR="}, env...)...)}
	t.Cleanup(func() { _ = exec.Command("tmux", "-L", p.sock, "kill-server").Run() })
	cmd := append([]string{"-L", p.sock, "-f", conf, "new-session", "-d", "-x", strconv.Itoa(cols), "-y", strconv.Itoa(rows), "-s", "t"}, argv...)
	p.run(cmd...)
	return p
}

func (p *tmuxPane) run(args ...string) string {
	p.t.Helper()
	c := exec.Command("tmux", args...)
	c.Env = p.env
	out, err := c.CombinedOutput()
	if err != nil {
		p.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (p *tmuxPane) capture() string {
	return p.run("-L", p.sock, "capture-pane", "-p", "-t", "t")
}

func (p *tmuxPane) display(format string) string {
	return strings.TrimSpace(p.run("-L", p.sock, "display-message", "-p", "-t", "t", format))
}

func (p *tmuxPane) keys(keys ...string) {
	p.run(append([]string{"-L", p.sock, "send-keys", "-t", "t"}, keys...)...)
}

// waitFor polls the screen until every want is on it.
func (p *tmuxPane) waitFor(timeout time.Duration, wants ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	var screen string
	for {
		screen = p.capture()
		missing := ""
		for _, w := range wants {
			if !strings.Contains(screen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return screen
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("screen never showed %q within %v:\n%s", missing, timeout, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cpuTime reads the user+system CPU time of the pane's process.
func (p *tmuxPane) cpuTime() time.Duration {
	p.t.Helper()
	pid := p.display("#{pane_pid}")
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		p.t.Skipf("cannot read CPU time of pid %s: %v", pid, err)
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / clkTck
}

// chatServer is a loopback OpenAI-compatible gateway that streams the
// given reasoning and answer with rate-limit headers.
func chatServer(t *testing.T, reasoning, answer string, chunk int) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/models") {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"object":"list","data":[{"id":"M","object":"model"}]}`)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("X-RateLimit-Limit", "20")
		w.Header().Set("X-RateLimit-Remaining", "7")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(42*time.Second).Unix(), 10))
		bw := bufio.NewWriterSize(w, 64<<10)
		send := func(field, text string) {
			for len(text) > 0 {
				n := min(chunk, len(text))
				for n < len(text) && !isRuneStart(text[n]) {
					n++
				}
				delta, _ := json.Marshal(map[string]string{field: text[:n]})
				fmt.Fprintf(bw, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"M\",\"choices\":[{\"index\":0,\"delta\":%s}]}\n\n", delta)
				text = text[n:]
			}
		}
		send("reasoning_content", reasoning)
		bw.Flush()
		w.(http.Flusher).Flush()
		send("content", answer)
		fmt.Fprint(bw, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"M\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":50,\"total_tokens\":55}}\n\ndata: [DONE]\n\n")
		bw.Flush()
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

func openaiArgs(srv *httptest.Server, prompt string) []string {
	return []string{"--dialect", "openai", "--base-url", srv.URL + "/v1", "-m", "M", "--theme", "dark", prompt}
}

const keyEnv = "OPENAI_API_KEY=sk-e2e-secret-key-0123456789"

func TestTUIRendersMarkdownReasoningAndRateLimit(t *testing.T) {
	answer := "# Release notes\n\nThis is **important** and this is *subtle*.\n\n- first item\n- second item\n\n```go\nfmt.Println(\"hello from parley\")\n```\n\nThe end.\n"
	srv := chatServer(t, "The user asks a question; I will answer with a heading and some code.", answer, 7)
	p := startTUI(t, []string{keyEnv}, openaiArgs(srv, "question")...)
	screen := p.waitFor(15*time.Second, "The end.", "done")
	for _, want := range []string{"question", "Release notes", "important", `fmt.Println("hello from parley")`, "Thought for", "7/20"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("screen lacks %q:\n%s", want, screen)
		}
	}
	for _, bad := range []string{"# Release", "**important**", "```", "sk-e2e-secret"} {
		if strings.Contains(screen, bad) {
			t.Fatalf("screen shows %q:\n%s", bad, screen)
		}
	}
	t.Logf("screen:\n%s", screen)
	p.keys("C-c")
}

func TestTUIHostileAnswerDoesNotDriveTheTerminal(t *testing.T) {
	answer := "BEFORE-MARK \x1b]52;c;cHduZWQ=\x07 clip \x1b]0;PWNED-TITLE\x07 title \x1b[2J\x1b[H clear \x1bP1$r0m\x1b\\ dcs AFTER-MARK\n"
	srv := chatServer(t, "", answer, 5)
	p := startTUI(t, []string{keyEnv}, openaiArgs(srv, "tell me")...)
	p.waitFor(15*time.Second, "▌ you")
	title := p.display("#{pane_title}")
	screen := p.waitFor(15*time.Second, "AFTER-MARK", "done")
	if got := p.display("#{pane_title}"); got != title || strings.Contains(got, "PWNED") {
		t.Fatalf("pane title changed: %q → %q", title, got)
	}
	if !strings.Contains(screen, "BEFORE-MARK") || !strings.Contains(screen, "clip") || !strings.Contains(screen, "dcs AFTER-MARK") {
		t.Fatalf("surrounding text not intact:\n%s", screen)
	}
	if !strings.Contains(screen, "tell me") || !strings.Contains(screen, "▌ you") {
		t.Fatalf("the screen was cleared:\n%s", screen)
	}
	if bufs := strings.TrimSpace(p.run("-L", p.sock, "list-buffers")); bufs != "" {
		t.Fatalf("OSC 52 reached the terminal's clipboard: %s", bufs)
	}
}

func TestTUIDemo(t *testing.T) {
	p := startTUI(t, []string{"PARLEY_DEMO_SPEED=instant"}, "--demo", "--theme", "dark")
	p.waitFor(10*time.Second, "Ask anything")
	p.keys("-l", "What can you show me?")
	p.keys("Enter")
	screen := p.waitFor(20*time.Second, "done", "Things to try")
	status := screen[strings.LastIndex(strings.TrimRight(screen, "\n"), "\n")+1:]
	if !strings.Contains(status, "req ") {
		t.Fatalf("status bar %q lacks the rate limit", status)
	}
	// The answer is longer than the screen: Home shows the prompt above it.
	p.keys("Home")
	p.waitFor(5*time.Second, "What can you show me?")
}

// longMarkdown builds a realistic markdown answer of about n bytes.
func longMarkdown(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "## Section %d\n\nA paragraph with **bold**, *emphasis* and `code`, long enough to wrap across the width of the pane several times over so that the renderer has real work to do on every line.\n\n- item one of %d\n- item two with a [link](https://example.com/%d)\n\n```go\nfunc f%d() int {\n\treturn %d\n}\n```\n\n", i, i, i, i, i)
	}
	return b.String()
}

func TestTUICPUGrowsLinearly(t *testing.T) {
	if testing.Short() {
		t.Skip("CPU linearity streams 350 KB of markdown")
	}
	measure := func(size int) time.Duration {
		srv := chatServer(t, "", longMarkdown(size)+"\nFINAL-LINE\n", 16)
		p := startTUI(t, []string{keyEnv}, openaiArgs(srv, "long")...)
		p.waitFor(120*time.Second, "FINAL-LINE", "done")
		cpu := p.cpuTime()
		p.keys("C-d")
		return cpu
	}
	small := measure(70 << 10)
	large := measure(280 << 10)
	ratio := float64(large) / float64(max(small, 10*time.Millisecond))
	t.Logf("CPU time: 70 KB answer %v, 280 KB answer %v, ratio %.2f", small, large, ratio)
	if ratio > 7 {
		t.Fatalf("4× the answer cost %.1f× the CPU (want ≤ 7×)", ratio)
	}
	// The race detector's instrumentation multiplies CPU time several
	// times over; the ratio above is what must hold either way.
	limit := 10 * time.Second
	if raceBuild {
		limit *= 10
	}
	if large > limit {
		t.Fatalf("280 KB answer took %v of CPU (limit %v)", large, limit)
	}
}
