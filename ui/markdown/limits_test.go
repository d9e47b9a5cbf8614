package markdown

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
)

// bomb is an input that once froze or crashed the renderer.
type bomb struct {
	name string
	doc  string
	// overflow is set for inputs that overflowed the stack inside glamour,
	// which kills the process: they run in a child process.
	overflow bool
}

// nestedList returns a list nested depth levels deep by indentation.
func nestedList(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat("  ", i) + "- item\n")
	}
	return b.String()
}

// bombs are the adversarial inputs: deep nesting of every kind, long
// delimiter runs, and their siblings (wide and long tables, long code,
// many code blocks, deep HTML, long words, private-use runes that the
// code-block markers must avoid).
//
// Under the race detector and in -short mode (see quick) the large inputs
// are a sixteenth of the size and streamed in fewer deltas; the nested ones
// are small anyway, and those that overflowed the stack keep their size.
func bombs() []bomb {
	n := func(k int) int {
		if quick() {
			return k / 16
		}
		return k
	}
	var pua strings.Builder
	for r := rune(0xE000); r < 0xF8FF; r++ {
		pua.WriteRune(r)
	}
	return []bomb{
		{name: "300 nested quotes", doc: strings.Repeat(">", 300) + " x\n"},
		{name: "300 spaced nested quotes", doc: strings.Repeat("> ", 300) + "x\n"},
		{name: "300-deep list", doc: nestedList(300)},
		{name: "300 list markers on a line", doc: strings.Repeat("- ", 300) + "x\n"},
		{name: "300 ordered markers on a line", doc: strings.Repeat("1. ", 300) + "x\n"},
		{name: "150 quotes and lists", doc: strings.Repeat("> - ", 150) + "x\n"},
		{name: "80,000 stars", doc: strings.Repeat("*", 80000) + "word" + strings.Repeat("*", 80000) + "\n", overflow: true},
		{name: "80,000 underscores", doc: strings.Repeat("_", 80000) + "word" + strings.Repeat("_", 80000) + "\n", overflow: true},
		{name: "40,000 nested emphases", doc: strings.Repeat("*a ", n(40000)) + "x" + strings.Repeat(" a*", n(40000)) + "\n"},
		{name: "20,000 mixed emphases", doc: strings.Repeat("*_", n(20000)) + "x" + strings.Repeat("_*", n(20000)) + "\n"},
		{name: "20,000 strikethroughs", doc: strings.Repeat("~~a ", n(20000)) + "x" + strings.Repeat(" a~~", n(20000)) + "\n"},
		{name: "10,000 nested links", doc: strings.Repeat("[", n(10000)) + "x" + strings.Repeat("](u)", n(10000)) + "\n"},
		{name: "10,000 nested images", doc: strings.Repeat("![", n(10000)) + "x" + strings.Repeat("](u)", n(10000)) + "\n"},
		{name: "table of 5,000 columns", doc: "|" + strings.Repeat(" a |", n(5000)) + "\n|" + strings.Repeat("---|", n(5000)) + "\n|" + strings.Repeat(" b |", n(5000)) + "\n"},
		{name: "table of 20,000 rows", doc: "| a | b |\n|---|---|\n" + strings.Repeat("| x | y |\n", n(20000))},
		{name: "100,000-line code block", doc: "```go\n" + strings.Repeat("x := 1\n", n(100000)) + "```\n"},
		{name: "5,000 code blocks", doc: strings.Repeat("```\nx\n```\n\n", n(5000))},
		{name: "5,000 code blocks in a list", doc: "- a\n" + strings.Repeat("  ```\n  x\n  ```\n", n(5000))},
		{name: "10,000 nested divs", doc: strings.Repeat("<div>", n(10000)) + "x" + strings.Repeat("</div>", n(10000)) + "\n"},
		{name: "1 MB word", doc: strings.Repeat("a", n(1<<20)) + "\n"},
		{name: "10,000 backtick runs", doc: strings.Repeat("`", n(10000)) + "x" + strings.Repeat("`", n(10000)-1) + "\n"},
		{name: "private-use runes and code", doc: pua.String() + "\n\n- a\n" + strings.Repeat("  ```\n  x\n  ```\n", 200) + strings.Repeat("word ", n(100000))},
	}
}

