package ui

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/internal/cputime"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// blockingProvider never answers; benchmarks feed the events themselves.
type blockingProvider struct{}

func (blockingProvider) Name() string              { return "bench" }
func (blockingProvider) Dialect() provider.Dialect { return provider.DialectOpenAI }
func (blockingProvider) Models(context.Context) ([]provider.Model, error) {
	return nil, nil
}
func (blockingProvider) Stream(ctx context.Context, _ *provider.Request, _ func(provider.Event)) error {
	<-ctx.Done()
	return ctx.Err()
}

func benchMarkdown(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "## Section %d\n\nA paragraph with **bold**, *emphasis* and `code`, long enough to wrap across the width of the pane a few times so the renderer has real work to do.\n\n- item one of %d\n- item two\n\n```go\nfunc f%d() int {\n\treturn %d\n}\n```\n\n", i, i, i, i)
	}
	return b.String()
}

// BenchmarkStreamFrames streams a 64 KB answer in 4-byte deltas through the
// root model's Update and View, with a frame every 64 deltas, and reports
// the mean, 99th percentile and worst frame (frame Update + View) and the
// worst single delta (Update + View). Worst cases include scheduler noise
// on a loaded machine; the percentile is the steadier figure.
func BenchmarkStreamFrames(b *testing.B) { benchStreamFrames(b, nil) }

// benchStreamFrames is BenchmarkStreamFrames with the observers that
// observers returns (when not nil) watching each chat.
func benchStreamFrames(b *testing.B, observers func(*testing.B) []session.Observer) {
	for _, size := range []int{64 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("%dKB", size>>10), func(b *testing.B) {
			md := benchMarkdown(size)
			evs := deltas(md, 4)
			var worstFrame, totalFrame, worstDelta time.Duration
			var all []time.Duration
			frames := 0
			// The chat's goroutine stays on its thread, so its thread CPU
			// time is what the screen spent, whatever else runs.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu := cputime.Thread()
			for i := 0; i < b.N; i++ {
				var obs []session.Observer
				if observers != nil {
					obs = observers(b)
				}
				m, p, run := startAnswer(b, obs...)
				for j, ev := range evs {
					t0 := time.Now()
					m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: ev}})
					m.View()
					worstDelta = max(worstDelta, time.Since(t0))
					if j%64 == 63 {
						t0 = time.Now()
						m.Update(frameMsg{})
						m.View()
						d := time.Since(t0)
						worstFrame = max(worstFrame, d)
						totalFrame += d
						all = append(all, d)
						frames++
					}
				}
				m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: run, At: time.Now(), Event: provider.Done{}}})
				m.View()
				m.shutdown()
			}
			b.ReportMetric(float64(totalFrame.Microseconds())/float64(max(frames, 1)), "µs/frame-mean")
			b.ReportMetric(float64(worstFrame.Microseconds()), "µs/frame-max")
			slices.Sort(all)
			if len(all) > 0 {
				b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "µs/frame-p99")
			}
			b.ReportMetric(float64(worstDelta.Microseconds()), "µs/delta-max")
			b.ReportMetric(float64((cputime.Thread()-cpu).Microseconds())/float64(b.N*len(evs)), "cpu-µs/delta")
		})
	}
}

// BenchmarkFullRender is the baseline: rendering the final 64 KB document
// once.
func BenchmarkFullRender(b *testing.B) {
	md := benchMarkdown(64 << 10)
	m, _ := newModel(context.Background(), Options{Panes: []PaneSpec{{Provider: blockingProvider{}}}, Theme: "dark"}, func(tea.Msg) {})
	r := m.renderer(120)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Render(md, 1)
	}
}

// BenchmarkStartToFirstFrame measures building the root model, the first
// size message and the first View: the in-process part of start-up.
func BenchmarkStartToFirstFrame(b *testing.B) {
	for i := 0; i < b.N; i++ {
		m, err := newModel(context.Background(), Options{Panes: []PaneSpec{{Provider: blockingProvider{}}}, Theme: "dark"}, func(tea.Msg) {})
		if err != nil {
			b.Fatal(err)
		}
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		if m.View().Content == "" {
			b.Fatal("empty first frame")
		}
	}
}
