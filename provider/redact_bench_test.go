package provider

import (
	"strings"
	"testing"
)

// BenchmarkGuard streams an ordinary answer (markdown prose with the odd
// escape sequence, no key) through the guard in 64-byte deltas, as
// gateways send it.
func BenchmarkGuard(b *testing.B) {
	tr := NewTransport(Options{APIKey: "sk-proj-Q7x2Lm9Tz4Kp8Wn3AbCdEf"})
	para := "Some **markdown** text, with `code`, 100% & <b>tags</b>, \x1b[1mbold\x1b[0m and a few words that start with s or k. "
	text := strings.Repeat(para, 1<<20/len(para))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		emit := tr.Guard(func(Event) {})
		for i := 0; i < len(text); i += 64 {
			emit(TextDelta{Text: text[i:min(i+64, len(text))]})
		}
		emit(Done{})
	}
}
