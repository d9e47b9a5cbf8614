package markdown

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"charm.land/glamour/v2"
	"github.com/parley-chat/parley/themes"

	"github.com/parley-chat/parley/internal/cputime"
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

// BenchmarkViewLatency streams generated answers in 4-byte deltas at full
// speed, with a View per frame of 256 B or 1 KB of text, and reports the
// latency of single Views (CPU time of the calling thread: median, 99th
// percentile and slowest) and the CPU cost of the whole stream relative to
// one Render of the final document (process CPU time), as custom metrics:
//
//	go test -run '^$' -bench ViewLatency ./ui/markdown
func BenchmarkViewLatency(b *testing.B) {
	for _, size := range []int{64 << 10, 256 << 10} {
		for _, frame := range []int{256, 1 << 10} {
			b.Run(fmt.Sprintf("%dKB/frame%d", size>>10, frame), func(b *testing.B) {
				benchViewLatency(b, size, frame)
			})
		}
	}
}

func benchViewLatency(b *testing.B, size, frame int) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := benchRenderer(b, 100)
	doc := genDoc(size, 1)
	c := cputime.Process()
	want, _ := r.Render(doc, 1)
	renderCPU := cputime.Process() - c
	var views []time.Duration
	var streamCPU time.Duration
	for b.Loop() {
		c0 := cputime.Process()
		s := NewStream(r, 1)
		next := frame
		for i := 0; i < len(doc); i += 4 {
			s.Append(doc[i:min(i+4, len(doc))])
			if i+4 >= next {
				t := cputime.Thread()
				s.View()
				views = append(views, cputime.Thread()-t)
				next += frame
			}
		}
		if s.Finish() != want {
			b.Fatal("Finish differs from Render")
		}
		streamCPU += cputime.Process() - c0
	}
	slices.Sort(views)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	b.ReportMetric(us(views[len(views)/2]), "µs/view-p50")
	b.ReportMetric(us(views[len(views)*99/100]), "µs/view-p99")
	b.ReportMetric(us(views[len(views)-1]), "µs/view-max")
	b.ReportMetric(float64(streamCPU)/float64(b.N)/float64(max(renderCPU, 1)), "stream/render-cpu")
}
