package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The chat screen as a person uses it in the first minutes: pasting,
// long lines, the keys that must not lose the chat, the status bar at 80
// columns, commands and their messages.

// paste puts text in the pane as a bracketed paste, as a terminal does
// when text is pasted into it.
func (p *tmuxPane) paste(text string) {
	p.t.Helper()
	f := filepath.Join(p.t.TempDir(), "paste.txt")
	if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.run("-L", p.sock, "load-buffer", "-b", "p", f)
	p.run("-L", p.sock, "paste-buffer", "-p", "-d", "-b", "p", "-t", "t")
}

// cursor is the terminal cursor's position in the pane.
func (p *tmuxPane) cursor() (x, y int) {
	xy := strings.Split(p.display("#{cursor_x},#{cursor_y}"), ",")
	x, _ = strconv.Atoi(xy[0])
	y, _ = strconv.Atoi(xy[1])
	return x, y
}

// exited waits for parley to exit (the pane stays, remain-on-exit).
func (p *tmuxPane) exited(timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p.display("#{pane_dead}") == "1" {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// editorRows are the screen's rows between the rule above the editor and
// the status bar, without the "> " prompt.
func editorRows(screen string) []string {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	rule := -1
	for i, l := range lines {
		if strings.HasPrefix(l, "────") {
			rule = i
		}
	}
	var rows []string
	for _, l := range lines[rule+1 : len(lines)-1] {
		rows = append(rows, strings.TrimRight(strings.TrimPrefix(l, "> "), " "))
	}
	return rows
}

func statusRow(screen string) string {
	s := strings.TrimRight(screen, "\n")
	return s[strings.LastIndexByte(s, '\n')+1:]
}

// lastPrompt is the last user message of the gateway's last request.
func lastPrompt(t *testing.T, g *gateway) string {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.bodies) == 0 {
		t.Fatal("the gateway got no request")
	}
	var req struct {
		Messages []struct{ Role, Content string } `json:"messages"`
	}
	if err := json.Unmarshal(g.bodies[len(g.bodies)-1], &req); err != nil || len(req.Messages) == 0 {
		t.Fatalf("request %s: %v", g.bodies[len(g.bodies)-1], err)
	}
	return req.Messages[len(req.Messages)-1].Content
}

func answerOK(w http.ResponseWriter, _ *http.Request, n int) {
	writeSSE(w, textChunk(fmt.Sprintf("ANSWER-%d done.", n)), stopChunk)
}

// TestTUIPasteIsShownAsSent: at 100×30, a 5-line bracketed paste shows
// line by line in the editor; a 200-word line shows its end with the
// cursor after it; what the gateway gets is what was shown.
func TestTUIPasteIsShownAsSent(t *testing.T) {
	g := newGateway(t, answerOK)
	p := startTUISized(t, 100, 30, []string{keyEnv}, g.args("--theme", "dark")...)
	p.waitFor(15*time.Second, "Ask anything")

	lines := []string{"alpha line", "beta line", "gamma line", "delta line", "epsilon line"}
	p.paste(strings.Join(lines, "\n"))
	screen := p.waitFor(10*time.Second, "> epsilon line")
	if got := editorRows(screen); strings.Join(got, "\n") != strings.Join(lines, "\n") {
		t.Fatalf("editor after a 5-line paste:\n%s", screen)
	}
	p.keys("-l", "Z")
	screen = p.waitFor(10*time.Second, "> epsilon lineZ")
	shown := strings.Join(editorRows(screen), "\n")
	t.Logf("5-line paste:\n%s", screen)
	p.keys("Enter")
	p.waitFor(15*time.Second, "ANSWER-1 done.")
	if got := lastPrompt(t, g); got != shown {
		t.Fatalf("sent %q, shown %q", got, shown)
	}

	var words []string
	for i := 1; i <= 200; i++ {
		words = append(words, fmt.Sprintf("w%04d", i))
	}
	p.paste(strings.Join(words, " "))
	screen = p.waitFor(10*time.Second, "w0199 w0200")
	rows := editorRows(screen)
	last := rows[len(rows)-1]
	if !strings.HasSuffix(last, "w0199 w0200") {
		t.Fatalf("the editor does not end with the line's end:\n%s", screen)
	}
	x, y := p.cursor()
	if wantY := strings.Count(strings.TrimRight(screen, "\n"), "\n") - 1; y != wantY || x != len("> ")+len(last) {
		t.Fatalf("cursor at %d,%d, want %d,%d (after w0200):\n%s", x, y, len("> ")+len(last), wantY, screen)
	}
	t.Logf("200-word line:\n%s", screen)
	p.keys("Enter")
	p.waitFor(15*time.Second, "ANSWER-2 done.")
	if got := lastPrompt(t, g); got != strings.Join(words, " ") {
		t.Fatalf("sent %q", got)
	}
}

// TestTUILongPasteFolds: a paste of 2,000 lines shows as one token in the
// editor and in the transcript; the gateway gets every line.
func TestTUILongPasteFolds(t *testing.T) {
	g := newGateway(t, answerOK)
	p := startTUISized(t, 100, 30, []string{keyEnv}, g.args("--theme", "dark")...)
	p.waitFor(15*time.Second, "Ask anything")
	var b strings.Builder
	for i := 1; i <= 2000; i++ {
		fmt.Fprintf(&b, "log line %04d\n", i)
	}
	p.keys("-l", "explain ")
	p.paste(b.String())
	p.waitFor(10*time.Second, "> explain [pasted #1 · 2,000 lines · 27 KB]")
	p.keys("Enter")
	screen := p.waitFor(15*time.Second, "ANSWER-1 done.", "explain [pasted #1 · 2,000 lines · 27 KB]")
	if strings.Contains(screen, "log line 0001") {
		t.Fatalf("the paste was echoed whole:\n%s", screen)
	}
	if got := lastPrompt(t, g); got != "explain "+b.String() {
		t.Fatalf("sent %d bytes, want %d", len(got), len(b.String())+8)
	}
	p.keys("M-p") // unfolds it in the transcript
	p.waitFor(10*time.Second, "log line 0001")
}

// TestTUIKeysThatMustNotQuit: with text in the input ctrl+d deletes; a
// ctrl+c that stops an answer, followed at once by another, leaves the
// chat running and says how to quit; esc stops an answer too.
func TestTUIKeysThatMustNotQuit(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\n\n", textChunk(fmt.Sprintf("PARTIAL-%d so far", n)))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // hold until parley hangs up
	})
	p := startTUI(t, []string{keyEnv}, g.args("--theme", "dark")...)
	p.waitFor(15*time.Second, "Ask anything")
	p.keys("-l", "draft")
	p.keys("C-a", "C-d")
	p.waitFor(10*time.Second, "> raft")
	if p.display("#{pane_dead}") == "1" {
		t.Fatal("ctrl+d with a draft quit")
	}
	p.keys("C-u")
	p.keys("-l", "question one")
	p.keys("Enter")
	p.waitFor(15*time.Second, "PARTIAL-1 so far")
	p.keys("C-c")
	p.keys("C-c")
	screen := p.waitFor(10*time.Second, "interrupted", "press ctrl+c again to quit")
	if p.display("#{pane_dead}") == "1" {
		t.Fatalf("the second ctrl+c quit:\n%s", screen)
	}
	t.Logf("after ctrl+c ctrl+c:\n%s", screen)
	// Esc stops the next answer.
	p.keys("-l", "question two")
	p.keys("Enter")
	p.waitFor(15*time.Second, "PARTIAL-2 so far")
	p.keys("Escape")
	screen = p.waitFor(10*time.Second, "stopped — the partial answer is kept")
	if strings.Count(screen, "■ interrupted") != 2 {
		t.Fatalf("esc did not stop the answer:\n%s", screen)
	}
	p.keys("C-d")
	if !p.exited(10 * time.Second) {
		t.Fatal("ctrl+d on an empty input did not quit")
	}
}

