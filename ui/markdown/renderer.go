// Package markdown renders assistant answers for the terminal: glamour for the
// prose, chroma for fenced code, and a stable-prefix streaming renderer that
// renders finished blocks once while an answer streams in.
//
// Fenced code blocks are laid out by this package rather than by glamour so
// that code stays valid when copied: no wrapping, no indentation added, no
// trailing padding, and a numbered label line ("─ [3] go") above each block
// that matches the numbering of CodeBlocks.
package markdown

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	glamouransi "charm.land/glamour/v2/ansi"
	"github.com/charmbracelet/x/ansi"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/themes"
	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// Renderer renders markdown for one width and theme. Not safe for concurrent
// use (one per width, used from one goroutine).
type Renderer struct {
	width int
	theme *themes.Theme
	md    goldmark.Markdown
	code  *codeFormatter

	src bytes.Buffer // scratch: source plus code-block markers
	out bytes.Buffer // scratch: glamour output
}

// New returns a Renderer that wraps prose at width columns using the theme's
// glamour and chroma styles. A width below 1 is treated as 1.
func New(width int, th *themes.Theme) (*Renderer, error) {
	if th == nil {
		return nil, fmt.Errorf("markdown: nil theme")
	}
	if width < 1 {
		width = 1
	}
	styles := th.Markdown
	styles.HorizontalRule.Format = "\n" + ruleMark + "\n"
	ar := glamouransi.NewRenderer(glamouransi.Options{
		WordWrap: width,
		Styles:   styles,
	})
	md := newGoldmark()
	// Set the renderer after the extensions have registered theirs (HTML
	// renderers for tables, strikethrough, task lists), replacing them all
	// with glamour's, as glamour itself does.
	md.SetRenderer(renderer.NewRenderer(
		renderer.WithNodeRenderers(util.Prioritized(ar, 1000)),
	))
	return &Renderer{
		width: width,
		theme: th,
		md:    md,
		code:  newCodeFormatter(th),
	}, nil
}

// newGoldmark returns the markdown parser used for rendering and for
// finding code blocks.
func newGoldmark() goldmark.Markdown {
	return goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.DefinitionList, extension.Footnote),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
	)
}

// Width returns the wrap width the renderer was made for.
func (r *Renderer) Width() int { return r.width }

// Theme returns the theme the renderer was made for.
func (r *Renderer) Theme() *themes.Theme { return r.theme }

// Render renders a whole document: input sanitized first (sanitize.Text), code
// blocks numbered starting at firstBlock (a label line above each fenced block
// such as "─ [3] go" styled with the theme), trailing padding trimmed
// ANSI-aware from every line, no leading/trailing blank lines. It returns the
// rendered text and how many code blocks it numbered.
//
// The document is rendered as a sequence of independent pieces (top-level
// block groups, see splitter) joined by blank lines, which is what lets a
// Stream reuse finished pieces and still agree exactly with Render.
//
// Rendering is bounded whatever the input (see limits.go): nesting and
// delimiter runs past the limits show as text, a piece glamour cannot
// render in bounded time shows as plain wrapped text, and past
// maxMarkdownBytes the answer continues as plain text under a notice.
func (r *Renderer) Render(md string, firstBlock int) (string, int) {
	end := markdownEnd(md)
	out, n := r.renderMarkdown(tameText(sanitize.Text(md[:end])), firstBlock)
	if end == len(md) {
		return out, n
	}
	var w plainWriter
	r.startLong(&w, out)
	feedPlain(&w, md[end:], true)
	return w.String(), n
}

// renderMarkdown renders sanitized, tamed markdown piece by piece.
func (r *Renderer) renderMarkdown(clean string, firstBlock int) (string, int) {
	var sp splitter
	bounds := boundaries(clean, &sp)
	if unsplit(&sp, len(clean)) {
		return r.renderPiece(clean, firstBlock)
	}
	var j joiner
	start := 0
	for _, b := range append(bounds, len(clean)) {
		out, n := r.renderPiece(clean[start:b], firstBlock+j.blocks)
		j.add(out, n)
		start = b
	}
	return j.b.String(), j.blocks
}

