package markdown

import (
	"github.com/parley-chat/parley/sanitize"
	"github.com/yuin/goldmark"
	gast "github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
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
// block is the one Render labels with firstBlock+i. The input is sanitized
// first, exactly as Render does.
func CodeBlocks(md string) []CodeBlock {
	src := []byte(sanitize.Text(md))
	p := goldmark.New(goldmark.WithExtensions(extension.GFM, extension.DefinitionList)).Parser()
	doc := p.Parse(text.NewReader(src))
	var out []CodeBlock
	_ = gast.Walk(doc, func(n gast.Node, entering bool) (gast.WalkStatus, error) {
		if !entering {
			return gast.WalkContinue, nil
		}
		if fc, ok := n.(*gast.FencedCodeBlock); ok {
			out = append(out, CodeBlock{Lang: string(fc.Language(src)), Code: blockCode(fc, src)})
			return gast.WalkSkipChildren, nil
		}
		return gast.WalkContinue, nil
	})
	return out
}
