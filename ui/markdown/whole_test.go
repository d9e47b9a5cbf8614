package markdown

import (
	"math"
	"strings"
	"testing"

	"github.com/parley-chat/parley/sanitize"
)

// nonBlankLines returns the lines of s that have visible content.
func nonBlankLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if len(trimLine([]byte(l))) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// TestPiecesMatchWholeRender checks that rendering a document piece by piece
// gives the same lines as glamour rendering it in one go. Only the spacing
// between top-level blocks may differ: pieces are always one blank line
// apart, where glamour's own spacing is irregular (two blank lines after a
// definition list or a list ending in code, none after an HTML block or a
// blockquote ending in code).
func TestPiecesMatchWholeRender(t *testing.T) {
	for _, width := range []int{80, 30} {
		r := testRenderer(t, width, "dark")
		for name, doc := range allDocs() {
			if name == "refdefs" {
				continue // rendered unsplit anyway
			}
			got, gotN := r.Render(doc, 1)
			whole, wholeN := r.render(tameText(sanitize.Text(doc)), 1, math.MaxInt)
			if gotN != wholeN {
				t.Errorf("%s: %d code blocks, whole render numbered %d", name, gotN, wholeN)
			}
			gl, wl := nonBlankLines(got), nonBlankLines(whole)
			for i := 0; i < max(len(gl), len(wl)); i++ {
				var g, w string
				if i < len(gl) {
					g = gl[i]
				}
				if i < len(wl) {
					w = wl[i]
				}
				if g != w {
					t.Errorf("%s (width %d): non-blank line %d differs\npieces: %q\nwhole:  %q", name, width, i, g, w)
					break
				}
			}
		}
	}
}
