package ui

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/themes"
	"github.com/parley-chat/parley/ui/markdown"
)

// frameInterval is the render cadence while something streams: deltas in
// between only accumulate.
const frameInterval = 33 * time.Millisecond

// flashDuration is how long a status-bar message stays.
const flashDuration = 6 * time.Second

type (
	frameMsg  struct{}
	secondMsg struct{}
	submitMsg struct{ text string }
	copiedMsg struct {
		what      string
		systemErr error
	}
	editorReadyMsg struct {
		path string
		err  error
	}
	editorClosedMsg struct {
		path string
		err  error
	}
	editorDoneMsg struct {
		text string
		err  error
	}
)

// Model is the chat's root model. It routes messages to the panes, the
// input and the overlays, and assembles the screen from their cached
// views. It is used as a pointer from the Bubble Tea goroutine only.
type Model struct {
	ctx    context.Context
	opts   Options
	send   func(tea.Msg)
	now    func() time.Time
	keys   keyMap
	models []string // known models: configured, then the gateway's once listed

	tasks         map[taskKind]*task // background commands in flight
	modelsFetched bool               // the gateway's models are in models
	modelsFailed  bool               // listing them failed; tab does not ask again
	showModelsIn  PaneID             // the pane whose /model waits for the list; 0 for none

	themeName string
	th        *themes.Theme
	renderers map[int]*markdown.Renderer

	panes []*Pane
	focus int
	in    input

	width, height int
	sized         bool
	pending       string // initial prompt waiting for the first size
	showHelp      bool
	helpOffset    int  // first line of the help shown when it must scroll
	helpMax       int  // the largest useful helpOffset at the current size
	hide          bool // hide reasoning entirely
	ticking       bool

	flash      string
	flashWarn  bool
	flashUntil time.Time

	status  string
	content string
	cursor  *tea.Cursor
	dirty   bool
}

// newModel builds the root model; send delivers messages from stream
// goroutines (Program.Send in the real program).
func newModel(ctx context.Context, opts Options, send func(tea.Msg)) (*Model, error) {
	name := strings.ToLower(strings.TrimSpace(opts.Theme))
	if name == "" {
		name = "auto"
	}
	if os.Getenv("NO_COLOR") != "" {
		name = "ascii"
	}
	th, err := themes.Lookup(name, true)
	if err != nil {
		return nil, err
	}
	m := &Model{
		ctx: ctx, opts: opts, send: send, now: time.Now, keys: defaultKeys(),
		models: mergeModels(opts.Models, nil), themeName: name, th: th, renderers: map[int]*markdown.Renderer{},
		hide: opts.HideReasoning, pending: opts.InitialPrompt, dirty: true,
	}
	conv := session.NewConversation(opts.Settings)
	m.panes = []*Pane{newPane(1, conv, session.NewRunner(opts.Provider), opts.ProviderName)}
	m.in = newInput(th)
	return m, nil
}

// Init starts the status clock, asks for the background colour when the
// theme is automatic, and sends the initial prompt.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{secondTick()}
	if m.themeName == "auto" {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

func secondTick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return secondMsg{} })
}

func frameTick() tea.Cmd {
	return tea.Tick(frameInterval, func(time.Time) tea.Msg { return frameMsg{} })
}

func (m *Model) focused() *Pane { return m.panes[m.focus] }

