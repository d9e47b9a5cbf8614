package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parley-chat/parley/sanitize"
)

// TestRedactWriterAfterSanitizing: print mode's writer catches the key in
// the forms the events' guard does, also when a write cuts it, so what a
// terminal shows (sanitized) or a later reader decodes never has it.
func TestRedactWriterAfterSanitizing(t *testing.T) {
	const secret = "sk-abcdef123456"
	for _, in := range []string{
		"key sk-abc\x1b[0mdef123456 end",
		"key sk-abc\x00def\a123456 end",
		"key sk-abc\u202edef123456 end",
		"key SK-ABCDEF123456 end",
		"key c2stYWJjZGVmMTIzNDU2 end",
		"key sk%2Dabcdef123456 end",
	} {
		for cut := 0; cut <= len(in); cut++ {
			var out bytes.Buffer
			w := newRedactWriter(&out, secret)
			w.Write([]byte(in[:cut]))
			w.Write([]byte(in[cut:]))
			w.Flush()
			got := out.String()
			if strings.Contains(strings.ToLower(sanitize.Text(got)), secret) || strings.Contains(got, "c2stYWJjZGVmMTIzNDU2") {
				t.Fatalf("%q cut at %d: %q", in, cut, got)
			}
			if !strings.HasPrefix(got, "key [redacted]") || !strings.HasSuffix(got, " end") {
				t.Fatalf("%q cut at %d: %q", in, cut, got)
			}
		}
	}
}
