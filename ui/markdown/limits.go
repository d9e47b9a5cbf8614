package markdown

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/sanitize"
	gast "github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
)

// What reaches glamour is bounded, so that no answer can freeze or crash the
// client: glamour's cost grows with the square of the block nesting (every
// level re-wraps everything inside it) and it recurses once per inline
// nesting level, which overflows the stack on tens of thousands of nested
// emphases. Three layers keep it in bounds:
//
//   - tamer, a pre-pass over the sanitized source, line by line: it caps the
//     nesting of blockquote and list markers and indentation at the start of
//     a line, escapes runs of emphasis delimiters longer than any markup
//     needs, and expands tabs outside fenced code. The excess stays visible
//     as text.
//   - a guard on the parse tree of every piece: a piece nested deeper than
//     maxTreeDepth, with a table wider than maxTableColumns, or whose
//     estimated cost is above maxPieceCost is shown as plain wrapped text
//     instead (see glamourCost and plainPiece).
//   - a size cap: markdown is rendered for the first maxMarkdownBytes of an
//     answer only; the rest is shown as plain wrapped text under a notice.
//
// All three are functions of the text alone, so a Stream and Render agree.
const (
	// maxNesting is the deepest line prefix kept as markup: each blockquote
	// marker and list marker counts one level, every two columns of
	// indentation one level.
	maxNesting = 8
	// maxDelimRun is the longest run of '*', '_' or '~' kept as markup.
	maxDelimRun = 3
	// maxTreeDepth is the deepest parse tree rendered with glamour.
	maxTreeDepth = 48
	// maxTableColumns is the widest table rendered with glamour.
	maxTableColumns = 64
	// maxPieceCost bounds glamour's work on one piece (see glamourCost).
	maxPieceCost = 1 << 19
	// maxTailCost bounds glamour's work on a streaming message's open tail,
	// which is rendered again on every frame; a tail above it shows as
	// plain text until it is finished.
	maxTailCost = 1 << 17
	// maxHighlightBytes is how much code of one piece is highlighted
	// (chroma's regular expressions take about a second for 100 KB); the
	// rest of its lines are shown unstyled.
	maxHighlightBytes = 32 << 10
	// minHighlightCost is what highlighting a code block takes from the
	// budget on top of its bytes: a block costs a lexer run however short.
	minHighlightCost = 1 << 10
	// maxViewBytes is how much source of finished pieces a Stream's View
	// renders at most (at least one piece): text that arrives faster than
	// it renders is caught up over the next frames, a frame at a time.
	maxViewBytes = 8 << 10
	// maxTailCopyBytes bounds the view of a long answer that a Stream's
	// View copies to show the line being written after it: the view is one
	// string, so showing that line means copying all the text before it.
	// Past this size, View shows complete lines only (and Finish all).
	maxTailCopyBytes = 1 << 20
	// maxMarkdownBytes is how much of an answer is rendered as markdown:
	// the lines that end within it. Glamour renders a few hundred
	// kilobytes a second, so this bounds a full render (after a resize,
	// say) to about a second.
	maxMarkdownBytes = 512 << 10
	// maxUnsplitBytes is the largest document rendered in one piece because
	// it holds a link reference definition (see splitter); a longer one is
	// split like any other, and references across pieces stay unresolved.
	maxUnsplitBytes = 64 << 10
	// plainChunkBytes is the longest stretch of a line that plain text
	// wraps at once: longer lines are cut into chunks of this many bytes
	// (at a rune boundary), so wrapping a line that is still being written
	// costs a chunk, not the line.
	plainChunkBytes = 4 << 10
)

// longAnswerNotice is the line shown where markdown rendering of a long
// answer stops (see maxMarkdownBytes).
const longAnswerNotice = "long answer: markdown rendering stops past 512 KB; the full text is kept — /copy copies it"

// tamer is the line-by-line pre-pass described above. It tracks fenced code
// blocks (also inside blockquotes and list items, approximately) so that
// code lines pass through unchanged; a line it wrongly takes for code is
// still bounded by the guard. The zero value is ready to use, and a copy
// snapshots the state.
type tamer struct {
	inFence   bool
	fenceCh   byte
	fenceN    int  // length of the opening fence
	fenceQ    int  // blockquote markers before the opening fence
	fenceInd  int  // column of the opening fence after those markers
	fenceList bool // the opening fence followed a list marker
}

