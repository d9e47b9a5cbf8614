package ui

import (
	"context"
	"sort"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/ui/markdown"
)

// PaneID identifies a pane. Messages that belong to one pane carry it, so
// several panes (compare mode) can stream side by side.
type PaneID int

// paneEventMsg carries one event of a pane's chat, stamped where its
// stream emitted it, to the pane. The pane's chat decides what it changes:
// events of a run the chat has given up on (cancelled, retried) are
// recorded on their own turn and never shown.
type paneEventMsg struct {
	Pane PaneID
	Ev   session.Stamped
}

// Pane is one conversation on screen: its transcript, the answer
// streaming with its reasoning, and its scroll position. What the
// conversation is and does (history, streams, retries, totals, limits)
// is its session.Chat's; the pane only draws it. A Pane is used only from
// the Bubble Tea goroutine; its chat's streams reach it through
// paneEventMsg.
type Pane struct {
	ID   PaneID
	spec PaneSpec
	chat *session.Chat
	loop *session.ToolLoop // runs the tool calls answers end in (ui/tools.go)

	items     []*item
	nextItem  int
	nextBlock int // number of the next code block

	// The answer streaming, if any (live != nil).
	live     *item
	stream   *markdown.Stream
	liveHead []string  // label and reasoning of the streaming message
	liveBody bodyLines // its answer so far
	liveTail []string  // its tool calls, error, interrupted marker; ends with ""
	dirty    bool      // text or reasoning arrived since the last frame

	width, height int
	fromBottom    int  // lines scrolled up from the bottom; 0 follows new output
	newOutput     bool // output arrived while scrolled up
	sideways      int  // columns the lines wider than the pane are scrolled left by
	widest        int  // the widest visible line, in cells
	visible       []string
	view          string

	// renders counts live re-renders, for tests and benchmarks.
	renders int
}

// newPane returns an empty pane for spec that draws chat, whose events
// must come back to it as paneEventMsg for id.
func newPane(id PaneID, spec PaneSpec, chat *session.Chat) *Pane {
	return &Pane{ID: id, spec: spec, chat: chat, nextBlock: 1}
}

// Streaming reports whether an answer is streaming.
func (p *Pane) Streaming() bool { return p.chat.Streaming() }

func (p *Pane) addItem(it *item, rc renderCtx) {
	p.nextItem++
	it.id = p.nextItem
	p.items = append(p.items, it)
	if !it.live {
		p.grew(it.height(rc))
	}
}

// notice adds a local line to the transcript.
func (p *Pane) notice(text string, rc renderCtx) {
	p.addItem(&item{kind: kindNotice, text: text}, rc)
	p.layout(rc)
}

// warning adds a local line to the transcript that reports a problem (an
// unknown command, a command's error): drawn to stand out, in full.
func (p *Pane) warning(text string, rc renderCtx) {
	p.addItem(&item{kind: kindNotice, text: text, warn: true}, rc)
	p.layout(rc)
}

// addInfo adds a local report (image, usage, models) to the transcript.
func (p *Pane) addInfo(in *info, rc renderCtx) {
	p.addItem(&item{kind: kindInfo, info: in}, rc)
	p.layout(rc)
}

// submitShown sends text as the prompt: it joins the conversation and
// its answer starts streaming. The transcript shows it as shown: the same
// text, or with long pastes folded into tokens (alt+p unfolds it there).
//
// Sending follows the transcript's end again, wherever it was scrolled.
func (p *Pane) submitShown(ctx context.Context, shown, text string, rc renderCtx) error {
	turn, err := p.chat.Send(ctx, text)
	if err != nil {
		return err
	}
	p.fromBottom, p.newOutput = 0, false
	it := &item{kind: kindUser, text: shown}
	if shown != text {
		it.fold = &foldedPrompt{shown: shown, sent: text}
	}
	p.addItem(it, rc)
	p.beginLive(turn, rc)
	return nil
}

