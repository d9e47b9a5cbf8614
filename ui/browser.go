package ui

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
)

// Library is what the session browser asks of the saved conversations.
// The chat finds it by asserting Options.Sessions to it. Its methods do
// I/O: the chat calls them from commands, several at once, so they must
// be safe for concurrent use.
type Library interface {
	// List returns the saved conversations, the most recently used first.
	List(ctx context.Context) ([]SessionInfo, error)
	// Search finds the messages that hold every word of query, best
	// first.
	Search(ctx context.Context, query string) ([]SessionHit, error)
	// Load reads conversation id, for its preview.
	Load(ctx context.Context, id string) (session.Saved, error)
	// Delete removes conversation id.
	Delete(ctx context.Context, id string) error
	// Open makes conversation id the one the chat carries on with: what
	// to show, the settings to send with, and the observers that save
	// what happens next.
	Open(ctx context.Context, id string) (Opened, error)
}

// SessionInfo is one saved conversation as the browser lists it.
type SessionInfo struct {
	ID, Title, Model string
	Updated          time.Time
	Messages         int
	// Status is how its last answer ended ("done", "error",
	// "interrupted", "streaming"; "" before any).
	Status string
}

// SessionHit is a message found by a search: its conversation and the
// text around the matches (Marks are byte ranges of the matched words in
// Snippet).
type SessionHit struct {
	SessionInfo
	Snippet string
	Marks   [][2]int
}

// Opened is a saved conversation opened in the chat.
type Opened struct {
	Saved     session.Saved
	Settings  session.Settings
	Observers []session.Observer
	Title     string
}

// The browser's messages.
type (
	browserListMsg struct {
		list []SessionInfo
		err  error
	}
	browserSearchMsg struct {
		seq  int
		hits []SessionHit
		err  error
	}
	browserPreviewMsg struct {
		id    string
		saved session.Saved
		err   error
	}
	browserDeletedMsg struct {
		id  string
		err error
	}
	browserOpenedMsg struct {
		id     string
		opened Opened
		err    error
	}
)

// browserEntry is one row of the list: a conversation, and the snippet
// of a search hit when the search found it.
type browserEntry struct {
	info SessionInfo
	hit  *SessionHit
}

// browser is the session browser overlay: a live fuzzy filter on the
// titles and a full-text search of every message as one types, the list,
// a preview of the selected conversation, open and delete.
type browser struct {
	lib     Library
	query   string
	all     []SessionInfo
	loaded  bool
	hits    []SessionHit
	hitsFor string // the query the hits answer
	seq     int
	entries []browserEntry
	sel     int
	top     int    // the first entry shown
	confirm string // the ID waiting for a confirmed delete
	busy    string // what the browser waits for ("opening…"); "" when idle
	err     string

	previews map[string]*preview
}

// preview is a conversation's preview, laid out for a width.
type preview struct {
	saved  session.Saved
	err    string
	width  int
	lines  []string
	loaded bool
}

// maxPreviews bounds the previews kept in memory.
const maxPreviews = 32

// openBrowser opens the session browser (ctrl+r, /sessions).
func (m *Model) openBrowser() tea.Cmd {
	lib, ok := m.opts.Sessions.(Library)
	if m.cmp != nil {
		m.setFlash("the saved conversations open in a single chat: /pick N leaves the comparison first", true)
		return nil
	}
	if !ok {
		m.setFlash("conversations are not saved (--no-save or save = false): nothing to browse", true)
		return nil
	}
	b := &browser{lib: lib, previews: map[string]*preview{}}
	m.openOverlay(b)
	return func() tea.Msg {
		list, err := lib.List(m.ctx)
		return browserListMsg{list: list, err: err}
	}
}

// browserOf is the open browser, if it is on top.
func (m *Model) browserOf() *browser {
	b, _ := m.topOverlay().(*browser)
	return b
}

