package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/parley-chat/parley/store"
)

// TestComparisonIsSavedAsOneSession: a comparison in print mode is one
// entry of the listing with its columns; show and export give every
// column under a header; -c of the comparison says to continue a column,
// and -c of a column does.
func TestComparisonIsSavedAsOneSession(t *testing.T) {
	rec := &recorder{}
	srv := rec.server(t)
	env := sessionsEnv(t)
	gw := []string{"--base-url", srv.URL + "/v1"}
	if _, stderr, code := run(t, env, append([]string{"-p", "a plain question", "-m", "m-0"}, gw...)...); code != 0 {
		t.Fatalf("print: exit %d: %s", code, stderr)
	}
	if _, stderr, code := run(t, env, append([]string{"compare", "-p", "-m", "m-1", "-m", "m-2{temperature=0}", "explain SSE"}, gw...)...); code != 0 {
		t.Fatalf("compare: exit %d: %s", code, stderr)
	}
	list := listSessions(t, env)
	if len(list) != 2 {
		t.Fatalf("listing: %d entries, want the comparison once and the plain conversation: %v", len(list), list)
	}
	cmp := list[0]
	cols, _ := cmp["columns"].([]any)
	if cmp["title"] != "explain SSE" || cmp["model"] != "compare: m-1 vs m-2{temperature=0}" || cmp["origin"] != "compare" ||
		cmp["messages"] != 4.0 || len(cols) != 2 {
		t.Fatalf("the comparison's entry: %v", cmp)
	}
	col0, col1 := cols[0].(map[string]any), cols[1].(map[string]any)
	if col0["model"] != "m-1" || col1["model"] != "m-2" || col1["label"] != "m-2{temperature=0}" || col1["position"] != 1.0 ||
		col0["comparison"] != cmp["id"] {
		t.Fatalf("the columns: %v", cols)
	}
	id := cmp["id"].(string)

	out, stderr, code := run(t, env, "sessions")
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, "compare: m-1 vs m-2{temperature=0}") ||
		!strings.Contains(out, "explain SSE  (2 columns)") || !strings.Contains(out, id[:8]) {
		t.Fatalf("sessions: exit %d %s\n%s", code, stderr, out)
	}
	out, stderr, code = run(t, env, "sessions", "show", id[:8])
	if code != 0 || !strings.Contains(out, "══ column 1 · m-1 ══") || !strings.Contains(out, "══ column 2 · m-2{temperature=0} ══") ||
		strings.Count(out, "explain SSE") != 5 || strings.Count(out, "◆ assistant") != 2 {
		t.Fatalf("sessions show: exit %d %s\n%s", code, stderr, out)
	}
	out, _, code = run(t, env, "sessions", "export", id)
	if code != 0 || !strings.Contains(out, "## Column 1 · m-1") || !strings.Contains(out, "## Column 2 · m-2{temperature=0}") {
		t.Fatalf("sessions export: exit %d\n%s", code, out)
	}
	// -c of the comparison names its columns; -c of a column continues
	// it alone, with its history.
	_, stderr, code = run(t, env, append([]string{"-c", id[:8], "-p", "more"}, gw...)...)
	if code != ExitUsage || !strings.Contains(stderr, "is a comparison of 2 columns") || !strings.Contains(stderr, col1["id"].(string)) {
		t.Fatalf("-c of a comparison: exit %d, %s", code, stderr)
	}
	if _, stderr, code := run(t, env, append([]string{"-c", col1["id"].(string), "-p", "more"}, gw...)...); code != 0 {
		t.Fatalf("-c of a column: exit %d: %s", code, stderr)
	}
	last := rec.bodies[len(rec.bodies)-1]
	if got := messagesOf(last); got != "explain SSE|ok|more" || last["model"] != "m-2" {
		t.Fatalf("-c of a column sends %q to %v", got, last["model"])
	}
	// A search hit in a column names its comparison.
	out, _, _ = run(t, env, "sessions", "search", "SSE", "--output", "json")
	if !strings.Contains(out, `"comparison": "`+id+`"`) {
		t.Fatalf("search: %s", out)
	}
	// The chat's session browser opens one conversation: it lists the
	// comparison's columns, each named after it.
	st, err := store.Open(filepath.Join(env["XDG_DATA_HOME"], "parley"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	infos, err := chatSessions{st: st}.List(t.Context())
	st.Close()
	if err != nil || len(infos) != 3 || infos[0].ID != col0["id"] || infos[0].Title != "explain SSE · column 1 of 2" ||
		infos[1].Title != "explain SSE · column 2 of 2" || infos[2].Title != "a plain question" {
		t.Fatalf("the browser's listing: %+v, %v", infos, err)
	}
	// Removing the comparison removes its columns.
	if _, stderr, code := run(t, env, "sessions", "rm", id); code != 0 {
		t.Fatalf("rm: exit %d: %s", code, stderr)
	}
	if list := listSessions(t, env); len(list) != 1 || list[0]["title"] != "a plain question" {
		t.Fatalf("after rm: %v", list)
	}
}