// retry answers the last prompt again (/retry): the chat drops the last
// answer, even one still streaming, and the transcript loses everything
// after the prompt.
func (p *Pane) retry(ctx context.Context, rc renderCtx) error {
	turn, err := p.chat.Retry(ctx)
	if p.live != nil { // the answer the retry cancelled
		p.endLive(rc)
	}
	if err != nil {
		return err
	}
	// The answers to the last prompt go; what else followed it (the
	// notice of a /model, say) stays.
	for i := len(p.items) - 1; i >= 0; i-- {
		if p.items[i].kind == kindUser {
			kept := p.items[:i+1]
			for _, it := range p.items[i+1:] {
				if it.kind != kindAssistant {
					kept = append(kept, it)
				}
			}
			p.items = kept
			break
		}
	}
	p.nextBlock = 1
	for _, it := range p.items {
		p.nextBlock += it.blocks
	}
	p.beginLive(turn, rc)
	return nil
}

// beginLive adds the streaming message of turn to the transcript.
func (p *Pane) beginLive(t *session.Turn, rc renderCtx) {
	p.stream = markdown.NewStream(rc.renderer(rc.width), p.nextBlock)
	p.live = &item{kind: kindAssistant, turn: t, live: true, firstBlock: p.nextBlock}
	p.addItem(p.live, rc)
	p.liveHead, p.liveBody, p.liveTail = nil, bodyLines{}, nil
	p.renderLive(rc)
	p.layout(rc)
}

// onUpdate shows what the chat made of one event. Text and reasoning only
// accumulate and mark the pane dirty (the next frame renders them); the
// end of the answer is drawn at once. Stale events change nothing.
func (p *Pane) onUpdate(up session.Update, rc renderCtx) {
	if up.Stale || p.live == nil || up.Turn != p.live.turn {
		return
	}
	switch up.Event.(type) {
	case provider.TextDelta:
		// The stream reads the turn's text rather than keeping a copy.
		p.stream.SetSource(p.live.turn.Text())
		p.dirty = true
	case provider.ReasoningDelta, provider.ToolCallEvent:
		p.dirty = true
	}
	if up.Finished {
		p.endLive(rc)
	}
}

// frame renders the streaming message if anything arrived since the last
// frame, or its markdown is still catching up (a View renders a bounded
// amount). It is the only place a streaming answer is rendered.
func (p *Pane) frame(rc renderCtx) bool {
	if p.live == nil || !p.dirty && !p.stream.Dirty() {
		return false
	}
	p.renderLive(rc)
	p.layout(rc)
	return true
}

// renderLive lays out the streaming message: label, reasoning (live box
// while thinking, one summary line once the answer starts), the answer so
// far, tool calls. The answer's lines are split incrementally, so a frame
// costs the changed tail, not the whole answer.
func (p *Pane) renderLive(rc renderCtx) {
	p.dirty = false
	p.renders++
	t := p.live.turn
	old := p.liveHeight()
	var head strings.Builder
	head.WriteString(assistantLabel(t, rc))
	if !rc.hide && t.Reasoning() != "" {
		head.WriteByte('\n')
		switch {
		case p.live.expanded:
			head.WriteString(reasoningSummary(t, rc, true) + "\n" + reasoningBox(t.Reasoning(), rc, false))
		case t.Thinking():
			head.WriteString(reasoningBox(t.Reasoning(), rc, true))
		default:
			head.WriteString(reasoningSummary(t, rc, false))
		}
	}
	p.liveHead = strings.Split(head.String(), "\n")
	done, rest, epoch := p.stream.Parts()
	p.liveBody.set(done, rest, epoch)
	if p.liveBody.len() == 0 && (t.Reasoning() == "" || rc.hide) {
		p.liveBody.tail = []string{rc.th.Dim.Render("…")}
	}
	var tail strings.Builder
	writeTail(&tail, t, rc)
	p.liveTail = strings.Split(strings.TrimPrefix(tail.String(), "\n"), "\n")
	if tail.Len() == 0 {
		p.liveTail = []string{""}
	} else {
		p.liveTail = append(p.liveTail, "")
	}
	p.grew(p.liveHeight() - old)
}

// liveHeight is the number of lines of the streaming message.
func (p *Pane) liveHeight() int { return len(p.liveHead) + p.liveBody.len() + len(p.liveTail) }

