package markdown

import (
	"strings"
	"testing"
)

// FuzzStream checks, for arbitrary input, that rendering never emits an
// escape sequence other than SGR, and that streaming the input in two-part
// deltas with a View in between ends exactly at Render, with the finished
// prefix always a prefix of the final render.
func FuzzStream(f *testing.F) {
	for _, d := range testDocs {
		f.Add(d, uint16(7))
	}
	f.Add("- a\n\n- b\n\n```\nx\n\n```\n\n1. x\n2. y\n\n> q\n\n<!--\n\n-->\n\n| a |\n|---|\n", uint16(3))
	th := testRenderer(f, 40, "dark")
	f.Fuzz(func(t *testing.T, doc string, step uint16) {
		if len(doc) > 4096 {
			return
		}
		want, wantN := th.Render(doc, 1)
		for _, seq := range escapeSequences(want) {
			if !strings.HasPrefix(seq, "\x1b[") || !strings.HasSuffix(seq, "m") {
				t.Fatalf("non-SGR sequence %q in output", seq)
			}
		}
		n := 1 + int(step)%97
		s := NewStream(th, 1)
		for i := 0; i < len(doc); i += n {
			s.Append(doc[i:min(i+n, len(doc))])
			s.View()
			if !strings.Contains(doc, "]:") && !checkPrefix(s.done.b.String(), want) {
				t.Fatalf("finished prefix is not a prefix of the render\nprefix: %q\nfull:   %q", s.done.b.String(), want)
			}
		}
		if got := s.Finish(); got != want || s.Blocks() != wantN {
			t.Fatalf("Finish differs from Render\ngot:  %q\nwant: %q", got, want)
		}
	})
}
