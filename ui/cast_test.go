package ui

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// recordedTurn folds timed events (offsets in ms) into a finished turn,
// as a live chat records it.
func recordedTurn(start time.Time, sent int, evs ...any) *session.Turn {
	t := session.NewTurn(start)
	t.Sent = sent
	for i := 0; i < len(evs); i += 2 {
		t.Apply(evs[i+1].(provider.Event), start.Add(time.Duration(evs[i].(int))*time.Millisecond))
	}
	return t
}

// castConversation is a saved conversation of n prompts, each answered
// with reasoning and a few deltas of markdown over about two seconds,
// with a rate limit and a stall of stall in the middle of each answer.
func castConversation(n int, stall time.Duration) session.Saved {
	s := session.Saved{ID: "c1", Created: testStart}
	for k := range n {
		prompt := fmt.Sprintf("question number %d", k+1)
		answer := fmt.Sprintf("## Answer %d\n\nThe answer to question %d is **forty-two**, as always.\n", k+1, k+1)
		start := testStart.Add(time.Duration(k) * time.Minute)
		evs := []any{
			0, provider.RateLimit{Scope: "requests", Limit: 20, Remaining: 20 - k, Reset: start.Add(42 * time.Second)},
			100, provider.Started{Model: "m-1"},
			200, provider.ReasoningDelta{Text: "Let me think about "},
			400, provider.ReasoningDelta{Text: "this question."},
		}
		at := 600
		for i, w := range strings.SplitAfter(answer, " ") {
			if i == 3 {
				at += int(stall / time.Millisecond)
			}
			evs = append(evs, at, provider.TextDelta{Text: w})
			at += 80
		}
		evs = append(evs, at, provider.Usage{InputTokens: 10, OutputTokens: 30, TotalTokens: 40}, at, provider.Done{FinishReason: "stop"})
		s.Messages = append(s.Messages, provider.Message{Role: provider.RoleUser, Content: prompt},
			provider.Message{Role: provider.RoleAssistant, Content: answer})
		s.Turns = append(s.Turns, recordedTurn(start, 2*k+1, evs...))
	}
	return s
}

// castEvent is one output line of a cast.
type castEvent struct {
	at   float64
	data string
}

// parseCast reads an asciicast v2 file back, failing on anything that is
// not one: a header with version 2 and the size, then [time, "o", data]
// lines with times that never go back.
func parseCast(t *testing.T, b []byte) (castHeader, []castEvent) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 16<<20)
	if !sc.Scan() {
		t.Fatal("empty cast")
	}
	var h castHeader
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
		t.Fatalf("header %q: %v", sc.Text(), err)
	}
	if h.Version != 2 || h.Width <= 0 || h.Height <= 0 {
		t.Fatalf("header %+v", h)
	}
	var out []castEvent
	last := 0.0
	for sc.Scan() {
		var ev []json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || len(ev) != 3 {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		var at float64
		var code, data string
		if err := json.Unmarshal(ev[0], &at); err != nil {
			t.Fatalf("time %s: %v", ev[0], err)
		}
		if json.Unmarshal(ev[1], &code) != nil || code != "o" || json.Unmarshal(ev[2], &data) != nil {
			t.Fatalf("line %q", sc.Text())
		}
		if at < last {
			t.Fatalf("time goes back: %v after %v", at, last)
		}
		last = at
		out = append(out, castEvent{at, data})
	}
	if len(out) == 0 {
		t.Fatal("no output in the cast")
	}
	return h, out
}

var rowWrite = regexp.MustCompile(`\x1b\[(\d+);1H\x1b\[2K`)

// playCast plays the output into a screen of h rows, as a terminal would
// show the sequences the cast writer uses (a row moved to, erased and
// written), and returns the screen's text.
func playCast(h castHeader, evs []castEvent) []string {
	screen := make([]string, h.Height)
	for _, ev := range evs {
		locs := rowWrite.FindAllStringSubmatchIndex(ev.data, -1)
		for i, l := range locs {
			row, _ := strconv.Atoi(ev.data[l[2]:l[3]])
			end := len(ev.data)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			screen[row-1] = ansi.Strip(ev.data[l[1]:end])
		}
	}
	return screen
}

func writeTestCast(t *testing.T, s session.Saved, so session.ScheduleOptions, o CastOptions) (castHeader, []castEvent, *session.Schedule) {
	t.Helper()
	sched := session.NewSchedule(s, so)
	var buf bytes.Buffer
	spec := PaneSpec{ProviderName: "gw", Settings: session.Settings{Model: "m-1"}}
	if err := WriteCast(context.Background(), &buf, sched, spec, o); err != nil {
		t.Fatal(err)
	}
	h, evs := parseCast(t, buf.Bytes())
	return h, evs, sched
}

