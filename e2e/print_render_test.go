package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// renderAnswer is an answer whose markdown shows whether it was rendered.
const renderAnswer = "## Plan\n\nThis is **important** and `code`.\n\n| key | value |\n|---|---|\n| a | 1 |\n\nThe END-MARK.\n"

func markdownGateway(t *testing.T) *gateway {
	return newGateway(t, func(w http.ResponseWriter, r *http.Request, n int) {
		var chunks []string
		for i := 0; i < len(renderAnswer); i += 5 {
			chunks = append(chunks, textChunk(renderAnswer[i:min(i+5, len(renderAnswer))]))
		}
		writeSSE(w, append(chunks, stopChunk)...)
	})
}

// TestPrintRendersOnATerminal: parley -p on a terminal shows the answer
// rendered, as the chat does; --raw shows the markdown as it came.
func TestPrintRendersOnATerminal(t *testing.T) {
	g := markdownGateway(t)
	p := startTUI(t, []string{keyEnv}, append([]string{"-p", "plan it"}, g.args()...)...)
	waitForExit(p, 20*time.Second, "Plan", "This is important and", "END-MARK", "│")
	all := p.run("-L", p.sock, "capture-pane", "-p", "-S", "-", "-t", "t")
	for _, raw := range []string{"## Plan", "**important**", "|---|", "`code`"} {
		if strings.Contains(all, raw) {
			t.Errorf("the terminal shows raw markdown %q:\n%s", raw, all)
		}
	}
	p = startTUI(t, []string{keyEnv}, append([]string{"-p", "--raw", "plan it"}, g.args()...)...)
	waitForExit(p, 20*time.Second, "## Plan", "**important**", "|---|", "END-MARK")
}

// TestPrintPipedStaysRaw: piped, the answer is the model's bytes exactly.
func TestPrintPipedStaysRaw(t *testing.T) {
	g := markdownGateway(t)
	r := parley(t, runOpts{}, append([]string{"-p", "plan it"}, g.args()...)...)
	if r.code != 0 || r.stdout != renderAnswer {
		t.Fatalf("exit %d, stdout %q, want %q (stderr %q)", r.code, r.stdout, renderAnswer, r.stderr)
	}
}