func (m *Model) pane(id PaneID) *Pane {
	for _, p := range m.panes {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// renderer returns the markdown renderer for a width in the current theme.
func (m *Model) renderer(width int) *markdown.Renderer {
	if r, ok := m.renderers[width]; ok {
		return r
	}
	r, err := markdown.New(width, m.th)
	if err != nil {
		panic(err) // only a nil theme fails, and the theme is never nil
	}
	m.renderers[width] = r
	return r
}

func (m *Model) rc(p *Pane) renderCtx {
	return renderCtx{width: max(p.width, 1), th: m.th, hide: m.hide, now: m.now(), renderer: m.renderer}
}

// ensureTicking starts the frame clock if it is not running.
func (m *Model) ensureTicking() tea.Cmd {
	if m.ticking {
		return nil
	}
	m.ticking = true
	return frameTick()
}

func (m *Model) streaming() bool {
	for _, p := range m.panes {
		if p.Streaming() {
			return true
		}
	}
	return false
}

// Update routes one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	return m, m.update(msg)
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case paneEventMsg:
		return m.onPaneEvent(msg)
	case frameMsg:
		m.ticking = false
		for _, p := range m.panes {
			p.frame(m.rc(p))
		}
		m.refresh()
		if m.streaming() {
			return m.ensureTicking()
		}
		return nil
	case secondMsg:
		if !m.flashUntil.IsZero() && !m.now().Before(m.flashUntil) {
			m.flash, m.flashUntil = "", time.Time{}
		}
		m.refresh()
		return secondTick()
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.sized = true
		m.layout()
		if m.pending != "" {
			text := m.pending
			m.pending = ""
			return m.submitText(text)
		}
		return nil
	case tea.BackgroundColorMsg:
		if m.themeName == "auto" {
			if th, err := themes.Lookup("auto", msg.IsDark()); err == nil && th != m.th {
				m.setTheme(th)
			}
		}
		return nil
	case submitMsg:
		return m.submitText(msg.text)
	case taskEventMsg:
		m.onTaskEvent(msg)
		return nil
	case imageResultMsg:
		m.onImageResult(msg)
		return nil
	case usageResultMsg:
		m.onUsageResult(msg)
		return nil
	case modelsResultMsg:
		m.onModelsResult(msg)
		return nil
	case tea.KeyPressMsg:
		return m.onKey(msg)
	case tea.MouseWheelMsg:
		switch msg.Mouse().Button {
		case tea.MouseWheelUp:
			m.scroll(3)
		case tea.MouseWheelDown:
			m.scroll(-3)
		}
		return nil
	case tea.PasteMsg:
		cmd := m.in.Update(msg)
		m.layout()
		return cmd
	case copiedMsg:
		if msg.systemErr == nil {
			m.setFlash(fmt.Sprintf("copied %s via OSC 52 and the system clipboard", msg.what), false)
		} else {
			m.setFlash(fmt.Sprintf("copied %s via OSC 52 — your terminal must allow it", msg.what), false)
		}
		return nil
	case editorReadyMsg:
		if msg.err != nil {
			m.setFlash("editor: "+msg.err.Error(), true)
			return nil
		}
		args := strings.Fields(editorCommand())
		c := exec.Command(args[0], append(args[1:], msg.path)...)
		path := msg.path
		return tea.ExecProcess(c, func(err error) tea.Msg { return editorClosedMsg{path: path, err: err} })
	case editorClosedMsg:
		path, exitErr := msg.path, msg.err
		return func() tea.Msg {
			b, err := os.ReadFile(path)
			_ = os.Remove(path)
			if exitErr != nil {
				err = exitErr
			}
			return editorDoneMsg{text: strings.TrimRight(string(b), "\n"), err: err}
		}
	case editorDoneMsg:
		if msg.err != nil {
			m.setFlash("editor: "+msg.err.Error()+" — draft unchanged", true)
		} else {
			m.in.SetValue(msg.text)
			m.layout()
		}
		return nil
	}
	// Anything else (cursor blink, focus) goes to the editor.
	cmd := m.in.Update(msg)
	m.dirty = true
	return cmd
}

// onPaneEvent applies a provider event. Text and reasoning deltas only
// accumulate (the frame clock renders them); everything else is applied
// and shown at once, and a terminal event is never dropped.
func (m *Model) onPaneEvent(msg paneEventMsg) tea.Cmd {
	p := m.pane(msg.Pane)
	if p == nil {
		return nil
	}
	terminal := p.handleEvent(msg, m.rc(p))
	switch msg.Event.(type) {
	case provider.TextDelta, provider.ReasoningDelta:
		return m.ensureTicking()
	}
	m.refresh()
	if terminal {
		return m.onAnswerEnd(p)
	}
	return nil
}