// onBrowserMsg takes a browser command's result.
func (m *Model) onBrowserMsg(msg tea.Msg) tea.Cmd {
	if o, ok := msg.(browserOpenedMsg); ok {
		return m.onOpened(o)
	}
	b := m.browserOf()
	if b == nil {
		return nil
	}
	m.dirty = true
	switch msg := msg.(type) {
	case browserListMsg:
		b.loaded, b.all = true, msg.list
		if msg.err != nil {
			b.err = "cannot list the conversations: " + msg.err.Error()
		}
		b.filter(m)
	case browserSearchMsg:
		if msg.seq != b.seq {
			return nil
		}
		b.hits, b.hitsFor = msg.hits, b.query
		if msg.err != nil {
			b.err = "search: " + msg.err.Error()
		}
		b.filter(m)
	case browserPreviewMsg:
		pv := &preview{saved: msg.saved, loaded: true}
		if msg.err != nil {
			pv.err = msg.err.Error()
		}
		b.previews[msg.id] = pv
	case browserDeletedMsg:
		b.busy = ""
		if msg.err != nil {
			b.err = "delete: " + msg.err.Error()
			return nil
		}
		b.all = slices.DeleteFunc(b.all, func(s SessionInfo) bool { return s.ID == msg.id })
		b.hits = slices.DeleteFunc(b.hits, func(h SessionHit) bool { return h.ID == msg.id })
		delete(b.previews, msg.id)
		b.filter(m)
		m.setFlash("conversation deleted", false)
	}
	return b.wantPreview(m)
}

// filter rebuilds the list for the query: titles that match it fuzzily,
// best first, then the conversations the full-text search found.
func (b *browser) filter(m *Model) {
	var sel string
	if b.sel < len(b.entries) {
		sel = b.entries[b.sel].info.ID
	}
	b.entries = b.entries[:0]
	q := strings.TrimSpace(b.query)
	type scored struct {
		e     browserEntry
		score int
	}
	var found []scored
	seen := map[string]bool{}
	for _, s := range b.all {
		score, ok := fuzzyScore(q, s.Title)
		if !ok {
			continue
		}
		found = append(found, scored{browserEntry{info: s}, score})
		seen[s.ID] = true
	}
	slices.SortStableFunc(found, func(x, y scored) int { return y.score - x.score })
	for _, f := range found {
		b.entries = append(b.entries, f.e)
	}
	if q != "" && b.hitsFor == b.query {
		for i := range b.hits {
			h := &b.hits[i]
			if seen[h.ID] {
				continue
			}
			seen[h.ID] = true
			b.entries = append(b.entries, browserEntry{info: h.SessionInfo, hit: h})
		}
	}
	b.sel = 0
	for i, e := range b.entries {
		if e.info.ID == sel {
			b.sel = i
		}
	}
	b.top = min(b.top, b.sel)
}

// fuzzyScore matches pattern's characters in order in s, ignoring case,
// and scores the match: characters that follow each other or start a
// word count more, and a match near the start more than one further on.
// An empty pattern matches everything equally.
func fuzzyScore(pattern, s string) (int, bool) {
	if pattern == "" {
		return 0, true
	}
	p := []rune(strings.ToLower(pattern))
	score, j, prev := 0, 0, -2
	lower := []rune(strings.ToLower(s))
	for i, r := range lower {
		if j == len(p) {
			break
		}
		if unicode.IsSpace(p[j]) {
			j++ // spaces in the pattern only separate words
			if j == len(p) {
				break
			}
		}
		if r != p[j] {
			continue
		}
		score++
		if prev == i-1 {
			score += 3
		}
		if i == 0 || !unicode.IsLetter(lower[i-1]) && !unicode.IsDigit(lower[i-1]) {
			score += 2
		}
		if j == 0 {
			score -= min(i, 10)
		}
		prev = i
		j++
	}
	return score, j == len(p)
}

// wantPreview asks for the selected conversation's preview when it is not
// loaded yet.
func (b *browser) wantPreview(m *Model) tea.Cmd {
	if b.sel >= len(b.entries) {
		return nil
	}
	id := b.entries[b.sel].info.ID
	if _, ok := b.previews[id]; ok {
		return nil
	}
	if len(b.previews) >= maxPreviews {
		clear(b.previews)
	}
	b.previews[id] = &preview{}
	lib, ctx := b.lib, m.ctx
	return func() tea.Msg {
		s, err := lib.Load(ctx, id)
		return browserPreviewMsg{id: id, saved: s, err: err}
	}
}

