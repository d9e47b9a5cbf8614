package markdown

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/internal/cputime"
)

// FuzzStream checks, for arbitrary input, that rendering never emits an
// escape sequence other than SGR, and that streaming the input in two-part
// deltas with a View in between ends exactly at Render, with the finished
// prefix always a prefix of the final render.
func FuzzStream(f *testing.F) {
	for _, d := range testDocs {
		f.Add(d, uint16(7))
	}
	f.Add("- a\n\n- b\n\n```\nx\n\n```\n\n1. x\n2. y\n\n> q\n\n<!--\n\n-->\n\n| a |\n|---|\n", uint16(3))
	th := testRenderer(f, 40, "dark")
	f.Fuzz(func(t *testing.T, doc string, step uint16) {
		if len(doc) > 4096 {
			return
		}
		want, wantN := th.Render(doc, 1)
		for _, seq := range escapeSequences(want) {
			if !strings.HasPrefix(seq, "\x1b[") || !strings.HasSuffix(seq, "m") {
				t.Fatalf("non-SGR sequence %q in output", seq)
			}
		}
		n := 1 + int(step)%97
		s := NewStream(th, 1)
		for i := 0; i < len(doc); i += n {
			s.Append(doc[i:min(i+n, len(doc))])
			s.View()
			if !strings.Contains(doc, "]:") && !checkPrefix(joinParts(s.done.list, ""), want) {
				t.Fatalf("finished prefix is not a prefix of the render\nprefix: %q\nfull:   %q", joinParts(s.done.list, ""), want)
			}
		}
		if got := s.Finish(); got != want || s.Blocks() != wantN {
			t.Fatalf("Finish differs from Render\ngot:  %q\nwant: %q", got, want)
		}
	})
}

// renderSeeds are adversarial seeds for FuzzRender: the bombs, small
// enough to render quickly under the race detector (the fuzzer grows them).
func renderSeeds() []string {
	var pua strings.Builder
	for r := rune(0xE000); r < 0xE400; r++ {
		pua.WriteRune(r)
	}
	return []string{
		strings.Repeat(">", 300) + " x\n",
		strings.Repeat("> ", 300) + "x\n",
		nestedList(120),
		strings.Repeat("- ", 300) + "x\n",
		strings.Repeat("1. ", 300) + "x\n",
		strings.Repeat("> - ", 150) + "x\n",
		strings.Repeat("*", 8000) + "word" + strings.Repeat("*", 8000) + "\n",
		strings.Repeat("_", 8000) + "word" + strings.Repeat("_", 8000) + "\n",
		strings.Repeat("*a ", 2000) + "x" + strings.Repeat(" a*", 2000) + "\n",
		strings.Repeat("*_", 2000) + "x" + strings.Repeat("_*", 2000) + "\n",
		strings.Repeat("~~a ", 2000) + "x" + strings.Repeat(" a~~", 2000) + "\n",
		strings.Repeat("[", 2000) + "x" + strings.Repeat("](u)", 2000) + "\n",
		strings.Repeat("![", 2000) + "x" + strings.Repeat("](u)", 2000) + "\n",
		"|" + strings.Repeat(" a |", 1000) + "\n|" + strings.Repeat("---|", 1000) + "\n|" + strings.Repeat(" b |", 1000) + "\n",
		"| a | b |\n|---|---|\n" + strings.Repeat("| x | y |\n", 1000),
		"```go\n" + strings.Repeat("x := 1\n", 500) + "```\n",
		strings.Repeat("```\nx\n```\n\n", 200),
		"- a\n" + strings.Repeat("  ```\n  x\n  ```\n", 200),
		strings.Repeat("<div>", 2000) + "x" + strings.Repeat("</div>", 2000) + "\n",
		strings.Repeat("a", 16<<10) + "\n",
		strings.Repeat("`", 2000) + "x" + strings.Repeat("`", 1999) + "\n",
		pua.String() + "\n\n- a\n  ```\n  x\n  ```\n",
		"Name\tAge\tCity\n\n-\tx\n\n>\t```\n>\tcode\t1\n",
		"[a]: b\n\n" + strings.Repeat("[x][a] ", 500),
	}
}

