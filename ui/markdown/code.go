package markdown

import (
	"strconv"
	"strings"

	"github.com/alecthomas/chroma/v2"
	"github.com/alecthomas/chroma/v2/lexers"
	"github.com/alecthomas/chroma/v2/styles"
	"github.com/parley-chat/parley/themes"
)

// tabWidth is the tab stop used when displaying code; copied code keeps its
// tabs (see CodeBlocks).
const tabWidth = 4

// codeFormatter lays out fenced code blocks: one output line per source line,
// never wrapped, no indentation added, no trailing whitespace, each line
// self-contained (styling is reset at the end of every line so a view may clip
// or drop lines freely).
type codeFormatter struct {
	theme *themes.Theme
	style *chroma.Style               // nil: no highlighting
	sgr   map[chroma.TokenType]string // cached SGR opener per token type ("" = unstyled)
	lex   map[string]chroma.Lexer     // lexer per language, coalescing
	// budget is how many more bytes of code may be highlighted (see
	// maxHighlightBytes); the renderer sets it for every piece.
	budget int
}

func newCodeFormatter(th *themes.Theme) *codeFormatter {
	f := &codeFormatter{theme: th, sgr: map[chroma.TokenType]string{}, lex: map[string]chroma.Lexer{}}
	if th.Chroma != "" {
		f.style = styles.Get(th.Chroma)
	}
	return f
}

// label renders the line above a code block, such as "─ [3] go".
func (f *codeFormatter) label(n int, lang string) string {
	s := "─ [" + strconv.Itoa(n) + "]"
	if lang != "" {
		s += " " + lang
	}
	return f.theme.CodeLabel.Render(s)
}

// opener returns the SGR sequence that starts the style of a token type.
func (f *codeFormatter) opener(tt chroma.TokenType) string {
	if s, ok := f.sgr[tt]; ok {
		return s
	}
	e := f.style.Get(tt)
	var p []string
	if e.Colour.IsSet() {
		p = append(p, "38;2;"+strconv.Itoa(int(e.Colour.Red()))+";"+
			strconv.Itoa(int(e.Colour.Green()))+";"+strconv.Itoa(int(e.Colour.Blue())))
	}
	if e.Bold == chroma.Yes {
		p = append(p, "1")
	}
	if e.Italic == chroma.Yes {
		p = append(p, "3")
	}
	if e.Underline == chroma.Yes {
		p = append(p, "4")
	}
	s := ""
	if len(p) > 0 {
		s = "\x1b[" + strings.Join(p, ";") + "m"
	}
	f.sgr[tt] = s
	return s
}

// write appends the code's display lines to b, each preceded by prefix and
// followed by a newline. Whole lines are highlighted while the budget
// lasts, the rest is written unstyled.
func (f *codeFormatter) write(b *strings.Builder, prefix, code, lang string) {
	if code == "" {
		return
	}
	if f.style == nil {
		f.writePlain(b, prefix, code)
		return
	}
	// Every block costs at least minHighlightCost: lexing has a cost of
	// its own.
	f.budget -= min(minHighlightCost, f.budget)
	if len(code) > f.budget {
		cut := strings.LastIndexByte(code[:f.budget], '\n')
		if cut < 0 {
			f.budget = 0
			f.writePlain(b, prefix, code)
			return
		}
		f.highlight(b, prefix, code[:cut], lang)
		f.budget = 0
		f.writePlain(b, prefix, code[cut+1:])
		return
	}
	f.budget -= len(code)
	f.highlight(b, prefix, code, lang)
}

// highlight appends the code's display lines to b, highlighted.
func (f *codeFormatter) highlight(b *strings.Builder, prefix, code, lang string) {
	lexer := f.lexer(lang)
	it, err := lexer.Tokenise(nil, code)
	if err != nil {
		f.writePlain(b, prefix, code)
		return
	}
	var lw lineWriter
	lw.prefix = prefix
	lw.b = b
	// Exactly one output line per source line, whatever newlines the lexer
	// adds or merges.
	lw.remaining = strings.Count(code, "\n") + 1
	for tok := it(); tok != chroma.EOF; tok = it() {
		open := f.opener(tok.Type)
		v := tok.Value
		for {
			nl := strings.IndexByte(v, '\n')
			if nl < 0 {
				lw.add(open, v)
				break
			}
			lw.add(open, v[:nl])
			lw.endLine()
			v = v[nl+1:]
		}
	}
	if lw.pending() {
		lw.endLine()
	}
	for lw.remaining > 0 {
		lw.endLine()
	}
}

