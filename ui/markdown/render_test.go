package markdown

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func visible(s string) string { return ansi.Strip(s) }

func TestRenderMarkupRemoved(t *testing.T) {
	r := testRenderer(t, 60, "dark")
	tests := []struct {
		name, md, mustHave string
		mustNot            []string
	}{
		{"atx headings", "# Top\n\n## Second\n\n###### Sixth\n", "Second", []string{"#"}},
		{"setext heading", "Title\n=====\n\nSub\n---\n", "Title", []string{"=", "---"}},
		{"bold and emphasis", "Some **bold** and __also__ and *em*.", "bold", []string{"**", "__", "*"}},
		{"code block", "```go\nx := 1\n```\n", "x := 1", []string{"```"}},
		{"tilde code block", "~~~\nplain\n~~~\n", "plain", []string{"~~~"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _ := r.Render(tt.md, 1)
			v := visible(out)
			if !strings.Contains(v, tt.mustHave) {
				t.Errorf("output lacks %q:\n%s", tt.mustHave, v)
			}
			for _, bad := range tt.mustNot {
				if strings.Contains(v, bad) {
					t.Errorf("output contains %q:\n%s", bad, v)
				}
			}
		})
	}
}

func TestRenderTrimmed(t *testing.T) {
	r := testRenderer(t, 80, "dark")
	out, _ := r.Render(genDoc(8<<10, 3), 1)
	if strings.HasPrefix(out, "\n") || strings.HasSuffix(out, "\n") {
		t.Error("leading or trailing blank line")
	}
	for i, l := range strings.Split(out, "\n") {
		v := visible(l)
		if strings.TrimRight(v, " ") != v {
			t.Errorf("line %d has trailing padding: %q", i, l)
		}
	}
}

func TestCodeBlockLayout(t *testing.T) {
	long := "x := \"" + strings.Repeat("a", 300) + "\" // long line"
	code := "func f() {\n\tif true {\n\t\t" + long + "\n\t}\n\n    spaces  \n}"
	md := "Before.\n\n```go\n" + code + "\n```\n\nAfter."
	for _, theme := range []string{"dark", "light", "ascii"} {
		for _, width := range []int{20, 80} {
			r := testRenderer(t, width, theme)
			out, n := r.Render(md, 7)
			if n != 1 {
				t.Fatalf("%s: numbered %d blocks, want 1", theme, n)
			}
			lines := strings.Split(visible(out), "\n")
			start := -1
			for i, l := range lines {
				if l == "─ [7] go" {
					start = i + 1
				}
			}
			if start < 0 {
				t.Fatalf("%s/%d: no label line \"─ [7] go\" in\n%s", theme, width, visible(out))
			}
			want := strings.Split(code, "\n")
			for i, w := range want {
				w = strings.TrimRight(expandTabs(w), " ")
				if start+i >= len(lines) || lines[start+i] != w {
					t.Fatalf("%s/%d: code line %d = %q, want %q (no wrapping, no indentation, no padding)",
						theme, width, i, lines[min(start+i, len(lines)-1)], w)
				}
			}
		}
	}
}

func TestCodeBlockInBlockquoteKeepsBar(t *testing.T) {
	r := testRenderer(t, 40, "dark")
	out, _ := r.Render("> ```sh\n> echo hi\n> ```\n", 1)
	v := visible(out)
	if !strings.Contains(v, "▌─ [1] sh\n▌echo hi") {
		t.Fatalf("quoted code lost its bar:\n%s", v)
	}
}

// TestBlockquoteWrapsUnderItsBar guards against glamour's quote wrapping
// arithmetic: every line of a long (and nested) quote keeps its bar and
// fits the width, at every width (every seventh in quick mode).
func TestBlockquoteWrapsUnderItsBar(t *testing.T) {
	md := "> Now and then the demo gateway holds a request in its queue for a moment, the way busy gateways do, so you can see how a queued request looks while it waits.\n>\n> > A nested quote with a fairly long line of text that needs to wrap around at every width.\n"
	step := 1
	if quick() {
		step = 7
	}
	for _, theme := range []string{"dark", "light", "ascii"} {
		for width := 24; width <= 120; width += step {
			out, _ := testRenderer(t, width, theme).Render(md, 1)
			for _, line := range strings.Split(visible(out), "\n") {
				if ansi.StringWidth(line) > width {
					t.Fatalf("%s/%d: line wider than the width: %q", theme, width, line)
				}
				if !strings.HasPrefix(line, "▌") && !strings.HasPrefix(line, "|") {
					t.Fatalf("%s/%d: quote line without its bar: %q", theme, width, line)
				}
			}
		}
	}
}

