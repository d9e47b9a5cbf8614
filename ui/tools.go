package ui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/tools"
)

// ToolOptions are the chat's tools: where they come from and the rules
// for running them. The tool loop itself is session.ToolLoop; the chat
// screen only puts its questions to the user (the approval overlay) and
// shows the runs in the transcript.
type ToolOptions struct {
	// Registry holds the tools; nil means tool calls are only shown.
	Registry *tools.Registry
	// Policy is shared by every pane: allowing a tool for the session in
	// one allows it in all.
	Policy *session.ToolPolicy
	// MaxRounds bounds answers in a row that end in tool calls; 0 means
	// session.DefaultMaxToolRounds.
	MaxRounds int
	// SaveAllow records a tool as always allowed (the a key); it runs in
	// a command, and returns what to tell the user.
	SaveAllow func(name string) (string, error)
}

// taskTools is the background task that starts the MCP servers.
const taskTools taskKind = 64

type (
	// toolDoneMsg carries a finished tool run to its pane's loop.
	toolDoneMsg struct {
		pane PaneID
		done session.ToolDone
	}
	// toolsStartedMsg says the MCP servers have started (or failed to);
	// prompt is the prompt that waited for them.
	toolsStartedMsg struct{ shown, prompt string }
	// allowSavedMsg reports where "always allow" was saved.
	allowSavedMsg struct {
		text string
		err  error
	}
	// argsFileMsg says the arguments to edit are in a file (closed:
	// the editor has closed it).
	argsFileMsg struct {
		pane   PaneID
		id     string
		path   string
		closed bool
		err    error
	}
	// argsEditedMsg brings arguments edited in $EDITOR back to the
	// approval overlay of a pane.
	argsEditedMsg struct {
		pane PaneID
		id   string
		text string
		err  error
	}
)

// toolKeys are the chat's keys for tools.
var toolKeys = struct{ Expand key.Binding }{
	Expand: key.NewBinding(key.WithKeys("alt+r"), key.WithHelp("alt+r", "expand / fold the last tool results")),
}

// setUpTools gives a pane its tool loop. Finished runs come back as
// toolDoneMsg; questions go to the approval overlay.
func (m *Model) setUpTools(p *Pane) {
	o := m.opts.Tools
	lo := session.ToolLoopOptions{
		Approver: &paneApprover{m: m, pane: p.ID},
		Deliver:  func(d session.ToolDone) { m.send(toolDoneMsg{pane: p.ID, done: d}) },
	}
	if o != nil {
		if o.Registry != nil {
			lo.Tools = o.Registry
		}
		lo.Policy, lo.MaxRounds = o.Policy, o.MaxRounds
	}
	if lo.Policy == nil {
		lo.Policy = session.NewToolPolicy(nil)
	}
	p.loop = session.NewToolLoop(m.ctx, p.chat, lo)
}

// registry is the chat's tool registry, or nil.
func (m *Model) registry() *tools.Registry {
	if m.opts.Tools == nil {
		return nil
	}
	return m.opts.Tools.Registry
}

// toolsBusy reports whether a pane's tool loop waits for a run, an
// approval or a typed result.
func (m *Model) toolsBusy() bool {
	for _, p := range m.panes {
		if p.loop != nil && p.loop.Busy() {
			return true
		}
	}
	return false
}

// toolsRunning reports whether a tool runs in some pane (its spinner
// needs frames).
func (m *Model) toolsRunning() bool {
	for _, p := range m.panes {
		if p.loop != nil && p.loop.Running() != nil {
			return true
		}
	}
	return false
}

// startToolsFirst starts the MCP servers before the first prompt that
// needs their tools: the prompt waits, and is sent once they are up (or
// have failed, which is reported). It reports whether it did.
func (m *Model) startToolsFirst(shown, prompt string) (tea.Cmd, bool) {
	reg := m.registry()
	if reg == nil || !reg.NeedsStart() || !m.focused().chat.Settings().ToolsMode.OffersTools() {
		return nil, false
	}
	if m.taskRunning(taskTools) {
		m.setFlash("starting the MCP servers — the prompt is sent when they are up", true)
		return nil, true
	}
	ctx, id := m.startTask(taskTools, "starting MCP servers")
	return m.track(id, func() tea.Msg {
		reg.Start(ctx)
		return toolsStartedMsg{shown: shown, prompt: prompt}
	}), true
}

