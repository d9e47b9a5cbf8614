package store

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// richConversation records a conversation with reasoning, code, a tool
// call and its result, an answer replaced by /retry and an error.
func richConversation(t *testing.T, st *Store) string {
	t.Helper()
	p := &scripted{script: func(n int, _ context.Context, emit func(provider.Event)) error {
		emit(provider.Started{Status: 200, Model: "gw-model"})
		switch n {
		case 1:
			emit(provider.ReasoningDelta{Text: "Let me think </details> about it."})
			emit(provider.TextDelta{Text: "Here is code:\n\n```go\nfmt.Println(\"a ``` b\")\n```\n\nDone."})
			emit(provider.Usage{InputTokens: 12, OutputTokens: 30, TotalTokens: 42})
			emit(provider.Done{FinishReason: "stop"})
		case 2:
			emit(provider.TextDelta{Text: "first try"})
			emit(provider.Done{FinishReason: "stop"})
		case 3:
			emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "call_1", Name: "lookup", Arguments: "{\"q\":\"a ```` run\"}", Opaque: "sig"}})
			emit(provider.RateLimit{Scope: "requests", Limit: 10, Remaining: 3})
			emit(provider.Done{FinishReason: "tool_calls"})
		case 4:
			emit(provider.TextDelta{Text: "The lookup says:\n\n```\nunclosed"})
			emit(provider.Error{Err: &provider.APIError{Kind: provider.KindHTTP, Status: 503, Title: "Unavailable", Message: "try later", Partial: true}})
		}
		return nil
	}}
	r := newRig(t, st, p, nil)
	r.ask("Show me *Go* code")
	r.ask("# not a heading\nsecond question")
	if _, err := r.chat.Retry(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.finish()
	if err := r.chat.AddToolResult("call_1", `{"answer":42}`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.chat.Continue(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.finish()
	r.flush()
	return r.chat.Conversation().ID
}

func TestJSONExportRoundTripsExactly(t *testing.T) {
	st, _ := openTemp(t, Options{})
	id := richConversation(t, st)
	ctx := context.Background()
	var a bytes.Buffer
	if err := st.ExportJSON(ctx, id, &a); err != nil {
		t.Fatal(err)
	}
	st2, _ := openTemp(t, Options{})
	got, err := st2.Import(ctx, bytes.NewReader(a.Bytes()))
	if err != nil || got != id {
		t.Fatalf("import: %q, %v", got, err)
	}
	var b bytes.Buffer
	if err := st2.ExportJSON(ctx, id, &b); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Fatalf("export → import → export differs:\n%s\n----\n%s", a.String(), b.String())
	}
	c1, _ := st.Load(ctx, id, LoadOptions{Timelines: true})
	c2, _ := st2.Load(ctx, id, LoadOptions{Timelines: true})
	if len(c2.Turns) != 4 || len(c2.Turns[2].Events()) != len(c1.Turns[2].Events()) || c2.Turns[2].ToolCalls[0].Opaque != "sig" {
		t.Fatalf("imported conversation differs: %d turns", len(c2.Turns))
	}
	if Markdown(c1) != Markdown(c2) {
		t.Fatal("the imported conversation exports other markdown")
	}
	// Searchable once imported.
	if hits, _ := st2.Search(ctx, "lookup", 5); len(hits) == 0 {
		t.Fatal("imported messages are not searchable")
	}
	// The same conversation twice is refused.
	var exists *ImportExistsError
	if _, err := st2.Import(ctx, bytes.NewReader(a.Bytes())); !errors.As(err, &exists) {
		t.Fatalf("second import: %v", err)
	}
}

func TestImportRefusesBadFiles(t *testing.T) {
	st, _ := openTemp(t, Options{})
	ctx := context.Background()
	good := `{"format":"parley.conversation","version":1,"id":"abc","title":"t","created":"2026-01-01T00:00:00Z","updated":"2026-01-01T00:00:00Z","messages":[{"role":"user","content":"hi","created":"2026-01-01T00:00:00Z"}],"turns":[]}`
	if _, err := st.Import(ctx, strings.NewReader(good)); err != nil {
		t.Fatalf("a minimal export: %v", err)
	}
	for name, tt := range map[string]struct{ doc, want string }{
		"not json":      {"hello", "not a Parley conversation export"},
		"other format":  {strings.Replace(good, "parley.conversation", "x", 1), "format"},
		"newer version": {strings.Replace(good, `"version":1`, `"version":9`, 1), "upgrade"},
		"unknown field": {strings.Replace(good, `"title"`, `"bogus":1,"title"`, 1), "unknown field"},
		"bad id":        {strings.Replace(good, `"abc"`, `"../x"`, 1), "invalid conversation id"},
		"bad role":      {strings.Replace(good, `"user"`, `"root"`, 1), "unknown role"},
		"bad event": {strings.Replace(good, `"turns":[]`, `"turns":[{"seq":0,"sent":1,"status":"done","started":"2026-01-01T00:00:00Z","timeline":[{"offset_ms":1,"event":{"type":"bogus"}}]}]`, 1),
			"unknown event type"},
		"turn out of order": {strings.Replace(good, `"turns":[]`, `"turns":[{"seq":3,"sent":1,"status":"done","started":"2026-01-01T00:00:00Z","timeline":[]}]`, 1),
			"in order"},
	} {
		doc := strings.Replace(tt.doc, `"abc"`, `"new`+strings.ReplaceAll(name, " ", "")+`"`, 1)
		if _, err := st.Import(ctx, strings.NewReader(doc)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v (want %q)", name, err, tt.want)
		}
	}
	defer func(n int64) { maxImportBytes = n }(maxImportBytes)
	maxImportBytes = 1 << 20
	huge := strings.NewReader(good + strings.Repeat(" ", 1<<20))
	if _, err := st.Import(ctx, huge); err == nil || !strings.Contains(err.Error(), "larger than 1 MB") {
		t.Errorf("a huge file: %v", err)
	}
}

func TestMarkdownExport(t *testing.T) {
	st, _ := openTemp(t, Options{})
	id := richConversation(t, st)
	var out bytes.Buffer
	if err := st.ExportMarkdown(context.Background(), id, &out); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{
		"---\ntitle: \"Show me *Go* code\"\nid: \"" + id + "\"\ncreated: ",
		"models: [\"gw-model\"]\ntokens:\n  input: 12\n  output: 30\n---\n",
		"# Show me \\*Go\\* code\n",
		"## You\n\nShow me *Go* code\n",
		"## gw-model\n\n<details>\n<summary>Reasoning", // and its duration when it took 0.1 s or more
		"</summary>\n\nLet me think &lt;/details> about it.\n\n</details>\n",
		"```go\nfmt.Println(\"a ``` b\")\n```\n\nDone.\n",
		"## You\n\n```text\n# not a heading\nsecond question\n```\n",
		"<summary>Earlier answer, replaced by /retry · gw-model</summary>\n\nfirst try\n",
		"<summary>Tool call: lookup</summary>\n\n`````json\n{\n  \"q\": \"a ```` run\"\n}\n`````\n",
		"<summary>Tool result: lookup</summary>\n\n```json\n{\"answer\":42}\n```\n",
		"```\nunclosed\n```\n\n> **Error:** 503 Unavailable — try later\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("markdown:\n%s", md)
	}
}

func TestCloseFences(t *testing.T) {
	for in, want := range map[string]string{
		"text":                     "text",
		"```go\ncode\n```":         "```go\ncode\n```",
		"```go\ncode":              "```go\ncode\n```\n",
		"````\n```\ninner":         "````\n```\ninner\n````\n",
		"~~~\ncode\n":              "~~~\ncode\n~~~\n",
		"``` not ``` a fence\nxy":  "``` not ``` a fence\nxy",
		"    ```\nindented code":   "    ```\nindented code",
		"```\na\n```\n```python\n": "```\na\n```\n```python\n```\n",
	} {
		if got := closeFences(in); got != want {
			t.Errorf("closeFences(%q) = %q, want %q", in, got, want)
		}
	}
}
