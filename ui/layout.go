package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// paneWidths divides width cells among n panes side by side, one cell of
// separator between neighbours; the first panes get the cells left over.
// One pane gets the whole width.
func paneWidths(width, n int) []int {
	out := make([]int, n)
	if n == 0 {
		return out
	}
	avail := max(width-(n-1), 0)
	for i := range out {
		out[i] = avail / n
		if i < avail%n {
			out[i]++
		}
	}
	return out
}

// writePanes writes height lines of the panes' views side by side, each
// line cut or padded to its pane's width, with sep between panes. A single
// pane's view is written as it is.
func writePanes(b *strings.Builder, panes []*Pane, height int, sep string) {
	if len(panes) == 1 {
		b.WriteString(panes[0].view)
		b.WriteByte('\n')
		return
	}
	for row := 0; row < height; row++ {
		for i, p := range panes {
			if i > 0 {
				b.WriteString(sep)
			}
			line := ""
			if row < len(p.visible) {
				line = ansi.Truncate(p.visible[row], p.width, "")
			}
			b.WriteString(line)
			if i < len(panes)-1 {
				b.WriteString(strings.Repeat(" ", max(p.width-ansi.StringWidth(line), 0)))
			}
		}
		b.WriteByte('\n')
	}
}