// onToolMsg handles the tools' messages.
func (m *Model) onToolMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case toolDoneMsg:
		p := m.pane(msg.pane)
		if p == nil {
			return nil
		}
		return m.applyLoop(p, p.loop.Handle(msg.done))
	case toolsStartedMsg:
		if reg := m.registry(); reg != nil {
			defs := reg.Definitions()
			for _, p := range m.panes {
				if p.chat.Settings().ToolsMode.OffersTools() {
					p.chat.SetTools(defs)
				}
			}
		}
		m.reportToolProblems()
		return m.sendPrompt(msg.shown, msg.prompt)
	case allowSavedMsg:
		if msg.err != nil {
			m.setFlash("could not save: "+msg.err.Error()+" — allowed for this session only", true)
		} else {
			m.setFlash(msg.text, false)
		}
	case argsFileMsg:
		if msg.closed {
			return readArgsFile(msg)
		}
		return m.onArgsFile(msg)
	case argsEditedMsg:
		for _, o := range m.overlays {
			if a, ok := o.(*approvalOverlay); ok && a.pane == msg.pane {
				a.edited(m, msg)
			}
		}
		m.dirty = true
	}
	return nil
}

// applyLoop shows what a step of a pane's tool loop changed: runs in the
// transcript, the next answer streaming, why the loop stopped.
func (m *Model) applyLoop(p *Pane, up session.LoopUpdate) tea.Cmd {
	rc := m.rc(p)
	for _, run := range up.Runs {
		p.showRun(run, rc)
	}
	m.reportToolProblems()
	if up.Stopped != "" {
		p.notice(up.Stopped, rc)
	}
	if up.Err != nil {
		m.setFlash("could not go on after the tools: "+up.Err.Error(), true)
	}
	if up.Turn != nil {
		p.beginLive(up.Turn, rc)
	}
	m.refresh()
	if up.Turn != nil || p.loop.Running() != nil {
		return m.ensureTicking()
	}
	if !p.loop.Busy() {
		return m.afterAnswer(p) // the loop is over: a waiting prompt may go
	}
	return nil
}

// reportToolProblems puts what went wrong with MCP servers in the
// focused pane's transcript, each once.
func (m *Model) reportToolProblems() {
	reg := m.registry()
	if reg == nil {
		return
	}
	p := m.focused()
	for _, msg := range reg.TakeProblems() {
		p.notice("⚠ "+msg, m.rc(p))
	}
}

// stopTools cancels the tool loops: a running tool is killed, waiting
// calls are answered as cancelled, and any approval prompt closes. It
// reports whether anything was stopped.
func (m *Model) stopTools() bool {
	stopped := false
	for _, p := range m.panes {
		stopped = m.stopPaneTools(p) || stopped
	}
	return stopped
}

// stopPaneTools cancels one pane's tool loop (esc while a tool runs).
func (m *Model) stopPaneTools(p *Pane) bool {
	if p.loop == nil || !p.loop.Busy() {
		return false
	}
	m.closeToolOverlays(p.ID)
	m.applyLoop(p, p.loop.Cancel())
	return true
}

// closeToolOverlays closes the approval and input overlays of a pane.
func (m *Model) closeToolOverlays(id PaneID) {
	kept := m.overlays[:0]
	for _, o := range m.overlays {
		switch o := o.(type) {
		case *approvalOverlay:
			if o.pane == id {
				continue
			}
		case *resultOverlay:
			if o.pane == id {
				continue
			}
		}
		kept = append(kept, o)
	}
	m.overlays = kept
	m.dirty = true
}

// onToolFrame redraws the running tools' spinners and elapsed times.
func (m *Model) onToolFrame() {
	for _, p := range m.panes {
		if p.loop == nil {
			continue
		}
		if run := p.loop.Running(); run != nil {
			p.tickRun(run, m.rc(p))
		}
	}
}

// toggleToolResults is alt+r: the tool results of the last answer
// unfold, or fold again.
func (m *Model) toggleToolResults() {
	p := m.focused()
	if !p.toggleRuns(m.rc(p)) {
		m.setFlash("no tool results to show", false)
	}
	m.dirty = true
}