// onAnswerEnd runs when a pane's stream has ended. It is the hook where
// tool calls will be approved and run; for now they are only shown.
func (m *Model) onAnswerEnd(p *Pane) tea.Cmd {
	t := p.lastTurn()
	if t == nil || len(t.ToolCalls) == 0 || !p.conv.Settings.ToolsMode.OffersTools() {
		return nil
	}
	return m.handleToolCalls(p, t.ToolCalls)
}

// handleToolCalls is the approval hook for tool calls. Tools are not run
// yet: the calls are displayed in the transcript and nothing else happens.
func (m *Model) handleToolCalls(p *Pane, calls []provider.ToolCall) tea.Cmd {
	m.setFlash(fmt.Sprintf("%d tool call(s) shown — running tools is not supported yet", len(calls)), false)
	return nil
}

func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	p := m.focused()
	if m.showHelp {
		switch {
		case key.Matches(msg, k.Close, k.Help), msg.String() == "q":
			m.showHelp = false
			m.dirty = true
			return nil
		case key.Matches(msg, k.Cancel, k.Quit):
			m.showHelp = false
		default:
			switch msg.String() {
			case "up", "k":
				m.helpOffset--
			case "down", "j":
				m.helpOffset++
			case "pgup":
				m.helpOffset -= 10
			case "pgdown":
				m.helpOffset += 10
			default:
				return nil
			}
			m.helpOffset = min(max(m.helpOffset, 0), m.helpMax)
			m.dirty = true
			return nil
		}
	}
	empty := m.in.Value() == ""
	switch {
	case key.Matches(msg, k.Cancel):
		if m.streaming() {
			for _, p := range m.panes {
				p.cancel(m.rc(p))
			}
			m.setFlash("stopped — the partial answer is kept", true)
			return nil
		}
		if stopped := m.cancelTasks(); len(stopped) > 0 {
			m.setFlash("stopping: "+strings.Join(stopped, ", "), true)
			return nil
		}
		if !empty {
			m.in.Reset()
			m.layout()
			return nil
		}
		return m.quit()
	case key.Matches(msg, k.Quit):
		return m.quit()
	case key.Matches(msg, k.Send):
		return m.submitInput()
	case key.Matches(msg, k.Newline):
		m.in.InsertNewline()
		m.layout()
		return nil
	case key.Matches(msg, k.Complete):
		var cmd tea.Cmd
		if name, _, ok := strings.Cut(m.in.Value(), " "); ok && strings.ToLower(name) == "/model" &&
			!m.modelsFetched && !m.modelsFailed {
			cmd = m.fetchModels() // the completion line gains the gateway's models when they arrive
		}
		if out, ok := complete(m.in.Value(), m.models); ok {
			m.in.SetValue(out)
			m.layout()
		}
		return cmd
	case key.Matches(msg, k.HistoryPrev) && m.in.Prev():
		m.layout()
		return nil
	case key.Matches(msg, k.HistoryNext) && m.in.Next():
		m.layout()
		return nil
	case key.Matches(msg, k.PageUp):
		m.scroll(max(p.height-2, 1))
		return nil
	case key.Matches(msg, k.PageDown):
		m.scroll(-max(p.height-2, 1))
		return nil
	case key.Matches(msg, k.Top) && (empty || msg.String() == "ctrl+home"):
		m.scroll(1 << 30)
		return nil
	case key.Matches(msg, k.Bottom) && (empty || msg.String() == "ctrl+end"):
		p.scrollToBottom(m.rc(p))
		m.dirty = true
		return nil
	case key.Matches(msg, k.ToggleThought):
		if !p.toggleReasoning(m.rc(p)) {
			m.setFlash("no reasoning to show", false)
		}
		m.dirty = true
		return nil
	case key.Matches(msg, k.HideThoughts):
		m.hide = !m.hide
		for _, p := range m.panes {
			p.rerender(m.rc(p))
		}
		if m.hide {
			m.setFlash("reasoning hidden (alt+t shows it)", false)
		} else {
			m.setFlash("reasoning shown", false)
		}
		return nil
	case key.Matches(msg, k.CopyBlock):
		return m.copyBlock(0)
	case key.Matches(msg, k.CopyAnswer):
		return m.copyAnswer()
	case key.Matches(msg, k.Help) && (empty || msg.String() == "f1"):
		m.showHelp, m.helpOffset = true, 0
		m.dirty = true
		return nil
	case key.Matches(msg, k.Editor):
		draft := m.in.Value()
		return func() tea.Msg {
			f, err := os.CreateTemp("", "parley-prompt-*.md")
			if err != nil {
				return editorReadyMsg{err: err}
			}
			_, err = f.WriteString(draft)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			return editorReadyMsg{path: f.Name(), err: err}
		}
	case key.Matches(msg, k.Close):
		return nil
	}
	cmd := m.in.Update(msg)
	m.layout()
	return cmd
}