// lexer returns the (coalescing) lexer for a language, cached: looking up
// an unknown or empty name makes chroma try every lexer's file patterns,
// which costs milliseconds.
func (f *codeFormatter) lexer(lang string) chroma.Lexer {
	if l, ok := f.lex[lang]; ok {
		return l
	}
	var l chroma.Lexer
	if lang != "" {
		l = lexers.Get(lang)
	}
	if l == nil {
		l = lexers.Fallback
	}
	l = chroma.Coalesce(l)
	f.lex[lang] = l
	return l
}

func (f *codeFormatter) writePlain(b *strings.Builder, prefix, code string) {
	for _, line := range strings.Split(code, "\n") {
		line = strings.TrimRight(expandTabs(line), " ")
		writePrefix(b, prefix, line == "")
		b.WriteString(line)
		b.WriteByte('\n')
	}
}

// writePrefix writes the line prefix, without its trailing spaces when the
// line is empty.
func writePrefix(b *strings.Builder, prefix string, empty bool) {
	if empty {
		b.Write(trimLine([]byte(prefix)))
		return
	}
	b.WriteString(prefix)
}

// lineWriter assembles one highlighted line at a time so trailing whitespace
// can be dropped and tabs expanded with correct columns.
type lineWriter struct {
	b      *strings.Builder
	prefix string
	line   strings.Builder
	col    int  // display column within the line (for tab expansion)
	dirty  bool // something was added to the current line
	// remaining is how many lines may still be written.
	remaining int
}

func (w *lineWriter) pending() bool { return w.dirty }

// add appends text (no newlines) in the given style.
func (w *lineWriter) add(open, s string) {
	if s == "" {
		return
	}
	w.dirty = true
	s = w.expand(s)
	core := strings.TrimRight(s, " ")
	if open != "" && core != "" {
		// Style only the text; trailing spaces stay unstyled so that the
		// end of the line can be trimmed.
		w.line.WriteString(open)
		w.line.WriteString(core)
		w.line.WriteString("\x1b[m")
		w.line.WriteString(s[len(core):])
		return
	}
	w.line.WriteString(s)
}

// expand replaces tabs by spaces up to the next tab stop and advances col.
func (w *lineWriter) expand(s string) string {
	if strings.IndexByte(s, '\t') < 0 {
		w.col += len([]rune(s))
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '\t' {
			n := tabWidth - w.col%tabWidth
			b.WriteString(strings.Repeat(" ", n))
			w.col += n
			continue
		}
		b.WriteRune(r)
		w.col++
	}
	return b.String()
}

func (w *lineWriter) endLine() {
	if w.remaining <= 0 {
		w.line.Reset()
		w.col, w.dirty = 0, false
		return
	}
	w.remaining--
	line := strings.TrimRight(w.line.String(), " ")
	writePrefix(w.b, w.prefix, line == "")
	w.b.WriteString(line)
	w.b.WriteByte('\n')
	w.line.Reset()
	w.col = 0
	w.dirty = false
}

// ExpandTabs replaces every tab of s by spaces up to the next tab stop
// (every four columns, as in code blocks; columns count from each line
// start, one per rune). The screen drops tab characters, so every text
// shown outside markdown goes through it; markdown expands its own.
func ExpandTabs(s string) string {
	if strings.IndexByte(s, '\t') < 0 {
		return s
	}
	b := make([]byte, 0, len(s)+len(s)/8)
	for off := 0; off < len(s); {
		nl := strings.IndexByte(s[off:], '\n')
		if nl < 0 {
			nl = len(s) - off
		}
		start := len(b)
		b = append(b, s[off:off+nl]...)
		b = expandTabsFrom(b, start)
		if off+nl < len(s) {
			b = append(b, '\n')
		}
		off += nl + 1
	}
	return string(b)
}

// expandTabs expands tabs in a plain line.
func expandTabs(s string) string {
	if strings.IndexByte(s, '\t') < 0 {
		return s
	}
	return string(expandTabsFrom([]byte(s), 0))
}
