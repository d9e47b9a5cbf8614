package markdown

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	gast "github.com/yuin/goldmark/ast"
	extast "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// ruleMark is what glamour is given to draw for a thematic break (see
// New); every line that shows it alone after its prefix becomes a rule
// as wide as the text (see drawRules). A private-use rune: a forged one
// in the input only draws a rule.
const ruleMark = "\uF8FE"

// features records which of the constructs laid out after glamour a
// parsed piece holds.
type features struct {
	rules, tables bool
}

// rewriteFootnotes turns the footnote nodes of doc, which glamour does not know,
// into nodes it does: a reference becomes the text "[n]", and the
// footnotes, which the parser gathers at the end of the document, become
// a rule followed by one paragraph per footnote starting "[n] ". The
// texts are appended to src, which must be the buffer doc was parsed
// from; the caller takes src.Bytes() afterwards.
func rewriteFootnotes(doc gast.Node, src *bytes.Buffer) {
	var links []*extast.FootnoteLink
	var lists []*extast.FootnoteList
	var backlinks []gast.Node
	_ = gast.Walk(doc, func(n gast.Node, entering bool) (gast.WalkStatus, error) {
		if !entering {
			return gast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *extast.FootnoteLink:
			links = append(links, n)
		case *extast.FootnoteBacklink:
			backlinks = append(backlinks, n)
		case *extast.FootnoteList:
			lists = append(lists, n)
		}
		return gast.WalkContinue, nil
	})
	text := func(s string) *gast.Text {
		start := src.Len()
		src.WriteString(s)
		return gast.NewTextSegment(text.NewSegment(start, src.Len()))
	}
	for _, l := range links {
		l.Parent().ReplaceChild(l.Parent(), l, text("["+strconv.Itoa(l.Index)+"]"))
	}
	for _, b := range backlinks {
		b.Parent().RemoveChild(b.Parent(), b)
	}
	for _, list := range lists {
		parent := list.Parent()
		parent.InsertBefore(parent, list, gast.NewThematicBreak())
		for fn := list.FirstChild(); fn != nil; {
			next := fn.NextSibling()
			mark := text("[" + strconv.Itoa(fn.(*extast.Footnote).Index) + "] ")
			first := fn.FirstChild()
			if first == nil || first.Kind() != gast.KindParagraph {
				first = gast.NewParagraph()
				fn.InsertBefore(fn, fn.FirstChild(), first)
			}
			if c := first.FirstChild(); c != nil {
				first.InsertBefore(first, c, mark)
			} else {
				first.AppendChild(first, mark)
			}
			for c := fn.FirstChild(); c != nil; {
				nc := c.NextSibling()
				parent.InsertBefore(parent, list, c)
				c = nc
			}
			fn = next
		}
		parent.RemoveChild(parent, list)
	}
}

// drawRules replaces every line of out that shows ruleMark alone after
// its prefix (a quote's bar, a list's indentation) by the prefix and a
// rule reaching width columns, in the rule's style.
func drawRules(out string, width int) string {
	if !strings.Contains(out, ruleMark) {
		return out
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		k := strings.Index(l, ruleMark)
		if k < 0 {
			continue
		}
		before, after := l[:k], l[k+len(ruleMark):]
		if strings.TrimSpace(ansi.Strip(after)) != "" {
			continue
		}
		prefix := ansi.Strip(before)
		// The prefix is the line's indentation or bar, and the style
		// sequences of the rule itself follow it.
		n := max(width-ansi.StringWidth(prefix), 1)
		lines[i] = before + strings.Repeat("─", n) + after
	}
	return strings.Join(lines, "\n")
}

// fitTables narrows every table of out (glamour output, trimmed) to its
// content: glamour stretches a table's columns to the full width, so
// three columns of short words would spread across a wide terminal. The
// blank columns that every line of a table has in common within a cell
// are cut, leaving one column of margin either side of the widest cell,
// the same for every row and the header rule. A table wider than the
// width is left as glamour wrapped it.
func fitTables(out string) string {
	if !strings.Contains(out, "──") {
		return out
	}
	lines := strings.Split(out, "\n")
	plain := make([]string, len(lines))
	for i, l := range lines {
		plain[i] = ansi.Strip(l)
	}
	changed := false
	for i := 1; i < len(lines); i++ {
		left, seps, right, ok := tableRule(plain[i])
		if !ok || strings.TrimSpace(plain[i-1]) == "" {
			continue
		}
		inTable := func(j int) bool {
			if j < 0 || j >= len(lines) || strings.TrimSpace(plain[j]) == "" {
				return false
			}
			for _, s := range seps {
				if cellAt(plain[j], s) != '│' {
					return false
				}
			}
			return true
		}
		first, last := i, i
		for inTable(first - 1) {
			first--
		}
		for inTable(last + 1) {
			last++
		}
		// Column spans between the separators, and what to keep of each.
		bounds := append(append([]int{left - 1}, seps...), right)
		var keep [][2]int
		keep = append(keep, [2]int{0, left})
		for c := 0; c+1 < len(bounds); c++ {
			s, e := bounds[c]+1, bounds[c+1]
			lo, hi := e, s-1 // first and last column holding text
			for j := first; j <= last; j++ {
				if j == i {
					continue
				}
				a, b := textSpan(plain[j], s, e)
				if a <= b {
					lo, hi = min(lo, a), max(hi, b)
				}
			}
			if lo > hi {
				keep = append(keep, [2]int{s, min(e, s+2)})
			} else {
				keep = append(keep, [2]int{max(s, lo-1), min(e, hi+2)})
			}
			if c+2 < len(bounds) {
				keep = append(keep, [2]int{e, e + 1})
			}
		}
		for j := first; j <= last; j++ {
			var b strings.Builder
			for _, k := range keep {
				b.WriteString(ansi.Cut(lines[j], k[0], k[1]))
			}
			lines[j] = string(trimLine([]byte(b.String())))
		}
		changed = true
		i = last
	}
	if !changed {
		return out
	}
	return strings.Join(lines, "\n")
}

// tableRule reports whether a line (without escape sequences) is the rule
// under a table's header: after its prefix, only '─' and '┼'. It returns
// the column where the rule starts, the columns of the '┼' separators and
// the column where it ends.
func tableRule(p string) (left int, seps []int, right int, ok bool) {
	k := strings.Index(p, "─")
	if k < 0 {
		return 0, nil, 0, false
	}
	left = ansi.StringWidth(p[:k])
	col := left
	for _, r := range p[k:] {
		switch r {
		case '─':
		case '┼':
			seps = append(seps, col)
		default:
			return 0, nil, 0, false
		}
		col++
	}
	return left, seps, col, true
}

// cellAt returns the character shown at column col of a line without
// escape sequences, or 0.
func cellAt(p string, col int) rune {
	x := 0
	for _, r := range p {
		if x == col {
			return r
		}
		x += max(ansi.StringWidth(string(r)), 0)
		if x > col {
			return 0
		}
	}
	return 0
}

// textSpan returns the first and last column within [s, e) of a line
// without escape sequences that show something other than a space;
// a > b when there are none.
func textSpan(p string, s, e int) (a, b int) {
	a, b = e, s-1
	x := 0
	for _, r := range p {
		w := ansi.StringWidth(string(r))
		if x >= e {
			break
		}
		if x >= s && r != ' ' && r != '\u00a0' {
			a = min(a, x)
			b = max(b, min(x+w, e)-1)
		}
		x += w
	}
	return a, b
}