func editorCommand() string {
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if e := strings.TrimSpace(os.Getenv(v)); e != "" {
			return e
		}
	}
	return "vi"
}

func (m *Model) quit() tea.Cmd {
	m.shutdown()
	return tea.Quit
}

// shutdown cancels every stream and background command.
func (m *Model) shutdown() {
	for _, p := range m.panes {
		if p.run != nil {
			p.run.Cancel()
		}
	}
	m.cancelTasks()
}

func (m *Model) scroll(n int) {
	p := m.focused()
	p.scroll(n, m.rc(p))
	m.dirty = true
}

func (m *Model) submitInput() tea.Cmd {
	text := m.in.Value()
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if c, ok := parseCommand(text); ok {
		m.in.Remember(text)
		m.in.Reset()
		cmd := m.runCommand(c)
		m.layout()
		return cmd
	}
	if m.focused().Streaming() {
		m.setFlash("an answer is still streaming — wait, or ctrl+c to stop it", true)
		return nil
	}
	m.in.Remember(text)
	m.in.Reset()
	return m.submitText(text)
}

// submitText sends a prompt on the focused pane.
func (m *Model) submitText(text string) tea.Cmd {
	if !m.sized {
		m.pending = text
		return nil
	}
	p := m.focused()
	p.submit(m.ctx, text, m.rc(p), m.send)
	m.layout()
	return m.ensureTicking()
}

func (m *Model) runCommand(c command) tea.Cmd {
	p := m.focused()
	rc := m.rc(p)
	switch c.name {
	case "/model":
		if c.arg == "" {
			return m.listModels(p)
		}
		p.conv.Settings.Model = c.arg
		p.notice("model set to "+c.arg, rc)
	case "/system":
		p.conv.Settings.System = c.arg
		if c.arg == "" {
			p.notice("system prompt cleared", rc)
		} else {
			p.notice("system prompt set: "+c.arg, rc)
		}
	case "/new":
		p.reset(rc)
		p.limits.Reset()
		m.setFlash("new conversation", false)
	case "/retry":
		if !p.dropLastAnswer(rc) {
			m.setFlash("nothing to retry", true)
			return nil
		}
		p.startStream(m.ctx, rc, m.send)
		return m.ensureTicking()
	case "/copy":
		n, ok := parseCopyArg(c.arg)
		if !ok {
			m.setFlash("usage: /copy [N] — N is a code block number", true)
			return nil
		}
		if n == 0 {
			return m.copyAnswer()
		}
		return m.copyBlock(n)
	case "/image":
		return m.runImage(p, c.arg)
	case "/usage":
		return m.runUsage(p)
	case "/help":
		m.showHelp, m.helpOffset = true, 0
	default:
		m.setFlash("unknown command "+sanitize.Line(c.name)+" — /help lists them", true)
	}
	m.dirty = true
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "(gateway default)"
	}
	return s
}