// line appends the tamed form of one sanitized line (without its newline)
// to dst.
func (t *tamer) line(dst []byte, l string) []byte {
	if t.inFence {
		q, rest := quoteMarkers(l, t.fenceQ)
		ind, body := indentOf(rest)
		switch {
		case q < t.fenceQ || t.fenceList && body != "" && ind < 1:
			t.inFence = false // the container ended, and the fence with it
		case ind < t.fenceInd+4 && body != "" && isClosingFence(body, t.fenceCh, t.fenceN):
			t.inFence = false
			return append(dst, l...)
		default:
			return append(dst, l...)
		}
	}
	start := len(dst)
	dst, rest, quotes, list := t.prefix(dst, l)
	if ch, n, ok := openingFence(rest); ok {
		t.inFence, t.fenceCh, t.fenceN, t.fenceQ = true, ch, n, quotes
		t.fenceInd = lineWidth(dst[start:]) - quoteWidth(dst[start:], quotes)
		t.fenceList = list
		dst = append(dst, rest...)
		return expandTabsFrom(dst, start)
	}
	if isThematicBreak(rest) {
		dst = append(dst, rest...) // "*****" is a rule, not a run
	} else {
		dst = escapeRuns(dst, rest)
	}
	return expandTabsFrom(dst, start)
}

// prefix copies the container prefix of l (indentation, blockquote markers,
// list markers) to dst, capped at maxNesting levels, and returns the rest of
// the line, how many blockquote markers it kept, and whether it kept a list
// marker. Beyond the cap, indentation is cut (leaving room for one marker,
// so a deep list flattens at the deepest level) and the next marker is
// escaped, so the rest of the prefix reads as text.
func (t *tamer) prefix(dst []byte, l string) ([]byte, string, int, bool) {
	const budget = 2 * maxNesting // levels, times two
	used := 0
	quotes, list := 0, false
	col := 0 // column reached in dst
	i := 0
	for i < len(l) {
		c := l[i]
		switch {
		case c == ' ' || c == '\t':
			j, w := i, 0
			for j < len(l) && (l[j] == ' ' || l[j] == '\t') {
				if l[j] == '\t' {
					w += tabWidth - (col+w)%tabWidth
				} else {
					w++
				}
				j++
			}
			if j == len(l) {
				return append(dst, l[i:]...), "", quotes, list
			}
			if used+w > budget-2 {
				w = max(budget-2-used, 0)
				for range w {
					dst = append(dst, ' ')
				}
			} else {
				dst = append(dst, l[i:j]...)
			}
			used += w
			col += w
			i = j
		case c == '>':
			if used+2 > budget {
				return append(dst, '\\'), l[i:], quotes, list
			}
			used += 2
			quotes++
			dst = append(dst, '>')
			col++
			i++
			// One space after the marker belongs to it.
			if i < len(l) && l[i] == ' ' {
				dst = append(dst, ' ')
				col++
				i++
			}
		default:
			n := listMarkerLen(l[i:])
			if n == 0 || isThematicBreak(l[i:]) {
				return dst, l[i:], quotes, list
			}
			if used+2 > budget {
				if n > 1 { // ordered: escape the '.' or ')'
					dst = append(dst, l[i:i+n-1]...)
					i += n - 1
				}
				return append(dst, '\\'), l[i:], quotes, list
			}
			used += 2
			list = true
			dst = append(dst, l[i:i+n]...)
			col += n
			i += n
			// Up to four columns of space after the marker belong to it.
			for k := 0; k < 4 && i < len(l) && l[i] == ' '; k++ {
				dst = append(dst, ' ')
				col++
				i++
			}
		}
	}
	return dst, "", quotes, list
}

