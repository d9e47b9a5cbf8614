package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/session"
)

// pasteText builds about n bytes of source-like text in lines of 60 to 80
// bytes, the shape of a pasted log or file.
func pasteText(n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%06d  func handler%d(w http.ResponseWriter, r *http.Request) { serve(w, r) }\n", i, i%97)
	}
	return b.String()[:n]
}

func benchModel(b *testing.B) *Model {
	b.Helper()
	m, err := newModel(context.Background(), Options{Theme: "dark",
		Panes: []PaneSpec{{Provider: blockingProvider{}, Settings: session.Settings{Model: "m"}}}}, func(tea.Msg) {})
	if err != nil {
		b.Fatal(err)
	}
	m.Update(tea.WindowSizeMsg{Width: 100, Height: 30})
	return m
}

// BenchmarkPaste measures what a large bracketed paste costs the chat: the
// paste itself (Update + View), then one typed key with the paste in the
// input (Update + View), the figure that must stay under a frame (16 ms).
func BenchmarkPaste(b *testing.B) {
	for _, size := range []int{1 << 20, 5 << 20} {
		text := pasteText(size)
		b.Run(fmt.Sprintf("%dMB/intake", size>>20), func(b *testing.B) {
			for b.Loop() {
				m := benchModel(b)
				m.Update(tea.PasteMsg{Content: text})
				m.View()
			}
		})
		b.Run(fmt.Sprintf("%dMB/keystroke", size>>20), func(b *testing.B) {
			m := benchModel(b)
			m.Update(tea.PasteMsg{Content: text})
			m.View()
			keys(b, m)
		})
	}
}

// BenchmarkKeystrokeInline measures a typed key with text held inline
// in the editor: single long lines and many short lines, up to and past
// the sizes that are folded.
func BenchmarkKeystrokeInline(b *testing.B) {
	cases := []struct {
		name string
		text string
	}{}
	cases = append(cases, struct{ name, text string }{"empty", ""})
	for _, n := range []int{1200, 2 << 10, 4 << 10, 8 << 10} {
		cases = append(cases, struct{ name, text string }{fmt.Sprintf("line%dB", n), strings.Repeat("w0123 ", n/6+1)[:n]})
	}
	for _, n := range []int{20, 100, 200, 1000} {
		cases = append(cases, struct{ name, text string }{fmt.Sprintf("lines%d", n), strings.Repeat("a short line of pasted text, 40 bytes.\n", n)})
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			m := benchModel(b)
			m.in.ta.InsertString(c.text) // inline, as typed
			m.in.changed()
			m.layout()
			m.View()
			keys(b, m)
		})
	}
}

// keys types a character and deletes it again, b.N times, each key with
// its View, and reports the CPU time per key (the process's user and
// system time, which a loaded machine does not inflate as it does the
// wall time) and the slowest key's wall time.
func keys(b *testing.B, m *Model) {
	var worst time.Duration
	cpu0 := cpuTime()
	n := 0
	for b.Loop() {
		for _, k := range []tea.KeyPressMsg{{Code: 'x', Text: "x"}, {Code: tea.KeyBackspace}} {
			t0 := time.Now()
			m.Update(k)
			m.View()
			worst = max(worst, time.Since(t0))
			n++
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(max(n, 1)), "cpu-µs/key")
	b.ReportMetric(float64(worst.Microseconds()), "µs/key-max")
}