func (m *Model) setTheme(th *themes.Theme) {
	m.th = th
	m.renderers = map[int]*markdown.Renderer{}
	m.in.SetTheme(th)
	for _, p := range m.panes {
		p.rerender(m.rc(p))
	}
	m.refresh()
}

func (m *Model) setFlash(s string, warn bool) {
	m.flash, m.flashWarn = s, warn
	m.flashUntil = m.now().Add(flashDuration)
	m.refresh()
}

// statusInfo gathers what the status bar shows for a pane.
func (m *Model) statusInfo(p *Pane) statusInfo {
	now := m.now()
	in := statusInfo{
		Provider: p.providerName, Model: p.conv.Settings.Model, State: p.state,
		Limits: p.limits.Snapshot(), LastTok: p.lastTok, ConvTok: p.convTok,
		Elapsed: p.lastElapsed, Flash: m.flash, FlashWarn: m.flashWarn, Busy: m.busyText(now),
	}
	if t := p.turn; t != nil {
		if t.Model != "" {
			in.Model = t.Model
		}
		if p.Streaming() {
			in.TokPerSec = t.TokensPerSecond(now)
			in.LastTok = t.OutputTokens()
			in.ConvTok = p.convTok + in.LastTok
		}
	}
	return in
}

// refresh recomputes the status line and marks the screen for assembly.
func (m *Model) refresh() {
	m.status = statusLine(m.statusInfo(m.focused()), m.now(), m.width, m.th)
	m.dirty = true
}

// layout sizes the components after a size or input-height change.
func (m *Model) layout() {
	m.in.SetWidth(m.width)
	h := m.height - m.in.Height() - 2 - m.completionHeight()
	for _, p := range m.panes {
		if p.width != m.width || p.height != max(h, 0) {
			p.setSize(m.width, max(h, 0))
			p.rerender(m.rc(p))
		}
	}
	m.refresh()
}

func (m *Model) completionHeight() int {
	if len(completions(m.in.Value(), m.models)) > 0 {
		return 1
	}
	return 0
}

// compose assembles the screen from cached pieces; nothing is rendered
// here but the small input and completion lines.
func (m *Model) compose() {
	m.dirty = false
	if m.width <= 0 || m.height <= 0 {
		m.content = ""
		return
	}
	p := m.focused()
	var b strings.Builder
	if m.showHelp {
		view, maxOffset := helpView(m.keys, m.th, m.width, p.height, m.helpOffset)
		m.helpMax = maxOffset
		lines := strings.Split(view, "\n")
		for i := 0; i < p.height; i++ {
			if i < len(lines) {
				b.WriteString(ansi.Truncate(lines[i], m.width, ""))
			}
			b.WriteByte('\n')
		}
	} else if p.height > 0 {
		b.WriteString(p.view)
		b.WriteByte('\n')
	}
	b.WriteString(m.th.Dim.Render(strings.Repeat("─", m.width)))
	b.WriteByte('\n')
	top := p.height + 1
	if c := completions(m.in.Value(), m.models); len(c) > 0 {
		line := "tab ▸ " + strings.Join(c, "  ")
		b.WriteString(m.th.Dim.Render(ansi.Truncate(line, m.width, "…")))
		b.WriteByte('\n')
		top++
	}
	b.WriteString(m.in.View())
	b.WriteByte('\n')
	b.WriteString(m.status)
	m.content = b.String()
	m.cursor = nil
	if c := m.in.Cursor(); c != nil && !m.showHelp {
		c.Position.Y += top
		m.cursor = c
	}
}

// View returns the assembled screen. It only joins cached strings.
func (m *Model) View() tea.View {
	if m.dirty {
		m.compose()
	}
	v := tea.NewView(m.content)
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.Cursor = m.cursor
	return v
}
