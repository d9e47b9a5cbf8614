package markdown

import "strings"

// Stream renders one message while it streams in. It is not safe for
// concurrent use; the TUI calls Append when deltas arrive and View when a
// frame is drawn.
type Stream struct {
	r        *Renderer
	first    int
	src      strings.Builder
	dirty    bool
	view     string
	finished bool
}

// NewStream returns a Stream that renders with r, numbering code blocks from
// firstBlock.
func NewStream(r *Renderer, firstBlock int) *Stream {
	return &Stream{r: r, first: firstBlock}
}

// Append adds a delta of raw (unsanitized) text. It never renders.
func (s *Stream) Append(delta string) {
	if delta == "" {
		return
	}
	s.src.WriteString(delta)
	s.dirty = true
	s.finished = false
}

// Source returns the raw text appended so far.
func (s *Stream) Source() string { return s.src.String() }

// Dirty reports whether View would render.
func (s *Stream) Dirty() bool { return s.dirty }

// View returns the rendered message, rendering only if text arrived since the
// last call.
func (s *Stream) View() string {
	if s.dirty {
		s.view, _ = s.r.Render(s.src.String(), s.first)
		s.dirty = false
	}
	return s.view
}

// Finish renders the whole message once; afterwards View returns exactly
// r.Render(Source(), firstBlock) until more text is appended.
func (s *Stream) Finish() string {
	s.view, _ = s.r.Render(s.src.String(), s.first)
	s.dirty = false
	s.finished = true
	return s.view
}

// SetRenderer switches to another renderer (width or theme change); the
// next View re-renders.
func (s *Stream) SetRenderer(r *Renderer) {
	s.r = r
	s.dirty = true
}
