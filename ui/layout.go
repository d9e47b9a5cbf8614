package ui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"
)

// minPaneWidth is the narrowest a pane is laid out beside another: below
// it, side-by-side panes page instead (compare mode), so they never
// overlap or squeeze their text into slivers.
const minPaneWidth = 40

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

// panesPerPage is how many of n panes fit side by side in width cells,
// each at least minPaneWidth wide with one-cell separators; at least one.
func panesPerPage(width, n int) int {
	return max(min((width+1)/(minPaneWidth+1), n), 1)
}

// pageOf returns the panes shown when pane focus is focused and per panes
// fit on a page: the page holding it, as [first, end).
func pageOf(focus, per, n int) (first, end int) {
	first = focus / per * per
	return first, min(first+per, n)
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
	cols := make([][]string, len(panes))
	widths := make([]int, len(panes))
	for i, p := range panes {
		cols[i], widths[i] = p.visible, p.width
	}
	writeSideBySide(b, cols, widths, height, sep)
}

// writeSideBySide writes height lines of columns side by side: line row of
// each column cut or padded to its width (a missing line is blank), sep
// between columns, nothing after the last one's text.
func writeSideBySide(b *strings.Builder, cols [][]string, widths []int, height int, sep string) {
	for row := 0; row < height; row++ {
		for i, col := range cols {
			if i > 0 {
				b.WriteString(sep)
			}
			line := ""
			if row < len(col) {
				line = ansi.Truncate(col[row], widths[i], "")
			}
			b.WriteString(line)
			if i < len(cols)-1 {
				b.WriteString(strings.Repeat(" ", max(widths[i]-ansi.StringWidth(line), 0)))
			}
		}
		b.WriteByte('\n')
	}
}