// search runs the full-text search for the query as it stands.
func (b *browser) search(m *Model) tea.Cmd {
	b.seq++
	q := strings.TrimSpace(b.query)
	if utf8.RuneCountInString(q) < 2 {
		b.hits, b.hitsFor = nil, b.query
		return nil
	}
	if !strings.HasSuffix(q, "\"") && !strings.HasSuffix(q, "*") && !strings.HasSuffix(b.query, " ") {
		q += "*" // the word being typed: any word it begins
	}
	seq, lib, ctx := b.seq, b.lib, m.ctx
	return func() tea.Msg {
		hits, err := lib.Search(ctx, q)
		return browserSearchMsg{seq: seq, hits: hits, err: err}
	}
}

func (b *browser) key(m *Model, msg tea.KeyPressMsg) overlayKey {
	m.dirty = true
	if b.confirm != "" {
		id := b.confirm
		b.confirm = ""
		if s := msg.String(); s == "y" || s == "enter" {
			b.busy = "deleting…"
			lib, ctx := b.lib, m.ctx
			return overlayKey{cmd: func() tea.Msg { return browserDeletedMsg{id: id, err: lib.Delete(ctx, id)} }}
		}
		return overlayKey{}
	}
	b.err = ""
	switch s := msg.String(); s {
	case "esc":
		return overlayKey{close: true}
	case "ctrl+c":
		return overlayKey{close: true, pass: true}
	case "up", "ctrl+p":
		b.move(-1)
	case "down", "ctrl+n":
		b.move(1)
	case "pgup":
		b.move(-10)
	case "pgdown":
		b.move(10)
	case "enter":
		return overlayKey{cmd: b.open(m)}
	case "delete", "ctrl+x":
		if b.sel < len(b.entries) {
			e := b.entries[b.sel]
			if e.info.ID == m.focused().chat.Conversation().ID {
				b.err = "this conversation is open in the chat: /new first"
				return overlayKey{}
			}
			b.confirm = e.info.ID
		}
		return overlayKey{}
	case "backspace":
		if b.query != "" {
			_, n := utf8.DecodeLastRuneInString(b.query)
			b.query = b.query[:len(b.query)-n]
			b.filter(m)
			return overlayKey{cmd: tea.Batch(b.search(m), b.wantPreview(m))}
		}
	case "ctrl+u":
		b.query = ""
		b.filter(m)
		return overlayKey{cmd: tea.Batch(b.search(m), b.wantPreview(m))}
	default:
		t := msg.Key().Text
		if t == "" || len(b.query)+len(t) > 200 {
			return overlayKey{}
		}
		b.query += sanitize.Line(t)
		b.filter(m)
		return overlayKey{cmd: tea.Batch(b.search(m), b.wantPreview(m))}
	}
	return overlayKey{cmd: b.wantPreview(m)}
}

func (b *browser) move(n int) {
	b.sel = min(max(b.sel+n, 0), max(len(b.entries)-1, 0))
}

// open asks for the selected conversation to be opened in the chat.
func (b *browser) open(m *Model) tea.Cmd {
	if b.sel >= len(b.entries) || b.busy != "" {
		return nil
	}
	id := b.entries[b.sel].info.ID
	if id == m.focused().chat.Conversation().ID {
		b.err = "this conversation is the one open"
		return nil
	}
	b.busy = "opening…"
	lib, ctx := b.lib, m.ctx
	return func() tea.Msg {
		o, err := lib.Open(ctx, id)
		return browserOpenedMsg{id: id, opened: o, err: err}
	}
}

// onOpened replaces the focused pane's conversation with the one opened:
// the answer streaming is stopped (and saved as it stands), the
// transcript shows the opened conversation and the next prompt carries
// on with it.
func (m *Model) onOpened(msg browserOpenedMsg) tea.Cmd {
	b := m.browserOf()
	if b != nil {
		b.busy = ""
	}
	if msg.err != nil {
		if b != nil {
			b.err = "open: " + msg.err.Error()
		} else {
			m.setFlash("open: "+sanitize.Line(msg.err.Error()), true)
		}
		m.dirty = true
		return nil
	}
	old := m.focused()
	old.cancel(m.rc(old))
	m.unqueue("")
	spec := old.spec
	spec.Settings = msg.opened.Settings
	spec.Resume = &msg.opened.Saved
	spec.Observers = msg.opened.Observers
	// A new pane ID: events still on their way from the old chat's run
	// find no pane and are dropped.
	m.lastPane++
	p := m.chatPane(m.lastPane, spec, m.paneChat(m.lastPane, spec))
	m.panes[m.focus] = p
	if b != nil {
		m.overlays = slices.DeleteFunc(m.overlays, func(o overlay) bool { return o == b })
	}
	m.layout()
	title := msg.opened.Title
	if title == "" {
		title = msg.id
	}
	m.setFlash("opened: "+sanitize.Line(title), false)
	return nil
}