// quoteMarkers strips up to max blockquote markers (each after at most
// three spaces) from the start of l and reports how many it stripped.
func quoteMarkers(l string, max int) (int, string) {
	q := 0
	for q < max {
		i := 0
		for i < len(l) && i < 3 && l[i] == ' ' {
			i++
		}
		if i >= len(l) || l[i] != '>' {
			break
		}
		l = l[i+1:]
		if l != "" && l[0] == ' ' {
			l = l[1:]
		}
		q++
	}
	return q, l
}

// quoteWidth returns the width of the part of a line prefix up to and
// including its quotes-th blockquote marker and the space after it.
func quoteWidth(p []byte, quotes int) int {
	if quotes == 0 {
		return 0
	}
	seen := 0
	for i, c := range p {
		if c == '>' {
			seen++
			if seen == quotes {
				end := i + 1
				if end < len(p) && p[end] == ' ' {
					end++
				}
				return lineWidth(p[:end])
			}
		}
	}
	return lineWidth(p)
}

// listMarkerLen returns the length of the list marker at the start of s
// (bullet or ordered), or 0.
func listMarkerLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '-', '+', '*':
		if len(s) == 1 || s[1] == ' ' || s[1] == '\t' {
			return 1
		}
		return 0
	}
	i := 0
	for i < len(s) && i < 10 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 9 || i >= len(s) || (s[i] != '.' && s[i] != ')') {
		return 0
	}
	if i+1 == len(s) || s[i+1] == ' ' || s[i+1] == '\t' {
		return i + 1
	}
	return 0
}

// isThematicBreak reports whether s is a thematic break: three or more of
// the same '-', '*' or '_', with nothing else but spaces and tabs.
func isThematicBreak(s string) bool {
	if s == "" || s[0] != '-' && s[0] != '*' && s[0] != '_' {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case s[0]:
			n++
		case ' ', '\t':
		default:
			return false
		}
	}
	return n >= 3
}

// escapeRuns appends s to dst with every run of '*', '_' or '~' longer than
// maxDelimRun escaped character by character (so it shows as text), except
// inside code spans and after a backslash.
func escapeRuns(dst []byte, s string) []byte {
	if !hasLongRun(s) {
		return append(dst, s...)
	}
	closers := codeSpanCloser(s)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			dst = append(dst, s[i], s[i+1])
			i += 2
		case c == '`':
			j := i
			for j < len(s) && s[j] == '`' {
				j++
			}
			if end, ok := closers[i]; ok {
				j = end
			}
			dst = append(dst, s[i:j]...)
			i = j
		case c == '*' || c == '_' || c == '~':
			j := i
			for j < len(s) && s[j] == c {
				j++
			}
			if j-i > maxDelimRun {
				for ; i < j; i++ {
					dst = append(dst, '\\', c)
				}
			} else {
				dst = append(dst, s[i:j]...)
			}
			i = j
		default:
			dst = append(dst, c)
			i++
		}
	}
	return dst
}

// hasLongRun reports whether s has a run of '*', '_' or '~' longer than
// maxDelimRun.
func hasLongRun(s string) bool {
	run := 0
	var prev byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c == '*' || c == '_' || c == '~') && c == prev {
			run++
			if run > maxDelimRun {
				return true
			}
			continue
		}
		prev, run = c, 1
	}
	return false
}

// codeSpanCloser maps the offset of every backtick run of s that opens a
// code span within s to the offset just past its closing run (a later run
// of the same length), in one pass over s.
func codeSpanCloser(s string) map[int]int {
	type run struct{ pos, n int }
	var runs []run
	for i := 0; i < len(s); {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '`':
			j := i
			for j < len(s) && s[j] == '`' {
				j++
			}
			runs = append(runs, run{i, j - i})
			i = j
			continue
		}
		i++
	}
	// next[k] is the index of the next run after k with the same length.
	next := make([]int, len(runs))
	last := map[int]int{}
	for k := len(runs) - 1; k >= 0; k-- {
		next[k] = -1
		if j, ok := last[runs[k].n]; ok {
			next[k] = j
		}
		last[runs[k].n] = k
	}
	out := map[int]int{}
	for k := 0; k < len(runs); {
		if j := next[k]; j >= 0 {
			out[runs[k].pos] = runs[j].pos + runs[j].n
			k = j + 1
			continue
		}
		k++
	}
	return out
}

