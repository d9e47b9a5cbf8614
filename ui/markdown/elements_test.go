package markdown

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
)

// elementsDoc holds every element whose look the themes define.
const elementsDoc = `# Heading one

## Heading two

### Heading three

#### Heading four

Text with **bold**, *emphasis*, ~~struck~~ and ` + "`code`" + `, and a note[^n].

---

| Name       | Kind       | Size       |
|------------|------------|-----------:|
| alpha beta | gamma delt | 1          |
| epsilon ze | eta theta  | 100        |

> A quote with **bold** text.

- one
- two

[^n]: The note, with *emphasis*.
`

// TestGoldenElements pins the look of every element in each theme at 60
// columns, escape sequences included (so the attributes show).
func TestGoldenElements(t *testing.T) {
	for _, theme := range []string{"dark", "light", "ascii"} {
		t.Run(theme, func(t *testing.T) {
			out, _ := testRenderer(t, 60, theme).Render(elementsDoc, 1)
			golden.RequireEqual(t, out+"\n")
		})
	}
}

// headingStyle returns the escape sequences of the line showing text.
func headingStyle(t *testing.T, out, text string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(ansi.Strip(l)) == text {
			return strings.Join(escapeSequences(l), "")
		}
	}
	t.Fatalf("no line %q in\n%s", text, ansi.Strip(out))
	return ""
}

// TestHeadingLevelsDiffer: H1, H2 and H3 look different from each other
// and from body text in every theme, with or without colour.
func TestHeadingLevelsDiffer(t *testing.T) {
	for _, theme := range []string{"dark", "light", "ascii"} {
		out, _ := testRenderer(t, 60, theme).Render("# One\n\n## Two\n\n### Three\n\nBody\n", 1)
		seen := map[string]string{}
		for _, h := range []string{"One", "Two", "Three", "Body"} {
			st := headingStyle(t, out, h)
			if other, ok := seen[st]; ok {
				t.Errorf("%s: %q looks like %q (%q)", theme, h, other, st)
			}
			seen[st] = h
		}
	}
}

// TestHorizontalRule: a thematic break is a rule as wide as the text,
// also inside a quote, never dashes.
func TestHorizontalRule(t *testing.T) {
	for _, theme := range []string{"dark", "light", "ascii"} {
		for _, width := range []int{30, 100} {
			out, _ := testRenderer(t, width, theme).Render("Above.\n\n---\n\nBelow.\n\n> Quoted.\n>\n> ***\n", 1)
			v := visible(out)
			if strings.Contains(v, "--") {
				t.Errorf("%s/%d: dashes in\n%s", theme, width, v)
			}
			lines := strings.Split(v, "\n")
			if !containsLine(lines, strings.Repeat("─", width)) {
				t.Errorf("%s/%d: no full-width rule in\n%s", theme, width, v)
			}
			if !containsLine(lines, "▌"+strings.Repeat("─", width-1)) {
				t.Errorf("%s/%d: no rule under the quote's bar in\n%s", theme, width, v)
			}
		}
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// TestFootnotes: references show as [n] and the notes follow the text
// after a rule, each starting with its number; nothing shows raw.
func TestFootnotes(t *testing.T) {
	md := "Claim one[^a] and claim two[^b], and one[^a] again.\n\n[^b]: Second *note*.\n[^a]: First note.\n"
	for _, theme := range []string{"dark", "ascii"} {
		out, _ := testRenderer(t, 60, theme).Render(md, 1)
		v := visible(out)
		for _, want := range []string{"Claim one[1] and claim two[2], and one[1] again.", "[1] First note.", "[2] Second note."} {
			if !strings.Contains(v, want) {
				t.Errorf("%s: lacks %q:\n%s", theme, want, v)
			}
		}
		if strings.Contains(v, "^") || strings.Contains(v, "↩") || strings.Index(v, "[1] First") < strings.Index(v, "again") {
			t.Errorf("%s: footnotes raw or out of place:\n%s", theme, v)
		}
	}
}

// TestTablesSizedByContent: a table of short cells is as wide as its
// content, not the terminal, with every row and the header rule aligned;
// a table too wide for the width still fits it.
func TestTablesSizedByContent(t *testing.T) {
	md := "| Name       | Kind       | Size       |\n|---|:---:|---:|\n| alpha beta | gamma delt | 1          |\n| epsilon ze | 界界界     | 100        |\n"
	for _, theme := range []string{"dark", "light", "ascii"} {
		out, _ := testRenderer(t, 200, theme).Render(md, 1)
		lines := strings.Split(visible(out), "\n")
		if len(lines) != 4 {
			t.Fatalf("%s: %d lines:\n%s", theme, len(lines), visible(out))
		}
		rule := lines[1]
		if w := ansi.StringWidth(rule); w > 40 {
			t.Errorf("%s: table %d columns wide for 10-column cells:\n%s", theme, w, visible(out))
		}
		// The separators line up with the rule's crossings.
		for _, l := range []string{lines[0], lines[2], lines[3]} {
			for i, r := range []rune(rule) {
				if r == '┼' && cellAt(l, ansi.StringWidth(string([]rune(rule)[:i]))) != '│' {
					t.Errorf("%s: row %q not aligned with the rule %q", theme, l, rule)
				}
			}
		}
		if !strings.HasSuffix(lines[3], "│  100") || !strings.HasSuffix(lines[2], "│    1") {
			t.Errorf("%s: right-aligned column lost its alignment:\n%s", theme, visible(out))
		}
	}
	wide := "| " + strings.Repeat("word ", 30) + "| " + strings.Repeat("more ", 30) + "|\n|---|---|\n| a | b |\n"
	out, _ := testRenderer(t, 60, "dark").Render(wide, 1)
	for _, l := range strings.Split(visible(out), "\n") {
		if ansi.StringWidth(l) > 60 {
			t.Fatalf("wide table line of %d columns at width 60: %q", ansi.StringWidth(l), l)
		}
	}
}

// TestNoColourOneLook: the no-colour theme (NO_COLOR) shows emphasis with
// attributes, not markup, and draws tables, rules and quotes with the
// same Unicode lines as the rest of the screen.
func TestNoColourOneLook(t *testing.T) {
	out, _ := testRenderer(t, 60, "ascii").Render(elementsDoc, 1)
	v := visible(out)
	for _, bad := range []string{"**", "~~", "`", "| ", "-|-", "---", "+"} {
		if strings.Contains(v, bad) {
			t.Errorf("no-colour output shows %q:\n%s", bad, v)
		}
	}
	for _, want := range []string{"│", "┼", "▌", "─"} {
		if !strings.Contains(v, want) {
			t.Errorf("no-colour output lacks %q:\n%s", want, v)
		}
	}
	if !strings.Contains(out, "\x1b[1mbold\x1b[m") {
		t.Errorf("bold is not drawn bold:\n%q", out)
	}
}
