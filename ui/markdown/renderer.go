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
	ar := glamouransi.NewRenderer(glamouransi.Options{
		WordWrap: width,
		Styles:   th.Markdown,
	})
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM, extension.DefinitionList),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		goldmark.WithRenderer(renderer.NewRenderer(
			renderer.WithNodeRenderers(util.Prioritized(ar, 1000)),
		)),
	)
	return &Renderer{
		width: width,
		theme: th,
		md:    md,
		code:  newCodeFormatter(th),
	}, nil
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
func (r *Renderer) Render(md string, firstBlock int) (string, int) {
	return r.render(sanitize.Text(md), firstBlock)
}

// fencedBlock is a fenced code block found in the parse tree.
type fencedBlock struct {
	lang string
	code string
}

// render renders already sanitized markdown.
func (r *Renderer) render(md string, firstBlock int) (string, int) {
	if strings.TrimSpace(md) == "" {
		return "", 0
	}
	r.src.Reset()
	r.src.WriteString(md)
	src := r.src.Bytes()
	doc := r.md.Parser().Parse(text.NewReader(src))

	// Replace the content of every fenced code block with a one-line marker
	// appended to the source; glamour renders the marker and the marker line
	// is replaced by the block's own layout afterwards.
	mark := markerRune(md)
	var blocks []fencedBlock
	_ = gast.Walk(doc, func(n gast.Node, entering bool) (gast.WalkStatus, error) {
		if !entering {
			return gast.WalkContinue, nil
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

	r.out.Reset()
	if err := r.md.Renderer().Render(&r.out, src, doc); err != nil {
		// glamour only fails on writer errors, which a bytes.Buffer does not
		// produce; show the sanitized source rather than nothing.
		return md, 0
	}
	out := trimLines(r.out.Bytes())
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
// code-block markers cannot be forged by the input.
func markerRune(s string) rune {
	for r := rune(0xE000); r < 0xF8FF; r++ {
		if !strings.ContainsRune(s, r) {
			return r
		}
	}
	return 0xF8FF // unreachable for any realistic input
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
		r.code.write(&b, prefix, blk.code, blk.lang)
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
func trimLine(line []byte) []byte {
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
