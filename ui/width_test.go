package ui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
)

// TestAnswerWidthCapped: on a wide terminal an answer's paragraphs wrap at
// Options.MaxWidth, streaming and finished, while MaxWidth 0 lets them run
// the pane's width.
func TestAnswerWidthCapped(t *testing.T) {
	para := strings.Repeat("word ", 120)
	for _, tt := range []struct {
		maxWidth, want int
	}{{100, 100}, {0, 200}} {
		p := &scriptProvider{events: append(deltas(para+"\n\nMARK-END\n", 16), provider.Done{FinishReason: "stop"})}
		h := newHarness(t, p, func(o *Options) { o.MaxWidth = tt.maxWidth })
		h.update(tea.WindowSizeMsg{Width: 200, Height: 50})
		h.send("go")
		h.pump(100)
		h.frame()
		screen := h.plain()
		contains(t, screen, "MARK-END")
		widest := 0
		for _, l := range strings.Split(screen, "\n") {
			if strings.Contains(l, "word") {
				widest = max(widest, ansi.StringWidth(strings.TrimRight(l, " ")))
			}
		}
		if widest > tt.want || widest < tt.want-6 {
			t.Errorf("max width %d: paragraph lines up to %d columns, want about %d:\n%s", tt.maxWidth, widest, tt.want, screen)
		}
	}
}