// bombBudget is the time allowed for one bomb: rendered whole, streamed and
// searched for code blocks. Each takes well under a second; the race
// detector slows rendering down about tenfold. Before the limits, the
// nested inputs took minutes.
func bombBudget() time.Duration {
	if raceEnabled {
		return 60 * time.Second
	}
	return 15 * time.Second
}

// bombTheme is the theme the bombs are rendered in: dark, or in quick mode
// ascii, which highlights no code (chroma's regular expressions are
// slowest of all under the race detector).
func bombTheme() string {
	if quick() {
		return "ascii"
	}
	return "dark"
}

// streamIn appends doc to s in deltas of step bytes, calling each with the
// length appended so far after every delta.
func streamIn(s *Stream, doc string, step int, each func(end int)) {
	for i := 0; i < len(doc); i += step {
		end := min(i+step, len(doc))
		s.Append(doc[i:end])
		each(end)
	}
}

// quickOr returns normal, or inQuick in quick mode.
func quickOr(normal, inQuick int) int {
	if quick() {
		return inQuick
	}
	return normal
}

// maxBombHeap bounds the heap while a bomb renders: a few times what an
// ordinary long answer needs. Before the limits, nested quotes took
// gigabytes.
const maxBombHeap = 256 << 20

// watchHeap samples the size of the heap's objects (live and not yet
// swept) every millisecond until the returned function is called, which
// reports the largest size seen.
func watchHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	stop := make(chan struct{})
	peak := make(chan uint64)
	go func() {
		var most uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			most = max(most, sample[0].Value.Uint64())
			select {
			case <-stop:
				peak <- most
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		return <-peak
	}
}

// renderBomb renders doc whole, streamed in about 20 deltas with a View
// after each (3 in quick mode), and for its code blocks, and reports a
// difference between the streamed and the whole render.
func renderBomb(r *Renderer, doc string) error {
	want, wantN := r.Render(doc, 1)
	s := NewStream(r, 1)
	streamIn(s, doc, max(len(doc)/quickOr(20, 3), 1), func(int) { s.View() })
	if got := s.Finish(); got != want || s.Blocks() != wantN {
		return fmt.Errorf("Finish differs from Render (%d blocks, want %d)", s.Blocks(), wantN)
	}
	if n := len(CodeBlocks(doc)); n != wantN {
		return fmt.Errorf("CodeBlocks lists %d blocks, Render numbered %d", n, wantN)
	}
	return nil
}

// TestRenderBombs renders every bomb (but those that overflowed the stack,
// see TestRenderBombsNoStackOverflow) in a goroutine with a deadline, so
// that one that runs away fails the test instead of hanging it, and checks
// the memory it allocated.
func TestRenderBombs(t *testing.T) {
	r := testRenderer(t, 60, bombTheme())
	for _, b := range bombs() {
		if b.overflow {
			continue
		}
		done := make(chan error, 1)
		runtime.GC()
		heap := watchHeap()
		go func() { done <- renderBomb(r, b.doc) }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%s: %v", b.name, err)
			}
			if peak := heap(); peak > maxBombHeap {
				t.Errorf("%s: the heap grew to %d MB rendering %d bytes", b.name, peak>>20, len(b.doc))
			}
		case <-time.After(bombBudget()):
			// The runaway goroutine cannot be stopped; end the test.
			t.Fatalf("%s: still rendering after %v", b.name, bombBudget())
		}
	}
}

// TestRenderBombsNoStackOverflow renders the inputs that overflowed the
// stack inside glamour in a child process: a Go stack overflow is fatal and
// would kill the test binary.
func TestRenderBombsNoStackOverflow(t *testing.T) {
	if name := os.Getenv("PARLEY_MARKDOWN_BOMB"); name != "" {
		for _, b := range bombs() {
			if b.name != name {
				continue
			}
			r := testRenderer(t, 60, bombTheme())
			if quick() {
				// Render is where the stack overflowed.
				r.Render(b.doc, 1)
				return
			}
			if err := renderBomb(r, b.doc); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Fatalf("no bomb %q", name)
	}
	for _, b := range bombs() {
		if !b.overflow {
			continue
		}
		// Overflowing the stack takes a while (a gigabyte of it is copied
		// as it grows): give the child time to, and stop it after that.
		ctx, cancel := context.WithTimeout(context.Background(), 5*bombBudget())
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRenderBombsNoStackOverflow$", "-test.timeout="+(4*bombBudget()).String())
		cmd.Env = append(os.Environ(), "PARLEY_MARKDOWN_BOMB="+b.name)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			first, _, _ := strings.Cut(string(out), "\n")
			t.Errorf("%s: the child process failed (%v): %s", b.name, err, first)
		}
	}
}