// unsplit reports whether a document of size bytes that sp has scanned is
// rendered in one piece: it holds a link reference definition, which may
// resolve links in any other piece, and it is small enough to render whole
// on every frame.
func unsplit(sp *splitter, size int) bool {
	return sp.refDefs && size <= maxUnsplitBytes
}

// joiner concatenates rendered pieces, one blank line apart, skipping pieces
// that render to nothing.
type joiner struct {
	b      strings.Builder
	blocks int
}

func (j *joiner) add(out string, blocks int) {
	j.blocks += blocks
	if out == "" {
		return
	}
	if j.b.Len() > 0 {
		j.b.WriteString("\n\n")
	}
	j.b.WriteString(out)
}

// renderPiece renders one piece of sanitized, tamed markdown. A piece that
// is a single fenced code block is laid out directly, without glamour; the
// result is the same as glamour's path would give. A piece whose rendering
// would cost more than maxPieceCost is shown as plain text (see plainPiece);
// one larger than twice that is not even parsed, and its code blocks are
// not numbered (CodeBlocks agrees).
func (r *Renderer) renderPiece(md string, firstBlock int) (string, int) {
	return r.renderPieceWithin(md, firstBlock, maxPieceCost)
}

// renderPieceWithin is renderPiece with a cost budget for glamour.
func (r *Renderer) renderPieceWithin(md string, firstBlock, budget int) (string, int) {
	r.code.budget = maxHighlightBytes
	if lang, code, ok := soleFence(md); ok {
		var b strings.Builder
		b.WriteString(r.code.label(firstBlock, lang))
		b.WriteByte('\n')
		r.code.write(&b, "", displayCode(code), lang)
		return strings.TrimRight(b.String(), "\n"), 1
	}
	if len(md) > 2*budget {
		// Glamour's cost is at least the text's size: not worth parsing.
		w := plainWriter{width: r.width}
		w.text(md)
		return w.String(), 0
	}
	return r.render(md, firstBlock, budget)
}

// soleFence reports whether md consists of exactly one fenced code block
// opened in column 0 (closed or not, followed by blank lines only), and
// returns its language and code as goldmark would parse them.
func soleFence(md string) (lang, code string, ok bool) {
	nl := strings.IndexByte(md, '\n')
	if nl < 0 {
		nl = len(md)
	}
	first := md[:nl]
	if strings.HasSuffix(first, "\r") || len(first) < 3 || first[0] != first[1] {
		return "", "", false
	}
	ch, n, ok := openingFence(strings.TrimRight(first, " \t"))
	if !ok {
		return "", "", false
	}
	info := strings.Trim(first[n:], " \t")
	if i := strings.IndexByte(info, ' '); i >= 0 {
		info = info[:i]
	}
	body := ""
	if nl < len(md) {
		body = md[nl+1:]
	}
	// Find the closing fence; everything after it must be blank.
	off := 0
	for off < len(body) {
		e := strings.IndexByte(body[off:], '\n')
		end := len(body)
		if e >= 0 {
			end = off + e
		}
		ind, t := indentOf(body[off:end])
		if ind < 4 && t != "" && isClosingFence(t, ch, n) {
			if strings.TrimLeft(body[end:], " \t\n") != "" {
				return "", "", false
			}
			return info, strings.TrimSuffix(body[:off], "\n"), true
		}
		off = end + 1
	}
	return info, strings.TrimSuffix(body, "\n"), true
}

// displayCode drops trailing blank lines from code for display; copied code
// (CodeBlocks) keeps them.
func displayCode(code string) string {
	t := strings.TrimRight(code, " \t\n")
	if t == "" {
		return ""
	}
	if i := strings.IndexByte(code[len(t):], '\n'); i >= 0 {
		return code[:len(t)+i]
	}
	return code
}

// fencedBlock is a fenced code block found in the parse tree.
type fencedBlock struct {
	lang string
	code string
}

