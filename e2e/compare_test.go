package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// modelBehaviour is how the by-name gateway treats one model.
type modelBehaviour struct {
	refuseFirst bool // the first request gets 429 with Retry-After: 2
	limited     bool // every answer, sent at once, says no request is left until a reset 12 s away
	fail        bool // every request gets a 500
}

// byNameGateway is a loopback OpenAI-compatible gateway that answers each
// model by name ("alpha-answer: …"), streaming it six words every 20 ms,
// and records when each model's requests arrived and when the
// window it reported resets.
type byNameGateway struct {
	*httptest.Server
	mu      sync.Mutex
	arrived map[string][]time.Time
	resets  map[string][]time.Time
}

func newByNameGateway(t *testing.T, behave map[string]modelBehaviour) *byNameGateway {
	t.Helper()
	g := &byNameGateway{arrived: map[string][]time.Time{}, resets: map[string][]time.Time{}}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string `json:"model"`
		}
		if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
			return
		}
		now := time.Now()
		b := behave[req.Model]
		g.mu.Lock()
		g.arrived[req.Model] = append(g.arrived[req.Model], now)
		n := len(g.arrived[req.Model])
		if b.limited {
			g.resets[req.Model] = append(g.resets[req.Model], now.Add(12*time.Second))
		}
		g.mu.Unlock()
		h := w.Header()
		h.Set("X-RateLimit-Limit-Requests", "15")
		if b.limited {
			h.Set("X-RateLimit-Remaining-Requests", "0")
			h.Set("X-RateLimit-Reset-Requests", "12s")
		} else {
			h.Set("X-RateLimit-Remaining-Requests", fmt.Sprint(15-n))
			h.Set("X-RateLimit-Reset-Requests", "60s")
		}
		switch {
		case b.fail:
			http.Error(w, `{"error":{"message":"the model is broken","type":"server_error"}}`, http.StatusInternalServerError)
			return
		case b.refuseFirst && n == 1:
			h.Set("Retry-After", "2")
			http.Error(w, `{"error":{"message":"Request queued — waiting for available slot","type":"rate_limit_error"}}`, http.StatusTooManyRequests)
			return
		}
		h.Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		words := strings.Fields(fmt.Sprintf("%s-answer: the %s model says that server-sent events keep one response open and push data lines as they come.", req.Model, req.Model))
		for i := 0; i < len(words); i += 6 {
			piece := strings.Join(words[i:min(i+6, len(words))], " ")
			if i > 0 {
				piece = " " + piece
			}
			chunk, _ := json.Marshal(map[string]any{"model": req.Model, "choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": piece}}}})
			fmt.Fprintf(w, "data: %s\n\n", chunk)
			w.(http.Flusher).Flush()
			if !b.limited {
				time.Sleep(20 * time.Millisecond)
			}
		}
		fmt.Fprintf(w, "data: {\"model\":%q,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\ndata: [DONE]\n\n",
			req.Model, 2*len(words), 9+2*len(words))
	}))
	t.Cleanup(g.Close)
	return g
}

// compareArgs are the arguments of parley compare against the gateway.
func (g *byNameGateway) compareArgs(extra ...string) []string {
	return append([]string{"compare", "--dialect", "openai", "--base-url", g.URL + "/v1", "--theme", "dark"}, extra...)
}

// columnStatuses splits the screen's second line, the columns' status
// lines, at the separators.
func columnStatuses(screen string) []string {
	lines := strings.Split(screen, "\n")
	if len(lines) < 2 {
		return nil
	}
	parts := strings.Split(lines[1], "│")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

// waitUntil polls the screen until ok holds for it.
func (p *tmuxPane) waitUntil(timeout time.Duration, what string, ok func(screen string) bool) string {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		screen := p.capture()
		if ok(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("the screen never showed %s within %v:\n%s", what, timeout, screen)
		}
		time.Sleep(40 * time.Millisecond)
	}
}

// lineWithBoth reports whether one screen line holds both texts.
func lineWithBoth(screen, a, b string) bool {
	for _, line := range strings.Split(screen, "\n") {
		if strings.Contains(line, a) && strings.Contains(line, b) {
			return true
		}
	}
	return false
}

