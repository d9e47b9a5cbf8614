package markdown

import (
	"bytes"
	"math"
	"strconv"
	"strings"

	"github.com/parley-chat/parley/sanitize"
)

// Stream renders one message while it streams in, with stable-prefix
// incremental rendering: the text is split into pieces exactly as Render
// splits a whole document (see splitter); every finished piece is rendered
// once and cached, and only the open tail is re-rendered when View is called
// after new text arrived. Because pieces are the unit of both Render and
// Stream, the finished part of View is a prefix of the final render, and
// Finish equals Render(Source()) exactly. (The one exception to the former is
// a link reference definition, which may change any earlier block: when one
// arrives the cache is dropped and the message is rendered unsplit.)
//
// The open tail is rendered whole, except for two cheap incremental paths
// that look the same as a whole render: an open fenced code block (see
// codeTail) and an open list (see listTail).
//
// The limits of Render apply in the same way (see limits.go): lines are
// tamed as they complete, and once the answer is longer than
// maxMarkdownBytes its markdown part is final and rendered once, and the
// rest is wrapped as plain text as it arrives, a line or chunk at a time,
// so a frame costs the text that arrived, not the whole answer.
//
// Its memory is about the text's size plus its rendering, once: finished
// pieces are kept as they were rendered and Parts hands them out as they
// are, so a caller need not hold a copy of the whole rendering per frame
// (View joins them, for callers that want one string). With SetSource the
// stream borrows its caller's text instead of keeping a copy of it.
//
// A Stream is not safe for concurrent use; the TUI calls Append (or
// SetSource) as deltas arrive and Parts (or View) once per frame, from one
// goroutine.
type Stream struct {
	r     *Renderer
	first int

	raw      string          // everything appended, unsanitized
	own      strings.Builder // raw, when it is the stream's own (see Append)
	rawClean int             // raw[:rawClean] (whole lines) has been sanitized and tamed into clean
	tm       tamer           // pre-pass state after raw[:rawClean]
	clean    []byte          // sanitized, tamed complete lines, from offset cleanAt on
	cleanAt  int             // offset of clean[0]: the lines before it are rendered (see dropClean)
	scanned  int             // the clean text up to offset scanned has been fed to sp
	sp       splitter
	bounds   []int // boundaries found in clean but not yet rendered
	unsplit  bool  // the last render was unsplit (a link reference definition)

	// A long answer: cut >= 0 is the raw offset where markdown stops.
	cut      int
	md       string      // the rendered markdown part, once mdDone
	mdBlocks int         // code blocks numbered in md
	mdDone   bool        // md is rendered
	plain    plainWriter // md, the notice and the plain text up to plainRaw
	plainRaw int         // raw offset up to which text is in plain

	doneEnd int      // clean[:doneEnd] is rendered into done
	done    pieces   // rendered finished pieces
	epoch   int      // counts the times done was dropped
	code    codeTail // highlighting cache for an open code block at the tail
	list    listTail // item cache for an open list at the tail
	dirty   bool     // text arrived since the last render
	view    view     // last rendered view, in parts
	joined  string   // view joined, once View asked for it
	isJoin  bool     // joined is up to date
}

// view is a rendered view in parts: finished pieces, then tail, joined by
// blank lines (empty parts left out).
type view struct {
	done   []string
	tail   string
	blocks int // code blocks numbered in the view
}

// pieces holds rendered finished pieces as they were rendered; empty ones
// are left out. A piece is never changed once added.
type pieces struct {
	list   []string
	blocks int
}

func (p *pieces) add(out string, blocks int) {
	p.blocks += blocks
	if out != "" {
		// A copy of its own: out may sit in a larger buffer.
		p.list = append(p.list, strings.Clone(out))
	}
}

// joinSep is the separator between a and b joined as a view joins its
// parts.
func joinSep(a, b string) string {
	if a == "" || b == "" {
		return ""
	}
	return "\n\n"
}