// view draws the browser: the query, the list and the preview, side by
// side when the width allows, else one above the other.
func (b *browser) view(m *Model, width, height int) string {
	th := m.th
	var out []string
	head := "Saved conversations · type to filter titles and search every message"
	out = append(out, th.Accent.Render(ansi.Truncate(head, width, "…")))
	out = append(out, ansi.Truncate("> "+b.query+"▏", width, "…"))
	body := max(height-3, 1)
	listW, prevW := width, 0
	if width >= 80 {
		listW = width * 2 / 5
		prevW = width - listW - 3
	}
	listH := body
	if prevW == 0 {
		listH = max(body/2, 1)
	}
	list := b.listLines(m, listW, listH)
	var pv []string
	if prevW > 0 {
		pv = b.previewLines(m, prevW, body)
		for i := range body {
			l, r := "", ""
			if i < len(list) {
				l = list[i]
			}
			if i < len(pv) {
				r = pv[i]
			}
			out = append(out, l+strings.Repeat(" ", max(listW-ansi.StringWidth(l), 0))+th.Dim.Render(" │ ")+r)
		}
	} else {
		out = append(out, list...)
		for len(out) < 2+listH {
			out = append(out, "")
		}
		out = append(out, th.Dim.Render(strings.Repeat("─", width)))
		pv = b.previewLines(m, width, body-listH-1)
		out = append(out, pv...)
	}
	for len(out) < height-1 {
		out = append(out, "")
	}
	out = out[:height-1]
	out = append(out, b.footer(m, width))
	return strings.Join(out, "\n")
}

// footer is the keys, or the question of a delete, or what went wrong.
func (b *browser) footer(m *Model, width int) string {
	th := m.th
	switch {
	case b.confirm != "":
		title := b.confirm
		for _, e := range b.entries {
			if e.info.ID == b.confirm && e.info.Title != "" {
				title = e.info.Title
			}
		}
		return th.StatusWarn.Render(ansi.Truncate(fmt.Sprintf("delete %q? y deletes · any other key keeps it",
			sanitize.Line(title)), width, "…"))
	case b.err != "":
		return th.StatusError.Render(ansi.Truncate(sanitize.Line(b.err), width, "…"))
	case b.busy != "":
		return th.Dim.Render(b.busy)
	}
	n := fmt.Sprintf("%d of %d", len(b.entries), len(b.all))
	if !b.loaded {
		n = "loading…"
	}
	return th.Dim.Render(ansi.Truncate("↑↓ select · enter open · del delete · esc close · "+n, width, "…"))
}

// listLines draws the list, the selected entry in view and highlighted.
func (b *browser) listLines(m *Model, width, height int) []string {
	th := m.th
	if len(b.entries) == 0 {
		if b.loaded {
			return []string{th.Dim.Render("no conversation matches")}
		}
		return nil
	}
	rows := func(e browserEntry) int {
		if e.hit != nil {
			return 2
		}
		return 1
	}
	// Scroll so that the selected entry is in view.
	b.top = min(b.top, b.sel)
	for {
		used := 0
		for i := b.top; i <= b.sel; i++ {
			used += rows(b.entries[i])
		}
		if used <= height || b.top >= b.sel {
			break
		}
		b.top++
	}
	var out []string
	for i := b.top; i < len(b.entries) && len(out) < height; i++ {
		e := b.entries[i]
		title := sanitize.Line(e.info.Title)
		if title == "" {
			title = "(untitled)"
		}
		meta := fmt.Sprintf(" · %s · %d msgs", e.info.Updated.Local().Format("Jan 02 15:04"), e.info.Messages)
		if e.info.Status != "" && e.info.Status != "done" {
			meta += " · " + e.info.Status
		}
		line := ansi.Truncate(title, width, "…")
		if rest := width - ansi.StringWidth(line); rest > 3 {
			line += th.Dim.Render(ansi.Truncate(meta, rest, "…"))
		}
		if i == b.sel {
			line = th.Selection.Render(ansi.Strip(line) + strings.Repeat(" ", max(width-ansi.StringWidth(line), 0)))
		}
		out = append(out, line)
		if e.hit != nil && len(out) < height {
			out = append(out, "  "+snippetLine(e.hit, width-2, m))
		}
	}
	return out
}