// render renders one piece of sanitized markdown with glamour, or as plain
// text when glamour's estimated cost is above budget.
func (r *Renderer) render(md string, firstBlock, budget int) (string, int) {
	if strings.TrimSpace(md) == "" {
		return "", 0
	}
	r.src.Reset()
	r.src.WriteString(md)
	src := r.src.Bytes()
	doc := r.md.Parser().Parse(text.NewReader(src))
	if c := glamourCost(doc, r.width); c < 0 || c > budget {
		return r.plainPiece(md, doc, firstBlock)
	}

	// Replace the content of every fenced code block with a one-line marker
	// appended to the source; glamour renders the marker and the marker line
	// is replaced by the block's own layout afterwards.
	mark := markerRune(md)
	var blocks []fencedBlock
	var has features
	footnotes := false
	_ = gast.Walk(doc, func(n gast.Node, entering bool) (gast.WalkStatus, error) {
		if !entering {
			return gast.WalkContinue, nil
		}
		switch n.Kind() {
		case gast.KindThematicBreak:
			has.rules = true
		case extast.KindTable:
			has.tables = true
		case extast.KindFootnoteList:
			has.rules = true
			footnotes = true
		}
		fc, ok := n.(*gast.FencedCodeBlock)
		if !ok {
			return gast.WalkContinue, nil
		}
		blocks = append(blocks, fencedBlock{
			lang: string(fc.Language(src)),
			code: blockCode(fc, src),
		})
		return gast.WalkSkipChildren, nil
	})
	if footnotes {
		rewriteFootnotes(doc, &r.src)
	}
	if len(blocks) > 0 {
		markers := make([]int, len(blocks)) // start offsets of the markers
		for i := range blocks {
			markers[i] = r.src.Len()
			r.src.WriteRune(mark)
			r.src.WriteString(strconv.Itoa(i))
			r.src.WriteRune(mark)
			r.src.WriteByte('\n')
		}
		src = r.src.Bytes()
		i := 0
		_ = gast.Walk(doc, func(n gast.Node, entering bool) (gast.WalkStatus, error) {
			if !entering {
				return gast.WalkContinue, nil
			}
			fc, ok := n.(*gast.FencedCodeBlock)
			if !ok {
				return gast.WalkContinue, nil
			}
			segs := text.NewSegments()
			end := len(src)
			if i+1 < len(markers) {
				end = markers[i+1]
			}
			segs.Append(text.NewSegment(markers[i], end))
			fc.SetLines(segs)
			i++
			return gast.WalkSkipChildren, nil
		})
	}

	src = r.src.Bytes()
	r.out.Reset()
	if err := r.md.Renderer().Render(&r.out, src, doc); err != nil {
		// glamour only fails on writer errors, which a bytes.Buffer does not
		// produce; show the sanitized source rather than nothing.
		return md, 0
	}
	out := trimLines(r.out.Bytes())
	if has.tables {
		out = fitTables(out)
	}
	if has.rules {
		out = drawRules(out, r.width)
	}
	if len(blocks) > 0 {
		out = strings.TrimRight(r.spliceCode(out, mark, blocks, firstBlock), "\n")
	}
	return out, len(blocks)
}

// blockCode returns the raw code of a fenced block, without its final newline.
func blockCode(fc *gast.FencedCodeBlock, src []byte) string {
	lines := fc.Lines()
	var b strings.Builder
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(src))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// markerRune picks a private-use rune that does not occur in s, so that the
// code-block markers cannot be forged by the input. It reads s once.
func markerRune(s string) rune {
	const first, last = 0xE000, 0xF8FF
	var used [(last - first + 64) / 64]uint64
	for _, r := range s {
		if r >= first && r <= last {
			used[(r-first)/64] |= 1 << ((r - first) % 64)
		}
	}
	for r := rune(first); r < last; r++ {
		if used[(r-first)/64]&(1<<((r-first)%64)) == 0 {
			return r
		}
	}
	return last // every other private-use rune occurs in s: the markers may be forged, harmlessly
}

