package ui

import (
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// liveHeap returns the bytes of heap objects alive after a full
// collection.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkStreamLiveHeap streams a 256 KB answer through the root model
// in 16-byte deltas with a frame (Update and View) every 8 deltas, as a
// gateway streaming a few hundred chunks a second does, and reports the
// heap the chat keeps alive: the largest live heap seen at eight points
// during the stream and the live heap once the answer is done, each after
// a full collection, less the heap before the chat was built, in bytes
// and as a multiple of the answer's size:
//
//	go test -run '^$' -bench StreamLiveHeap -benchtime 1x ./ui
func BenchmarkStreamLiveHeap(b *testing.B) {
	const size = 256 << 10
	var h streamHeap
	for b.Loop() {
		h = measureStreamHeap(b, size)
	}
	b.ReportMetric(float64(h.peak), "live-B-peak")
	b.ReportMetric(float64(h.done), "live-B-done")
	b.ReportMetric(float64(h.peak)/size, "peak/answer")
	b.ReportMetric(float64(h.done)/size, "done/answer")
}

// streamHeap is what measureStreamHeap found, in bytes of live heap over
// the heap before the chat was built.
type streamHeap struct {
	setup uint64 // once the chat is built and its answer started
	peak  uint64 // the most at eight points while the answer streams
	done  uint64 // once the answer is done
}

// measureStreamHeap streams an answer of about size bytes of markdown
// in 16-byte deltas, a frame every 8 deltas, and measures the live heap.
func measureStreamHeap(tb testing.TB, size int) streamHeap {
	const delta, frame = 16, 8
	md := benchMarkdown(size)
	var h streamHeap
	base := liveHeap()
	m, p, run := startAnswer(tb)
	h.setup = liveHeap() - min(base, liveHeap())
	n := 0
	for i := 0; i < len(md); i += delta {
		ev := provider.TextDelta{Text: md[i:min(i+delta, len(md))]}
		m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: ev}})
		if n++; n%frame == 0 {
			m.Update(frameMsg{})
			m.View()
		}
		if (i/delta)%(len(md)/delta/8+1) == 0 && i > 0 {
			l := liveHeap()
			h.peak = max(h.peak, l-min(base, l))
		}
	}
	m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: provider.Done{}}})
	m.View()
	l := liveHeap()
	h.done = l - min(base, l)
	runtime.KeepAlive(m)
	m.shutdown()
	return h
}

// TestStreamHeapBounded streams a 128 KB answer (64 KB under the race
// detector, which renders ten times slower) in small deltas with frames
// and checks the heap it keeps alive, beyond the chat's own, stays within
// a few times the answer: once done (the text, its rendering and its
// lines, the timeline) and at any point while it streams.
func TestStreamHeapBounded(t *testing.T) {
	size := 128 << 10
	if raceEnabled {
		size = 64 << 10
	}
	h := measureStreamHeap(t, size)
	peak, done := float64(h.peak-min(h.setup, h.peak)), float64(h.done-min(h.setup, h.done))
	t.Logf("beyond the chat's own %d bytes: peak %.0f bytes (%.2fx the answer), done %.0f (%.2fx)", h.setup, peak, peak/float64(size), done, done/float64(size))
	if done > 5*float64(size) {
		t.Errorf("the finished answer keeps %.0f bytes alive, %.2fx its size; want at most 5x", done, done/float64(size))
	}
	if peak > 10*float64(size) {
		t.Errorf("the streaming answer kept %.0f bytes alive, %.2fx its size; want at most 10x", peak, peak/float64(size))
	}
}

// TestLiveBodyMatchesStreamView streams an answer in deltas of varied
// sizes, with a resize half way and a link reference definition near the
// end (both make the stream drop its finished pieces), and checks after
// every frame that the lines the pane shows for the answer are its
// stream's view, line by line.
func TestLiveBodyMatchesStreamView(t *testing.T) {
	md := benchMarkdown(24<<10) + "See [the docs][d].\n\n[d]: https://example.com\n\nAfter it.\n"
	m, p, run := startAnswer(t)
	defer m.shutdown()
	rng := rand.New(rand.NewPCG(1, 2))
	frames := 0
	for i := 0; i < len(md); {
		n := 1 + rng.IntN(40)
		ev := provider.TextDelta{Text: md[i:min(i+n, len(md))]}
		i += n
		m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: ev}})
		if i > len(md)/2 && i-n <= len(md)/2 {
			m.Update(tea.WindowSizeMsg{Width: 70, Height: 30})
		}
		if rng.IntN(6) > 0 {
			continue
		}
		m.Update(frameMsg{})
		m.View()
		frames++
		want := p.stream.View()
		var lines []string
		for _, r := range []lineRun{p.liveBody.done, strRun(p.liveBody.tail)} {
			for k := range r.len() {
				lines = append(lines, r.at(k))
			}
		}
		got := strings.Join(lines, "\n")
		if got != want {
			t.Fatalf("frame %d, after %d bytes: the pane's lines differ from the stream's view\ngot  %.200q\nwant %.200q", frames, i, got, want)
		}
	}
	if _, _, epoch := p.stream.Parts(); frames < 50 || p.stream.Blocks() == 0 || epoch < 2 {
		t.Fatalf("%d frames, %d code blocks, pieces dropped %d times: the test streamed too little", frames, p.stream.Blocks(), epoch)
	}
}

// TestLineRunIndexesPieces checks that a run of pieces, added a few at a
// time, gives the lines of the pieces joined by blank lines.
func TestLineRunIndexesPieces(t *testing.T) {
	pieces := []string{"a", "b\nc", "\n", "d\n\ne\n", "ff", "", "g\nh"}
	var r lineRun
	for n := range len(pieces) + 1 {
		if n%3 == 0 || n == len(pieces) {
			r.addPieces(pieces[:n])
		}
	}
	want := strings.Split(strings.Join(pieces, "\n\n"), "\n")
	if r.len() != len(want) {
		t.Fatalf("%d lines, want %d", r.len(), len(want))
	}
	for i, w := range want {
		if got := r.at(i); got != w {
			t.Fatalf("line %d = %q, want %q", i, got, w)
		}
	}
}
