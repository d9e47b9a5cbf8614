package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// project rebuilds Text from Removed alone: every byte Removed keeps, an
// invalid byte as U+FFFD. It must agree with Text on every input.
func project(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if n, _ := Removed(s, i); n > 0 {
			i += n
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString("\uFFFD")
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func TestRemovedAgreesWithText(t *testing.T) {
	for _, in := range []string{
		"a\x1b[31mb", "\x1b]0;t\x07x", "a\u202eb", "a\x00b\x07c", "a\u009b31mb", "a\u009d0;t\u009cb",
		"a\x1bPq\x1b\\b", "a\x1b(Bb", "a\xffb", "a\x1b", "a\x1b[", "a\x1b]52;c;AAAA",
	} {
		if got, want := project(in), Text(in); got != want {
			t.Errorf("%q: Removed keeps %q, Text %q", in, got, want)
		}
	}
}

func TestRemovedComplete(t *testing.T) {
	tests := []struct {
		in       string
		n        int
		complete bool
	}{
		{"x", 0, true},
		{"\x00", 1, true},
		{"\x1b", 1, false},
		{"\x1b[", 2, false},
		{"\x1b[31", 4, false},
		{"\x1b[31m", 5, true},
		{"\x1b[31mx", 5, true},
		{"\x1b]0;title", 9, false},
		{"\x1b]0;title\x07", 10, true},
		{"\x1b]0;title\x1b\\", 11, true},
		{"\x1b]0;t\x1b", 6, false},
		{"\x1bPdata\x07", 7, false}, // BEL does not end a DCS
		{"\x1b(", 2, false},
		{"\x1b(B", 3, true},
		{"\x1b7", 2, true},
		{"\u009b", 2, false},
		{"\u009b1m", 4, true},
		{"\u009dx", 3, false},
		{"\u009dx\u009c", 5, true},
		{"\u202e", 3, true},
	}
	for _, tt := range tests {
		n, complete := Removed(tt.in, 0)
		if n != tt.n || complete != tt.complete {
			t.Errorf("Removed(%q) = %d, %v; want %d, %v", tt.in, n, complete, tt.n, tt.complete)
		}
	}
}

// FuzzRemoved: walking with Removed gives Text, and a unit Removed calls
// complete stays the same whatever follows it.
func FuzzRemoved(f *testing.F) {
	for _, s := range []string{"a\x1b[31mb", "\x1b]0;t\x07", "\x1b", "\u009dx\u009c", "a\u202eb\x1bP\x1b\\"} {
		f.Add(s, "more")
	}
	f.Fuzz(func(t *testing.T, s, more string) {
		if got, want := project(s), Text(s); got != want {
			t.Fatalf("%q: Removed keeps %q, Text %q", s, got, want)
		}
		for i := 0; i < len(s); {
			n, complete := Removed(s, i)
			if n == 0 {
				_, size := utf8.DecodeRuneInString(s[i:])
				i += size
				continue
			}
			if complete {
				if n2, _ := Removed(s+more, i); n2 != n {
					t.Fatalf("%q at %d: complete unit of %d bytes becomes %d with %q after it", s, i, n, n2, more)
				}
			}
			i += n
		}
	})
}