// spliceCode replaces each marker line of the glamour output with the code
// block's label and highlighted lines, keeping whatever prefix glamour put in
// front of the marker (blockquote bars, list indentation).
func (r *Renderer) spliceCode(out string, mark rune, blocks []fencedBlock, first int) string {
	var b strings.Builder
	b.Grow(len(out) + 64*len(blocks))
	ms := string(mark)
	rest := out
	for {
		k := strings.Index(rest, ms)
		if k < 0 {
			b.WriteString(rest)
			break
		}
		lineStart := strings.LastIndexByte(rest[:k], '\n') + 1
		after := rest[k+len(ms):]
		e := strings.Index(after, ms)
		if e < 0 {
			b.WriteString(rest)
			break
		}
		idx, err := strconv.Atoi(after[:e])
		lineEnd := strings.IndexByte(after, '\n')
		if lineEnd < 0 {
			lineEnd = len(after)
		}
		if err != nil || idx < 0 || idx >= len(blocks) {
			b.WriteString(rest[:k+len(ms)])
			rest = after
			continue
		}
		b.WriteString(rest[:lineStart])
		prefix := linePrefix(rest[lineStart:k])
		blk := blocks[idx]
		b.WriteString(prefix)
		b.WriteString(r.code.label(first+idx, blk.lang))
		b.WriteByte('\n')
		r.code.write(&b, prefix, displayCode(blk.code), blk.lang)
		rest = after[lineEnd:]
		if len(rest) > 0 && rest[0] == '\n' {
			rest = rest[1:]
		}
	}
	return b.String()
}

// linePrefix turns what glamour wrote before a marker into the prefix for
// each code line: plain spaces when it is only indentation, otherwise the
// styled prefix with a trailing reset.
func linePrefix(p string) string {
	p = trimTrailingSGR(p)
	if p == "" {
		return ""
	}
	vis := ansi.Strip(p)
	if strings.TrimLeft(vis, " ") == "" {
		return vis
	}
	if strings.IndexByte(p, 0x1b) >= 0 {
		return p + "\x1b[m"
	}
	return p
}

// trimTrailingSGR removes SGR sequences at the end of s.
func trimTrailingSGR(s string) string {
	for strings.HasSuffix(s, "m") {
		i := strings.LastIndex(s, "\x1b[")
		if i < 0 || !isSGRParams(s[i+2:len(s)-1]) {
			break
		}
		s = s[:i]
	}
	return s
}

func isSGRParams(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; (c < '0' || c > '9') && c != ';' && c != ':' {
			return false
		}
	}
	return true
}

// trimLines removes trailing padding from every line of glamour output
// (spaces and the SGR sequences around them), closing any open styling with a
// reset, and drops leading and trailing blank lines.
func trimLines(out []byte) string {
	var b strings.Builder
	b.Grow(len(out) / 4)
	pendingBlank := 0
	started := false
	for len(out) > 0 {
		nl := bytes.IndexByte(out, '\n')
		var line []byte
		if nl < 0 {
			line, out = out, nil
		} else {
			line, out = out[:nl], out[nl+1:]
		}
		t := trimLine(line)
		if len(t) == 0 {
			if started {
				pendingBlank++
			}
			continue
		}
		if started {
			b.WriteByte('\n')
		}
		for ; pendingBlank > 0; pendingBlank-- {
			b.WriteByte('\n')
		}
		started = true
		b.Write(t)
	}
	return b.String()
}

// trimLine returns line cut after its last visible non-space character, plus a
// reset if any SGR sequence was cut or is still open. A line with no visible
// content yields nil.
//
// OSC sequences (glamour's OSC 8 hyperlinks) are removed: the rendered
// output contains no escape sequences other than SGR, so the view can measure,
// clip and copy it safely; the link target stays visible as text.
func trimLine(line []byte) []byte {
	if bytes.Contains(line, []byte("\x1b]")) {
		line = stripOSC(line)
	}
	if bytes.Contains(line, []byte("m\x1b[m")) {
		line = dropEmptySGR(line)
	}
	if bytes.Contains(line, []byte("\x1b[m\x1b[")) {
		line = mergeSGR(line)
	}
	end := -1 // byte index just past the last visible non-space rune
	hasEsc := false
	for i := 0; i < len(line); {
		c := line[i]
		if c == 0x1b {
			hasEsc = true
			j := i + 1
			if j < len(line) && line[j] == '[' {
				j++
				for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
					j++
				}
				j++
			}
			i = j
			continue
		}
		if c == ' ' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			i++
			end = i
			continue
		}
		_, n := utf8.DecodeRune(line[i:])
		i += n
		end = i
	}
	if end < 0 {
		return nil
	}
	t := line[:end]
	if hasEsc && !bytes.HasSuffix(t, []byte("\x1b[m")) {
		t = append(t[:end:end], "\x1b[m"...)
	}
	return t
}