// TestCompareAcceptance: in a 160×40 pane, `parley compare -m alpha -m beta
// "question"` against a gateway that answers each model by name shows
// both answers side by side (one screen line holds text of both columns)
// under the model names. Beta's first request gets 429 Retry-After: 2:
// alpha finishes streaming while beta shows it is queued, then beta
// finishes too, and a summary with TTFT and tok/s appears.
func TestCompareAcceptance(t *testing.T) {
	g := newByNameGateway(t, map[string]modelBehaviour{"beta": {refuseFirst: true}})
	p := startTUISized(t, 160, 40, []string{keyEnv}, g.compareArgs("-m", "alpha", "-m", "beta", "question")...)
	screen := p.waitUntil(15*time.Second, "alpha done while beta is queued", func(s string) bool {
		st := columnStatuses(s)
		return len(st) == 2 && strings.HasPrefix(st[0], "done · ttft") && strings.HasPrefix(st[1], "queued · retry in")
	})
	if !strings.Contains(screen, "alpha-answer: the alpha model") || strings.Contains(screen, "beta-answer") {
		t.Fatalf("alpha's answer should be complete and beta's not begun:\n%s", screen)
	}
	t.Logf("alpha done, beta queued:\n%s", screen)
	screen = p.waitFor(20*time.Second, "summary", "TTFT", "tok/s", "beta-answer")
	for _, want := range []string{"▌1 alpha", "2 beta", "question"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("screen lacks %q:\n%s", want, screen)
		}
	}
	if !lineWithBoth(screen, "alpha-answer", "beta-answer") {
		t.Fatalf("no screen line holds both answers:\n%s", screen)
	}
	rows := 0
	for _, line := range strings.Split(screen, "\n") {
		f := strings.Fields(line)
		if len(f) == 8 && (f[1] == "alpha" || f[1] == "beta") && f[7] == "stop" && strings.HasSuffix(f[2], "s") {
			rows++
			if f[1] == "beta" && !strings.HasSuffix(f[6], "s") {
				t.Fatalf("beta's summary row does not show its wait: %q", line)
			}
		}
	}
	if rows != 2 {
		t.Fatalf("the summary lacks a row per model:\n%s", screen)
	}
	if strings.Contains(screen, "sk-e2e-secret") {
		t.Fatal("the key is on the screen")
	}
	t.Logf("done:\n%s", screen)
	p.keys("C-d")
}

// TestCompareDemo: the demo gateway compared in two and three columns,
// with no key: each column shows its own model, answer and figures, the
// thinking model its reasoning, a column with settings of its own its
// label and its own finish.
func TestCompareDemo(t *testing.T) {
	env := []string{"PARLEY_DEMO_SPEED=8", "PARLEY_DEMO_QUEUE_EVERY=-1", "OPENAI_API_KEY=", "PARLEY_API_KEY="}
	for _, tt := range []struct {
		name    string
		columns []string
	}{
		{"two", []string{"demo-fast", "demo-think"}},
		{"three", []string{"demo-fast", "demo-think", "demo-fast{max_tokens=40}"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"compare", "--demo", "--theme", "dark"}
			for _, c := range tt.columns {
				args = append(args, "-m", c)
			}
			p := startTUISized(t, 160, 40, env, append(args, "explain SSE")...)
			screen := p.waitFor(30*time.Second, "summary", "TTFT")
			st := columnStatuses(screen)
			if len(st) != len(tt.columns) {
				t.Fatalf("%d column status lines, want %d:\n%s", len(st), len(tt.columns), screen)
			}
			for i, s := range st {
				if !strings.HasPrefix(s, "done · ttft") || !strings.Contains(s, "tok/s") {
					t.Fatalf("column %d status %q:\n%s", i+1, s, screen)
				}
			}
			for i, c := range tt.columns {
				if !strings.Contains(screen, fmt.Sprintf("%d %s", i+1, c)) {
					t.Fatalf("no header for column %d (%s):\n%s", i+1, c, screen)
				}
			}
			if len(tt.columns) == 3 && !strings.Contains(screen, "length") {
				t.Fatalf("the max_tokens column did not stop at its limit:\n%s", screen)
			}
			t.Logf("screen:\n%s", screen)
			// demo-think's column, scrolled to its top, shows its reasoning.
			p.keys("Tab")
			p.keys("Home")
			p.waitUntil(5*time.Second, "demo-think's reasoning", func(s string) bool {
				return strings.Contains(s, "▌2 demo-think") && strings.Contains(s, "Thought for")
			})
			p.keys("C-d")
		})
	}
}

// TestCompareDemoQueuedColumn: the demo gateway queues the second request
// (429 with Retry-After); that column shows the queue countdown while the
// other streams, and both finish.
func TestCompareDemoQueuedColumn(t *testing.T) {
	env := []string{"PARLEY_DEMO_SPEED=2", "PARLEY_DEMO_QUEUE_EVERY=2"}
	p := startTUISized(t, 160, 40, env, "compare", "--demo", "--theme", "dark", "-m", "demo-fast", "-m", "demo-think", "explain SSE")
	screen := p.waitUntil(15*time.Second, "one column queued while the other streams", func(s string) bool {
		st := columnStatuses(s)
		if len(st) != 2 {
			return false
		}
		q0, q1 := strings.HasPrefix(st[0], "queued · retry in"), strings.HasPrefix(st[1], "queued · retry in")
		s0, s1 := strings.HasPrefix(st[0], "streaming"), strings.HasPrefix(st[1], "streaming")
		return (q0 && s1) || (q1 && s0)
	})
	t.Logf("queued beside streaming:\n%s", screen)
	screen = p.waitFor(30*time.Second, "summary")
	for i, s := range columnStatuses(screen) {
		if !strings.HasPrefix(s, "done · ttft") {
			t.Fatalf("column %d status %q", i+1, s)
		}
	}
	p.keys("C-d")
}