// lineWidth returns the column after b, counting tabs to the next multiple
// of tabWidth and every rune as one column (enough for indentation).
func lineWidth(b []byte) int {
	col := 0
	for i := 0; i < len(b); {
		if b[i] == '\t' {
			col += tabWidth - col%tabWidth
			i++
			continue
		}
		_, n := utf8.DecodeRune(b[i:])
		i += n
		col++
	}
	return col
}

// expandTabsFrom replaces the tabs of dst[start:] (one line) by spaces up
// to the next tab stop. Tab stops count from start. Outside code, tabs
// only ever mean space: where they shape blocks, CommonMark reads them as
// spaces to the next multiple of four, which is what they become.
func expandTabsFrom(dst []byte, start int) []byte {
	if bytes.IndexByte(dst[start:], '\t') < 0 {
		return dst
	}
	line := string(dst[start:])
	dst = dst[:start]
	col := 0
	for _, r := range line {
		if r == '\t' {
			n := tabWidth - col%tabWidth
			for range n {
				dst = append(dst, ' ')
			}
			col += n
			continue
		}
		dst = utf8.AppendRune(dst, r)
		col++
	}
	return dst
}

// tameText runs the pre-pass over a whole sanitized text.
func tameText(s string) string {
	var t tamer
	out := make([]byte, 0, len(s)+len(s)/16)
	for off := 0; off < len(s); {
		nl := strings.IndexByte(s[off:], '\n')
		if nl < 0 {
			out = t.line(out, s[off:])
			break
		}
		out = t.line(out, s[off:off+nl])
		out = append(out, '\n')
		off += nl + 1
	}
	return string(out)
}

// markdownEnd returns the offset in raw (unsanitized) text at which
// markdown rendering stops: the start of the first line that ends past
// maxMarkdownBytes, or len(raw) when every line ends within it. Only the
// first maxMarkdownBytes+1 bytes decide, so a growing text's result is
// final as soon as it is longer than that.
func markdownEnd(raw string) int {
	if len(raw) <= maxMarkdownBytes {
		return len(raw)
	}
	return strings.LastIndexByte(raw[:maxMarkdownBytes+1], '\n') + 1
}

// glamourCost estimates glamour's work on a parse tree at a width, or
// returns -1 when the tree is nested deeper than maxTreeDepth or has a
// table wider than maxTableColumns. Glamour wraps and pads every block's
// lines to the width, and does it again at every container level around
// it (with less width each time), so each block costs its text plus a
// padded line per source line, times the square of one plus the number of
// blockquotes and list items around it; a table costs its cells' text, a
// padded line per row and two per cell; every inline element (text, code
// span, emphasis) costs inlineCost, a link three times that. Calibrated on
// nested quotes and lists, long lists, tables, runs of inline markup and
// generated answers: glamour renders one to ten thousand units per
// millisecond. The walk is iterative, so it is safe on any
// depth.
func glamourCost(doc gast.Node, width int) int {
	cost := 0
	n, depth, nest, table := doc, 0, 0, 0
	for {
		if depth > maxTreeDepth {
			return -1
		}
		f := (1 + nest) * (1 + nest)
		switch n.Kind() {
		case extast.KindTable:
			if len(n.(*extast.Table).Alignments) > maxTableColumns {
				return -1
			}
			cost += width * f
		case extast.KindTableHeader, extast.KindTableRow:
			cost += width * f
		case extast.KindTableCell:
			cost += 2 * width * f
		case gast.KindText:
			cost += inlineCost * f
			if table > 0 {
				seg := n.(*gast.Text).Segment
				cost += (seg.Stop - seg.Start) * f
			}
		case gast.KindLink, gast.KindImage, gast.KindAutoLink:
			cost += 3 * inlineCost * f
		default:
			if n.Type() == gast.TypeInline {
				cost += inlineCost * f
			} else if n.Type() == gast.TypeBlock {
				c := width
				if lines := n.Lines(); lines != nil {
					for i := 0; i < lines.Len(); i++ {
						seg := lines.At(i)
						c += seg.Stop - seg.Start + width
					}
				}
				cost += c * f
			}
		}
		if c := n.FirstChild(); c != nil {
			if isContainer(n) {
				nest++
			}
			if n.Kind() == extast.KindTable {
				table++
			}
			n = c
			depth++
			continue
		}
		for n != doc && n.NextSibling() == nil {
			n = n.Parent()
			depth--
			if isContainer(n) {
				nest--
			}
			if n.Kind() == extast.KindTable {
				table--
			}
		}
		if n == doc {
			return cost
		}
		n = n.NextSibling()
	}
}

