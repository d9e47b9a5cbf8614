package sanitize

import "unicode/utf8"

// Removed reports what Text does with the input at byte i of s when it
// reaches i between two characters it keeps: n is the number of bytes it
// removes there (a whole escape sequence with its payload, a control
// character, a bidi override), or 0 when the character at i is kept (an
// invalid byte is kept, as U+FFFD). complete is false when the removed
// unit runs to the end of s and more input could extend it (an escape
// sequence still missing its final byte or terminator): text that is
// filtered piece by piece must then wait for the next piece. Callers that
// need to know which characters of untrusted text end up side by side on
// the screen (to find a secret split by escape sequences, say) walk s with
// it.
func Removed(s string, i int) (n int, complete bool) {
	c := s[i]
	switch {
	case c >= 0x20 && c < 0x7f, c == '\n', c == '\t':
		return 0, true
	case c == 0x1b:
		end := skipEscape(s, i+1)
		return end - i, end < len(s) || escapeEnded(s, i+1, end)
	case c < utf8.RuneSelf:
		return 1, true
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	switch {
	case r == utf8.RuneError && size == 1:
		return 0, true
	case r == 0x9b:
		end := skipCSI(s, i+size)
		return end - i, end < len(s) || end > i+size && isFinal(s[end-1])
	case r == 0x9d, r == 0x90, r == 0x98, r == 0x9e, r == 0x9f:
		end := skipString(s, i+size, r == 0x9d)
		return end - i, end < len(s) || stringEnded(s, i+size, end, r == 0x9d)
	case dropRune(r):
		return size, true
	}
	return 0, true
}

// escapeEnded reports whether the sequence whose ESC ends just before i
// and which skipEscape ended at end == len(s) is complete all the same.
func escapeEnded(s string, i, end int) bool {
	if i >= len(s) {
		return false // a lone ESC: the next byte decides
	}
	switch c := s[i]; {
	case c == '[':
		return end > i+1 && isFinal(s[end-1])
	case c == ']':
		return stringEnded(s, i+1, end, true)
	case c == 'P' || c == 'X' || c == '^' || c == '_':
		return stringEnded(s, i+1, end, false)
	case c >= 0x20 && c <= 0x2f:
		return s[end-1] >= 0x30 && s[end-1] <= 0x7e
	}
	return true
}

// isFinal reports a CSI final byte.
func isFinal(c byte) bool { return c >= 0x40 && c <= 0x7e }

// stringEnded reports whether a string sequence whose payload starts at i
// and which skipString ended at end == len(s) met its terminator.
func stringEnded(s string, i, end int, bel bool) bool {
	if end <= i {
		return false
	}
	switch {
	case bel && s[end-1] == 0x07:
		return true
	case end-i >= 2 && s[end-2] == 0x1b && s[end-1] == '\\':
		return true
	case end-i >= 2 && s[end-2] == 0xc2 && s[end-1] == 0x9c:
		return true
	}
	return false
}