// joinParts joins done and tail as a view shows them: one blank line
// apart, empty parts left out.
func joinParts(done []string, tail string) string {
	n := len(tail)
	for _, d := range done {
		n += len(d) + 2
	}
	var b strings.Builder
	b.Grow(n)
	for _, d := range done {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(d)
	}
	if tail != "" {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(tail)
	}
	return b.String()
}

// NewStream returns a Stream that renders with r, numbering code blocks from
// firstBlock.
func NewStream(r *Renderer, firstBlock int) *Stream {
	return &Stream{r: r, first: firstBlock, cut: -1}
}

// Append adds a delta of raw (unsanitized) text. It costs O(len(delta)) and
// never renders. (After SetSource, the first Append copies the source.)
func (s *Stream) Append(delta string) {
	if delta == "" {
		return
	}
	if s.own.Len() != len(s.raw) {
		s.own.Reset()
		s.own.WriteString(s.raw)
	}
	s.own.WriteString(delta)
	s.raw = s.own.String()
	s.dirty = true
}

// SetSource sets the raw (unsanitized) text so far to text, which must
// begin with the text so far: the stream keeps text itself rather than a
// copy, so a caller that holds the text anyway (the turn being streamed)
// need not pay for it twice. It costs O(1) and never renders.
func (s *Stream) SetSource(text string) {
	if len(text) == len(s.raw) {
		return
	}
	s.raw = text
	s.own.Reset()
	s.dirty = true
}

// Source returns the raw text appended so far.
func (s *Stream) Source() string { return s.raw }

// Dirty reports whether View would render: text arrived, or the renderer
// changed, since the last View or Finish, or finished pieces still wait to
// be rendered (View renders at most maxViewBytes of them).
func (s *Stream) Dirty() bool { return s.dirty }

// Blocks returns how many code blocks the current view numbered.
func (s *Stream) Blocks() int { return s.view.blocks }

// advance sanitizes and tames the complete lines appended since the last
// call (up to the cut of a long answer), feeds them to the splitter and
// records the boundaries found.
func (s *Stream) advance() {
	raw := s.raw
	if s.cut < 0 && len(raw) > maxMarkdownBytes {
		s.cut = markdownEnd(raw)
	}
	limit := len(raw)
	if s.cut >= 0 {
		limit = s.cut
	}
	if nl := strings.LastIndexByte(raw[s.rawClean:limit], '\n'); nl >= 0 {
		end := s.rawClean + nl + 1
		text := sanitize.Text(raw[s.rawClean:end])
		for off := 0; off < len(text); {
			e := off + strings.IndexByte(text[off:], '\n')
			s.clean = append(s.tm.line(s.clean, text[off:e]), '\n')
			off = e + 1
		}
		s.rawClean = end
	}
	s.scan()
}

// keepCleanBytes is how much of the clean text before the open tail a
// Stream keeps (see dropClean); a variable so tests can drop it all.
var keepCleanBytes = 32 << 10

// cleanEnd is the length of the clean text, all of it.
func (s *Stream) cleanEnd() int { return s.cleanAt + len(s.clean) }

// cleanFrom returns the clean text from offset off on, which must be at
// or after cleanAt.
func (s *Stream) cleanFrom(off int) string { return string(s.clean[off-s.cleanAt:]) }

// dropClean forgets the clean text before doneEnd, once it is more than
// keepCleanBytes: it is rendered into finished pieces, and should they be
// dropped, restoreClean makes it again.
func (s *Stream) dropClean() {
	if n := s.doneEnd - s.cleanAt; n > keepCleanBytes && s.doneEnd <= s.scanned {
		s.clean = append([]byte(nil), s.clean[n:]...)
		s.cleanAt = s.doneEnd
	}
}