// stripOSC returns line without OSC sequences (terminated by BEL or ST).
func stripOSC(line []byte) []byte {
	out := make([]byte, 0, len(line))
	for i := 0; i < len(line); {
		if line[i] == 0x1b && i+1 < len(line) && line[i+1] == ']' {
			j := i + 2
			for j < len(line) {
				if line[j] == 0x07 {
					j++
					break
				}
				if line[j] == 0x1b && j+1 < len(line) && line[j+1] == '\\' {
					j += 2
					break
				}
				j++
			}
			i = j
			continue
		}
		out = append(out, line[i])
		i++
	}
	return out
}

// dropEmptySGR removes style sequences that style nothing: an SGR sequence
// immediately followed by a reset, while no other style is open.
func dropEmptySGR(line []byte) []byte {
	out := make([]byte, 0, len(line))
	reset := true // no style is open at this point of the output
	for i := 0; i < len(line); {
		if line[i] != 0x1b || i+1 >= len(line) || line[i+1] != '[' {
			out = append(out, line[i])
			i++
			continue
		}
		j := i + 2
		for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
			j++
		}
		if j >= len(line) {
			out = append(out, line[i:]...)
			break
		}
		seq := line[i : j+1]
		isReset := line[j] == 'm' && (j == i+2 || string(line[i+2:j]) == "0")
		if line[j] == 'm' && !isReset && reset && bytes.HasPrefix(line[j+1:], []byte("\x1b[m")) {
			i = j + 1 + 3
			continue
		}
		if line[j] == 'm' {
			reset = isReset
		}
		out = append(out, seq...)
		i = j + 1
	}
	return out
}

// mergeSGR removes a reset that is followed at once by the very style it
// ended, together with that style: glamour styles every word on its own,
// so a line of one style would otherwise repeat it word by word. The line
// looks the same, in fewer bytes.
func mergeSGR(line []byte) []byte {
	out := make([]byte, 0, len(line))
	var open []byte // the style sequences written since the last reset
	for i := 0; i < len(line); {
		seq := sgrAt(line, i)
		if seq == nil {
			out = append(out, line[i])
			i++
			continue
		}
		if !isReset(seq) {
			open = append(open, seq...)
			out = append(out, seq...)
			i += len(seq)
			continue
		}
		// A reset: look at the styles that follow it.
		j := i + len(seq)
		for {
			next := sgrAt(line, j)
			if next == nil || isReset(next) {
				break
			}
			j += len(next)
		}
		if len(open) > 0 && bytes.Equal(line[i+len(seq):j], open) {
			i = j // the same style again: keep it open
			continue
		}
		out = append(out, seq...)
		open = open[:0]
		i += len(seq)
	}
	return out
}

// sgrAt returns the SGR sequence starting at line[i], or nil.
func sgrAt(line []byte, i int) []byte {
	if i+1 >= len(line) || line[i] != 0x1b || line[i+1] != '[' {
		return nil
	}
	j := i + 2
	for j < len(line) && (line[j] < 0x40 || line[j] > 0x7e) {
		j++
	}
	if j >= len(line) || line[j] != 'm' || !isSGRParams(string(line[i+2:j])) {
		return nil
	}
	return line[i : j+1]
}

func isReset(seq []byte) bool { return string(seq) == "\x1b[m" || string(seq) == "\x1b[0m" }