// showTools is /tools: every tool with its source and approval state,
// and the MCP servers.
func (m *Model) showTools(p *Pane) {
	rc := m.rc(p)
	mode := p.chat.Settings().ToolsMode
	if mode == "" {
		mode = provider.ToolsAsk
	}
	in := &info{title: fmt.Sprintf("Tools · mode %s", mode)}
	reg := m.registry()
	if reg == nil || mode == provider.ToolsNone {
		in.rows = append(in.rows, [2]string{"none", "no tools are offered (--tools none, or none configured: [[tools]] and [[mcp]] in config.toml)"})
		p.addInfo(in, rc)
		return
	}
	for _, e := range reg.Entries() {
		state := "asks first"
		if e.Kind == tools.KindManual {
			state = "you type the result"
		} else if ok, why := p.loop.Policy().Allowed(e.Name); ok {
			state = "runs without asking (" + why + ")"
		}
		desc := e.Source + " · " + string(e.Kind) + " · " + state
		if e.Description != "" {
			desc += "\n" + e.Description
		}
		in.rows = append(in.rows, [2]string{e.Name, desc})
	}
	for _, s := range reg.Servers() {
		v := fmt.Sprintf("MCP server · %s", s.State)
		if s.State == "running" {
			v += fmt.Sprintf(" · %d tools", s.Tools)
		}
		if s.State == "not started" {
			v += " (starts with the first prompt)"
		}
		if s.Err != "" {
			v += " · " + s.Err
		}
		in.rows = append(in.rows, [2]string{s.Name + ".*", v})
	}
	if len(in.rows) == 0 {
		in.rows = append(in.rows, [2]string{"none", "no tools are configured: [[tools]] and [[mcp]] in config.toml"})
	}
	p.addInfo(in, rc)
}

// paneApprover is the chat screen's session.Approver: it opens the
// approval overlay, or the overlay where a manual tool's result is typed.
type paneApprover struct {
	m    *Model
	pane PaneID
}

func (a *paneApprover) Ask(req session.ApprovalRequest) {
	a.m.openOverlay(newApprovalOverlay(a.pane, req))
}

func (a *paneApprover) Input(call session.ToolCallInfo) {
	a.m.openOverlay(&resultOverlay{pane: a.pane, call: call})
}

// decide hands the user's decisions to the pane's loop; "always" also
// saves the tool in a command.
func (m *Model) decide(id PaneID, req session.ApprovalRequest, ds []session.Decision) tea.Cmd {
	p := m.pane(id)
	if p == nil {
		return nil
	}
	var cmds []tea.Cmd
	for i, d := range ds {
		if d.Allow && d.Scope == session.AllowAlways && m.opts.Tools != nil && m.opts.Tools.SaveAllow != nil {
			save, name := m.opts.Tools.SaveAllow, req.Calls[i].Tool.Name
			cmds = append(cmds, func() tea.Msg {
				text, err := save(name)
				return allowSavedMsg{text: text, err: err}
			})
		}
	}
	cmds = append(cmds, m.applyLoop(p, p.loop.Decide(ds)))
	return tea.Batch(cmds...)
}

// provide hands a typed result to the pane's loop.
func (m *Model) provide(id PaneID, callID, text string, ok bool) tea.Cmd {
	p := m.pane(id)
	if p == nil {
		return nil
	}
	return m.applyLoop(p, p.loop.Provide(callID, text, ok))
}

// spinnerFrames animate a running tool; the ASCII theme gets plain ones.
var (
	spinnerFrames      = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}
	spinnerFramesASCII = []string{"|", "/", "-", "\\"}
)

// spinner is the spinner's frame at elapsed time d.
func spinner(d time.Duration, color bool) string {
	frames := spinnerFrames
	if !color {
		frames = spinnerFramesASCII
	}
	return frames[int(d/(100*time.Millisecond))%len(frames)]
}

// oneLine is the first line of s, sanitized, and how many lines s has.
func oneLine(s string) (string, int) {
	s = strings.TrimRight(s, "\n")
	n := strings.Count(s, "\n") + 1
	if s == "" {
		n = 0
	}
	first, _, _ := strings.Cut(s, "\n")
	return sanitize.Line(first), n
}
