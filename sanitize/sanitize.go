// Package sanitize removes everything from untrusted text that could drive a
// terminal: escape sequences, control characters, bidirectional overrides and
// invalid UTF-8. Text from the network passes through it before it is rendered.
//
// The filter is line-local: an escape sequence never extends past a newline.
// String sequences (OSC, DCS, APC, PM, SOS) normally run to their terminator
// (ST, or BEL for OSC) like a terminal would parse them, but an unterminated
// one ends at the next newline instead of swallowing the rest of the text.
// This is a deliberate choice for streaming: a stray introducer in model
// output costs at most the rest of one line rather than the rest of the answer,
// and sanitizing a text line by line gives exactly the same result as
// sanitizing it whole (Text(a+b) == Text(a)+Text(b) whenever a ends in '\n'),
// so streamed text can be sanitized incrementally. Safety does not depend on
// it: whatever survives contains no ESC, no C0 control other than newline and
// tab, and no C1 control, so it is inert text.
package sanitize

import (
	"strings"
	"unicode/utf8"
)

// Text sanitizes multi-line text from the network. It keeps '\n' and '\t' and
// printable text, and removes escape sequences (CSI, OSC, DCS, APC, PM, SOS and
// two-byte ESC sequences, in their 7-bit and 8-bit forms, with their payloads),
// other C0 controls (including '\r', '\b', BEL and NUL), DEL, C1 controls, and
// bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069). Invalid
// UTF-8 bytes become U+FFFD. When nothing needs removing it returns s itself
// without allocating. The result is idempotent: Text(Text(s)) == Text(s).
func Text(s string) string {
	i := firstUnsafe(s, false)
	if i < 0 {
		return s
	}
	return filter(s, i, false)
}

// Line sanitizes a single-line field from the network (a model name, title or
// tool name): like Text, and additionally each '\n' and '\t' becomes a space.
func Line(s string) string {
	i := firstUnsafe(s, true)
	if i < 0 {
		return s
	}
	return filter(s, i, true)
}

// firstUnsafe returns the byte index of the first byte that needs changing,
// or -1 if s can be returned unchanged.
func firstUnsafe(s string, line bool) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != 0x7f {
				i++
				continue
			}
			if (c == '\n' || c == '\t') && !line {
				i++
				continue
			}
			return i
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || dropRune(r) {
			return i
		}
		i += n
	}
	return -1
}

// dropRune reports whether a non-ASCII rune is removed on its own (C1
// controls and bidi overrides). The C1 introducers that start sequences are
// handled before this is consulted.
func dropRune(r rune) bool {
	return r >= 0x80 && r <= 0x9f ||
		r >= 0x202a && r <= 0x202e ||
		r >= 0x2066 && r <= 0x2069
}

func filter(s string, start int, line bool) string {
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:start])
	i := start
	for i < len(s) {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
			i++
			continue
		}
		switch c {
		case '\n', '\t':
			if line {
				b.WriteByte(' ')
			} else {
				b.WriteByte(c)
			}
			i++
			continue
		case 0x1b:
			i = skipEscape(s, i+1)
			continue
		}
		if c < utf8.RuneSelf { // other C0 controls and DEL
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteString("\uFFFD")
			i++
			continue
		}
		switch r {
		case 0x9b: // 8-bit CSI
			i = skipCSI(s, i+n)
			continue
		case 0x9d: // 8-bit OSC
			i = skipString(s, i+n, true)
			continue
		case 0x90, 0x98, 0x9e, 0x9f: // 8-bit DCS, SOS, PM, APC
			i = skipString(s, i+n, false)
			continue
		}
		if !dropRune(r) {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// skipEscape skips the rest of a sequence whose ESC has been consumed; i is
// the index just after the ESC. It returns the index of the first byte after
// the sequence. A byte that cannot continue the sequence ends it and is then
// processed as ordinary input.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch c := s[i]; {
	case c == '[':
		return skipCSI(s, i+1)
	case c == ']':
		return skipString(s, i+1, true)
	case c == 'P' || c == 'X' || c == '^' || c == '_':
		return skipString(s, i+1, false)
	case c >= 0x20 && c <= 0x2f: // intermediates, then a final byte
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
			i++
		}
		return i
	case c >= 0x30 && c <= 0x7e: // two-byte sequence such as ESC 7 or ESC c
		return i + 1
	default: // lone ESC
		return i
	}
}

// skipCSI skips parameter and intermediate bytes and the final byte of a
// control sequence whose introducer has been consumed.
func skipCSI(s string, i int) int {
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
		i++
	}
	if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipString skips the payload of a string sequence up to and including its
// terminator: ESC \ or the 8-bit ST (U+009C), or BEL when bel is set (OSC).
// A newline ends the string too and is kept; see the package comment.
func skipString(s string, i int, bel bool) int {
	for i < len(s) {
		switch c := s[i]; c {
		case '\n':
			return i
		case 0x07:
			if bel {
				return i + 1
			}
		case 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
		case 0xc2:
			if i+1 < len(s) && s[i+1] == 0x9c {
				return i + 2
			}
		}
		i++
	}
	return i
}