// snippetLine is a search hit's snippet on one line, the matched words
// highlighted.
func snippetLine(h *SessionHit, width int, m *Model) string {
	var b strings.Builder
	pos := 0
	// Start a little before the first match, so that it is in view.
	if len(h.Marks) > 0 && h.Marks[0][0] > width/2 {
		pos = h.Marks[0][0] - width/4
		for pos > 0 && !utf8.RuneStart(h.Snippet[pos]) {
			pos--
		}
		b.WriteString(m.th.Dim.Render("…"))
	}
	for _, mk := range h.Marks {
		if mk[0] < pos || mk[1] > len(h.Snippet) {
			continue
		}
		b.WriteString(m.th.Dim.Render(sanitize.Line(h.Snippet[pos:mk[0]])))
		b.WriteString(m.th.Accent.Render(sanitize.Line(h.Snippet[mk[0]:mk[1]])))
		pos = mk[1]
	}
	b.WriteString(m.th.Dim.Render(sanitize.Line(h.Snippet[pos:])))
	return ansi.Truncate(b.String(), max(width, 1), "…")
}

// previewLines is the selected conversation's preview: its prompts and
// answers as plain text, from the start, as much as fits.
func (b *browser) previewLines(m *Model, width, height int) []string {
	if b.sel >= len(b.entries) || height <= 0 {
		return nil
	}
	pv := b.previews[b.entries[b.sel].info.ID]
	switch {
	case pv == nil || !pv.loaded:
		return []string{m.th.Dim.Render("loading…")}
	case pv.err != "":
		return []string{m.th.StatusError.Render(ansi.Truncate(sanitize.Line(pv.err), width, "…"))}
	}
	if pv.width != width || pv.lines == nil {
		pv.width, pv.lines = width, previewText(pv.saved, width, m)
	}
	return pv.lines[:min(len(pv.lines), height)]
}

// maxPreviewLines bounds a preview's layout: it shows the start of a
// conversation, however long.
const maxPreviewLines = 200

// previewText lays out a saved conversation for the preview.
func previewText(s session.Saved, width int, m *Model) []string {
	var out []string
	wrap := func(text string) {
		for _, l := range strings.Split(ansi.Wrap(screenText(text), width, ""), "\n") {
			if len(out) >= maxPreviewLines {
				return
			}
			out = append(out, l)
		}
	}
	for _, e := range s.Transcript() {
		if len(out) >= maxPreviewLines {
			break
		}
		switch {
		case e.Index >= 0 && e.Message.Role == provider.RoleUser:
			out = append(out, m.th.UserLabel.Render("▌ you"))
			wrap(e.Message.Content)
			if n := len(e.Replaced); n > 0 {
				out = append(out, m.th.Dim.Render(fmt.Sprintf("(%d answer(s) replaced by /retry: [ and ] page through them)", n)))
			}
		case e.Index >= 0 && e.Message.Role == provider.RoleAssistant || e.Index < 0 && e.Turn != nil:
			label := "◆ assistant"
			if e.Turn != nil {
				if model := cmp.Or(e.Turn.Model, e.Turn.RequestModel); model != "" {
					label += " " + sanitize.Line(model)
				}
			}
			out = append(out, m.th.AssistantLabel.Render(ansi.Truncate(label, width, "…")))
			text := e.Message.Content
			if e.Index < 0 {
				text = e.Turn.Text()
			}
			if text == "" && e.Turn != nil && e.Turn.Err != nil {
				text = "error: " + e.Turn.Err.Error()
			}
			wrap(text)
		default:
			continue
		}
		out = append(out, "")
	}
	return out
}