// inlineCost is glamour's work on one inline element, in glamourCost's
// units.
const inlineCost = 64

// isContainer reports whether glamour indents the children of n.
func isContainer(n gast.Node) bool {
	switch n.Kind() {
	case gast.KindBlockquote, gast.KindListItem, extast.KindDefinitionDescription:
		return true
	}
	return false
}

// fencedBlocks returns the fenced code blocks of a parse tree in document
// order, walking it iteratively.
func fencedBlocks(doc gast.Node) []*gast.FencedCodeBlock {
	var out []*gast.FencedCodeBlock
	n := doc
	for {
		fc, ok := n.(*gast.FencedCodeBlock)
		if ok {
			out = append(out, fc)
		}
		if c := n.FirstChild(); c != nil && !ok {
			n = c
			continue
		}
		for n != doc && n.NextSibling() == nil {
			n = n.Parent()
		}
		if n == doc {
			return out
		}
		n = n.NextSibling()
	}
}

// plainPiece lays out a piece that glamour is not given as plain text
// wrapped at the renderer's width: backslash escapes resolved, tabs
// expanded, trailing spaces and leading and trailing blank lines dropped.
// The lines of fenced code are kept as they are (not wrapped), under the
// block's label, so the numbering is the one glamour's path would give; it
// returns the piece's number of fenced code blocks.
func (r *Renderer) plainPiece(md string, doc gast.Node, firstBlock int) (string, int) {
	blocks := fencedBlocks(doc)
	// code holds the spans of fenced code; labels maps the offset of a
	// block's first line to its label.
	type span struct{ start, end int }
	var code []span
	labels := map[int]string{}
	src := []byte(md)
	for i, fc := range blocks {
		lines := fc.Lines()
		if lines.Len() == 0 {
			continue
		}
		first := lines.At(0).Start
		labels[strings.LastIndexByte(md[:first], '\n')+1] = r.code.label(firstBlock+i, string(fc.Language(src)))
		code = append(code, span{first, lines.At(lines.Len() - 1).Stop})
	}
	w := plainWriter{width: r.width}
	k := 0
	for off := 0; off < len(md); {
		nl := strings.IndexByte(md[off:], '\n')
		if nl < 0 {
			nl = len(md) - off
		}
		line := md[off : off+nl]
		if l, ok := labels[off]; ok {
			w.verbatim(l)
		}
		for k < len(code) && code[k].end <= off {
			k++
		}
		if k < len(code) && code[k].start < off+nl+1 && off < code[k].end {
			w.verbatim(strings.TrimRight(string(expandTabsFrom([]byte(line), 0)), " "))
		} else {
			w.line(unescape(line))
		}
		off += nl + 1
	}
	return w.String(), len(blocks)
}

// text adds every line of md, unescaped.
func (w *plainWriter) text(md string) {
	for off := 0; off < len(md); {
		nl := strings.IndexByte(md[off:], '\n')
		if nl < 0 {
			nl = len(md) - off
		}
		w.line(unescape(md[off : off+nl]))
		off += nl + 1
	}
}

