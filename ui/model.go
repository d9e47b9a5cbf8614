package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

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

	tasks         map[taskID]*task // background commands in flight
	lastTask      taskID           // the ID of the latest task started
	modelsFetched bool             // the gateway's models are in models
	modelsFailed  bool             // listing them failed; tab does not ask again
	showModelsIn  PaneID           // the pane whose /model waits for the list; 0 for none

	themeName string
	th        *themes.Theme
	renderers map[int]*markdown.Renderer

	panes    []*Pane
	focus    int
	lastPane PaneID         // the last pane ID given out
	cmp      *compareState  // the comparison on screen; nil for a single chat
	pacer    *session.Pacer // paces every pane's requests per provider and model
	in       input
	overlays []overlay // open overlays, the last on top

	width, height int
	sized         bool
	pending       string // initial prompt waiting for the first size
	hide          bool   // hide reasoning entirely
	ticking       bool

	flash      string
	flashWarn  bool
	flashUntil time.Time

	queued    *queuedPrompt // a prompt waiting for the answers to end
	replay    *replayState  // set when the screen plays a saved conversation
	quitArmed time.Time     // a second ctrl+c before this moment quits
	term      termModes     // terminal modes the chat set and restores

	status  string
	content string
	cursor  *tea.Cursor
	dirty   bool
}

// newModel builds the root model; send delivers messages from stream
// goroutines (Program.Send in the real program).
func newModel(ctx context.Context, opts Options, send func(tea.Msg)) (*Model, error) {
	if len(opts.Panes) == 0 {
		return nil, errors.New("ui: no pane to show")
	}
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
		ctx: ctx, opts: opts, send: send, now: time.Now, keys: defaultKeys(opts.Mouse),
		models: mergeModels(opts.Panes[0].Models, nil), themeName: name, th: th, renderers: map[int]*markdown.Renderer{},
		hide: opts.HideReasoning, pending: opts.InitialPrompt, dirty: true,
	}
	m.pacer = session.NewPacer(session.PacerOptions{})
	if opts.Replay != nil {
		// A replay's clock is the recording's, and its answers come when
		// recorded: no pacing ahead of the (long past) rate limits.
		m.replay, m.now, m.pacer = newReplayState(*opts.Replay), opts.Replay.Player.Now, nil
	}
	m.in = newInput(th)
	for _, h := range opts.History {
		m.in.history = append(m.in.history, entry{value: h})
	}
	m.in.onRemember = opts.Remember
	m.in.recall = len(m.in.history)
	if p := strings.TrimSpace(opts.InitialPrompt); p != "" {
		m.in.remember(entry{value: p}) // sent at once: ↑ recalls it, now and in later runs
	}
	if len(opts.Panes) > 1 {
		if err := checkColumns(opts.Panes); err != nil {
			return nil, err
		}
		specs := opts.Panes
		if opts.Blind {
			specs = shuffleColumns(specs)
		}
		if err := m.openCompare(nil, specs); err != nil {
			return nil, err
		}
		m.cmp.blind = blindState{on: opts.Blind, columns: len(specs)}
		return m, nil
	}
	m.lastPane = 1
	m.panes = []*Pane{m.chatPane(1, opts.Panes[0], m.paneChat(1, opts.Panes[0]))}
	if !opts.noWelcome && opts.InitialPrompt == "" && opts.Panes[0].Resume == nil && opts.Replay == nil {
		m.panes[0].addWelcome(welcomeFor(opts, m.panes[0]))
	}
	return m, nil
}

// Init starts the status clock, asks for the background colour when the
// theme is automatic, and sends the initial prompt.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{secondTick(), m.term.init(m.opts.Mouse)}
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

// clock is the model's clock as the chats read it: their stream
// goroutines stamp events with it, read at each call (tests set m.now
// before streaming).
func (m *Model) clock() time.Time { return m.now() }

