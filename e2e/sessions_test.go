package e2e

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// listed is one entry of parley sessions --output json.
type listed struct {
	ID       string    `json:"id"`
	Title    string    `json:"title"`
	Model    string    `json:"model"`
	Created  time.Time `json:"created"`
	Messages int       `json:"messages"`
	Status   string    `json:"status"`
}

func sessionsJSON(t *testing.T, data string) []listed {
	t.Helper()
	r := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data}}, "sessions", "--output", "json")
	if r.code != 0 {
		t.Fatalf("parley sessions: exit %d: %s", r.code, r.stderr)
	}
	var out []listed
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("parley sessions --output json: %v\n%s", err, r.stdout)
	}
	return out
}

// checkPrivate fails when the data directory or a file in it can be read
// by others, or a file holds the API key.
func checkPrivate(t *testing.T, data string) {
	t.Helper()
	filepath.WalkDir(filepath.Join(data, "parley"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := d.Info()
		want := os.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s has mode %o, want %o", path, fi.Mode().Perm(), want)
		}
		if !d.IsDir() {
			if b, _ := os.ReadFile(path); strings.Contains(string(b), testKey) {
				t.Errorf("%s holds the API key", path)
			}
		}
		return nil
	})
}

// TestSavedPrintConversations: two print-mode conversations are listed,
// found by a word of their answer (with or without its accent), and
// exported as markdown holding the prompt and the answer.
func TestSavedPrintConversations(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			writeSSE(w, textChunk("The zebra "), textChunk("has stripes."), stopChunk)
			return
		}
		writeSSE(w, textChunk("A naïve "), textChunk("café recipe."), stopChunk)
	})
	data := t.TempDir()
	env := runOpts{env: []string{"XDG_DATA_HOME=" + data}}
	for _, prompt := range []string{"tell me about animals", "tell me about cooking"} {
		if r := parley(t, env, g.args("-p", prompt)...); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
	}
	list := sessionsJSON(t, data)
	if len(list) != 2 {
		t.Fatalf("%d conversations listed, want 2: %+v", len(list), list)
	}
	ids := map[string]string{}
	for _, c := range list {
		if c.ID == "" || c.Model != "M" || c.Messages != 2 || c.Created.IsZero() {
			t.Fatalf("listed %+v", c)
		}
		ids[c.Title] = c.ID
	}
	animals, cooking := ids["tell me about animals"], ids["tell me about cooking"]
	if animals == "" || cooking == "" {
		t.Fatalf("titles %v", ids)
	}
	for word, want := range map[string]string{"zebra": animals, "naive": cooking, "naïve": cooking, "cafe": cooking} {
		r := parley(t, env, "sessions", "search", word)
		if r.code != 0 || !strings.Contains(r.stdout, want) || strings.Contains(r.stdout, otherOf(want, animals, cooking)) {
			t.Errorf("search %q: exit %d\n%s", word, r.code, r.stdout)
		}
	}
	r := parley(t, env, "sessions", "export", animals[:6], "--format", "md")
	if r.code != 0 || !strings.Contains(r.stdout, "tell me about animals") || !strings.Contains(r.stdout, "The zebra has stripes.") {
		t.Fatalf("export: exit %d\n%s", r.code, r.stdout)
	}
	checkPrivate(t, data)
}

func otherOf(id, a, b string) string {
	if id == a {
		return b
	}
	return a
}

