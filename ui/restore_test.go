package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/ui/markdown"
)

// savedConversation builds a saved conversation of n prompts and
// answers; each answer has a code block, the first has reasoning, and
// the first prompt's first answer was replaced by /retry.
func savedConversation(n int) *session.Saved {
	s := &session.Saved{ID: "0123456789abcdef", Created: testStart}
	for i := 0; i < n; i++ {
		prompt := fmt.Sprintf("question %d", i)
		answer := fmt.Sprintf("Answer %d.\n\n```go\nfunc f%d() {}\n```\n", i, i)
		s.Messages = append(s.Messages,
			provider.Message{Role: provider.RoleUser, Content: prompt},
			provider.Message{Role: provider.RoleAssistant, Content: answer})
		sent := 2*i + 1
		if i == 0 {
			old := &session.Turn{Sent: sent, Superseded: true, Start: testStart, End: testStart}
			old.Restore("an answer replaced by retry", "")
			s.Turns = append(s.Turns, old)
		}
		t := &session.Turn{Sent: sent, Start: testStart, End: testStart.Add(time.Second), Model: "m-saved"}
		reasoning := ""
		if i == 0 {
			t.ReasoningStart, t.ReasoningEnd, reasoning = testStart, testStart.Add(time.Second), "saved reasoning"
		}
		t.Restore(answer, reasoning)
		s.Turns = append(s.Turns, t)
	}
	return s
}

func TestRestoredConversationShowsAndCarriesOn(t *testing.T) {
	saved := savedConversation(200)
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "New answer.\n\n```sh\nls\n```\n"}, provider.Done{}}}
	h := newHarness(t, p, func(o *Options) { o.Panes[0].Resume = saved })
	screen := h.plain()
	contains(t, screen, "question 199", "Answer 199.", "func f199() {}", "m-saved")
	if strings.Contains(screen, "replaced by retry") {
		t.Fatalf("a superseded answer is shown:\n%s", screen)
	}
	// Only what is in view was rendered.
	pane := h.m.focused()
	rendered := 0
	for _, it := range pane.items {
		if it.lines != nil {
			rendered++
		}
	}
	if len(pane.items) != 400 || rendered > 10 {
		t.Fatalf("%d items, %d rendered to show the first screen", len(pane.items), rendered)
	}
	// Code blocks are numbered on from the saved ones.
	if pane.nextBlock != 201 {
		t.Fatalf("next code block %d, want 201", pane.nextBlock)
	}
	// The next prompt carries the saved messages.
	h.typeText("and then?")
	h.press(tea.KeyEnter, 0)
	h.pump(10)
	h.frame()
	contains(t, h.plain(), "New answer.")
	reqs := p.requests()
	if len(reqs) != 1 || len(reqs[0].Messages) != 401 || reqs[0].Messages[0].Content != "question 0" ||
		reqs[0].Messages[400].Content != "and then?" {
		t.Fatalf("request carries %d messages", len(reqs[0].Messages))
	}
	if got := h.m.focused().chat.Conversation().ID; got != saved.ID {
		t.Fatalf("the resumed chat has ID %q", got)
	}
	// The top of the transcript is reachable.
	h.press(tea.KeyHome, 0)
	contains(t, h.plain(), "question 0", "Thought for")
}

func TestRestoredErrorAndInterruptedAnswers(t *testing.T) {
	s := &session.Saved{ID: "x", Messages: []provider.Message{
		{Role: provider.RoleUser, Content: "first"},
		{Role: provider.RoleUser, Content: "second"},
		{Role: provider.RoleAssistant, Content: "half an ans"},
	}}
	failed := &session.Turn{Sent: 1, Err: &provider.APIError{Kind: provider.KindHTTP, Status: 502, Title: "Bad Gateway"}}
	failed.Restore("", "")
	cut := &session.Turn{Sent: 2, Interrupted: true}
	cut.Restore("half an ans", "")
	s.Turns = []*session.Turn{failed, cut}
	h := newHarness(t, &scriptProvider{}, func(o *Options) { o.Panes[0].Resume = s })
	contains(t, h.plain(), "first", "502 Bad Gateway", "second", "half an ans", "interrupted")
}

