package ui

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/tools"
)

// toolHarness is a chat offering get_time (a command that prints
// RESULT) and nap (a command that sleeps), on a provider that asks for
// get_time on odd requests and answers with the tool results it got on
// even ones.
func toolHarness(t *testing.T, allow ...string) (*harness, *turnsProvider) {
	t.Helper()
	reg, err := tools.New(tools.Options{Tools: []tools.Spec{
		{Name: "get_time", Kind: tools.KindCommand, Command: []string{"sh", "-c", "echo RESULT"},
			Parameters: json.RawMessage(`{"type":"object","properties":{"zone":{"type":"string"}}}`)},
		{Name: "nap", Kind: tools.KindCommand, Command: []string{"sleep", "30"}},
	}, Environ: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reg.Close() })
	p := newTurnsProvider(func(n int, ctx context.Context, emit func(provider.Event)) error {
		if n%2 == 1 {
			name, args := "get_time", `{"zone":"UTC"}`
			if allow != nil && allow[0] == "nap" {
				name, args = "nap", `{}`
			}
			emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "call_" + string(rune('0'+n)), Name: name, Arguments: args}})
			emit(provider.Done{FinishReason: "tool_calls"})
			return nil
		}
		emit(provider.TextDelta{Text: "Final answer"})
		emit(provider.Done{FinishReason: "stop"})
		return nil
	})
	h := newHarness(t, p, func(o *Options) {
		o.Panes[0].Settings.ToolsMode = provider.ToolsAsk
		o.Panes[0].Settings.Tools = reg.Definitions()
		o.Tools = &ToolOptions{Registry: reg, Policy: session.NewToolPolicy(allow)}
	})
	return h, p
}

// until feeds messages from the streams and tools to Update until cond
// holds.
func (h *harness) until(cond func() bool) {
	h.t.Helper()
	for !cond() {
		h.update(h.next())
	}
}

// answered reports whether the pane's n-th answer has finished.
func (h *harness) answered(n int) func() bool {
	return func() bool {
		turns := h.m.focused().chat.Turns()
		return len(turns) >= n && turns[n-1].Finished()
	}
}

func toolResults(req *provider.Request) []provider.Message {
	var out []provider.Message
	for _, m := range req.Messages {
		if m.Role == provider.RoleTool {
			out = append(out, m)
		}
	}
	return out
}

func TestApprovalPromptYesRunsTheTool(t *testing.T) {
	h, p := toolHarness(t)
	h.send("what time is it?")
	h.until(h.answered(1))
	screen := h.plain()
	contains(t, screen, "The model wants to run a tool", "get_time", "config", `"zone": "UTC"`, "y allow once", "n deny", "e edit")
	if _, ok := h.m.topOverlay().(*approvalOverlay); !ok {
		t.Fatal("no approval prompt")
	}
	contains(t, h.statusBar(), "tool call: allow?")
	h.update(tea.KeyPressMsg{Code: 'y', Text: "y"})
	h.until(h.answered(2))
	h.frame()
	if h.m.topOverlay() != nil {
		t.Fatal("the prompt stayed open")
	}
	got := toolResults(p.requests()[1])
	if len(got) != 1 || got[0].ToolCallID != "call_1" || got[0].Content != "RESULT\n" {
		t.Fatalf("second request's results %+v", got)
	}
	contains(t, h.plain(), "✓ get_time → RESULT", "Final answer")
	h.update(tea.KeyPressMsg{Code: 'r', Mod: tea.ModAlt})
	contains(t, h.plain(), "│ RESULT", "alt+r folds")
}

func TestApprovalDenyWithReasonThenAllowForTheSession(t *testing.T) {
	h, p := toolHarness(t)
	h.send("time?")
	h.until(h.answered(1))
	h.update(tea.KeyPressMsg{Code: 'n', Text: "n"})
	contains(t, h.plain(), "Reason for the model")
	h.typeText("not now")
	h.press(tea.KeyEnter, 0)
	h.until(h.answered(2))
	got := toolResults(p.requests()[1])
	if len(got) != 1 || !strings.Contains(got[0].Content, `"reason":"not now"`) || !strings.Contains(got[0].Content, "denied by the user") {
		t.Fatalf("denial sent as %+v", got)
	}
	h.frame()
	contains(t, h.plain(), "⊘ get_time denied: not now")

	h.send("time again?")
	h.until(h.answered(3))
	if _, ok := h.m.topOverlay().(*approvalOverlay); !ok {
		t.Fatal("a denied tool was not asked about again")
	}
	h.update(tea.KeyPressMsg{Code: 's', Text: "s"})
	h.until(h.answered(4))
	h.send("and now?")
	h.until(h.answered(5))
	if h.m.topOverlay() != nil {
		t.Fatal("asked again after allowing for the session")
	}
	h.until(h.answered(6))
	if got := toolResults(p.requests()[5]); got[len(got)-1].Content != "RESULT\n" {
		t.Fatalf("the session-allowed call: %+v", got)
	}
}