// TestComparePacesAheadOfTheLimit: every answer says the model has no
// request left until a reset 12 s away. The follow-up prompt is held in
// each column, shown as "waiting for the rate limit", and reaches the
// gateway after the reset, not before.
func TestComparePacesAheadOfTheLimit(t *testing.T) {
	t.Parallel() // most of it is the wait for the reset
	g := newByNameGateway(t, map[string]modelBehaviour{"alpha": {limited: true}, "beta": {limited: true}})
	p := startTUISized(t, 160, 40, []string{keyEnv}, g.compareArgs("-m", "alpha", "-m", "beta", "first")...)
	p.waitFor(15*time.Second, "summary", "beta-answer")
	p.keys("-l", "again")
	p.keys("Enter")
	screen := p.waitUntil(5*time.Second, "both columns waiting for the rate limit", func(s string) bool {
		st := columnStatuses(s)
		return len(st) == 2 && strings.HasPrefix(st[0], "waiting for the rate limit · 0:") &&
			strings.HasPrefix(st[1], "waiting for the rate limit · 0:")
	})
	t.Logf("waiting:\n%s", screen)
	p.waitFor(30*time.Second, "summary")
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, m := range []string{"alpha", "beta"} {
		if len(g.arrived[m]) != 2 {
			t.Fatalf("%s: %d requests", m, len(g.arrived[m]))
		}
		if early := g.resets[m][0].Sub(g.arrived[m][1]); early > 0 {
			t.Fatalf("%s: the second request came %v before the reset", m, early)
		}
	}
}

// TestComparePrint: print mode puts the prompt to every column at once;
// text output prints each answer under its header in column order, then
// the summary; jsonl tags every event with its column and model and ends
// with a result per column; a failed column makes the exit code 1 and
// keeps the others' answers.
func TestComparePrint(t *testing.T) {
	t.Parallel() // most of it is the gateway's queue wait
	g := newByNameGateway(t, map[string]modelBehaviour{"beta": {refuseFirst: true}, "broken": {fail: true}})
	base := []string{"compare", "-p", "--dialect", "openai", "--base-url", g.URL + "/v1", "--max-retries", "0"}

	r := parley(t, runOpts{}, append(base, "--max-retries", "2", "-m", "beta", "-m", "alpha", "question")...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	i1, i2 := strings.Index(r.stdout, "── 1 · beta ──\nbeta-answer"), strings.Index(r.stdout, "── 2 · alpha ──\nalpha-answer")
	is := strings.Index(r.stdout, "#  model  TTFT")
	if i1 < 0 || i2 < i1 || is < i2 {
		t.Fatalf("stdout out of order:\n%s", r.stdout)
	}
	if !strings.Contains(r.stderr, "parley: [1 beta] queued by the gateway (429), retrying in 2s") {
		t.Fatalf("stderr %q", r.stderr)
	}

	r = parley(t, runOpts{}, append(base, "--output", "jsonl", "-m", "alpha", "-m", "alpha{temperature=0}", "question")...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	done, results := map[float64]bool{}, 0
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		col, _ := ev["column"].(float64)
		if ev["model"] != "alpha" || (col != 1 && col != 2) {
			t.Fatalf("line without its column and model: %s", line)
		}
		if (col == 2) != (ev["label"] == "alpha{temperature=0}") {
			t.Fatalf("label: %s", line)
		}
		switch ev["type"] {
		case "done":
			done[col] = true
		case "result":
			results++
			if ev["finish"] != "stop" || ev["output_tokens"].(float64) <= 0 {
				t.Fatalf("result %s", line)
			}
		}
	}
	if len(done) != 2 || results != 2 {
		t.Fatalf("done %v, %d results:\n%s", done, results, r.stdout)
	}

	r = parley(t, runOpts{}, append(base, "-m", "alpha", "-m", "broken", "question")...)
	if r.code != 1 || !strings.Contains(r.stdout, "alpha-answer") || !strings.Contains(r.stdout, "error 500") ||
		!strings.Contains(r.stderr, "1 of 2 columns failed: 2 (broken): 500") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}

	r = parley(t, runOpts{}, append(base, "-m", "alpha", "question")...)
	if r.code != 2 || !strings.Contains(r.stderr, "compare needs 2 to 6 models") {
		t.Fatalf("one model: exit %d, %s", r.code, r.stderr)
	}
	r = parley(t, runOpts{}, append(base, "-m", "alpha", "-m", "x{temperature=9}", "question")...)
	if r.code != 2 || !strings.Contains(r.stderr, "-m x{temperature=9}") || !strings.Contains(r.stderr, "temperature must be between 0 and 2") {
		t.Fatalf("bad settings: exit %d, %s", r.code, r.stderr)
	}
}
