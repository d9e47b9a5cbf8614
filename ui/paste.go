package ui

import (
	"fmt"
	"strings"
)

// Long pastes are not put in the prompt editor as text: the editor holds
// a short token such as "[pasted #1 · 2,000 lines · 61 KB]" in their
// place, and the text goes in when the prompt is sent. The transcript
// shows the prompt folded the same way (alt+p unfolds it). This keeps the
// prompt being written readable around the paste, and it keeps the
// editor fast: the textarea re-lays out all its text on every key (about
// 60 µs of CPU per line), so the text it holds is bounded.
const (
	// foldLines: a paste of more lines than this is folded.
	foldLines = 20
	// foldBytes: a paste of more bytes than this is folded, however few
	// its lines (a minified file is one line).
	foldBytes = 4 << 10
	// maxInlineLines and maxInlineBytes bound the text the editor holds:
	// a paste, or a text back from $EDITOR, that would take it past
	// either is folded whatever its size, so no sequence of pastes makes
	// a keystroke slow.
	maxInlineLines = 100
	maxInlineBytes = 8 << 10
)

// attachment is a folded paste: the token that stands for it in the
// editor, and its text.
type attachment struct {
	token string
	text  string
}

// newAttachment folds text as number n of its kind ("pasted", "edited").
func newAttachment(kind string, n int, text string) attachment {
	return attachment{token: fmt.Sprintf("[%s #%d · %s]", kind, n, sizeText(text)), text: text}
}

// sizeText describes a text's size as "2,000 lines · 61 KB".
func sizeText(s string) string {
	lines := lineCount(s)
	unit := "lines"
	if lines == 1 {
		unit = "line"
	}
	return fmt.Sprintf("%s %s · %s", groupDigits(lines), unit, byteSize(len(s)))
}

// lineCount is the number of lines of s; a final newline ends the last
// line rather than starting one.
func lineCount(s string) int {
	n := strings.Count(s, "\n")
	if !strings.HasSuffix(s, "\n") {
		n++
	}
	return n
}

// byteSize formats a byte count as "512 B", "61 KB" or "5.2 MB".
func byteSize(n int) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%d KB", (n+512)>>10)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
}

// groupDigits writes n with thousands separators: 2,000.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// normalizeNewlines turns CRLF and lone CR line ends (what terminals
// deliver in a paste) into "\n".
func normalizeNewlines(s string) string {
	if strings.IndexByte(s, '\r') < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// shouldFold reports whether a paste of text into an editor already
// holding inline is folded.
func shouldFold(text, inline string) bool {
	if len(text) > foldBytes || lineCount(text) > foldLines {
		return true
	}
	return tooLong(inline + text)
}

// tooLong reports whether s is more than the editor holds inline.
func tooLong(s string) bool {
	return len(s) > maxInlineBytes || strings.Count(s, "\n") >= maxInlineLines
}

// expand replaces the tokens of the attachments in s by their text, in
// one pass (a pasted text that happens to hold a token stays as it is).
// Attachments whose token is no longer in s (deleted in the editor) are
// left out.
func expand(s string, atts []attachment) string {
	if len(atts) == 0 {
		return s
	}
	pairs := make([]string, 0, 2*len(atts))
	for _, a := range atts {
		pairs = append(pairs, a.token, a.text)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// used returns the attachments whose token is in s.
func used(s string, atts []attachment) []attachment {
	var out []attachment
	for _, a := range atts {
		if strings.Contains(s, a.token) {
			out = append(out, a)
		}
	}
	return out
}

// Bounds on a pasted prompt shown unfolded in the transcript: the rest is
// summed up in one line (the whole text was sent, and stays in the
// conversation).
const (
	maxUnfoldedLines = 1000
	maxUnfoldedBytes = 128 << 10
)

// foldedPrompt is a prompt the transcript shows with its long pastes
// folded into tokens, and unfolded on demand (alt+p).
type foldedPrompt struct {
	shown string // with tokens
	sent  string // as sent
	open  bool
}

// view is the prompt's text as the transcript shows it now.
func (f *foldedPrompt) view() string {
	if !f.open {
		return f.shown
	}
	s := f.sent
	cut := len(s)
	if cut > maxUnfoldedBytes {
		cut = maxUnfoldedBytes
	}
	if i := nthIndex(s[:cut], '\n', maxUnfoldedLines); i >= 0 {
		cut = i
	}
	if cut == len(s) {
		return s
	}
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "\n… " + sizeText(s[cut:]) + " more, not shown (sent in full)"
}

// nthIndex is the index of the nth occurrence of c in s, or -1.
func nthIndex(s string, c byte, n int) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			if n--; n == 0 {
				return i
			}
		}
	}
	return -1
}

// togglePaste unfolds or folds the last prompt with folded pastes and
// brings it into view. It reports whether there was one.
func (p *Pane) togglePaste(rc renderCtx) bool {
	for i := len(p.items) - 1; i >= 0; i-- {
		it := p.items[i]
		if it.kind != kindUser || it.fold == nil {
			continue
		}
		it.fold.open = !it.fold.open
		it.text = it.fold.view()
		it.invalidate()
		p.reveal(i, rc)
		return true
	}
	return false
}