// TestTUIStatusBarAndCommandsAt80Columns: on the demo at 80 columns, after
// a tool call the status bar still names the model and the state; an
// unknown command's message reads in full in the transcript; /quit quits.
func TestTUIStatusBarAndCommandsAt80Columns(t *testing.T) {
	p := startTUISized(t, 80, 24, []string{"PARLEY_DEMO_SPEED=instant"}, "--demo", "--theme", "dark")
	screen := p.waitFor(10*time.Second, "Welcome to Parley", "parley config init")
	t.Logf("first screen:\n%s", screen)
	p.keys("-l", "What is the weather in Paris?")
	p.keys("Enter")
	screen = p.waitFor(20*time.Second, "tool call get_weather", "y allow once")
	bar := statusRow(screen)
	if !strings.Contains(bar, "demo-fast") || !strings.Contains(bar, "tool call: allow?") {
		t.Fatalf("status bar %q lacks the model or the state:\n%s", bar, screen)
	}
	t.Logf("asking about a tool call:\n%s", screen)
	p.keys("y")
	screen = p.waitFor(20*time.Second, "Weather in Paris", "done")
	if bar := statusRow(screen); !strings.Contains(bar, "demo-fast") || !strings.Contains(bar, "done") {
		t.Fatalf("status bar %q lacks the model or the state:\n%s", bar, screen)
	}
	t.Logf("after a tool call:\n%s", screen)
	p.keys("-l", "/frobnicate")
	p.keys("Enter")
	p.waitFor(10*time.Second, "! unknown command /frobnicate — /help lists the commands")
	p.keys("-l", "/quit")
	p.keys("Enter")
	if !p.exited(10 * time.Second) {
		t.Fatalf("/quit did not quit:\n%s", p.capture())
	}
}