func TestTamer(t *testing.T) {
	deep := strings.Repeat("  ", maxNesting+5) + "- deep\n"
	tests := []struct{ name, in, want string }{
		{"quotes kept", ">>> x", ">>> x"},
		{"quotes capped", strings.Repeat(">", 12) + " x", strings.Repeat(">", maxNesting) + `\>>>> x`},
		{"spaced quotes capped", strings.Repeat("> ", 10) + "x", strings.Repeat("> ", maxNesting) + `\> > x`},
		{"list markers capped", strings.Repeat("- ", 10) + "x", strings.Repeat("- ", maxNesting) + `\- - x`},
		{"ordered markers capped", strings.Repeat("1. ", 10) + "x", strings.Repeat("1. ", maxNesting) + `1\. 1. x`},
		{"deep indentation flattened", deep, strings.Repeat(" ", 2*maxNesting-2) + "- deep\n"},
		{"thematic break kept", "* * *", "* * *"},
		{"long rules kept", "********\n> ______", "********\n> ______"},
		{"long runs escaped", "a ****b**** c", `a \*\*\*\*b\*\*\*\* c`},
		{"short runs kept", "***b*** __c__ ~~d~~", "***b*** __c__ ~~d~~"},
		{"runs in code spans kept", "`****` and ``a`****`b`` ****", "`****` and ``a`****`b`` \\*\\*\\*\\*"},
		{"escaped star kept", `\****x`, `\****x`},
		{"tabs expanded", "Name\tAge\tCity", "Name    Age City"},
		{"tab after a marker", "-\tx", "-   x"},
		{"fenced code kept", "```go\n\tx := \"****\"\n" + strings.Repeat(">", 20) + "\n```\n\ty", "```go\n\tx := \"****\"\n" + strings.Repeat(">", 20) + "\n```\n    y"},
		{"fence in a quote", "> ```\n> \t****\n> ```\n\tz", "> ```\n> \t****\n> ```\n    z"},
		{"fence in a list ends with it", "- ```\n  \tcode\nplain\tx", "- ```\n  \tcode\nplain   x"},
		{"quote fence ends with the quote", "> ```\nplain\tx", "> ```\nplain   x"},
	}
	for _, tt := range tests {
		if got := tameText(tt.in); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

// TestTabsExpandedOutsideCode checks that tabs in prose reach the screen as
// spaces (the screen drops tab characters), while code keeps its layout.
func TestTabsExpandedOutsideCode(t *testing.T) {
	r := testRenderer(t, 60, "dark")
	// Tab stops are every four columns of the source line.
	doc := "Name\tAge\tCity\n\n- ab\tc\n\n> qr\tx\n\n| h\ti | j |\n|---|---|\n| cd\te | f |\n\n```go\nfunc f() {\n\treturn\n}\n```\n"
	out, _ := r.Render(doc, 1)
	if strings.Contains(out, "\t") {
		t.Fatalf("a tab reaches the output:\n%q", out)
	}
	v := visible(out)
	for _, want := range []string{"Name    Age City", "ab    c", "qr    x", "cd    e", "    return"} {
		if !strings.Contains(v, want) {
			t.Errorf("output lacks %q:\n%s", want, v)
		}
	}
	if b := CodeBlocks(doc); len(b) != 1 || b[0].Code != "func f() {\n\treturn\n}" {
		t.Errorf("copied code lost its tab: %q", b)
	}
}

// TestOverLimitPiecesArePlain checks the guard: pieces nested deeper than
// glamour renders in bounded time, or tables wider than it lays out, are
// shown as plain wrapped text that keeps every word, and their code blocks
// keep the numbering that CodeBlocks reports.
func TestOverLimitPiecesArePlain(t *testing.T) {
	r := testRenderer(t, 40, "dark")
	nested := strings.Repeat("*a ", 100) + "x" + strings.Repeat(" a*", 100) + "\n\n" +
		"Before.\n\n- item\n\n  ```go\n  \tcode()\n  ```\n\n  " + strings.Repeat("*b ", 100) + "y" + strings.Repeat(" b*", 100) + "\n"
	out, n := r.Render(nested, 3)
	if n != 1 || len(CodeBlocks(nested)) != 1 {
		t.Fatalf("numbered %d blocks, CodeBlocks %d; want 1", n, len(CodeBlocks(nested)))
	}
	v := visible(out)
	for _, want := range []string{"─ [3] go", "    code()", "x a* a*", "Before."} {
		if !strings.Contains(v, want) {
			t.Errorf("output lacks %q:\n%s", want, v)
		}
	}
	for i, l := range strings.Split(v, "\n") {
		if ansi.StringWidth(l) > 40 && !strings.HasPrefix(strings.TrimSpace(l), "code") {
			t.Errorf("line %d wider than the width: %q", i, l)
		}
	}
	wide := "|" + strings.Repeat(" col |", maxTableColumns+1) + "\n|" + strings.Repeat("---|", maxTableColumns+1) + "\n"
	if v := visible(first(r.Render(wide, 1))); !strings.Contains(v, "| col | col |") {
		t.Errorf("wide table not shown as text:\n%s", v)
	}
}

func first(s string, _ int) string { return s }

// TestLongAnswer checks the size cap: past maxMarkdownBytes an answer
// continues as plain text under a notice, streamed and whole alike, and
// streaming it costs each View the text that arrived, not the answer.
func TestLongAnswer(t *testing.T) {
	r := testRenderer(t, 60, "dark")
	var b strings.Builder
	b.WriteString("# Title\n\n```go\nx := 1\n```\n\n")
	for b.Len() < maxMarkdownBytes-100 {
		b.WriteString("Some **bold** words in one long paragraph.\n")
	}
	b.WriteString(strings.Repeat("x", 200) + "\n") // ends past the cap
	b.WriteString("```sh\nnot a block past the cap\n```\n\n**still** plain\tand tabbed.\n")
	n := 40000
	if quick() {
		n = 4000
	}
	b.WriteString(strings.Repeat("a long line without a newline ", n))
	doc := b.String()

	want, wantN := r.Render(doc, 1)
	if wantN != 1 || len(CodeBlocks(doc)) != 1 {
		t.Fatalf("numbered %d blocks, CodeBlocks %d; want 1 (only before the cap)", wantN, len(CodeBlocks(doc)))
	}
	if kb := fmt.Sprintf(" %d KB;", maxMarkdownBytes>>10); !strings.Contains(longAnswerNotice, kb) {
		t.Errorf("the notice does not say where rendering stops (%s): %q", kb, longAnswerNotice)
	}
	v := visible(want)
	for _, s := range []string{longAnswerNotice, "**still** plain and tabbed.", "```sh", "Title"} {
		if !strings.Contains(strings.ReplaceAll(v, "\n", " "), s) {
			t.Errorf("render lacks %q", s)
		}
	}
	if strings.Contains(want, "\t") {
		t.Error("a tab reaches the output")
	}

	s := NewStream(r, 1)
	delta := quickOr(64<<10, 256<<10)
	streamIn(s, doc, delta, func(end int) {
		before := s.plain.wrapped
		view := s.View()
		if s.cut < 0 {
			return
		}
		if !strings.Contains(view, longAnswerNotice[:20]) {
			t.Fatalf("no notice in the view after %d bytes", end)
		}
		if w := s.plain.wrapped - before; w > delta+2*plainChunkBytes {
			t.Fatalf("a View after %d more bytes wrapped %d bytes", delta, w)
		}
	})
	if got := s.Finish(); got != want || s.Blocks() != wantN {
		t.Fatal("Finish differs from Render")
	}
}

// TestLongRefDefDocumentSplits checks that a link reference definition
// makes only a small document render unsplit: a long one is split like any
// other, so streaming it never renders the whole text on every frame.
func TestLongRefDefDocumentSplits(t *testing.T) {
	r := testRenderer(t, 60, "dark")
	var b strings.Builder
	b.WriteString("See [the docs][d].\n\n[d]: https://example.com/docs\n\n")
	para := strings.Repeat("A paragraph of text. ", 400) + "\n\n"
	for b.Len() < maxUnsplitBytes+len(para) {
		b.WriteString(para)
	}
	doc := b.String()
	want, _ := r.Render(doc, 1)
	s := NewStream(r, 1)
	streamIn(s, doc, quickOr(4<<10, 16<<10), func(int) { s.View() })
	if len(s.done.list) == 0 {
		t.Fatal("no piece of a long document was cached")
	}
	if got := s.Finish(); got != want {
		t.Fatal("Finish differs from Render")
	}
}
