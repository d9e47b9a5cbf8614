package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestCompareBlindPickAndLeaderboard: a blind comparison on the demo
// gateway names its columns model A and model B, in its heads, summary
// and status bar, until 1 picks the first; then the names show, and
// parley compare --leaderboard counts the pick.
func TestCompareBlindPickAndLeaderboard(t *testing.T) {
	t.Parallel()
	env := []string{"PARLEY_DEMO_SPEED=instant", "PARLEY_DEMO_QUEUE_EVERY=-1", "OPENAI_API_KEY=", "PARLEY_API_KEY="}
	p := startTUISized(t, 160, 40, env, "compare", "--demo", "--theme", "dark", "-m", "demo-fast", "-m", "demo-think", "--blind", "explain SSE")
	screen := p.waitFor(30*time.Second, "summary", "1 model A", "2 model B", "blind: pick the best with 1–2")
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	// The answers may name the demo's models; the heads, the summary and
	// the status bar must not.
	var shown []string
	shown = append(shown, lines[0], lines[len(lines)-1])
	inSummary := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "── summary"):
			inSummary = true
		case strings.HasPrefix(l, "──"):
			inSummary = false
		case inSummary:
			shown = append(shown, l)
		}
	}
	if len(shown) < 5 {
		t.Fatalf("no summary rows:\n%s", screen)
	}
	for _, l := range shown {
		if strings.Contains(l, "demo-") {
			t.Fatalf("a blind comparison names a model before the pick: %q\n%s", l, screen)
		}
	}
	p.keys("1")
	screen = p.waitFor(10*time.Second, " wins — A was demo-")
	first := "demo-fast"
	if strings.Contains(screen, "A was demo-think") {
		first = "demo-think"
	}
	p.waitFor(5*time.Second, "1 "+first, first+" ★")
	p.keys("C-d")

	dataHome := ""
	for _, e := range p.env {
		if v, ok := strings.CutPrefix(e, "XDG_DATA_HOME="); ok {
			dataHome = v
		}
	}
	// The pick is written off the screen's goroutine: poll until it is in.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := parley(t, runOpts{noKey: true, env: []string{"XDG_DATA_HOME=" + dataHome}}, "compare", "--leaderboard", "--output", "json")
		var doc struct {
			Picks  int
			Models []struct {
				Model              string
				Rating             float64
				Wins, Losses, Ties int
			}
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &doc) != nil {
			t.Fatalf("leaderboard: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if doc.Picks == 1 {
			if len(doc.Models) != 2 || doc.Models[0].Model != first || doc.Models[0].Wins != 1 || doc.Models[0].Rating != 1016 ||
				doc.Models[1].Losses != 1 || doc.Models[1].Rating != 984 {
				t.Fatalf("leaderboard after picking %s: %s", first, r.stdout)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pick never reached the leaderboard: %s", r.stdout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	text := parley(t, runOpts{noKey: true, env: []string{"XDG_DATA_HOME=" + dataHome}}, "compare", "--leaderboard")
	if text.code != 0 || !strings.Contains(text.stdout, "1  "+first) || !strings.Contains(text.stdout, "1 blind pick ·") {
		t.Fatalf("text leaderboard: exit %d\n%s%s", text.code, text.stdout, text.stderr)
	}
}

// TestCompareLeaderboardUsage: --leaderboard stands alone, and an empty
// one says how to fill it.
func TestCompareLeaderboardUsage(t *testing.T) {
	t.Parallel()
	r := parley(t, runOpts{noKey: true}, "compare", "--leaderboard")
	if r.code != 0 || !strings.Contains(r.stdout, "No blind picks yet") {
		t.Fatalf("empty leaderboard: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{
		{"compare", "--leaderboard", "-m", "a"},
		{"compare", "--leaderboard", "--output", "jsonl"},
		{"compare", "--demo", "-p", "--blind", "-m", "demo-fast", "-m", "demo-think", "hi"},
	} {
		if r := parley(t, runOpts{noKey: true}, args...); r.code != 2 {
			t.Fatalf("%q: exit %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}