// unescape resolves markdown backslash escapes (a backslash before ASCII
// punctuation) for plain display.
func unescape(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isASCIIPunct(s[i+1]) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

// plainWriter wraps plain lines of sanitized text at a width, dropping
// leading blank lines and holding trailing ones back until text follows,
// so its text never starts or ends with a blank line. It may follow other
// text (see startLong), which it then continues on a new line.
type plainWriter struct {
	width   int
	b       strings.Builder
	lead    bool // text precedes: the next line starts with a newline
	started bool // a line of its own was written: blank lines count
	blanks  int  // blank lines held back
	wrapped int  // bytes wrapped so far, including tails (for tests)
}

// line adds one line (without newline), wrapped, in chunks of at most
// plainChunkBytes.
func (w *plainWriter) line(l string) {
	if strings.TrimRight(l, " \t") == "" {
		if w.started {
			w.blanks++
		}
		return
	}
	for len(l) > plainChunkBytes {
		cut := chunkEnd(l)
		w.chunk(l[:cut])
		l = l[cut:]
	}
	w.chunk(l)
}

// chunkEnd returns where the first chunk of a long line ends: at
// plainChunkBytes, moved back to the start of a rune.
func chunkEnd(l string) int {
	cut := plainChunkBytes
	for k := 0; k < utf8.UTFMax-1 && cut > 0 && !utf8.RuneStart(l[cut]); k++ {
		cut--
	}
	return cut
}

// chunk adds a piece of a line no longer than plainChunkBytes.
func (w *plainWriter) chunk(l string) {
	w.wrapped += len(l)
	l = string(expandTabsFrom([]byte(l), 0))
	for _, wl := range strings.Split(ansi.Wrap(l, max(w.width, 1), ""), "\n") {
		w.verbatim(strings.TrimRight(wl, " "))
	}
}

// verbatim adds one output line as it is.
func (w *plainWriter) verbatim(l string) {
	if l == "" {
		if w.started {
			w.blanks++
		}
		return
	}
	if w.lead {
		w.b.WriteByte('\n')
	}
	for ; w.blanks > 0; w.blanks-- {
		w.b.WriteByte('\n')
	}
	w.lead, w.started = true, true
	w.b.WriteString(l)
}

// String returns the lines written so far.
func (w *plainWriter) String() string { return w.b.String() }

// feedPlain wraps the complete lines and complete chunks of raw text into
// w, and the rest too when final, and returns how many bytes it consumed.
// Every chunk is sanitized on its own (sanitizing is line-local, and a
// chunk is a piece of a line), so a text fed in parts gives the same lines
// as the whole text.
func feedPlain(w *plainWriter, raw string, final bool) int {
	off := 0
	for off < len(raw) {
		rest := raw[off:]
		if nl := strings.IndexByte(rest[:min(len(rest), plainChunkBytes+1)], '\n'); nl >= 0 {
			w.rawChunk(rest[:nl])
			off += nl + 1
			continue
		}
		if len(rest) > plainChunkBytes {
			cut := chunkEnd(rest)
			w.rawChunk(rest[:cut])
			off += cut
			continue
		}
		if final {
			w.rawChunk(rest)
			off = len(raw)
		}
		break
	}
	return off
}

// rawChunk adds a chunk of unsanitized text (no newline).
func (w *plainWriter) rawChunk(c string) {
	c = sanitize.Text(c)
	if strings.TrimRight(c, " \t") == "" {
		if w.started {
			w.blanks++
		}
		return
	}
	w.chunk(c)
}

// tail returns what feeding raw as the final text would add to w's
// output, without changing w.
func (w *plainWriter) tail(raw string) string {
	t := plainWriter{width: w.width, lead: w.lead, started: w.started, blanks: w.blanks}
	feedPlain(&t, raw, true)
	w.wrapped += t.wrapped
	return t.String()
}

// startLong starts w, an empty plainWriter, with the rendered markdown part
// of a long answer and the notice where rendering stops; the plain text
// fed to w follows on the next line.
func (r *Renderer) startLong(w *plainWriter, md string) {
	*w = plainWriter{width: r.width, lead: true}
	w.b.Grow(len(md) + 4<<10)
	if md != "" {
		w.b.WriteString(md)
		w.b.WriteString("\n\n")
	}
	for i, l := range strings.Split(ansi.Wrap("▌ "+longAnswerNotice, r.width, ""), "\n") {
		if i > 0 {
			w.b.WriteByte('\n')
		}
		w.b.WriteString(r.theme.Dim.Render(strings.TrimRight(l, " ")))
	}
}
