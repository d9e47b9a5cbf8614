package ui

import (
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

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
	const size, delta, frame = 256 << 10, 16, 8
	md := benchMarkdown(size)
	var peak, done uint64
	for b.Loop() {
		base := liveHeap()
		m, p, run := startAnswer(b)
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
				peak = max(peak, l-min(base, l))
			}
		}
		m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: provider.Done{}}})
		m.View()
		l := liveHeap()
		done = l - min(base, l)
		runtime.KeepAlive(m)
		m.shutdown()
	}
	b.ReportMetric(float64(peak), "live-B-peak")
	b.ReportMetric(float64(done), "live-B-done")
	b.ReportMetric(float64(peak)/float64(len(md)), "peak/answer")
	b.ReportMetric(float64(done)/float64(len(md)), "done/answer")
}
