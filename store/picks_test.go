package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/parley-chat/parley/session"
)

func TestPicksPersist(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := Open(dir, Options{Secrets: []string{"sk-secret-123"}})
	if err != nil {
		t.Fatal(err)
	}
	at := time.UnixMilli(1700000000000).UTC()
	want := []session.Pick{
		{At: at, Comparison: "c1", Blind: true, Models: []string{"demo-think", "demo-fast"}, Winner: 1},
		{At: at.Add(time.Second), Comparison: "c2", Blind: true, Models: []string{"a", "b", "c"}, Winner: session.Tie},
		{At: at.Add(2 * time.Second), Comparison: "c3", Models: []string{"x-sk-secret-123", "y"}, Winner: 0},
	}
	for _, p := range want {
		if err := st.AddPick(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []session.Pick{
		{Models: []string{"only"}, Winner: 0},
		{Models: []string{"a", "b"}, Winner: 2},
		{Models: []string{"a", "b"}, Winner: -2},
	} {
		if err := st.AddPick(ctx, bad); err == nil {
			t.Fatalf("saved a bad pick: %+v", bad)
		}
	}
	st.Close()

	// Another process reads them back.
	st, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Picks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("%d picks read back: %+v", len(got), got)
	}
	for i, p := range got {
		w := want[i]
		if !p.At.Equal(w.At) || p.Comparison != w.Comparison || p.Blind != w.Blind || p.Winner != w.Winner ||
			len(p.Models) != len(w.Models) {
			t.Fatalf("pick %d: %+v, want %+v", i, p, w)
		}
		for j := range w.Models {
			if p.Models[j] != w.Models[j] && !strings.Contains(w.Models[j], "sk-secret") {
				t.Fatalf("pick %d model %d: %q", i, j, p.Models[j])
			}
		}
	}
	if strings.Contains(got[2].Models[0], "sk-secret-123") {
		t.Fatalf("a secret was saved: %q", got[2].Models[0])
	}
	board := session.Leaderboard(got, false)
	if len(board) != 5 || board[0].Model != "demo-fast" || board[0].Wins != 1 {
		t.Fatalf("leaderboard: %+v", board)
	}
}
