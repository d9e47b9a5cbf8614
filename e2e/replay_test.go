package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pacedAnswer is an answer a gateway streams in words, 150 ms apart,
// about 1.5 s in all.
var pacedAnswer = []string{"FIRST-WORD ", "streams ", "in ", "slowly, ", "word ", "by ", "word, ", "until ", "the ", "LAST-WORD."}

// recordPaced saves one print-mode conversation whose answer streamed
// with pauses, and returns the data directory and its ID.
func recordPaced(t *testing.T) (string, string) {
	t.Helper()
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, word := range pacedAnswer {
			fmt.Fprintf(w, "data: %s\n\n", textChunk(word))
			w.(http.Flusher).Flush()
			time.Sleep(150 * time.Millisecond) // the gateway's pace, which the replay must keep
		}
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", stopChunk)
	})
	data := t.TempDir()
	if r := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data}}, g.args("-p", "a paced question")...); r.code != 0 {
		t.Fatalf("print mode: exit %d: %s", r.code, r.stderr)
	}
	list := sessionsJSON(t, data)
	if len(list) != 1 {
		t.Fatalf("listed %+v", list)
	}
	return data, list[0].ID
}

// TestReplayInTheChatScreen: parley replay shows the prompt and the
// answer streaming in, pauses and resumes on space, shows the end at
// once with --instant, and quits on q.
func TestReplayInTheChatScreen(t *testing.T) {
	t.Parallel()
	data, id := recordPaced(t)
	env := []string{"XDG_DATA_HOME=" + data}

	// At half speed the answer takes about 3 s: it is seen streaming.
	p := startTUISized(t, 100, 30, env, "replay", id[:6], "--speed", "0.5", "--theme", "dark")
	screen := p.waitFor(15*time.Second, "a paced question", "FIRST-WORD")
	if strings.Contains(screen, "LAST-WORD") {
		// The first word arrives at once, the last 1.5 s later at
		// half speed: this screen shows the answer whole.
		t.Fatalf("the answer did not stream:\n%s", screen)
	}
	p.keys("Space")
	p.waitFor(15*time.Second, "❚❚ paused")
	p.keys("Space")
	p.waitFor(15*time.Second, "LAST-WORD.", "■ replayed", "done")
	p.keys("q")
	if !p.exited(15 * time.Second) {
		t.Fatalf("q did not quit:\n%s", p.capture())
	}

	// --instant shows it complete.
	p = startTUISized(t, 100, 30, env, "replay", id, "--instant")
	p.waitFor(15*time.Second, "a paced question", "LAST-WORD.", "■ replayed")
	p.keys("q")
	if !p.exited(15 * time.Second) {
		t.Fatal("q did not quit")
	}
}

// TestReplayCast: --cast writes an asciicast v2 file at once; played into
// a terminal of its size, it ends showing the answer.
func TestReplayCast(t *testing.T) {
	t.Parallel()
	data, id := recordPaced(t)
	cast := filepath.Join(t.TempDir(), "replay.cast")
	r := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data, "OPENAI_API_KEY=" + testKey}},
		"replay", id, "--cast", cast, "--cols", "90", "--rows", "24", "--speed", "2")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	b, err := os.ReadFile(cast)
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(cast); fi.Mode().Perm() != 0o600 {
		t.Errorf("the cast has mode %o", fi.Mode().Perm())
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	sc.Scan()
	var h struct {
		Version, Width, Height int
	}
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil || h.Version != 2 || h.Width != 90 || h.Height != 24 {
		t.Fatalf("header %s: %v", sc.Text(), err)
	}
	var out strings.Builder
	last := 0.0
	for sc.Scan() {
		var ev []any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 3 || ev[1] != "o" {
			t.Fatalf("event %s: %v", sc.Text(), err)
		}
		at := ev[0].(float64)
		if at < last {
			t.Fatalf("time goes back: %v after %v", at, last)
		}
		last = at
		out.WriteString(ev[2].(string))
	}
	// The answer took about 1.5 s; at 2× the cast lasts about 0.75 s.
	if last < 0.5 || last > 1.5 {
		t.Fatalf("the cast lasts %.2f s", last)
	}
	if strings.Contains(out.String(), testKey) {
		t.Fatal("the key is in the cast")
	}
	// Played into a terminal of the cast's size, it ends on the answer.
	play := filepath.Join(t.TempDir(), "play.out")
	if err := os.WriteFile(play, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPaneSized(t, 90, 24, nil, "sh", "-c", "cat "+play+"; sleep 60")
	p.waitFor(15*time.Second, "a paced question", "FIRST-WORD streams in slowly", "LAST-WORD.", "■ replayed")
}

// TestBrowserOpensAConversation: ctrl+r lists the saved conversations,
// typing filters them, and enter opens one in the chat.
func TestBrowserOpensAConversation(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk(fmt.Sprintf("ANSWER-%d about %s.", n, map[int]string{1: "zebras", 2: "gardens"}[n])), stopChunk)
	})
	data := t.TempDir()
	for _, prompt := range []string{"tell me about zebras", "tell me about gardens"} {
		if r := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data}}, g.args("-p", prompt)...); r.code != 0 {
			t.Fatalf("print mode: exit %d: %s", r.code, r.stderr)
		}
	}
	env := []string{"PARLEY_API_KEY=" + testKey, "XDG_DATA_HOME=" + data}
	p := startTUI(t, env, g.args("--theme", "dark")...)
	p.waitFor(15*time.Second, "Ask anything")
	p.keys("C-r")
	p.waitFor(15*time.Second, "Saved conversations", "tell me about zebras", "tell me about gardens")
	p.keys("-l", "zbr")
	screen := p.waitFor(15*time.Second, "> zbr", "1 of 2")
	if !strings.Contains(screen, "tell me about zebras") || strings.Contains(screen, "tell me about gardens") {
		t.Fatalf("the filter:\n%s", screen)
	}
	// A word of an answer finds its conversation.
	p.keys("C-u")
	p.keys("-l", "gard")
	p.waitFor(15*time.Second, "ANSWER-2 about gardens")
	p.keys("C-u")
	p.keys("-l", "zebras")
	p.waitFor(15*time.Second, "> zebras", "1 of 2")
	p.keys("Enter")
	p.waitFor(15*time.Second, "opened: tell me about zebras", "ANSWER-1 about zebras.")
	p.keys("-l", "and their stripes?")
	p.keys("Enter")
	p.waitFor(15*time.Second, "ANSWER-3 about")
	g.mu.Lock()
	sent := string(g.bodies[len(g.bodies)-1])
	g.mu.Unlock()
	if !strings.Contains(sent, "tell me about zebras") || strings.Contains(sent, "gardens") {
		t.Fatalf("the prompt after opening sent %s", sent)
	}
}
