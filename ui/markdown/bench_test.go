package markdown

import (
	"charm.land/glamour/v2"
	"testing"

	"github.com/parley-chat/parley/themes"
)

func benchRenderer(b *testing.B, width int) *Renderer {
	b.Helper()
	th, err := themes.Lookup("dark", true)
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(width, th)
	if err != nil {
		b.Fatal(err)
	}
	return r
}

func BenchmarkRenderFull64K(b *testing.B) {
	doc := genDoc(64<<10, 1)
	r := benchRenderer(b, 100)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		r.Render(doc, 1)
	}
}

// benchStream streams doc in 4-byte deltas and calls View once per frame
// bytes of appended text, then Finish.
func benchStream(b *testing.B, size, frame int) {
	doc := genDoc(size, 1)
	r := benchRenderer(b, 100)
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewStream(r, 1)
		next := frame
		for i := 0; i < len(doc); i += 4 {
			s.Append(doc[i:min(i+4, len(doc))])
			if i+4 >= next {
				s.View()
				next += frame
			}
		}
		s.Finish()
	}
}

func BenchmarkStream64K(b *testing.B)         { benchStream(b, 64<<10, 1<<10) }
func BenchmarkStream64KFrame256(b *testing.B) { benchStream(b, 64<<10, 256) }
func BenchmarkStream256K(b *testing.B)        { benchStream(b, 256<<10, 1<<10) }
func BenchmarkStream256KFrame256(b *testing.B) {
	benchStream(b, 256<<10, 256)
}

func BenchmarkNew(b *testing.B) {
	th, _ := themes.Lookup("dark", true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(100, th); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGlamourNewTermRenderer is the cost New avoids: glamour's own
// constructor with the same style and width, for comparison.
func BenchmarkGlamourNewTermRenderer(b *testing.B) {
	th, _ := themes.Lookup("dark", true)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := glamour.NewTermRenderer(glamour.WithStyles(th.Markdown), glamour.WithWordWrap(100)); err != nil {
			b.Fatal(err)
		}
	}
}