// bodyLines are the lines of a streaming answer's rendering: the lines of
// its finished pieces, indexed once as each piece arrives (the pieces are
// the stream's and never change), and the lines of the rest, split again
// on each frame.
type bodyLines struct {
	epoch int
	done  lineRun // the finished pieces
	rest  lineSplitter
	tail  []string // the lines after done: a blank separator line, then the rest's
}

// set takes the view of a stream's Parts: finished pieces and the rest.
func (b *bodyLines) set(done []string, rest string, epoch int) {
	if epoch != b.epoch || len(done) < len(b.done.pieces) {
		b.epoch, b.done = epoch, lineRun{}
	}
	b.done.addPieces(done)
	b.tail = b.tail[:0]
	if rest == "" {
		b.rest = lineSplitter{}
		return
	}
	if b.done.len() > 0 {
		b.tail = append(b.tail, "")
	}
	b.tail = append(b.tail, b.rest.split(rest)...)
}

// len is the number of lines.
func (b *bodyLines) len() int { return b.done.len() + len(b.tail) }

// lineRun is a run of lines of the transcript: lines, or the lines of
// texts (pieces) joined by blank lines. A line of the texts costs the run
// four bytes rather than a string header (and a copy of it), and only the
// lines in view are cut out of them.
type lineRun struct {
	lines  []string
	pieces []string
	first  []int32 // first[k] is the number of piece k's first line (the blank before it, for k > 0)
	ends   []int32 // the end offset of each text line in its piece
	n      int     // the run's first n lines are laid out
}

// strRun is the run of lines.
func strRun(lines []string) lineRun { return lineRun{lines: lines, n: len(lines)} }

// textRun is the run of text's lines.
func textRun(text string) lineRun {
	var r lineRun
	r.addPieces([]string{text})
	return r
}

// addPieces adds the pieces of all past those the run holds (all starts
// with them), indexing their lines.
func (r *lineRun) addPieces(all []string) {
	for _, piece := range all[len(r.pieces):] {
		r.first = append(r.first, int32(r.n))
		if len(r.first) > 1 {
			r.n++ // the blank line before it
		}
		for off := 0; ; {
			i := strings.IndexByte(piece[off:], '\n')
			r.n++
			if i < 0 {
				r.ends = append(r.ends, int32(len(piece)))
				break
			}
			r.ends = append(r.ends, int32(off+i))
			off += i + 1
		}
	}
	r.pieces = all
}

// len is the number of lines.
func (r lineRun) len() int { return r.n }

// at is line i.
func (r lineRun) at(i int) string {
	if r.pieces == nil {
		return r.lines[i]
	}
	k := sort.Search(len(r.first), func(k int) bool { return int(r.first[k]) > i }) - 1
	j := i - int(r.first[k])
	base := int(r.first[k]) // index in ends of the piece's first text line
	if k > 0 {
		if j == 0 {
			return ""
		}
		j--
		base -= k - 1
	}
	start := 0
	if j > 0 {
		start = int(r.ends[base+j-1]) + 1
	}
	return r.pieces[k][start:r.ends[base+j]]
}

// runsLen is the number of lines in runs.
func runsLen(runs []lineRun) int {
	n := 0
	for _, r := range runs {
		n += r.len()
	}
	return n
}

// lineSplitter splits a growing rendered text into lines, reusing the
// lines of the part that did not change since the last call.
type lineSplitter struct {
	src   string
	lines []string
	ends  []int // ends[i] is the offset of line i's newline (len(src) for the last line)
}

func (ls *lineSplitter) split(s string) []string {
	common := commonPrefix(ls.src, s)
	// Keep the lines whose newline lies inside the common prefix.
	k := sort.SearchInts(ls.ends, common)
	start := 0
	if k > 0 {
		start = ls.ends[k-1] + 1
	}
	ls.lines, ls.ends = ls.lines[:k], ls.ends[:k]
	// New lines are copies: a substring would keep this frame's whole
	// view alive for as long as the line is reused.
	for pos := start; ; {
		i := strings.IndexByte(s[pos:], '\n')
		if i < 0 {
			ls.lines = append(ls.lines, strings.Clone(s[pos:]))
			ls.ends = append(ls.ends, len(s))
			break
		}
		ls.lines = append(ls.lines, strings.Clone(s[pos:pos+i]))
		ls.ends = append(ls.ends, pos+i)
		pos += i + 1
	}
	ls.src = s
	return ls.lines
}

