package ui

import (
	"context"
	"fmt"
	"runtime/metrics"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// BenchmarkHugeAnswer streams a huge markdown answer through the root
// model in 4 KB deltas, with a frame every 8 deltas, and reports the
// slowest and 99th-percentile frame (Update and View), the frame at the
// end of the answer, and the largest heap seen after a frame. Past the
// markdown size limit the answer continues as plain text, so frames stay
// cheap however long the answer grows:
//
//	go test -run '^$' -bench HugeAnswer -benchtime 1x ./ui
func BenchmarkHugeAnswer(b *testing.B) {
	for _, size := range []int{8 << 20, 50 << 20} {
		b.Run(fmt.Sprintf("%dMB", size>>20), func(b *testing.B) {
			md := benchMarkdown(size)
			heap := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
			var frames []time.Duration
			var peak uint64
			var last time.Duration
			for b.Loop() {
				m, p, run := startAnswer(b)
				for i, n := 0, 0; i < len(md); i, n = i+4096, n+1 {
					delta := provider.TextDelta{Text: md[i:min(i+4096, len(md))]}
					m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: delta}})
					m.View()
					if n%8 == 7 {
						t := time.Now()
						m.Update(frameMsg{})
						m.View()
						frames = append(frames, time.Since(t))
						metrics.Read(heap)
						peak = max(peak, heap[0].Value.Uint64())
					}
				}
				t := time.Now()
				m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: provider.Done{}}})
				m.View()
				last = time.Since(t)
				m.shutdown()
			}
			slices.Sort(frames)
			b.ReportMetric(float64(frames[len(frames)*99/100].Microseconds()), "µs/frame-p99")
			b.ReportMetric(float64(frames[len(frames)-1].Microseconds()), "µs/frame-max")
			b.ReportMetric(float64(last.Microseconds()), "µs/done")
			b.ReportMetric(float64(peak>>20), "MB-heap-peak")
		})
	}
}

// startAnswer returns a 120×40 chat whose pane waits for the answer to a
// prompt, and the run its events must carry; the caller feeds them.
func startAnswer(b testing.TB, observers ...session.Observer) (*Model, *Pane, uint64) {
	b.Helper()
	m, err := newModel(context.Background(), Options{Theme: "dark",
		Panes: []PaneSpec{{Provider: blockingProvider{}, Settings: session.Settings{Model: "m"}, Observers: observers}}}, func(tea.Msg) {})
	if err != nil {
		b.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
	m.Update(submitMsg{text: "go"})
	p := m.focused()
	return m, p, p.chat.Turn().ID
}
