package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/themes"
)

// sgr matches one SGR sequence and captures its parameters.
var sgr = regexp.MustCompile(`\x1b\[([0-9;:]*)m`)

// captureEscapes reads the screen back with its colours and attributes.
func (p *tmuxPane) captureEscapes() string {
	return p.run("-L", p.sock, "capture-pane", "-e", "-p", "-t", "t")
}

// backgrounds returns the SGR parameters in s that set a background colour.
func backgrounds(s string) []string {
	var out []string
	for _, m := range sgr.FindAllStringSubmatch(s, -1) {
		ps := strings.Split(m[1], ";")
		for i := 0; i < len(ps); i++ {
			switch p := ps[i]; {
			case p == "38":
				i += 2 // 38;5;N (38;2;R;G;B does not occur with a 256-colour TERM)
			case p == "48" || (len(p) == 2 && p[0] == '4' && p[1] <= '7') || (len(p) == 3 && strings.HasPrefix(p, "10")):
				out = append(out, strings.Join(ps[i:min(i+3, len(ps))], ";"))
			}
		}
	}
	return out
}

// TestTUIInputRowInEveryTheme checks the prompt editor as the terminal
// shows it: in dark and light the row paints no background of its own (no
// bar on a terminal whose background is not the one the theme guessed) and
// its "> " is drawn in the theme's prompt colour; with NO_COLOR the whole
// screen is colourless.
func TestTUIInputRowInEveryTheme(t *testing.T) {
	for _, name := range []string{"dark", "light"} {
		t.Run(name, func(t *testing.T) {
			th, err := themes.Lookup(name, true)
			if err != nil {
				t.Fatal(err)
			}
			idx, ok := th.InputPrompt.GetForeground().(ansi.IndexedColor)
			if !ok {
				t.Fatalf("%s: the prompt colour is not a 256-colour index", name)
			}
			p := startTUI(t, []string{"PARLEY_DEMO_SPEED=instant"}, "--demo", "--theme", name)
			p.waitFor(10*time.Second, "Ask anything")
			p.keys("-l", "a draft to read")
			p.waitFor(5*time.Second, "a draft to read")
			var row string
			for _, l := range strings.Split(p.captureEscapes(), "\n") {
				if strings.Contains(ansi.Strip(l), "a draft to read") {
					row = l
				}
			}
			if bg := backgrounds(row); len(bg) > 0 {
				t.Errorf("the input row paints a background %v: %q", bg, row)
			}
			if want := fmt.Sprintf("38;5;%dm> ", idx); !strings.Contains(row, want) {
				t.Errorf("the prompt is not drawn as %q: %q", want, row)
			}
		})
	}
	t.Run("NO_COLOR", func(t *testing.T) {
		p := startTUI(t, []string{"PARLEY_DEMO_SPEED=instant", "NO_COLOR=1"}, "--demo", "--theme", "light")
		p.waitFor(10*time.Second, "Ask anything")
		p.keys("-l", "show me some code")
		p.keys("Enter")
		p.waitFor(20*time.Second, "done")
		screen := p.captureEscapes()
		for _, m := range sgr.FindAllStringSubmatch(screen, -1) {
			for _, param := range strings.Split(m[1], ";") {
				if param != "" && param != "0" && param != "1" && param != "3" && param != "4" && param != "7" &&
					param != "22" && param != "23" && param != "24" && param != "27" && param != "39" && param != "49" {
					t.Fatalf("NO_COLOR screen has SGR %q:\n%q", m[1], screen)
				}
			}
		}
	})
}