func TestEscStopsARunningTool(t *testing.T) {
	h, p := toolHarness(t, "nap")
	h.send("nap")
	h.until(h.answered(1))
	if h.m.focused().loop.Running() == nil {
		t.Fatal("the allowed tool is not running")
	}
	h.advance(1500 * time.Millisecond)
	h.frame()
	contains(t, h.plain(), "nap · running 1.5 s · esc stops it")
	contains(t, h.statusBar(), "running nap")
	h.press(tea.KeyEscape, 0)
	if h.m.toolsBusy() {
		t.Fatal("esc did not stop the tool")
	}
	contains(t, h.plain(), "✗ nap → ", "cancelled by the user")
	if n := len(p.requests()); n != 1 {
		t.Fatalf("%d requests: the loop went on after esc", n)
	}
	msgs := h.m.focused().chat.Conversation().Messages
	if last := msgs[len(msgs)-1]; last.Role != provider.RoleTool || !strings.Contains(last.Content, "cancelled") {
		t.Fatalf("conversation ends with %+v", last)
	}
}

func TestToolsCommandListsToolsAndStates(t *testing.T) {
	h, _ := toolHarness(t, "nap")
	h.send("/tools")
	contains(t, h.plain(), "Tools · mode ask", "get_time", "config · command · asks first", "nap", "runs without asking (allow list)")
}

// runCmd runs a command the model returned, and a batch's commands,
// feeding the messages they produce back to Update.
func (h *harness) runCmd(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			h.runCmd(c)
		}
	case nil:
	default:
		h.runCmd(h.update(msg))
	}
}

func TestApprovalAlwaysSavesAndSays(t *testing.T) {
	h, _ := toolHarness(t)
	var saved []string
	h.m.opts.Tools.SaveAllow = func(name string) (string, error) {
		saved = append(saved, name)
		return name + " is always allowed — saved in /cfg/config.toml", nil
	}
	h.send("time?")
	h.until(h.answered(1))
	h.runCmd(h.update(tea.KeyPressMsg{Code: 'a', Text: "a"}))
	if len(saved) != 1 || saved[0] != "get_time" {
		t.Fatalf("saved %v", saved)
	}
	contains(t, h.statusBar(), "get_time is always allowed — saved in /cfg/config.toml")
	h.until(h.answered(2))
	h.send("again")
	h.until(h.answered(3))
	if h.m.topOverlay() != nil {
		t.Fatal("asked again about an always-allowed tool")
	}
}

func TestManualToolResultIsTyped(t *testing.T) {
	reg, err := tools.New(tools.Options{Tools: []tools.Spec{{Name: "ask_me", Kind: tools.KindManual}}})
	if err != nil {
		t.Fatal(err)
	}
	p := newTurnsProvider(func(n int, ctx context.Context, emit func(provider.Event)) error {
		if n == 1 {
			emit(provider.ToolCallEvent{ToolCall: provider.ToolCall{ID: "m1", Name: "ask_me", Arguments: `{"q":"favourite colour?"}`}})
			emit(provider.Done{FinishReason: "tool_calls"})
			return nil
		}
		emit(provider.TextDelta{Text: "thanks"})
		emit(provider.Done{})
		return nil
	})
	h := newHarness(t, p, func(o *Options) {
		o.Panes[0].Settings.Tools = reg.Definitions()
		o.Tools = &ToolOptions{Registry: reg}
	})
	h.send("ask me")
	h.until(h.answered(1))
	contains(t, h.plain(), "Type the result of ask_me", "favourite colour?", "✎ ask_me · waiting for you to type its result")
	h.typeText("blue")
	h.press('j', tea.ModCtrl)
	h.typeText("green")
	h.press(tea.KeyEnter, 0)
	h.until(h.answered(2))
	if got := toolResults(p.requests()[1]); len(got) != 1 || got[0].ToolCallID != "m1" || got[0].Content != "blue\ngreen" {
		t.Fatalf("typed result %+v", got)
	}
}