func TestCastIsAValidRecordingOfTheReplay(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	for _, speed := range []float64{1, 2} {
		h, evs, sched := writeTestCast(t, castConversation(3, 0), session.ScheduleOptions{}, CastOptions{Speed: speed})
		if h.Width != DefaultCastCols || h.Height != DefaultCastRows {
			t.Fatalf("size %dx%d", h.Width, h.Height)
		}
		want := sched.Total.Seconds() / speed
		if got := evs[len(evs)-1].at; math.Abs(got-want) > 0.1 {
			t.Fatalf("speed %v: the cast lasts %.3f s, the replay %.3f s", speed, got, want)
		}
		screen := strings.Join(playCast(h, evs), "\n")
		for _, w := range []string{"question number 3", "Answer 3", "forty-two", "Thought for 0.4 s", "replayed"} {
			if !strings.Contains(screen, w) {
				t.Fatalf("the last screen lacks %q:\n%s", w, screen)
			}
		}
		// The answers streamed: some frame shows answer 1 begun but
		// not finished.
		partial := false
		for i := range evs {
			s := strings.Join(playCast(h, evs[:i+1]), "\n")
			if strings.Contains(s, "Answer 1") && !strings.Contains(s, "always.") {
				partial = true
				break
			}
		}
		if !partial {
			t.Fatal("no frame shows the answer streaming")
		}
	}
}

// TestCastIsTheSameEveryTime: a cast depends on the recording alone,
// not on how the goroutines that render it were scheduled.
func TestCastIsTheSameEveryTime(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	sched := session.NewSchedule(castConversation(4, 0), session.ScheduleOptions{})
	spec := PaneSpec{ProviderName: "gw", Settings: session.Settings{Model: "m-1"}}
	var first string
	for i := range 3 {
		var buf bytes.Buffer
		if err := WriteCast(context.Background(), &buf, sched, spec, CastOptions{}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = buf.String()
		} else if buf.String() != first {
			a, b := strings.Split(first, "\n"), strings.Split(buf.String(), "\n")
			for j := range min(len(a), len(b)) {
				if a[j] != b[j] {
					t.Fatalf("run %d differs at line %d:\n%q\n%q", i, j, a[j], b[j])
				}
			}
			t.Fatalf("run %d differs in length: %d and %d lines", i, len(a), len(b))
		}
	}
}

func TestCastMaxIdleAndSize(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	conv := castConversation(2, 20*time.Second)
	_, evs, _ := writeTestCast(t, conv, session.ScheduleOptions{}, CastOptions{})
	if d := evs[len(evs)-1].at; d < 40 {
		t.Fatalf("two 20 s stalls, and the cast lasts %.2f s without --max-idle", d)
	}
	const idle = 1500 * time.Millisecond
	h, evs, _ := writeTestCast(t, conv, session.ScheduleOptions{MaxIdle: idle},
		CastOptions{MaxIdle: idle, Speed: 2, Cols: 60, Rows: 20})
	if h.Width != 60 || h.Height != 20 {
		t.Fatalf("size %dx%d", h.Width, h.Height)
	}
	for i := 1; i < len(evs); i++ {
		if d := evs[i].at - evs[i-1].at; d > idle.Seconds()/2+1e-6 {
			t.Fatalf("a pause of %.3f s in a cast capped at %v at 2×", d, idle)
		}
	}
	for _, ev := range evs {
		for _, l := range strings.Split(ansi.Strip(rowWrite.ReplaceAllString(ev.data, "\n")), "\n") {
			if ansi.StringWidth(l) > 60 {
				t.Fatalf("a row wider than the cast: %q", l)
			}
		}
	}
}

func TestCastKeepsTheKeyOut(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	const key = "sk-cast-secret-0123456789"
	conv := castConversation(1, 0)
	turn := conv.Turns[0]
	// The gateway echoed the key, split over two deltas, and in reasoning.
	timeline := turn.Events()
	end := timeline[len(timeline)-1]
	turn.SetEvents(append(timeline[:len(timeline)-1:len(timeline)-1],
		session.TimedEvent{Offset: end.Offset, Event: provider.TextDelta{Text: "your key is " + key[:9]}},
		session.TimedEvent{Offset: end.Offset, Event: provider.TextDelta{Text: key[9:] + " ok"}},
		end))
	tr := provider.NewTransport(provider.Options{APIKey: key})
	_, evs, _ := writeTestCast(t, conv, session.ScheduleOptions{}, CastOptions{Guard: tr.Guard})
	var all strings.Builder
	for _, ev := range evs {
		all.WriteString(ansi.Strip(ev.data))
	}
	if strings.Contains(all.String(), key[4:14]) {
		t.Fatal("the key is in the cast")
	}
	if !strings.Contains(all.String(), "[redacted]") {
		t.Fatal("the key's place is not marked")
	}
}

// BenchmarkCast renders the cast of a 100-message conversation (50
// answers, each streamed in about 20 deltas with reasoning).
func BenchmarkCast(b *testing.B) {
	b.Setenv("NO_COLOR", "")
	sched := session.NewSchedule(castConversation(50, 0), session.ScheduleOptions{})
	spec := PaneSpec{ProviderName: "gw", Settings: session.Settings{Model: "m-1"}}
	var size int
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteCast(context.Background(), &buf, sched, spec, CastOptions{}); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size), "cast-bytes")
	b.ReportMetric(sched.Total.Seconds(), "replay-s")
}
