package markdown

import "strings"

// splitter finds piece boundaries in sanitized markdown, one complete line at
// a time. A boundary is the start of a line that certainly begins a new
// top-level block group: the line follows a blank line, starts in column 0,
// is outside any open fenced code block or multi-line HTML block, and cannot
// continue the previous group (another item of a list, a definition of a
// definition list). Lines before and after a boundary never belong to the
// same top-level block, so the pieces between boundaries can be rendered
// independently and joined by a blank line.
//
// Render splits a document into such pieces and a Stream renders every
// finished piece exactly once, so a streamed message and a full render agree
// by construction. The test is conservative: a line that might continue the
// previous block is never a boundary; a document with a link reference
// definition (which can affect any earlier block) is not split at all.
//
// The zero value is ready to use and is a plain value, so a copy snapshots
// the state.
type splitter struct {
	started   bool   // a non-blank line has been seen
	prevBlank bool   // the previous line was blank
	inFence   bool   // inside a fenced code block
	fenceCh   byte   // '`' or '~'
	fenceN    int    // length of the opening fence
	fenceInd  int    // indentation of the opening fence
	htmlEnd   string // end marker of an open HTML block (types 1–5), "" if none
	list      bool   // the current group contains a list
	refDefs   bool   // a link reference definition was seen: do not split
}

// line processes one complete line (without its newline) and reports whether
// a new piece starts at it.
func (s *splitter) line(l string) bool {
	if s.inFence {
		ind, t := indentOf(l)
		if ind-s.fenceInd < 4 && isClosingFence(t, s.fenceCh, s.fenceN) {
			s.inFence = false
		}
		return false
	}
	if s.htmlEnd != "" {
		if containsFold(l, s.htmlEnd) {
			s.htmlEnd = ""
		}
		return false
	}
	ind, t := indentOf(l)
	if t == "" {
		if s.started {
			s.prevBlank = true
		}
		return false
	}
	boundary := s.started && s.prevBlank && ind == 0 && !s.continues(t)
	s.prevBlank = false
	s.started = true
	if boundary {
		s.list = false
	}
	if ind <= 3 && isRefDef(t) {
		s.refDefs = true
	}
	if isListMarker(t) {
		s.list = true
	}
	if ch, n, ok := openingFence(t); ok {
		s.inFence, s.fenceCh, s.fenceN, s.fenceInd = true, ch, n, ind
		return boundary
	}
	if end, rest := htmlStart(t); end != "" && !containsFold(rest, end) {
		s.htmlEnd = end
	}
	return boundary
}

// boundaryAt reports whether a line that starts with partial (the beginning
// of a line still being written, not blank) will certainly be a boundary:
// the first character is enough unless the group is a list and the line may
// be another item. It never reports a boundary that line would not.
func (s *splitter) boundaryAt(partial string) bool {
	if partial == "" || s.inFence || s.htmlEnd != "" || !s.started || !s.prevBlank {
		return false
	}
	switch c := partial[0]; {
	case c == ' ' || c == '\t' || c == ':':
		return false
	case s.list && (c == '-' || c == '+' || c == '*' || c >= '0' && c <= '9'):
		return false
	}
	return true
}

// continues reports whether a column-0 line after a blank line may still
// belong to the current group.
func (s *splitter) continues(t string) bool {
	switch {
	case s.list && isListMarker(t):
		return true // another item of the same (loose) list
	case t[0] == ':':
		return true // a definition after its term
	}
	return false
}

// indentOf returns the indentation width (tabs to multiples of 4) and the
// rest of the line; the rest is "" for a blank line.
func indentOf(l string) (int, string) {
	w := 0
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case ' ':
			w++
		case '\t':
			w += 4 - w%4
		default:
			return w, strings.TrimRight(l[i:], " \t")
		}
	}
	return w, ""
}

// openingFence reports whether t (without indentation) opens a fenced code
// block, and with which character and length.
func openingFence(t string) (byte, int, bool) {
	if len(t) < 3 || (t[0] != '`' && t[0] != '~') {
		return 0, 0, false
	}
	ch := t[0]
	n := 0
	for n < len(t) && t[n] == ch {
		n++
	}
	if n < 3 {
		return 0, 0, false
	}
	if ch == '`' && strings.IndexByte(t[n:], '`') >= 0 {
		return 0, 0, false
	}
	return ch, n, true
}

// isClosingFence reports whether t closes a fence of ch repeated n times.
func isClosingFence(t string, ch byte, n int) bool {
	i := 0
	for i < len(t) && t[i] == ch {
		i++
	}
	return i >= n && strings.TrimRight(t[i:], " \t") == ""
}

// isListMarker reports whether t starts with a bullet or ordered list marker.
func isListMarker(t string) bool {
	switch t[0] {
	case '-', '+', '*':
		return len(t) == 1 || t[1] == ' ' || t[1] == '\t'
	}
	i := 0
	for i < len(t) && i < 10 && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	if i == 0 || i > 9 || i >= len(t) || (t[i] != '.' && t[i] != ')') {
		return false
	}
	return i+1 == len(t) || t[i+1] == ' ' || t[i+1] == '\t'
}

// isRefDef reports whether t looks like a link reference definition
// ("[label]: destination"), conservatively.
func isRefDef(t string) bool {
	if t[0] != '[' {
		return false
	}
	i := strings.Index(t, "]:")
	return i > 1
}

// htmlStart returns the end marker of an HTML block of CommonMark types 1–5
// starting at t (those may contain blank lines), and the text after the
// opener in which the end marker may already occur.
func htmlStart(t string) (end, rest string) {
	if t[0] != '<' {
		return "", ""
	}
	switch {
	case strings.HasPrefix(t, "<!--"):
		return "-->", t[4:]
	case strings.HasPrefix(t, "<?"):
		return "?>", t[2:]
	case strings.HasPrefix(t, "<![CDATA["):
		return "]]>", t[9:]
	case len(t) > 2 && t[1] == '!' && isASCIILetter(t[2]):
		return ">", t[2:]
	}
	for _, tag := range [...]string{"script", "pre", "style", "textarea"} {
		if len(t) > len(tag) && strings.EqualFold(t[1:1+len(tag)], tag) {
			if len(t) == 1+len(tag) {
				return "</" + tag + ">", ""
			}
			if c := t[1+len(tag)]; c == ' ' || c == '\t' || c == '>' {
				return "</" + tag + ">", t[1+len(tag):]
			}
		}
	}
	return "", ""
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// containsFold reports whether s contains the ASCII marker sub, ignoring case.
func containsFold(s, sub string) bool {
	if strings.Contains(s, sub) {
		return true
	}
	n := len(sub)
	for i := 0; i+n <= len(s); i++ {
		if strings.EqualFold(s[i:i+n], sub) {
			return true
		}
	}
	return false
}

// boundaries feeds every line of a whole document to sp, treating a final
// line without newline as complete, and returns the offsets at which pieces
// start (other than 0).
func boundaries(md string, sp *splitter) []int {
	var b []int
	off := 0
	for off < len(md) {
		nl := strings.IndexByte(md[off:], '\n')
		end := len(md)
		if nl >= 0 {
			end = off + nl
		}
		if sp.line(md[off:end]) {
			b = append(b, off)
		}
		off = end + 1
	}
	return b
}
