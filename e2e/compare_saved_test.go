package e2e

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// comparisonHint finds the comparison's ID in the line parley compare
// prints on exit.
var comparisonHint = regexp.MustCompile(`comparison saved — see it with: parley sessions show ([0-9a-f]{16})`)

// listedComparison is an entry of parley sessions --output json with its
// columns.
type listedComparison struct {
	listed
	Origin  string   `json:"origin"`
	Columns []listed `json:"columns"`
}

// savedComparison runs the demo comparison in tmux until it is done,
// quits, and returns the data directory and the comparison's ID.
func savedComparison(t *testing.T) (data, id string) {
	t.Helper()
	data = filepath.Join(t.TempDir(), "data")
	env := []string{"PARLEY_DEMO_SPEED=instant", "PARLEY_DEMO_QUEUE_EVERY=-1", "XDG_DATA_HOME=" + data}
	p := startTUISized(t, 160, 40, env, "compare", "--demo", "--theme", "dark", "-m", "demo-fast", "-m", "demo-think", "explain SSE")
	p.waitFor(30*time.Second, "summary", "TTFT")
	p.keys("C-d")
	deadline := time.Now().Add(15 * time.Second)
	for {
		screen := p.run("-L", p.sock, "capture-pane", "-p", "-t", "t", "-S", "-100")
		if m := comparisonHint.FindStringSubmatch(screen); m != nil {
			return data, m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line saying the comparison was saved:\n%s", screen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestComparisonSavedAsOneSession: a comparison on screen is saved as
// one session with its two columns, each holding its model's answer.
func TestComparisonSavedAsOneSession(t *testing.T) {
	t.Parallel()
	data, id := savedComparison(t)
	r := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data}}, "sessions", "--output", "json")
	if r.code != 0 {
		t.Fatalf("parley sessions: exit %d: %s", r.code, r.stderr)
	}
	var list []listedComparison
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("parley sessions --output json: %v\n%s", err, r.stdout)
	}
	if len(list) != 1 || list[0].ID != id || list[0].Title != "explain SSE" || list[0].Origin != "compare" ||
		list[0].Model != "compare: demo-fast vs demo-think" || len(list[0].Columns) != 2 {
		t.Fatalf("listing: %+v", list)
	}
	for i, want := range []string{"demo-fast", "demo-think"} {
		if c := list[0].Columns[i]; c.Model != want || c.Messages != 2 || c.Status != "done" {
			t.Fatalf("column %d: %+v", i+1, c)
		}
	}
	show := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data}}, "sessions", "show", id[:8])
	if show.code != 0 || !regexp.MustCompile(`(?s)══ column 1 · demo-fast ══.*assistant · demo-fast.*══ column 2 · demo-think ══.*assistant · demo-think`).MatchString(show.stdout) {
		t.Fatalf("sessions show: exit %d %s\n%s", show.code, show.stderr, show.stdout)
	}
}

// TestComparisonReplaysSideBySide: parley replay of a saved comparison
// plays both columns side by side in the compare screen; --instant shows
// both answers complete, each column's status done.
func TestComparisonReplaysSideBySide(t *testing.T) {
	t.Parallel()
	data, id := savedComparison(t)
	p := startTUISized(t, 160, 40, []string{"XDG_DATA_HOME=" + data}, "replay", id[:8], "--instant", "--theme", "dark")
	screen := p.waitUntil(20*time.Second, "both columns replayed", func(s string) bool {
		st := columnStatuses(s)
		return strings.Contains(s, "■ replayed") && len(st) == 2 && strings.HasPrefix(st[0], "done") && strings.HasPrefix(st[1], "done")
	})
	if !lineWithBoth(screen, "1 demo-fast", "2 demo-think") || !strings.Contains(screen, "2 columns") {
		t.Fatalf("the replay lacks the columns' headers:\n%s", screen)
	}
	// Both answers end on screen, side by side: one line holds the end
	// of each.
	if !lineWithTwice(screen, demoAnswerEnd) {
		t.Fatalf("the replay does not show both answers' ends side by side:\n%s", screen)
	}
	p.keys("q")
	if !p.exited(10 * time.Second) {
		t.Fatalf("q did not end the replay:\n%s", p.capture())
	}
}

// demoAnswerEnd is text near the end of the demo gateway's answer.
const demoAnswerEnd = "for a slot."

// lineWithTwice reports whether one screen line holds s twice.
func lineWithTwice(screen, s string) bool {
	for _, line := range strings.Split(screen, "\n") {
		if strings.Count(line, s) >= 2 {
			return true
		}
	}
	return false
}

// TestChatCompareSavedTogether: /compare in the chat saves the
// conversation on screen and the column it adds as one comparison.
func TestChatCompareSavedTogether(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	env := []string{"PARLEY_DEMO_SPEED=instant", "PARLEY_DEMO_QUEUE_EVERY=-1", "XDG_DATA_HOME=" + data}
	p := startTUISized(t, 160, 40, env, "--demo", "--theme", "dark", "-m", "demo-fast", "explain SSE")
	p.waitFor(30*time.Second, demoAnswerEnd)
	p.keys("/compare demo-think", "Enter")
	p.waitFor(30*time.Second, "summary", "TTFT")
	p.keys("C-d")
	chat := p.exitLine(15 * time.Second)
	r := parley(t, runOpts{env: []string{"XDG_DATA_HOME=" + data}}, "sessions", "--output", "json")
	var list []listedComparison
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("parley sessions --output json: %v\n%s", err, r.stdout)
	}
	if len(list) != 1 || len(list[0].Columns) != 2 || list[0].Columns[0].ID != chat ||
		list[0].Model != "compare: demo-fast vs demo-think" || list[0].Columns[1].Messages != 2 {
		t.Fatalf("after /compare in the chat: %+v", list)
	}
}