// restoreClean makes the whole clean text again after dropClean, from the
// raw text: sanitizing and taming are line by line, so the lines come out
// as they did when they arrived in parts.
func (s *Stream) restoreClean() {
	if s.cleanAt == 0 {
		return
	}
	var tm tamer
	text := sanitize.Text(s.raw[:s.rawClean])
	clean := make([]byte, 0, s.cleanEnd())
	for off := 0; off < len(text); {
		e := off + strings.IndexByte(text[off:], '\n')
		clean = append(tm.line(clean, text[off:e]), '\n')
		off = e + 1
	}
	s.clean, s.cleanAt = clean, 0
}

// scan feeds the complete lines of clean not yet scanned to the splitter.
func (s *Stream) scan() {
	for s.scanned < s.cleanEnd() {
		line := s.clean[s.scanned-s.cleanAt:]
		end := s.scanned + bytes.IndexByte(line, '\n')
		if s.sp.line(string(line[:end-s.scanned])) {
			s.bounds = append(s.bounds, s.scanned)
		}
		s.scanned = end + 1
	}
}

// partial returns the line being written, sanitized and tamed (without
// advancing the pre-pass); "" for a long answer.
func (s *Stream) partial() string {
	if s.cut >= 0 {
		return ""
	}
	p := sanitize.Text(s.raw[s.rawClean:])
	if p == "" {
		return ""
	}
	t := s.tm
	return string(t.line(nil, p))
}

// renderUnsplit reports whether a message of size bytes, with sp's view of
// its link reference definitions, is rendered unsplit (see unsplit). When
// it is not but the last render was, the boundaries dropped meanwhile are
// found again.
func (s *Stream) renderUnsplit(sp *splitter, size int) bool {
	if unsplit(sp, size) {
		s.dropPieces()
		s.unsplit = true
		return true
	}
	if s.unsplit {
		s.unsplit = false
		s.rescan()
	}
	return false
}

// rescan finds every boundary of clean again (the splitter ends in the
// state it was in).
func (s *Stream) rescan() {
	s.dropPieces()
	s.sp = splitter{}
	s.scanned = 0
	s.scan()
}

// renderDone renders the finished pieces up to the recorded boundaries, or
// as many as fit in budget bytes of source (at least one), and reports
// whether it rendered them all.
func (s *Stream) renderDone(budget int) bool {
	spent, k := 0, 0
	for ; k < len(s.bounds); k++ {
		b := s.bounds[k]
		if spent > 0 && spent+b-s.doneEnd > budget {
			break
		}
		spent += b - s.doneEnd
		out, n := s.r.renderPiece(string(s.clean[s.doneEnd-s.cleanAt:b-s.cleanAt]), s.first+s.done.blocks)
		s.done.add(out, n)
		s.doneEnd = b
	}
	s.bounds = append(s.bounds[:0], s.bounds[k:]...)
	s.dropClean()
	return len(s.bounds) == 0
}

// behind returns the view while finished pieces wait to be rendered: the
// pieces rendered so far and a mark.
func (s *Stream) behind() view {
	s.dirty = true
	return s.compose(s.r.theme.Dim.Render("…"), 0)
}

// whole is a view that is one string.
func whole(out string, blocks int) view { return view{tail: out, blocks: blocks} }

// View returns the rendered message. It renders only if it is dirty:
// finished pieces once, and the open tail; otherwise it returns the cached
// string. Its work is bounded: it renders at most maxViewBytes of finished
// pieces (at least one) and shows a mark after them while more wait, and
// an open tail within maxTailCost (see limits.go). The finished pieces are
// joined into the string once per render; Parts avoids that copy.
func (s *Stream) View() string {
	s.refresh()
	if !s.isJoin {
		s.joined, s.isJoin = joinParts(s.view.done, s.view.tail), true
	}
	return s.joined
}

// Parts renders as View does and returns the same view in parts: done,
// the finished pieces, and tail, the rest; View is done and tail joined by
// blank lines, empty parts left out. The pieces are the stream's own,
// rendered once and never changed (the caller must not change the slice):
// from one call to the next, done only grows while epoch stays the same
// (SetRenderer and a link reference definition drop the pieces and change
// it; a long answer's view may also fall back to tail alone), so a caller
// may keep what it derived from done's pieces and work on the new ones
// only.
func (s *Stream) Parts() (done []string, tail string, epoch int) {
	s.refresh()
	return s.view.done, s.view.tail, s.epoch
}

