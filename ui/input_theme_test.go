package ui

import (
	"regexp"
	"strings"
	"testing"

	"github.com/parley-chat/parley/themes"
)

// sgrParams matches one SGR sequence and captures its parameters.
var sgrParams = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// sgrColours returns the SGR colour parameters in s, split into foreground
// and background ones (basic, bright, 256-colour and true colour forms).
func sgrColours(s string) (fg, bg []string) {
	for _, m := range sgrParams.FindAllStringSubmatch(s, -1) {
		ps := strings.FieldsFunc(m[1], func(r rune) bool { return r == ';' || r == ':' })
		for i := 0; i < len(ps); i++ {
			p := ps[i]
			switch {
			case p == "38" || p == "48":
				n := 3 // 5;N
				if i+1 < len(ps) && ps[i+1] == "2" {
					n = 5 // 2;R;G;B
				}
				end := min(i+n, len(ps))
				seq := strings.Join(ps[i:end], ";")
				if p == "38" {
					fg = append(fg, seq)
				} else {
					bg = append(bg, seq)
				}
				i = end - 1
			case len(p) == 2 && (p[0] == '3' || p[0] == '9') && p[1] >= '0' && p[1] <= '7':
				fg = append(fg, p)
			case (len(p) == 2 && p[0] == '4' && p[1] >= '0' && p[1] <= '7') ||
				(len(p) == 3 && p[:2] == "10" && p[2] >= '0' && p[2] <= '7'):
				bg = append(bg, p)
			}
		}
	}
	return fg, bg
}

// TestInputUsesTerminalBackground checks that the prompt editor paints no
// background of its own in any theme, empty (placeholder) or with text on
// several lines, so it sits on whatever background the terminal has; that
// coloured themes draw the prompt and the placeholder in the theme's
// input styles; and that ascii draws no colour at all.
func TestInputUsesTerminalBackground(t *testing.T) {
	for _, name := range []string{"dark", "light", "ascii"} {
		t.Run(name, func(t *testing.T) {
			th, err := themes.Lookup(name, true)
			if err != nil {
				t.Fatal(err)
			}
			in := newInput(th)
			in.SetWidth(40)
			empty := in.View()
			in.SetValue("first line\nsecond line")
			typed := in.View()
			for _, v := range []string{empty, typed} {
				fg, bg := sgrColours(v)
				if len(bg) > 0 {
					t.Errorf("input paints a background %v:\n%q", bg, v)
				}
				if !th.Color && len(fg) > 0 {
					t.Errorf("ascii input draws colours %v:\n%q", fg, v)
				}
			}
			if !strings.Contains(typed, "second line") || !strings.Contains(empty, "sk anything") {
				t.Fatalf("unexpected views:\n%q\n%q", empty, typed)
			}
			if th.Color {
				if want := th.InputPrompt.Render("> "); !strings.Contains(typed, want) {
					t.Errorf("prompt not drawn as %q:\n%q", want, typed)
				}
				if want := th.InputPlaceholder.Render("A"); !strings.Contains(empty, strings.TrimSuffix(want, "\x1b[m")) {
					t.Errorf("placeholder not drawn as %q:\n%q", want, empty)
				}
			}
		})
	}
}