func (m *Model) pane(id PaneID) *Pane {
	for _, p := range m.panes {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// renderer returns the markdown renderer for a pane width in the current
// theme, no wider than Options.MaxWidth.
func (m *Model) renderer(width int) *markdown.Renderer {
	if m.opts.MaxWidth > 0 {
		width = min(width, m.opts.MaxWidth)
	}
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
	return renderCtx{width: max(p.width, 1), th: m.th, hide: m.hide, anon: m.anonFor(p), now: m.now(), renderer: m.renderer}
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
		return m.onFrame()
	case secondMsg:
		if !m.flashUntil.IsZero() && !m.now().Before(m.flashUntil) {
			m.flash, m.flashUntil = "", time.Time{}
		}
		m.refresh()
		return secondTick()
	case tea.WindowSizeMsg:
		return m.onResize(msg)
	case tea.BackgroundColorMsg:
		if m.themeName == "auto" {
			if th, err := themes.Lookup("auto", msg.IsDark()); err == nil && th != m.th {
				m.setTheme(th)
			}
		}
		return nil
	case submitMsg:
		return m.submitText(msg.text)
	case compareReadyMsg:
		return m.onCompareReady(msg)
	case pickSavedMsg, diffReadyMsg:
		return m.onResultMsg(msg)
	case taskDoneMsg, taskEventMsg, imageResultMsg, usageResultMsg, modelsResultMsg:
		return m.onTaskMsg(msg)
	case toolDoneMsg, toolsStartedMsg, allowSavedMsg, argsFileMsg, argsEditedMsg:
		return m.onToolMsg(msg)
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
	case tea.ModeReportMsg:
		m.term.onReport(msg)
		return nil
	case copiedMsg:
		m.onCopied(msg)
		return nil
	case exportedMsg:
		m.onExported(msg)
		return nil
	case editorReadyMsg, editorClosedMsg, editorDoneMsg:
		return m.onEditorMsg(msg)
	case schemaLoadedMsg:
		return m.onSchemaLoaded(msg)
	case replayStepMsg:
		return m.onReplayStep(msg)
	case browserListMsg, browserSearchMsg, browserPreviewMsg, browserDeletedMsg, browserOpenedMsg:
		return m.onBrowserMsg(msg)
	}
	// Anything else (cursor blink, focus) goes to the editor.
	cmd := m.in.Update(msg)
	m.dirty = true
	return cmd
}

// onFrame renders what streamed since the last frame, in every pane, and
// keeps the frame clock going while anything streams.
func (m *Model) onFrame() tea.Cmd {
	m.ticking = false
	for _, p := range m.panes {
		p.frame(m.rc(p))
	}
	m.onToolFrame()
	m.refresh()
	if m.streaming() || m.toolsRunning() {
		return m.ensureTicking()
	}
	return nil
}

// onResize lays the screen out for a new size and sends the initial
// prompt once the size is known.
func (m *Model) onResize(msg tea.WindowSizeMsg) tea.Cmd {
	m.width, m.height = msg.Width, msg.Height
	m.sized = true
	m.layout()
	if m.replay != nil {
		return m.beginReplay()
	}
	if m.pending != "" {
		text := m.pending
		m.pending = ""
		return m.submitText(text)
	}
	return nil
}

func (m *Model) onCopied(msg copiedMsg) {
	if msg.systemErr == nil {
		m.setFlash(fmt.Sprintf("copied %s via OSC 52 and the system clipboard", msg.what), false)
	} else {
		m.setFlash(fmt.Sprintf("copied %s via OSC 52 — your terminal must allow it", msg.what), false)
	}
}

// onPaneEvent hands a stamped event to its pane's chat and draws what
// changed. Text and reasoning deltas only accumulate (the frame clock
// renders them); everything else is shown at once, and a terminal event
// is never dropped. Stale events (of a run the chat gave up on) are
// recorded by the chat and change nothing on screen.
func (m *Model) onPaneEvent(msg paneEventMsg) tea.Cmd {
	p := m.pane(msg.Pane)
	if p == nil {
		return nil
	}
	up := p.chat.Handle(msg.Ev)
	if up.Stale {
		return nil
	}
	p.onUpdate(up, m.rc(p))
	switch up.Event.(type) {
	case provider.TextDelta, provider.ReasoningDelta:
		return m.ensureTicking()
	}
	if up.Finished && m.cmp != nil {
		m.layout()
	}
	m.refresh()
	if up.Finished {
		return m.onAnswerEnd(p)
	}
	return nil
}

// onAnswerEnd runs when a pane's answer has ended: the pane's tool loop
// takes the answer's tool calls, if any (ui/tools.go).
func (m *Model) onAnswerEnd(p *Pane) tea.Cmd {
	if m.replay != nil {
		return m.replayWaitFor(p) // the recording's tool results follow as its own steps
	}
	return m.applyLoop(p, p.loop.AfterTurn(p.chat.Turn()))
}

func (m *Model) quit() tea.Cmd {
	m.shutdown()
	return tea.Quit
}

// shutdown cancels every stream, tool run and background command.
func (m *Model) shutdown() {
	for _, p := range m.panes {
		p.chat.Cancel()
		p.loop.Cancel()
	}
	m.cancelTasks()
}

func (m *Model) scroll(n int) {
	for _, p := range m.scrolled() {
		p.scroll(n, m.rc(p))
	}
	m.dirty = true
}

// submitText sends a prompt to every pane (the prompt given on the
// command line; prompt.go sends what the editor holds).
func (m *Model) submitText(text string) tea.Cmd {
	return m.sendPrompt(text, text)
}

func (m *Model) runCommand(c command) tea.Cmd {
	p := m.focused()
	rc := m.rc(p)
	if why := m.blindRefusal(c.name); why != "" {
		m.setFlash(why, true)
		return nil
	}
	switch c.name {
	case "/model":
		if c.arg == "" {
			return m.listModels(p)
		}
		p.chat.SetModel(c.arg)
		p.notice("model set to "+c.arg, rc)
	case "/system":
		m.systemCommand(p, c.arg)
	case "/new", "/clear":
		m.stopTools()
		for _, q := range m.panes {
			q.reset(m.rc(q))
			q.notice("new conversation", m.rc(q))
		}
		if m.cmp != nil {
			m.layout()
		}
	case "/quit", "/exit":
		return m.quit()
	case "/retry":
		m.stopTools()
		if err := p.retry(m.ctx, rc); err != nil {
			p.warning("/retry: "+err.Error(), rc)
			return nil
		}
		return m.ensureTicking()
	case "/copy":
		n, ok := parseCopyArg(c.arg)
		if !ok {
			p.warning("usage: /copy [N] — N is a code block number", rc)
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
	case "/schema":
		return m.runSchema(c.arg)
	case "/export":
		return m.exportConversation(p, c.arg)
	case "/title":
		m.setTitle(p, c.arg)
	case "/tools":
		m.showTools(p)
	case "/compare":
		return m.runCompare(c.arg)
	case "/pick":
		return m.runPick(c.arg)
	case "/fuse":
		return m.runFuse(c.arg)
	case "/sessions":
		return m.openBrowser()
	case "/help":
		m.openOverlay(&helpOverlay{})
	default:
		p.warning("unknown command "+sanitize.Line(c.name)+" — /help lists the commands", rc)
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
	m.setFlashFor(s, warn, flashDuration)
}

// setFlashFor shows a status-bar message for d.
func (m *Model) setFlashFor(s string, warn bool, d time.Duration) {
	m.flash, m.flashWarn = s, warn
	m.flashUntil = m.now().Add(d)
	m.refresh()
}

// statusInfo gathers what the status bar shows for a pane.
func (m *Model) statusInfo(p *Pane) statusInfo {
	now := m.now()
	tot := p.chat.Totals(now)
	in := statusInfo{
		Provider: p.spec.ProviderName, Model: p.chat.Settings().Model, State: p.chat.State(),
		Limits: p.chat.Limits().Snapshot(), LastTok: tot.LastTokens, ConvTok: tot.ConversationTokens,
		Elapsed: tot.LastDuration, TokPerSec: tot.TokensPerSecond,
		Flash: m.flash, FlashWarn: m.flashWarn, Busy: m.busyText(now),
	}
	if t := p.chat.Turn(); t != nil && t.Model != "" {
		in.Model = t.Model
	}
	if p.loop != nil {
		switch {
		case p.loop.Asking():
			in.Tool = "tool call: allow?"
		case p.loop.Running() != nil:
			in.Tool = "running " + sanitize.Line(p.loop.Running().Call.Name)
		}
	}
	m.hideStatus(&in)
	return in
}

// refresh recomputes the status line and marks the screen for assembly.
func (m *Model) refresh() {
	m.status = statusLine(m.statusInfo(m.focused()), m.now(), m.width, m.th)
	if m.cmp != nil {
		m.refreshCompare(m.now())
	}
	m.dirty = true
}

// layout sizes the components after a size or input-height change: the
// panes share the width, side by side, above the input.
func (m *Model) layout() {
	m.in.SetWidth(m.width)
	h := max(m.height-m.in.Height()-2-m.completionHeight()-m.queueHeight(), 0)
	if m.cmp != nil {
		m.layoutCompare(h)
		m.refresh()
		return
	}
	for i, w := range paneWidths(m.width, len(m.panes)) {
		if p := m.panes[i]; p.width != w || p.height != h {
			p.setSize(w, h)
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
// here but the small input and completion lines (and an open overlay).
func (m *Model) compose() {
	m.dirty = false
	if m.width <= 0 || m.height <= 0 {
		m.content = ""
		return
	}
	h := m.focused().height
	if m.cmp != nil {
		h = m.cmp.area
	}
	var b strings.Builder
	if o := m.topOverlay(); o != nil {
		lines := strings.Split(o.view(m, m.width, h), "\n")
		for i := 0; i < h; i++ {
			if i < len(lines) {
				b.WriteString(ansi.Truncate(lines[i], m.width, ""))
			}
			b.WriteByte('\n')
		}
	} else if m.cmp != nil {
		m.writeCompare(&b)
	} else if h > 0 {
		writePanes(&b, m.panes, h, m.th.Dim.Render("│"))
	}
	if m.cmp != nil {
		b.WriteString(m.cmp.rule)
	} else {
		b.WriteString(m.th.Dim.Render(strings.Repeat("─", m.width)))
	}
	b.WriteByte('\n')
	top := h + 1
	if c := completions(m.in.Value(), m.models); len(c) > 0 {
		line := "tab ▸ " + strings.Join(c, "  ")
		b.WriteString(m.th.Dim.Render(ansi.Truncate(line, m.width, "…")))
		b.WriteByte('\n')
		top++
	}
	if m.queued != nil {
		b.WriteString(m.queueLine())
		b.WriteByte('\n')
		top++
	}
	if m.replay != nil {
		b.WriteString(m.replayLine())
	} else {
		b.WriteString(m.in.View())
	}
	b.WriteByte('\n')
	b.WriteString(m.status)
	m.content = b.String()
	m.cursor = nil
	if c := m.in.Cursor(); c != nil && m.topOverlay() == nil && m.replay == nil {
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
	if m.opts.Mouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	v.Cursor = m.cursor
	return v
}
