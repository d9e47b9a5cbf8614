package sanitize

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "hello, world", "hello, world"},
		{"newline and tab kept", "a\n\tb\n", "a\n\tb\n"},
		{"unicode kept", "naïve 日本語 🙂 \u200d", "naïve 日本語 🙂 \u200d"},
		{"sgr", "\x1b[31mred\x1b[0m", "red"},
		{"csi private", "\x1b[?1049hX\x1b[?25l", "X"},
		{"csi intermediate", "a\x1b[1 qb", "ab"},
		{"csi cursor home and clear", "\x1b[H\x1b[2Jx", "x"},
		{"osc title bel", "\x1b]0;pwned\x07after", "after"},
		{"osc title st", "\x1b]2;pwned\x1b\\after", "after"},
		{"osc 52 clipboard", "a\x1b]52;c;cm0gLXJmIH4=\x07b", "ab"},
		{"osc 8 hyperlink", "\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"},
		{"dcs", "a\x1bPq#0;2;0;0;0\x1b\\b", "ab"},
		{"apc", "a\x1b_Gf=100;AAAA\x1b\\b", "ab"},
		{"pm", "a\x1b^secret\x1b\\b", "ab"},
		{"sos", "a\x1bXsecret\x1b\\b", "ab"},
		{"dcs does not end at bel", "a\x1bPx\x07y\x1b\\b", "ab"},
		{"unterminated osc ends at newline", "a\x1b]0;title\nnext line", "a\nnext line"},
		{"unterminated osc at end", "a\x1b]52;c;AAAA", "a"},
		{"two byte", "a\x1b7b\x1b8c\x1bcd\x1bMe", "abcde"},
		{"charset designation", "a\x1b(Bb\x1b#8c", "abc"},
		{"lone esc at end", "a\x1b", "a"},
		{"esc before newline", "a\x1b\nb", "a\nb"},
		{"csi aborted by newline", "a\x1b[12\nm", "a\nm"},
		{"c0 controls", "a\rb\bc\x07d\x00e\x01f\x7fg", "abcdefg"},
		{"crlf", "a\r\nb", "a\nb"},
		{"c1 csi", "a\u009b31mb", "ab"},
		{"c1 osc", "a\u009d0;title\u009cb", "ab"},
		{"c1 osc bel", "a\u009d0;title\x07b", "ab"},
		{"c1 dcs", "a\u0090payload\u009cb", "ab"},
		{"c1 apc", "a\u009fpayload\x1b\\b", "ab"},
		{"other c1", "a\u0085b\u0080c\u009cd", "abcd"},
		{"bidi", "a\u202eevil\u202cb\u2066c\u2069", "aevilbc"},
		{"invalid utf8", "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"raw 8-bit csi byte is invalid utf8", "a\x9b31mb", "a\uFFFD31mb"},
		{"esc then unicode", "a\x1bé", "aé"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.in); got != tt.want {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"gpt-4o", "gpt-4o"},
		{"a\nb\tc", "a b c"},
		{"title\x1b]0;x\x07\r\n", "title "},
		{"\u202egnp.exe", "gnp.exe"},
	}
	for _, tt := range tests {
		if got := Line(tt.in); got != tt.want {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFastPathDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("Plain text with ünïcode, tabs\tand newlines.\n", 100)
	if got := Text(s); got != s {
		t.Fatal("clean text changed")
	}
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Errorf("Text allocated %v times on clean input", n)
	}
	l := "gpt-4o-mini (2024-07-18)"
	if n := testing.AllocsPerRun(100, func() { _ = Line(l) }); n != 0 {
		t.Errorf("Line allocated %v times on clean input", n)
	}
}

// checkClean reports what makes out unsafe, or "" if it is clean.
func checkClean(out string, line bool) string {
	if !utf8.ValidString(out) {
		return "invalid UTF-8"
	}
	for _, r := range out {
		switch {
		case r == '\n' || r == '\t':
			if line {
				return "newline or tab in Line output"
			}
		case r < 0x20 || r == 0x7f:
			return "C0 control or DEL"
		case r >= 0x80 && r <= 0x9f:
			return "C1 control"
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return "bidi override"
		}
	}
	return ""
}

func FuzzText(f *testing.F) {
	for _, s := range []string{
		"", "plain", "\x1b[31mred\x1b[0m", "\x1b]52;c;AAAA\x07", "\x1b]0;t\x1b\\", "\x1bPq\x1b\\",
		"\u009b1m", "\u009d0;x\u009c", "a\u202eb", "\xff\xfe", "a\r\nb\x00", "\x1b", "\x1b[", "\x1b]",
		"x\x1b]8;;u\nrest\n", "\x1b(B\x1b#8\x1b7",
	} {
		f.Add(s, 0)
	}
	f.Fuzz(func(t *testing.T, s string, split int) {
		out := Text(s)
		if why := checkClean(out, false); why != "" {
			t.Fatalf("Text(%q) = %q: %s", s, out, why)
		}
		if again := Text(out); again != out {
			t.Fatalf("not idempotent: Text(%q) = %q, Text of that = %q", s, out, again)
		}
		lo := Line(s)
		if why := checkClean(lo, true); why != "" {
			t.Fatalf("Line(%q) = %q: %s", s, lo, why)
		}
		if Line(lo) != lo {
			t.Fatalf("Line not idempotent on %q", s)
		}
		// Line-locality: sanitizing up to a newline and the rest separately
		// gives the same result as sanitizing the whole.
		if len(s) > 0 {
			if split < 0 {
				split = -split
			}
			i := split % len(s)
			if nl := strings.IndexByte(s[i:], '\n'); nl >= 0 {
				a, b := s[:i+nl+1], s[i+nl+1:]
				if Text(a)+Text(b) != out {
					t.Fatalf("not line-local at %d: %q + %q", i+nl+1, Text(a), Text(b))
				}
			}
		}
	})
}

func BenchmarkTextClean(b *testing.B) {
	s := strings.Repeat("The quick brown fox jumps over the lazy dog. ünïcode\n", 1200)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Text(s)
	}
}

func BenchmarkTextHostile(b *testing.B) {
	s := strings.Repeat("The quick \x1b[31mbrown\x1b[0m fox \x1b]0;x\x07jumps\r\n", 1200)
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Text(s)
	}
}