// TestKilledPrintModeKeepsThePartialAnswer: parley -p killed with SIGKILL
// while the gateway stalls mid-answer; the conversation is listed
// afterwards, marked interrupted, and its export holds the partial
// answer.
func TestKilledPrintModeKeepsThePartialAnswer(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprintf(w, "data: %s\n\n", textChunk("PARTIAL-ANSWER one, "))
		fmt.Fprintf(w, "data: %s\n\n", textChunk("two, three"))
		w.(http.Flusher).Flush()
		<-r.Context().Done() // the gateway stalls
	})
	data := t.TempDir()
	env := runOpts{env: []string{"XDG_DATA_HOME=" + data}}
	cmd, _, stderr := parleyCmd(t, env, g.args("-p", "a question that stalls")...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	// The partial answer reaches the database within about a second.
	deadline := time.Now().Add(30 * time.Second)
	var id string
	for {
		if list := sessionsJSON(t, data); len(list) == 1 {
			id = list[0].ID
			if r := parley(t, env, "sessions", "export", id); strings.Contains(r.stdout, "PARTIAL-ANSWER one, two, three") {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the partial answer was never saved; parley's stderr: %s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	cmd.Wait()
	list := sessionsJSON(t, data)
	if len(list) != 1 || list[0].ID != id || list[0].Status != "interrupted" || list[0].Messages != 2 {
		t.Fatalf("after kill -9: %+v", list)
	}
	r := parley(t, env, "sessions", "export", id)
	if !strings.Contains(r.stdout, "a question that stalls") || !strings.Contains(r.stdout, "PARTIAL-ANSWER one, two, three") ||
		!strings.Contains(r.stdout, "Interrupted") {
		t.Fatalf("export after kill -9:\n%s", r.stdout)
	}
}

// resumeHint finds the ID in the line the chat prints on exit.
var resumeHint = regexp.MustCompile(`continue it with: parley -c ([0-9a-f]{16})`)

// exitLine waits for the line the chat prints after it quits (it may
// have scrolled into the pane's history) and returns the conversation ID
// it names.
func (p *tmuxPane) exitLine(timeout time.Duration) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		screen := p.run("-L", p.sock, "capture-pane", "-p", "-t", "t", "-S", "-100")
		if m := resumeHint.FindStringSubmatch(screen); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("no resume line within %v:\n%s", timeout, screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestTUIContinue: after quitting the chat, parley -C shows the latest
// conversation and parley -c ID a given one, and a prompt sent there
// carries the earlier messages to the gateway.
func TestTUIContinue(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		writeSSE(w, textChunk(fmt.Sprintf("ANSWER-%d is here.", n)), stopChunk)
	})
	body := func(i int) string {
		g.mu.Lock()
		defer g.mu.Unlock()
		if i >= len(g.bodies) {
			t.Fatalf("request %d never came", i+1)
		}
		return string(g.bodies[i])
	}
	data := t.TempDir()
	env := []string{"PARLEY_API_KEY=" + testKey, "XDG_DATA_HOME=" + data}
	gw := []string{"--dialect", "openai", "--base-url", g.URL + "/v1", "-m", "M", "--theme", "dark"}

	// A chat, quit: the exit line says how to come back.
	p := startTUI(t, env, append(gw, "alpha question")...)
	p.waitFor(15*time.Second, "ANSWER-1 is here.", "done")
	p.keys("C-d")
	alpha := p.exitLine(15 * time.Second)

	// A newer conversation, in print mode.
	if r := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data}}, g.args("-p", "beta question")...); r.code != 0 {
		t.Fatalf("print mode: exit %d: %s", r.code, r.stderr)
	}

	// -C opens the latest.
	p = startTUI(t, env, append(gw, "-C")...)
	screen := p.waitFor(15*time.Second, "beta question", "ANSWER-2 is here.")
	if strings.Contains(screen, "alpha question") {
		t.Fatalf("-C shows the older conversation:\n%s", screen)
	}
	p.keys("C-d")
	if id := p.exitLine(15 * time.Second); id == alpha {
		t.Fatal("-C continued the older conversation")
	}

	// -c ID opens the given one; a prompt there carries its messages.
	p = startTUI(t, env, append(gw, "-c", alpha[:7])...)
	p.waitFor(15*time.Second, "alpha question", "ANSWER-1 is here.")
	p.keys("-l", "gamma follow-up")
	p.keys("Enter")
	p.waitFor(15*time.Second, "ANSWER-3 is here.", "done")
	sent := body(2)
	for _, want := range []string{"alpha question", "ANSWER-1 is here.", "gamma follow-up"} {
		if !strings.Contains(sent, want) {
			t.Fatalf("the resumed request lacks %q: %s", want, sent)
		}
	}
	if strings.Contains(sent, "beta question") {
		t.Fatalf("the resumed request carries another conversation: %s", sent)
	}
	p.keys("C-d")
	if id := p.exitLine(15 * time.Second); id != alpha {
		t.Fatalf("the resumed chat was saved as %s, not %s", id, alpha)
	}
	list := sessionsJSON(t, data)
	if len(list) != 2 || list[0].ID != alpha || list[0].Messages != 4 {
		t.Fatalf("after continuing: %+v", list)
	}
	checkPrivate(t, data)

	// A new chat recalls the prompts of the earlier ones with ctrl+p.
	p = startTUI(t, env, gw...)
	p.waitFor(15*time.Second, "Ask anything")
	p.keys("C-p")
	p.waitFor(15*time.Second, "> gamma follow-up")
	p.keys("C-p")
	p.waitFor(15*time.Second, "> alpha question")
}

// TestPrintProcessesAtOnce: three print-mode processes stream long
// answers into one database at the same time; each is saved whole.
func TestPrintProcessesAtOnce(t *testing.T) {
	g := newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; i < 300; i++ {
			fmt.Fprintf(w, "data: %s\n\n", textChunk(fmt.Sprintf("w%d ", i)))
			if i%20 == 0 {
				w.(http.Flusher).Flush()
				time.Sleep(5 * time.Millisecond) // the gateway's own pace
			}
		}
		fmt.Fprintf(w, "data: %s\n\ndata: [DONE]\n\n", textChunk("END-OF-ANSWER"))
	})
	data := t.TempDir()
	env := runOpts{env: []string{"XDG_DATA_HOME=" + data}}
	var wg sync.WaitGroup
	results := make([]result, 3)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = parley(t, env, g.args("-p", fmt.Sprintf("question %d", i))...)
		}()
	}
	wg.Wait()
	for i, r := range results {
		if r.code != 0 {
			t.Fatalf("process %d: exit %d: %s", i, r.code, r.stderr)
		}
	}
	list := sessionsJSON(t, data)
	if len(list) != 3 {
		t.Fatalf("%d conversations saved, want 3", len(list))
	}
	for _, c := range list {
		r := parley(t, env, "sessions", "export", c.ID)
		if c.Messages != 2 || c.Status != "done" || !strings.Contains(r.stdout, "w299 END-OF-ANSWER") {
			t.Fatalf("%s saved with %d messages, status %q:\n%s", c.Title, c.Messages, c.Status, r.stdout)
		}
	}
}