func TestCodeBlocksMatchLabels(t *testing.T) {
	md := "```go\nfmt.Println(1)\n```\n\n- item\n\n  ```python\n  print(2)\n  ```\n\n> ```\n> three\n> ```\n\n```\n```\n\nText ```not a fence``` here.\n"
	blocks := CodeBlocks(md)
	want := []CodeBlock{{"go", "fmt.Println(1)"}, {"python", "print(2)"}, {"", "three"}, {"", ""}}
	if len(blocks) != len(want) {
		t.Fatalf("CodeBlocks = %q, want %q", blocks, want)
	}
	for i := range want {
		if blocks[i] != want[i] {
			t.Errorf("block %d = %q, want %q", i, blocks[i], want[i])
		}
	}
	r := testRenderer(t, 60, "dark")
	out, n := r.Render(md, 5)
	if n != len(want) {
		t.Fatalf("Render numbered %d blocks, want %d", n, len(want))
	}
	v := visible(out)
	for i, b := range want {
		label := "─ [" + string(rune('5'+i)) + "]"
		if b.Lang != "" {
			label += " " + b.Lang
		}
		if !strings.Contains(v, label) {
			t.Errorf("no label %q in\n%s", label, v)
		}
	}
}

func TestCodeBlocksKeepTabsAndSanitize(t *testing.T) {
	b := CodeBlocks("```go\nfunc f() {\n\treturn\x1b[31m\n}\n```")
	if len(b) != 1 || b[0].Code != "func f() {\n\treturn\n}" {
		t.Fatalf("CodeBlocks = %q", b)
	}
}

// escapeSequences returns every escape sequence in s.
func escapeSequences(s string) []string {
	var seqs []string
	for i := 0; i < len(s); i++ {
		if s[i] != 0x1b {
			continue
		}
		j := i + 1
		if j < len(s) && s[j] == '[' {
			j++
			for j < len(s) && (s[j] < 0x40 || s[j] > 0x7e) {
				j++
			}
		}
		seqs = append(seqs, s[i:min(j+1, len(s))])
		i = j
	}
	return seqs
}

func TestHostileInputYieldsOnlySGR(t *testing.T) {
	hostile := testDocs["hostile"] +
		"\n\n# Title \x1b]0;owned\x1b\\ here\n\n- item \x1b[6n\x1b[?1049h\n- \x1bPtmux;\x1b\x1b]52;c;AAAA\x07\x1b\\x\n\n" +
		"| a \x1b[2J | b |\n|---|---|\n| \u009b1;1H | \u009d8;;http://evil\u009c |\n\n" +
		"[link](https://example.com/\x1b]8;;x\x07) and \x1b_apc\x1b\\ and \x1b^pm\x1b\\ and \x1bXsos\x1b\\\n"
	for _, theme := range []string{"dark", "light", "ascii"} {
		r := testRenderer(t, 50, theme)
		out, _ := r.Render(hostile, 1)
		for _, seq := range escapeSequences(out) {
			if !strings.HasPrefix(seq, "\x1b[") || !strings.HasSuffix(seq, "m") {
				t.Errorf("%s: escape sequence other than SGR in output: %q", theme, seq)
			}
		}
		v := visible(out)
		for _, r := range v {
			if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r <= 0x9f || r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 {
				t.Errorf("%s: control or bidi character %U in visible text", theme, r)
			}
		}
		for _, gone := range []string{"owned", "AAAA", "apc", "pm and", "sos"} {
			if strings.Contains(v, gone) {
				t.Errorf("%s: payload %q visible in output", theme, gone)
			}
		}
		// The same holds while streaming.
		s := NewStream(r, 1)
		for i := 0; i < len(hostile); i += 5 {
			s.Append(hostile[i:min(i+5, len(hostile))])
			for _, seq := range escapeSequences(s.View()) {
				if !strings.HasPrefix(seq, "\x1b[") || !strings.HasSuffix(seq, "m") {
					t.Fatalf("%s: non-SGR sequence %q in a streaming view", theme, seq)
				}
			}
		}
	}
}

func TestASCIIThemeHasNoColour(t *testing.T) {
	r := testRenderer(t, 60, "ascii")
	out, _ := r.Render(genDoc(4<<10, 5), 1)
	for _, seq := range escapeSequences(out) {
		if strings.Contains(seq, "38;") || strings.Contains(seq, "48;") {
			t.Fatalf("colour sequence %q in ascii output", seq)
		}
	}
}

func TestEmptyInput(t *testing.T) {
	r := testRenderer(t, 60, "dark")
	for _, md := range []string{"", "\n\n", "   ", "\x1b[31m"} {
		if out, n := r.Render(md, 1); out != "" || n != 0 {
			t.Errorf("Render(%q) = %q, %d", md, out, n)
		}
	}
}

func TestNewClampsWidth(t *testing.T) {
	r := testRenderer(t, 0, "dark")
	if r.Width() != 1 {
		t.Fatalf("Width() = %d, want 1", r.Width())
	}
	if out, _ := r.Render("hello world", 1); !strings.Contains(strings.ReplaceAll(visible(out), "\n", ""), "helloworld") {
		t.Fatalf("tiny width lost text: %q", out)
	}
}