// refresh renders the view if the stream is dirty.
func (s *Stream) refresh() {
	if !s.dirty {
		return
	}
	s.dirty = false
	s.view, s.joined, s.isJoin = s.render(), "", false
}

// render renders the view (see View).
func (s *Stream) render() view {
	s.advance()
	if s.cut >= 0 {
		return s.long(maxViewBytes, false)
	}
	partial := s.partial()
	if s.renderUnsplit(&s.sp, s.cleanEnd()+len(partial)) {
		return whole(s.r.renderPieceWithin(s.cleanFrom(0)+partial, s.first, maxTailCost))
	}
	// The line being written often already shows that the text before it
	// is finished; render that now rather than as part of the tail.
	if s.sp.boundaryAt(partial) {
		s.bounds = append(s.bounds, s.cleanEnd())
	}
	if !s.renderDone(maxViewBytes) {
		return s.behind()
	}
	tail := s.cleanFrom(s.doneEnd) + partial
	first := s.first + s.done.blocks
	out, n, ok := s.code.render(s.r, s.doneEnd, tail, first)
	if !ok {
		out, n, ok = s.list.render(s.r, s.doneEnd, tail, first)
	}
	if !ok {
		out, n = s.r.renderPieceWithin(tail, first, maxTailCost)
	}
	return s.compose(out, n)
}

// codeTail renders an open fenced code block at the tail of a stream
// incrementally. The code is cut at the start of the last line that begins in
// column 0 or follows a blank line (where most lexers are back in their root
// state); everything
// before the cut is highlighted once, in slices, and only the text after it
// is highlighted again on each frame. The result may differ from a whole-block
// highlight inside multi-line strings or comments; that only lasts while the
// block is open, as a finished block is rendered whole.
type codeTail struct {
	r       *Renderer
	start   int    // offset of the tail in the stream's clean text
	lang    string // language of the block
	settled int    // bytes of code highlighted into out
	out     strings.Builder
}

// render renders tail (which starts at offset start) if it is a single open
// fenced code block; ok is false otherwise.
func (c *codeTail) render(r *Renderer, start int, tail string, first int) (string, int, bool) {
	lang, code, ok := soleFence(tail)
	if !ok {
		return "", 0, false
	}
	if c.r != r || c.start != start || c.lang != lang || c.settled > len(code) {
		c.r, c.start, c.lang, c.settled = r, start, lang, 0
		c.out.Reset()
	}
	// Cut at the start of the last column-0 line or line after a blank
	// line, not counting the line being written.
	cut := c.settled
	if last := strings.LastIndexByte(code, '\n'); last > c.settled {
		for i := last; i > c.settled; i-- {
			if code[i-1] == '\n' && i < len(code) && code[i] != '\n' &&
				(code[i] != ' ' && code[i] != '\t' || i >= 2 && code[i-2] == '\n') {
				cut = i
				break
			}
		}
	}
	// Highlighting stops where it would for the whole block (about).
	if cut > c.settled {
		r.code.budget = max(maxHighlightBytes-c.settled, 0)
		r.code.write(&c.out, "", strings.TrimSuffix(code[c.settled:cut], "\n"), lang)
		c.settled = cut
	}
	var b strings.Builder
	b.WriteString(r.code.label(first, lang))
	b.WriteByte('\n')
	b.WriteString(c.out.String())
	r.code.budget = max(maxHighlightBytes-c.settled, 0)
	r.code.write(&b, "", displayCode(code[c.settled:]), lang)
	return strings.TrimRight(b.String(), "\n"), 1, true
}

// compose is the view of the finished pieces and a rendered tail.
func (s *Stream) compose(tail string, n int) view {
	return view{done: s.done.list, tail: tail, blocks: s.done.blocks + n}
}