// maxFuzzBytes bounds FuzzRender's inputs; the fuzzer rarely grows them
// this far.
const maxFuzzBytes = 64 << 10

// fuzzBudget is what rendering an input of n bytes, whole and streamed,
// may cost: CPU time of the rendering thread and bytes allocated. Rendering
// takes about 2 ms and allocates about a megabyte per kilobyte of ordinary
// answer (highlighting code, up to ten); the budget is generous, so that a
// loaded CI machine does not flake, and far below what the bombs took
// (minutes, and gigabytes for a few hundred bytes). The race detector slows
// rendering about tenfold.
func fuzzBudget(n int) (time.Duration, uint64) {
	cpu := 2*time.Second + time.Duration(n)*50*time.Microsecond
	if raceEnabled {
		cpu *= 10
	}
	return cpu, 512<<20 + uint64(n)<<13
}

// FuzzRender renders arbitrary input at an arbitrary width, whole, streamed
// in a few deltas with a View after each, and for its code blocks, and
// fails when one input takes more CPU time or allocates more memory than
// fuzzBudget allows, when a streamed render ends anywhere else than the
// whole render, or when the output holds an escape sequence other than SGR.
// CI runs it for a bounded time:
//
//	go test -run '^$' -fuzz '^FuzzRender$' -fuzztime 20s ./ui/markdown
func FuzzRender(f *testing.F) {
	for _, d := range testDocs {
		f.Add(d, uint8(40))
	}
	for i, d := range renderSeeds() {
		f.Add(d, uint8(i*17))
	}
	renderers := map[int]*Renderer{}
	f.Fuzz(func(t *testing.T, doc string, w uint8) {
		if len(doc) > maxFuzzBytes {
			t.Skip("input too long")
		}
		theme := "dark"
		if quick() {
			// The race detector adds nothing to rendering on one
			// goroutine but time: the fuzzing run and the normal run take
			// the long seeds and highlight code.
			if len(doc) > 4<<10 {
				t.Skip("long input in quick mode")
			}
			theme = "ascii"
		}
		width := 1 + int(w)%120
		r, ok := renderers[width]
		if !ok {
			r = testRenderer(t, width, theme)
			renderers[width] = r
		}
		cpuBudget, allocBudget := fuzzBudget(len(doc))
		// An input that runs away would never reach the checks below:
		// past ten times its budget in wall time, end the process, which
		// reports the input (the fuzzer keeps it as a failure).
		watchdog := time.AfterFunc(10*cpuBudget, func() {
			panic(fmt.Sprintf("rendering %d bytes at width %d still runs after %v", len(doc), width, 10*cpuBudget))
		})
		defer watchdog.Stop()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := cputime.Thread()
		want, wantN := r.Render(doc, 1)
		s := NewStream(r, 1)
		streamIn(s, doc, max(len(doc)/8, 1), func(int) { s.View() })
		got := s.Finish()
		blocks := CodeBlocks(doc)
		cpu := cputime.Thread() - start
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		if cpu > cpuBudget {
			t.Fatalf("rendering %d bytes at width %d took %v of CPU (budget %v)", len(doc), width, cpu, cpuBudget)
		}
		if alloc > allocBudget {
			t.Fatalf("rendering %d bytes at width %d allocated %d MB (budget %d MB)", len(doc), width, alloc>>20, allocBudget>>20)
		}
		if got != want || s.Blocks() != wantN || len(blocks) != wantN {
			t.Fatalf("streamed render (%d blocks) differs from Render (%d blocks; CodeBlocks %d)\ngot:  %q\nwant: %q", s.Blocks(), wantN, len(blocks), got, want)
		}
		for _, seq := range escapeSequences(want) {
			if !strings.HasPrefix(seq, "\x1b[") || !strings.HasSuffix(seq, "m") {
				t.Fatalf("non-SGR sequence %q in output", seq)
			}
		}
	})
}
