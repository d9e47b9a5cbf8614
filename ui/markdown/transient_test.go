package markdown

import (
	"strings"
	"testing"
)

// TestTailMatchesRenderAtLineEnds checks the open tail too: whenever the
// streamed text ends at a line end, View shows what Render shows for that
// text. The tail's incremental paths (code highlighted in slices, lists
// item by item) are only allowed to differ inside multi-line strings or
// comments of code, which these documents do not have. Every line end
// costs a full render, so quick mode takes a shorter generated answer.
func TestTailMatchesRenderAtLineEnds(t *testing.T) {
	r := testRenderer(t, 70, "dark")
	docs := map[string]string{
		"nested lists": testDocs["nested lists"],
		"ordered":      "Intro.\n\n3. three\n4. four\n   - sub\n5. five\n\n1. one\n1. one again\n1. and again\n",
		"loose":        "- a\n\n- b\n\n  para of b\n\n- c\n",
		"code":         "```go\nfunc f() {\n\treturn\n}\n\nfunc g() {}\n```\n",
		"generated":    genDoc(8<<10, 42),
	}
	if quick() {
		docs["generated"] = genDoc(2<<10, 42)
	}
	for name, doc := range docs {
		s := NewStream(r, 1)
		for i := 0; i < len(doc); {
			nl := strings.IndexByte(doc[i:], '\n')
			if nl < 0 {
				break
			}
			// Append a line in two halves, viewing after each.
			mid := i + nl/2
			s.Append(doc[i:mid])
			s.View()
			s.Append(doc[mid : i+nl+1])
			i += nl + 1
			want, _ := r.Render(doc[:i], 1)
			if got := s.View(); got != want {
				gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
				for k := 0; k < max(len(gl), len(wl)); k++ {
					if k >= len(gl) || k >= len(wl) || gl[k] != wl[k] {
						t.Errorf("%s: after %d bytes (%q) View differs from Render at line %d\nview:   %q\nrender: %q",
							name, i, doc[max(0, i-40):i], k, gl[min(k, len(gl)-1)], wl[min(k, len(wl)-1)])
						break
					}
				}
				break
			}
		}
	}
}
