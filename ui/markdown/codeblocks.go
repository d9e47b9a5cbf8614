package markdown

import (
	"github.com/parley-chat/parley/sanitize"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
)

// CodeBlock is one fenced code block of a document, as raw text for copying.
type CodeBlock struct {
	// Lang is the first word of the fence's info string ("" if none).
	Lang string
	// Code is the block's content without the fences and without the final
	// newline; indentation of the enclosing list item or blockquote markers
	// are removed, tabs are kept.
	Code string
}

// CodeBlocks returns the fenced code blocks of md in document order; the i-th
// block is the one Render labels with firstBlock+i, at any width. The input
// is prepared exactly as Render prepares it: sanitized, bounded and split
// into the same pieces; blocks past the part of a long answer rendered as
// markdown are not labelled and not listed.
func CodeBlocks(md string) []CodeBlock {
	clean := tameText(sanitize.Text(md[:markdownEnd(md)]))
	var sp splitter
	bounds := boundaries(clean, &sp)
	if unsplit(&sp, len(clean)) {
		bounds = nil
	}
	var p parser.Parser
	var out []CodeBlock
	start := 0
	for _, b := range append(bounds, len(clean)) {
		piece := clean[start:b]
		start = b
		if lang, code, ok := soleFence(piece); ok {
			out = append(out, CodeBlock{Lang: lang, Code: code})
			continue
		}
		if len(piece) > 2*maxPieceCost {
			continue // shown as plain text, unparsed (see renderPieceWithin)
		}
		if p == nil {
			p = newGoldmark().Parser()
		}
		src := []byte(piece)
		for _, fc := range fencedBlocks(p.Parse(text.NewReader(src))) {
			out = append(out, CodeBlock{Lang: string(fc.Language(src)), Code: blockCode(fc, src)})
		}
	}
	return out
}
