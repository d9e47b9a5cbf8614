package ui

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/internal/cputime"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
)

// BenchmarkStreamFramesRecorded is BenchmarkStreamFrames with the chat
// recorded into a real store, as Parley runs by default: compare their
// frame and delta figures to see what saving costs the screen.
func BenchmarkStreamFramesRecorded(b *testing.B) {
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	benchStreamFrames(b, func(b *testing.B) []session.Observer {
		return []session.Observer{st.Recorder(store.RecorderOptions{Provider: "bench", Origin: store.OriginChat,
			OnError: func(err error) { b.Error(err) }})}
	})
}

// BenchmarkResumeFirstScreen opens a saved conversation of 1,000 messages
// (500 answers of about 1.3 KB of markdown with a code block each) in the
// chat: the restored chat, the transcript and the first screen at
// 120×40. (Loading it from the database is store's BenchmarkLoad1000.)
func BenchmarkResumeFirstScreen(b *testing.B) {
	saved := &session.Saved{ID: "bench"}
	for i := range 500 {
		md := benchMarkdown(1300)
		saved.Messages = append(saved.Messages,
			provider.Message{Role: provider.RoleUser, Content: fmt.Sprintf("question %d", i)},
			provider.Message{Role: provider.RoleAssistant, Content: md})
		t := &session.Turn{Sent: 2*i + 1, Model: "m"}
		t.Restore(md, "")
		saved.Turns = append(saved.Turns, t)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := cputime.Thread()
	for b.Loop() {
		m, err := newModel(context.Background(), Options{Theme: "dark",
			Panes: []PaneSpec{{Provider: blockingProvider{}, Settings: session.Settings{Model: "m"}, Resume: saved}}}, func(tea.Msg) {})
		if err != nil {
			b.Fatal(err)
		}
		m.Init()
		m.Update(tea.WindowSizeMsg{Width: 120, Height: 40})
		if !strings.Contains(m.View().Content, "Section") {
			b.Fatal("the last answer is not on the first screen")
		}
	}
	b.ReportMetric(float64((cputime.Thread()-cpu).Microseconds())/1000/float64(b.N), "cpu-ms/op")
}