// Finish renders the rest of the message; afterwards View returns exactly
// r.Render(Source(), firstBlock) until more text is appended. Finished
// pieces are reused, so this costs a render of the open tail only.
func (s *Stream) Finish() string {
	s.dirty = false
	s.advance()
	if s.cut >= 0 {
		s.view = s.long(math.MaxInt, true)
	} else {
		s.view = s.finish(s.partial())
	}
	s.joined, s.isJoin = joinParts(s.view.done, s.view.tail), true
	return s.joined
}

// finish renders the markdown of the whole message, with partial as its
// final line.
func (s *Stream) finish(partial string) view {
	// The final line is complete now; feed it to a copy of the splitter so
	// that more text may still be appended afterwards.
	sp := s.sp
	boundary := partial != "" && sp.line(partial)
	if s.renderUnsplit(&sp, s.cleanEnd()+len(partial)) {
		return whole(s.r.renderPiece(s.cleanFrom(0)+partial, s.first))
	}
	if boundary {
		s.bounds = append(s.bounds, s.cleanEnd())
	}
	// A boundary at len(clean) belongs to the partial line only; render
	// pieces up to it without caching it.
	last := -1
	if n := len(s.bounds); n > 0 && s.bounds[n-1] == s.cleanEnd() && partial != "" {
		last = s.bounds[n-1]
		s.bounds = s.bounds[:n-1]
	}
	s.renderDone(math.MaxInt)
	if last >= 0 {
		// The partial line's pieces are not cached.
		out, n := s.r.renderPiece(s.cleanFrom(s.doneEnd), s.first+s.done.blocks)
		out2, n2 := s.r.renderPiece(partial, s.first+s.done.blocks+n)
		return s.compose(out+joinSep(out, out2)+out2, n+n2)
	}
	out, n := s.r.renderPiece(s.cleanFrom(s.doneEnd)+partial, s.first+s.done.blocks)
	return s.compose(out, n)
}

// long renders a long answer: its markdown part (it is final: rendered
// once, budget bytes of pieces per call, nothing else shown until it is
// done), the notice, and the plain text so far, whose complete lines and
// chunks are wrapped once into one growing text. The line being written is
// added when final, or while that text is short enough to copy (see
// maxTailCopyBytes); otherwise the view is that text itself, at no cost.
func (s *Stream) long(budget int, final bool) view {
	if !s.mdDone {
		if !s.renderDone(budget) {
			return s.behind()
		}
		v := s.finish("")
		s.md, s.mdBlocks = joinParts(v.done, v.tail), v.blocks
		s.mdDone = true
		s.r.startLong(&s.plain, s.md)
		s.plainRaw = s.cut
	}
	raw := s.raw
	if len(raw) == s.cut {
		return whole(s.md, s.mdBlocks) // nothing past the cut yet
	}
	s.plainRaw += feedPlain(&s.plain, raw[s.plainRaw:], false)
	text := s.plain.String()
	if rest := raw[s.plainRaw:]; rest != "" && (final || len(text) <= maxTailCopyBytes) {
		return whole(text+s.plain.tail(rest), s.mdBlocks)
	}
	return whole(text, s.mdBlocks)
}

// dropPieces forgets the rendered finished pieces: a link reference
// definition was seen, so the message is rendered unsplit from now on.
func (s *Stream) dropPieces() {
	s.restoreClean()
	s.doneEnd = 0
	s.done = pieces{}
	s.epoch++
	s.bounds = s.bounds[:0]
}

// SetRenderer switches to another renderer (width or theme change): cached
// pieces are dropped and the next View re-renders everything. Setting the
// renderer in use changes nothing.
func (s *Stream) SetRenderer(r *Renderer) {
	if r == s.r {
		return
	}
	s.r = r
	s.dropPieces()
	// Re-derive the boundaries of the text scanned so far.
	s.sp = splitter{}
	s.scanned = 0
	s.unsplit = false
	s.mdDone = false
	s.dirty = true
}

