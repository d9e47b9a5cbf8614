//go:build linux

package ui

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"golang.org/x/sys/unix"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
)

// compareBenchModel is a root model comparing n columns that never answer
// by themselves: the benchmarks feed their events.
func compareBenchModel(b *testing.B, n, width, height int) *Model {
	b.Helper()
	opts := Options{Theme: "dark"}
	for i := 0; i < n; i++ {
		opts.Panes = append(opts.Panes, PaneSpec{Provider: blockingProvider{}, ProviderName: "bench",
			Settings: session.Settings{Model: fmt.Sprintf("model-%d", i+1)}})
	}
	m, err := newModel(context.Background(), opts, func(tea.Msg) {})
	if err != nil {
		b.Fatal(err)
	}
	m.Init()
	m.Update(tea.WindowSizeMsg{Width: width, Height: height})
	return m
}

// cpuClock reads one of the kernel's CPU clocks.
func cpuClock(id int32) time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(id, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// BenchmarkCompareFourColumns streams markdown into four columns at 2,000
// tokens per second each (8,000 bytes/s a column, in 4-byte deltas, as
// a fast gateway sends them), with a frame every 33 ms, through the root
// model's Update and View as the program calls them, for 10 s of
// simulated streaming. It reports the CPU the screen needs as a share of
// one core (the process's CPU time, garbage collection included, over the
// streamed time) and the mean, 99th percentile and worst frame (frame
// Update + View, which renders every column's new markdown) in CPU time of
// the thread that runs it, and the worst in wall time. CPU time is what
// the screen costs; wall time also counts waiting for a core on a loaded
// machine. A real terminal adds Bubble Tea's own diffing and writing.
func BenchmarkCompareFourColumns(b *testing.B) {
	const (
		columns   = 4
		tokPerSec = 2000
		bytesTok  = 4
		delta     = 4 // bytes per delta
		frame     = 33 * time.Millisecond
		streamFor = 10 * time.Second
	)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	md := benchMarkdown(tokPerSec * bytesTok * int(streamFor/time.Second))
	evs := deltas(md, delta)
	perFrame := int(float64(tokPerSec*bytesTok/delta) * frame.Seconds()) // deltas per column per frame
	frames := len(evs) / perFrame
	var busy, worstWall time.Duration
	var cpus []time.Duration
	for i := 0; i < b.N; i++ {
		m := compareBenchModel(b, columns, 200, 50)
		m.Update(submitMsg{text: "explain SSE"})
		runs := make([]uint64, columns)
		for c, p := range m.panes {
			runs[c] = p.chat.Turn().ID
		}
		runtime.GC()
		start := cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID)
		for f := 0; f < frames; f++ {
			for c, p := range m.panes {
				for _, ev := range evs[f*perFrame : (f+1)*perFrame] {
					m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: runs[c], At: time.Now(), Event: ev}})
					m.View()
				}
			}
			w, c := time.Now(), cpuClock(unix.CLOCK_THREAD_CPUTIME_ID)
			m.Update(frameMsg{})
			m.View()
			cpus = append(cpus, cpuClock(unix.CLOCK_THREAD_CPUTIME_ID)-c)
			worstWall = max(worstWall, time.Since(w))
		}
		for c, p := range m.panes {
			m.Update(paneEventMsg{Pane: p.ID, Ev: session.Stamped{Run: runs[c], At: time.Now(), Event: provider.Done{FinishReason: "stop"}}})
			m.View()
		}
		busy += cpuClock(unix.CLOCK_PROCESS_CPUTIME_ID) - start
		m.shutdown()
	}
	streamed := time.Duration(b.N) * time.Duration(frames) * frame
	slices.Sort(cpus)
	var total time.Duration
	for _, d := range cpus {
		total += d
	}
	b.ReportMetric(busy.Seconds()/streamed.Seconds(), "cores")
	b.ReportMetric(float64(total.Microseconds())/float64(len(cpus)), "µs/frame-cpu-mean")
	b.ReportMetric(float64(cpus[len(cpus)*99/100].Microseconds()), "µs/frame-cpu-p99")
	b.ReportMetric(float64(cpus[len(cpus)-1].Microseconds()), "µs/frame-cpu-max")
	b.ReportMetric(float64(worstWall.Microseconds()), "µs/frame-wall-max")
}

// BenchmarkCompareStartToFirstFrame measures building the root model with
// four columns, the first size message and the first View: the
// in-process part of the compare screen's start. It reports the worst
// start too, in wall time.
func BenchmarkCompareStartToFirstFrame(b *testing.B) {
	var worst time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		m := compareBenchModel(b, 4, 200, 50)
		if m.View().Content == "" {
			b.Fatal("empty first frame")
		}
		worst = max(worst, time.Since(t0))
	}
	b.ReportMetric(float64(worst.Microseconds()), "µs/start-max")
}
