package markdown

import (
	"strings"

	"github.com/parley-chat/parley/sanitize"
)

// Printer renders an answer for output that is written once and never
// redrawn, such as print mode on a terminal: each top-level block group
// (a piece, see splitter) is rendered as soon as the line after it shows
// that it is finished, and the rest when the answer ends. What it returns,
// concatenated, is the answer rendered piece by piece, which is what
// Render gives for the whole answer unless the answer holds a link
// reference definition or a footnote: once one is seen nothing more is
// rendered until Finish, which renders the rest of the answer as one
// document (references from pieces already written stay as text).
//
// A Printer is not safe for concurrent use.
type Printer struct {
	r       *Renderer
	clean   func(string) string
	raw     strings.Builder
	scanned int // raw[:scanned] (whole lines) has been fed to sp
	done    int // raw[:done] has been rendered
	blocks  int // code blocks numbered so far
	wrote   bool
	sp      splitter
}

// NewPrinter returns a Printer that renders with r. clean, when not nil,
// is applied to the source of each piece before it is rendered (print
// mode removes the API key there, where no styling can split it).
func NewPrinter(r *Renderer, clean func(string) string) *Printer {
	return &Printer{r: r, clean: clean}
}

// Append adds a delta of raw text and returns the rendering of the pieces
// it finished, to be written as it is ("" when none).
func (p *Printer) Append(delta string) string {
	p.raw.WriteString(delta)
	raw := p.raw.String()
	end := p.done
	for {
		nl := strings.IndexByte(raw[p.scanned:], '\n')
		if nl < 0 {
			break
		}
		line := raw[p.scanned : p.scanned+nl]
		if p.sp.line(sanitize.Text(line)) && !p.sp.refDefs {
			end = p.scanned
		}
		p.scanned += nl + 1
	}
	if p.sp.refDefs || end == p.done {
		return ""
	}
	return p.render(raw[p.done:end], end, false)
}

// Finish renders the rest of the answer, ending with a newline if
// anything was written at all.
func (p *Printer) Finish() string {
	raw := p.raw.String()
	return p.render(raw[p.done:], len(raw), true)
}

// render renders src, which ends at raw offset end, as the next pieces.
func (p *Printer) render(src string, end int, last bool) string {
	p.done = end
	if p.clean != nil {
		src = p.clean(src)
	}
	out, n := p.r.Render(src, p.blocks+1)
	p.blocks += n
	var b strings.Builder
	if out != "" {
		if p.wrote {
			b.WriteString("\n")
		}
		b.WriteString(out)
		b.WriteString("\n")
		p.wrote = true
	}
	if last && !p.wrote {
		return ""
	}
	return b.String()
}