// listTail renders an open list at the tail of a stream item by item: every
// top-level item but the last is rendered once and cached, and only the item
// being written is rendered again on each frame. Glamour lays list items out
// independently (tight and loose lists look the same, items one line apart,
// a blank line after an item ending in code), so this matches a render of
// the whole list in the cases tested; ordered items are renumbered as glamour
// numbers them (start + position). Once the list is finished it is rendered whole
// as a piece, like everything else.
type listTail struct {
	r       *Renderer
	start   int    // offset of the tail in the stream's clean text
	settled int    // bytes of the tail rendered into out
	items   int    // items rendered into out
	num     int    // number of the first item of an ordered list; -1 for bullets
	blocks  int    // code blocks numbered in out
	sep     string // separator after the last item in out
	out     strings.Builder
}

// render renders tail (which starts at offset start) if it is a list; ok is
// false otherwise.
func (l *listTail) render(r *Renderer, start int, tail string, first int) (string, int, bool) {
	if tail == "" || !isListMarker(tail) {
		return "", 0, false
	}
	if l.r != r || l.start != start || l.settled > len(tail) {
		l.r, l.start, l.settled, l.items, l.blocks, l.sep = r, start, 0, 0, 0, ""
		l.num = listNumber(tail)
		l.out.Reset()
	}
	// Settle every item that is followed by the start of another item: a
	// list marker in column 0, outside fenced code.
	var sp splitter
	off := 0
	itemStart := 0
	for off < len(tail) {
		nl := strings.IndexByte(tail[off:], '\n')
		if nl < 0 {
			break // the line being written
		}
		line := tail[off : off+nl]
		if off > 0 && !sp.inFence && sp.htmlEnd == "" && line != "" && isListMarker(line) {
			if off > l.settled && itemStart >= l.settled {
				l.add(r, tail[itemStart:off], first)
			}
			itemStart = off
		}
		sp.line(line)
		off += nl + 1
	}
	var b strings.Builder
	b.WriteString(l.out.String())
	if l.settled < len(tail) {
		out, n := r.renderPieceWithin(l.item(tail[l.settled:]), first+l.blocks, maxTailCost)
		if out != "" {
			if b.Len() > 0 {
				b.WriteString(l.sep)
			}
			b.WriteString(out)
		}
		return b.String(), l.blocks + n, true
	}
	return b.String(), l.blocks, true
}

// add renders one finished item and appends it to the cache.
func (l *listTail) add(r *Renderer, item string, first int) {
	out, n := r.renderPiece(l.item(item), first+l.blocks)
	l.blocks += n
	l.items++
	l.settled += len(item)
	if out == "" {
		return
	}
	if l.out.Len() > 0 {
		l.out.WriteString(l.sep)
	}
	l.out.WriteString(out)
	l.sep = itemSeparator(item)
}

// itemSeparator returns what glamour puts between a list item and the next:
// a line break, or a blank line after an item that ends in fenced code.
func itemSeparator(item string) string {
	last := strings.TrimRight(item, " \t\n")
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	last = strings.TrimLeft(last, " \t")
	if strings.HasPrefix(last, "```") || strings.HasPrefix(last, "~~~") {
		return "\n\n"
	}
	return "\n"
}

// item returns the source of the next item, renumbered for ordered lists.
func (l *listTail) item(src string) string {
	if l.num < 0 {
		return src
	}
	i := 0
	for i < len(src) && src[i] >= '0' && src[i] <= '9' {
		i++
	}
	if i == 0 {
		return src
	}
	return strconv.Itoa(l.num+l.items) + src[i:]
}

// listNumber returns the start number of an ordered list item, or -1.
func listNumber(item string) int {
	i := 0
	for i < len(item) && item[i] >= '0' && item[i] <= '9' {
		i++
	}
	if i == 0 {
		return -1
	}
	n, err := strconv.Atoi(item[:i])
	if err != nil {
		return -1
	}
	return n
}
