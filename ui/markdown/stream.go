package markdown

import (
	"bytes"
	"strings"

	"github.com/parley-chat/parley/sanitize"
)

// Stream renders one message while it streams in, with stable-prefix
// incremental rendering: the text is split into pieces exactly as Render
// splits a whole document (see splitter); every finished piece is rendered
// once and cached, and only the open tail is re-rendered when View is called
// after new text arrived. Because pieces are the unit of both Render and
// Stream, the finished part of View is always a prefix of the final render,
// and Finish equals Render(Source()) exactly.
//
// A Stream is not safe for concurrent use; the TUI calls Append as deltas
// arrive and View once per frame, from one goroutine.
type Stream struct {
	r     *Renderer
	first int

	raw      strings.Builder // everything appended, unsanitized
	rawClean int             // raw[:rawClean] (whole lines) has been sanitized into clean
	clean    []byte          // sanitized complete lines
	scanned  int             // clean[:scanned] has been fed to sp
	sp       splitter
	bounds   []int // boundaries found in clean but not yet rendered

	doneEnd    int    // clean[:doneEnd] is rendered into done
	done       joiner // rendered finished pieces
	dirty      bool   // text arrived since the last render
	view       string // last rendered view
	viewBlocks int    // code blocks numbered in view
}

// NewStream returns a Stream that renders with r, numbering code blocks from
// firstBlock.
func NewStream(r *Renderer, firstBlock int) *Stream {
	return &Stream{r: r, first: firstBlock}
}

// Append adds a delta of raw (unsanitized) text. It costs O(len(delta)) and
// never renders.
func (s *Stream) Append(delta string) {
	if delta == "" {
		return
	}
	s.raw.WriteString(delta)
	s.dirty = true
}

// Source returns the raw text appended so far.
func (s *Stream) Source() string { return s.raw.String() }

// Dirty reports whether text arrived since the last View or Finish.
func (s *Stream) Dirty() bool { return s.dirty }

// Blocks returns how many code blocks the current view numbered.
func (s *Stream) Blocks() int { return s.viewBlocks }

// advance sanitizes the complete lines appended since the last call, feeds
// them to the splitter and records the boundaries found.
func (s *Stream) advance() {
	raw := s.raw.String()
	if nl := strings.LastIndexByte(raw[s.rawClean:], '\n'); nl >= 0 {
		end := s.rawClean + nl + 1
		s.clean = append(s.clean, sanitize.Text(raw[s.rawClean:end])...)
		s.rawClean = end
	}
	for s.scanned < len(s.clean) {
		nl := bytes.IndexByte(s.clean[s.scanned:], '\n')
		end := s.scanned + nl
		if s.sp.line(string(s.clean[s.scanned:end])) {
			s.bounds = append(s.bounds, s.scanned)
		}
		s.scanned = end + 1
	}
}

// renderDone renders the finished pieces up to the recorded boundaries.
func (s *Stream) renderDone() {
	for _, b := range s.bounds {
		out, n := s.r.renderPiece(string(s.clean[s.doneEnd:b]), s.first+s.done.blocks)
		s.done.add(out, n)
		s.doneEnd = b
	}
	s.bounds = s.bounds[:0]
}

// View returns the rendered message. It renders only if text arrived since
// the last call: finished pieces once, and the open tail; otherwise it
// returns the cached string.
func (s *Stream) View() string {
	if !s.dirty {
		return s.view
	}
	s.dirty = false
	s.advance()
	partial := sanitize.Text(s.raw.String()[s.rawClean:])
	if s.sp.refDefs {
		s.dropPieces()
		s.view, s.viewBlocks = s.r.renderPiece(string(s.clean)+partial, s.first)
		return s.view
	}
	s.renderDone()
	tail := string(s.clean[s.doneEnd:]) + partial
	out, n := s.r.renderPiece(tail, s.first+s.done.blocks)
	s.view, s.viewBlocks = s.compose(out, n)
	return s.view
}

// compose joins the finished pieces and a rendered tail.
func (s *Stream) compose(tail string, n int) (string, int) {
	d := s.done.b.String()
	switch {
	case tail == "":
		return d, s.done.blocks + n
	case d == "":
		return tail, s.done.blocks + n
	}
	return d + "\n\n" + tail, s.done.blocks + n
}

// Finish renders the rest of the message; afterwards View returns exactly
// r.Render(Source(), firstBlock) until more text is appended. Finished
// pieces are reused, so this costs a render of the open tail only.
func (s *Stream) Finish() string {
	s.dirty = false
	s.advance()
	partial := sanitize.Text(s.raw.String()[s.rawClean:])
	// The final line is complete now; feed it to a copy of the splitter so
	// that more text may still be appended afterwards.
	sp := s.sp
	if partial != "" && sp.line(partial) {
		s.bounds = append(s.bounds, len(s.clean))
	}
	if sp.refDefs {
		s.dropPieces()
		s.view, s.viewBlocks = s.r.renderPiece(string(s.clean)+partial, s.first)
		return s.view
	}
	// A boundary at len(clean) belongs to the partial line only; render
	// pieces up to it without caching it.
	last := -1
	if n := len(s.bounds); n > 0 && s.bounds[n-1] == len(s.clean) && partial != "" {
		last = s.bounds[n-1]
		s.bounds = s.bounds[:n-1]
	}
	s.renderDone()
	if last >= 0 {
		// The partial line's pieces are not cached.
		var b joiner
		b.b.WriteString(s.done.b.String())
		b.blocks = s.done.blocks
		out, n := s.r.renderPiece(string(s.clean[s.doneEnd:]), s.first+b.blocks)
		b.add(out, n)
		out, n = s.r.renderPiece(partial, s.first+b.blocks)
		b.add(out, n)
		s.view, s.viewBlocks = b.b.String(), b.blocks
		return s.view
	}
	out, n := s.r.renderPiece(string(s.clean[s.doneEnd:])+partial, s.first+s.done.blocks)
	s.view, s.viewBlocks = s.compose(out, n)
	return s.view
}

// dropPieces forgets the rendered finished pieces: a link reference
// definition was seen, so the message is rendered unsplit from now on.
func (s *Stream) dropPieces() {
	s.doneEnd = 0
	s.done = joiner{}
	s.bounds = s.bounds[:0]
}

// SetRenderer switches to another renderer (width or theme change): cached
// pieces are dropped and the next View re-renders everything.
func (s *Stream) SetRenderer(r *Renderer) {
	s.r = r
	s.dropPieces()
	// Re-derive the boundaries of the text scanned so far.
	s.sp = splitter{}
	s.scanned = 0
	s.dirty = true
}