func TestHistoryFromEarlierRuns(t *testing.T) {
	var remembered []string
	p := &scriptProvider{events: []provider.Event{provider.Done{}}}
	h := newHarness(t, p, func(o *Options) {
		o.History = []string{"old one", "old two"}
		o.Remember = func(s string) { remembered = append(remembered, s) }
	})
	h.press('p', tea.ModCtrl)
	if got := h.m.in.Value(); got != "old two" {
		t.Fatalf("↑ recalls %q", got)
	}
	h.press('p', tea.ModCtrl)
	if got := h.m.in.Value(); got != "old one" {
		t.Fatalf("↑↑ recalls %q", got)
	}
	h.m.in.Reset()
	h.typeText("fresh")
	h.press(tea.KeyEnter, 0)
	h.pump(5)
	if strings.Join(remembered, "|") != "fresh" {
		t.Fatalf("remembered %q", remembered)
	}
	// A prompt given on the command line joins the history too.
	remembered = nil
	h = newHarness(t, p, func(o *Options) {
		o.InitialPrompt = "from the command line"
		o.Remember = func(s string) { remembered = append(remembered, s) }
	})
	h.pump(5)
	if strings.Join(remembered, "|") != "from the command line" {
		t.Fatalf("remembered %q", remembered)
	}
	h.press('p', tea.ModCtrl)
	if got := h.m.in.Value(); got != "from the command line" {
		t.Fatalf("↑ recalls %q", got)
	}
}

// fakeSessions records what /title and /export ask.
type fakeSessions struct {
	renamed []string
	exports []string
	fail    error
}

func (f *fakeSessions) Rename(id, title string) error {
	f.renamed = append(f.renamed, id+"="+title)
	return f.fail
}

func (f *fakeSessions) Export(id, path string) (string, error) {
	f.exports = append(f.exports, id+"→"+path)
	return "/tmp/out.md", f.fail
}

func TestTitleAndExportCommands(t *testing.T) {
	fs := &fakeSessions{}
	p := &scriptProvider{events: []provider.Event{provider.TextDelta{Text: "hi"}, provider.Done{}}}
	h := newHarness(t, p, func(o *Options) { o.Sessions = fs })
	id := h.m.focused().chat.Conversation().ID
	run := func(cmd string) tea.Cmd {
		h.m.in.SetValue(cmd)
		return h.press(tea.KeyEnter, 0)
	}
	run("/export")
	contains(t, h.plain(), "nothing to export yet")
	run("/title My chat")
	if len(fs.renamed) != 1 || fs.renamed[0] != id+"=My chat" {
		t.Fatalf("renamed %q", fs.renamed)
	}
	contains(t, h.plain(), "title set: My chat")
	run("hello")
	h.pump(5)
	cmd := run("/export notes.md")
	if cmd == nil {
		t.Fatal("/export returned no command")
	}
	h.update(cmd())
	if len(fs.exports) != 1 || fs.exports[0] != id+"→notes.md" {
		t.Fatalf("exports %q", fs.exports)
	}
	contains(t, h.plain(), "exported to /tmp/out.md")
	fs.fail = errors.New("disk full")
	h.update(run("/export")())
	contains(t, h.plain(), "export failed: disk full")
	run("/title")
	contains(t, h.plain(), "usage: /title TEXT")

	// Without saving, both say why they cannot.
	h2 := newHarness(t, p, nil)
	h2.m.in.SetValue("/title x")
	h2.press(tea.KeyEnter, 0)
	contains(t, h2.plain(), "not saved")
}

// TestCountCodeBlocksAgreesWithTheParser: the line scan restoring uses
// counts what markdown.CodeBlocks counts, on plain and tricky documents.
func TestCountCodeBlocksAgreesWithTheParser(t *testing.T) {
	docs := []string{
		"", "no code", "inline ``` not a fence ``` here", benchMarkdown(8 << 10),
		"```go\na\n```\ntext\n~~~\nb\n~~~\n",
		"````\n```\ninner\n```\n````\n",
		"```\nunclosed",
		"- item\n\n  ```go\n  in a list\n  ```\n",
		"> ```\n> quoted\n> ```\n",
		"    ```\n    indented code\n",
		"<div>\n```\nin html\n```\n</div>\n",
		"text\n```js\nx\n``` trailing\n```\n",
		"``` a`b\nnot a fence\n",
		"\x1b[0m```\nhidden\n```\n",
		"~~~~\n~~~\n~~~~\n",
	}
	for _, pattern := range []string{"../internal/demogw/answers/*.md", "../internal/demogw/answers/*/*.md"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, string(b))
		}
	}
	if len(docs) < 20 {
		t.Fatalf("only %d documents", len(docs))
	}
	for _, md := range docs {
		if got, want := countCodeBlocks(md), len(markdown.CodeBlocks(md)); got != want {
			t.Errorf("countCodeBlocks(%q) = %d, the parser counts %d", md, got, want)
		}
	}
}