// commonPrefix is the length of the longest common prefix of a and b,
// compared a page at a time.
func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	i := 0
	for i+4096 <= n && a[i:i+4096] == b[i:i+4096] {
		i += 4096
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// endLive turns the streaming message into a finished one with one full
// render of its markdown.
func (p *Pane) endLive(rc renderCtx) {
	if p.live == nil {
		return
	}
	it := p.live
	it.mdOut = p.stream.Finish()
	// The turn holds the same text: keep one copy, not the stream's too.
	if it.md = p.stream.Source(); it.md == it.turn.Text() {
		it.md = it.turn.Text()
	}
	it.mdKey = renderKey{width: rc.width, theme: rc.th.Name}
	it.showStructured()
	it.blocks = len(markdown.CodeBlocks(it.md))
	it.live = false
	it.invalidate()
	p.nextBlock += it.blocks
	old := p.liveHeight()
	p.live, p.stream = nil, nil
	p.liveHead, p.liveBody, p.liveTail = nil, bodyLines{}, nil
	p.dirty = false
	p.grew(it.height(rc) - old)
	p.layout(rc)
}

// cancel stops the answer streaming at once: the partial answer stays,
// marked interrupted. It reports whether anything was streaming.
func (p *Pane) cancel(rc renderCtx) bool {
	if !p.chat.Cancel() {
		return false
	}
	p.endLive(rc)
	return true
}

// reset starts a new conversation (/new) and forgets the transcript.
func (p *Pane) reset(rc renderCtx) {
	p.cancel(rc)
	p.chat.Reset()
	p.items = nil
	p.nextBlock = 1
	p.fromBottom, p.newOutput, p.sideways = 0, false, 0
	p.layout(rc)
}

// toggleReasoning expands or collapses the reasoning of the last answer
// that has some, and brings that answer into view.
func (p *Pane) toggleReasoning(rc renderCtx) bool {
	for i := len(p.items) - 1; i >= 0; i-- {
		it := p.items[i]
		if it.kind == kindAssistant && it.turn.Reasoning() != "" {
			it.expanded = !it.expanded
			if it.live {
				p.renderLive(rc)
			}
			p.reveal(i, rc)
			return true
		}
	}
	return false
}

// reveal scrolls so that the first line of item i is in view: when it is
// above or below the view, the view moves to start at it; when it is in
// view, nothing moves.
func (p *Pane) reveal(i int, rc renderCtx) {
	// d counts the lines from item i's first line to the bottom of the
	// transcript, as layout lays them out (1: the last line).
	d := 0
	for j := len(p.items) - 1; j >= i; j-- {
		runs := p.itemChunks(p.items[j], rc)
		d += runsLen(runs)
		if last := runs[len(runs)-1]; j == len(p.items)-1 && last.len() > 0 && last.at(last.len()-1) == "" {
			d-- // layout drops the last item's trailing blank
		}
	}
	if d <= p.fromBottom || d > p.fromBottom+p.height {
		p.fromBottom = max(d-p.height, 0)
		if p.fromBottom == 0 {
			p.newOutput = false
		}
	}
	p.layout(rc)
}

// rerender re-lays out the live message after a width, theme or option
// change; finished messages re-render lazily when they come into view.
func (p *Pane) rerender(rc renderCtx) {
	if p.stream != nil {
		p.stream.SetRenderer(rc.renderer(rc.width))
		p.renderLive(rc)
	}
	p.layout(rc)
}

// setSize sets the transcript area.
func (p *Pane) setSize(w, h int) {
	p.width, p.height = w, h
}

// grew records that the content below the view grew by d lines: a view
// scrolled up stays where it is and learns there is new output.
func (p *Pane) grew(d int) {
	if p.fromBottom == 0 || d == 0 {
		return
	}
	p.fromBottom += d
	if p.fromBottom < 1 {
		p.fromBottom = 1
	}
	if d > 0 {
		p.newOutput = true
	}
}

// scroll moves the view up (positive) or down (negative) by n lines.
func (p *Pane) scroll(n int, rc renderCtx) {
	p.fromBottom = max(p.fromBottom+n, 0)
	if p.fromBottom == 0 {
		p.newOutput = false
	}
	p.layout(rc)
}

// scrollSideways scrolls the lines wider than the pane (long code lines)
// left by n columns (right for negative n), within what the widest line
// in view has to show.
func (p *Pane) scrollSideways(n int, rc renderCtx) {
	p.sideways = min(max(p.sideways+n, 0), max(p.widest-p.width+2, 0))
	p.layout(rc)
}

// markCut fits the lines wider than width into it in place, in view from
// column off: a dim "→" in the last column says the line goes on, a dim
// "←" in the first that it started further left. Lines that fit are left
// alone. It returns the width of the widest line.
func markCut(lines []string, width, off int, rc renderCtx) int {
	widest := 0
	if width < 3 {
		return widest
	}
	for i, l := range lines {
		w := ansi.StringWidth(l)
		widest = max(widest, w)
		if w <= width {
			continue
		}
		start := min(off, w)
		lead := ""
		if start > 0 {
			lead = rc.th.Dim.Render("←")
		}
		room := width - ansi.StringWidth(lead)
		end := start + room
		tail := ""
		if end < w {
			tail = rc.th.Dim.Render("→")
			end--
		}
		lines[i] = lead + ansi.Cut(l, start, end) + "\x1b[m" + tail
	}
	return widest
}

// scrollToBottom follows new output again.
func (p *Pane) scrollToBottom(rc renderCtx) {
	p.fromBottom, p.newOutput = 0, false
	p.layout(rc)
}

// itemChunks returns an entry's lines, as one or more runs.
func (p *Pane) itemChunks(it *item, rc renderCtx) []lineRun {
	if it.live {
		return []lineRun{strRun(p.liveHead), p.liveBody.done, strRun(p.liveBody.tail), strRun(p.liveTail)}
	}
	return it.runs(rc)
}

// layout computes the visible lines: it walks the transcript from the
// bottom and renders (or takes from the cache) only the entries that reach
// into the view.
func (p *Pane) layout(rc renderCtx) {
	h := p.height
	if h <= 0 {
		p.visible, p.view = nil, ""
		return
	}
	need := p.fromBottom + h
	var chunks []lineRun // bottom first
	total := 0
	for i := len(p.items) - 1; i >= 0 && total < need; i-- {
		runs := p.itemChunks(p.items[i], rc)
		for j := len(runs) - 1; j >= 0 && total < need; j-- {
			ls := runs[j]
			// An item's lines end with an empty line, which separates it
			// from the next; drop the last item's trailing blank.
			if i == len(p.items)-1 && j == len(runs)-1 && ls.len() > 0 && ls.at(ls.len()-1) == "" {
				ls.n--
			}
			chunks = append(chunks, ls)
			total += ls.len()
		}
	}
	if total < need { // the top of the transcript is in reach
		p.fromBottom = max(min(p.fromBottom, total-h), 0)
		if p.fromBottom == 0 {
			p.newOutput = false
		}
	}
	// Take lines [total-fromBottom-h, total-fromBottom) counted from the
	// top of the collected chunks, without flattening them.
	end := total - p.fromBottom
	start := max(end-h, 0)
	vis := make([]string, 0, h)
	pos := total
	for _, ch := range chunks {
		pos -= ch.len()
		lo, hi := max(start-pos, 0), min(end-pos, ch.len())
		for k := hi - 1; k >= lo; k-- {
			vis = append(vis, ch.at(k))
		}
		if pos <= start {
			break
		}
	}
	for i, j := 0, len(vis)-1; i < j; i, j = i+1, j-1 {
		vis[i], vis[j] = vis[j], vis[i]
	}
	for len(vis) < h {
		vis = append(vis, "")
	}
	p.widest = markCut(vis, p.width, p.sideways, rc)
	if p.fromBottom > 0 && p.newOutput {
		marker := rc.th.Accent.Render(" ↓ new output (end) ")
		pad := max(p.width-ansi.StringWidth(marker), 0)
		vis[len(vis)-1] = strings.Repeat(" ", pad) + marker
	}
	p.visible = vis
	p.view = strings.Join(vis, "\n")
}
