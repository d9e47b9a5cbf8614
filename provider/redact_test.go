package provider

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/parley-chat/parley/sanitize"
)

func TestGuardRedactsEverywhere(t *testing.T) {
	const key = "sk-test-SECRET-123456"
	tr := NewTransport(Options{APIKey: key})
	var got []Event
	emit := tr.Guard(func(ev Event) { got = append(got, ev) })
	emit(TextDelta{Text: "your key is sk-test-SE"})
	emit(TextDelta{Text: "CRET-123456 ok, and s"}) // "s" could begin the key: held
	emit(ReasoningDelta{Text: "thinking about " + key})
	emit(TextDelta{Text: "o on"})
	emit(ToolCallEvent{ToolCall: ToolCall{ID: "c", Name: "f", Arguments: `{"k":"` + key + `"}`, Opaque: "sig" + key}})
	emit(Retry{Message: "bad key " + key})
	emit(Error{Err: &APIError{Kind: KindStream, Message: "key " + key + " was revoked"}})

	var text, reasoning strings.Builder
	for _, ev := range got {
		b, _ := MarshalEvent(ev)
		if strings.Contains(string(b), key) || strings.Contains(string(b), "SECRET") {
			t.Fatalf("key fragment in %s", b)
		}
		switch e := ev.(type) {
		case TextDelta:
			text.WriteString(e.Text)
		case ReasoningDelta:
			reasoning.WriteString(e.Text)
		}
	}
	if text.String() != "your key is [redacted] ok, and so on" {
		t.Errorf("text = %q", text.String())
	}
	if reasoning.String() != "thinking about [redacted]" {
		t.Errorf("reasoning = %q", reasoning.String())
	}
	// Order is kept: the held "s" comes out before the reasoning.
	if d, ok := got[2].(TextDelta); !ok || d.Text != "s" {
		t.Errorf("event 2 = %#v, want the held tail", got[2])
	}
	if _, ok := got[len(got)-1].(Error); !ok {
		t.Errorf("last event %#v", got[len(got)-1])
	}
}

func TestGuardHeldTailReleasedAtEnd(t *testing.T) {
	tr := NewTransport(Options{APIKey: "sk-abcdef"})
	var text string
	emit := tr.Guard(func(ev Event) {
		if d, ok := ev.(TextDelta); ok {
			text += d.Text
		}
	})
	emit(TextDelta{Text: "ends with sk-ab"})
	emit(Done{FinishReason: "stop"})
	if text != "ends with sk-ab" {
		t.Fatalf("text = %q: a held tail must come out before Done", text)
	}
}

// keyForms are ways a gateway's echo can carry the key to the screen.
func keyForms(key string) map[string]string {
	pct := ""
	for i := 0; i < len(key); i++ {
		pct += fmt.Sprintf("%%%02X", key[i])
	}
	half := len(key) / 2
	return map[string]string{
		"plain":               key,
		"upper case":          strings.ToUpper(key),
		"split by SGR reset":  key[:half] + "\x1b[0m" + key[half:],
		"split by NUL":        key[:half] + "\x00" + key[half:],
		"split by BEL":        key[:3] + "\a" + key[3:half] + "\a" + key[half:],
		"split by RLO":        key[:half] + "\u202e" + key[half:],
		"split by OSC title":  key[:half] + "\x1b]0;x\x07" + key[half:],
		"split by CR":         key[:half] + "\r" + key[half:],
		"split by C1 CSI":     key[:half] + "\u009b1m" + key[half:],
		"split by emphasis":   key[:half] + "**" + key[half:half+2] + "**" + key[half+2:],
		"split by html":       key[:half] + "<b>" + key[half:] + "</b>",
		"split by comment":    key[:half] + "<!-- x -->" + key[half:],
		"backslash escape":    key[:2] + `\` + key[2:],
		"zero-width space":    key[:half] + "\u200b" + key[half:],
		"percent-encoded":     pct,
		"partly percent":      key[:2] + "%2d" + key[3:],
		"html entities":       "&#115;&#x6B;" + key[2:],
		"json escapes":        `\u0073\u006b` + key[2:],
		"base64":              base64.StdEncoding.EncodeToString([]byte(key)),
		"base64 url raw":      base64.RawURLEncoding.EncodeToString([]byte(key)),
		"base64 offset 1":     base64.StdEncoding.EncodeToString([]byte("x" + key + "y")),
		"base64 offset 2":     base64.StdEncoding.EncodeToString([]byte("Bearer: " + key)),
		"base64 in header":    base64.StdEncoding.EncodeToString([]byte("Authorization: Bearer " + key + "\r\n")),
		"mixed case and junk": strings.ToUpper(key[:half]) + "\x1b[1m" + key[half:],
	}
}

// shown is what a screen (or a copy of the answer) shows of s after the
// sanitizer and the markdown renderer, roughly: the independent oracle
// of the tests below.
func shown(s string) string {
	s = sanitize.Text(s)
	s = regexp.MustCompile(`<!--.*?-->|<[^<>]*>|[*_~\\\x{200b}]`).ReplaceAllString(s, "")
	return strings.ToLower(s)
}

func leaks(s, key string) bool {
	if strings.Contains(shown(s), strings.ToLower(strings.NewReplacer("_", "", "*", "", "~", "").Replace(key))) {
		return true
	}
	for _, form := range []string{base64.StdEncoding.EncodeToString([]byte(key)), base64.RawURLEncoding.EncodeToString([]byte(key))} {
		if strings.Contains(sanitize.Text(s), form[:len(form)-4]) {
			return true
		}
	}
	return false
}

func TestRedactorForms(t *testing.T) {
	const key = "sk-proj-Q7x2Lm9Tz4Kp8Wn3"
	r := NewRedactor(key)
	for name, form := range keyForms(key) {
		in := "before " + form + " after"
		got := r.Clean(in)
		if strings.Contains(shown(got), strings.ToLower(key)) || !strings.Contains(got, "[redacted]") {
			t.Errorf("%s: %q → %q", name, in, got)
		}
		if !strings.HasPrefix(got, "before ") || !strings.HasSuffix(got, " after") && !strings.HasPrefix(name, "base64") {
			t.Errorf("%s: surrounding text lost: %q", name, got)
		}
	}
	// Ordinary text near the key is left alone.
	for _, s := range []string{"sk-proj-Q7x2Lm9Tz4Kp8Wn", "the sk- prefix", "100% & more \\ <b>bold</b> *a*", "c2stcHJvag=="} {
		if got := r.Clean(s); got != s {
			t.Errorf("%q changed to %q", s, got)
		}
	}
	if NewRedactor("abc") != nil || NewRedactor("abc").Clean("abc") != "abc" {
		t.Error("a three-letter key is redacted")
	}
}

// TestGuardKeySplitEveryWay: the key reaches no consumer however a gateway
// cuts it: across deltas, between reasoning and answer, with escape
// sequences the sanitizer later removes, in every form of keyForms, with
// other events between its pieces.
func TestGuardKeySplitEveryWay(t *testing.T) {
	const key = "sk-proj-Q7x2Lm9Tz4Kp8Wn3"
	tr := NewTransport(Options{APIKey: key})
	for name, form := range keyForms(key) {
		for cut := 0; cut <= len(form); cut++ {
			for _, kinds := range [][2]bool{{false, false}, {true, false}, {false, true}} {
				var text, reasoning, all strings.Builder
				var events []Event
				emit := tr.Guard(func(ev Event) {
					events = append(events, ev)
					switch e := ev.(type) {
					case TextDelta:
						text.WriteString(e.Text)
						all.WriteString(e.Text)
					case ReasoningDelta:
						reasoning.WriteString(e.Text)
						all.WriteString(e.Text)
					}
				})
				delta := func(reason bool, s string) Event {
					if reason {
						return ReasoningDelta{Text: s}
					}
					return TextDelta{Text: s}
				}
				emit(delta(kinds[0], "a "+form[:cut]))
				emit(Source{URL: "https://example.com"})
				emit(delta(kinds[1], form[cut:]+" b"))
				emit(Done{FinishReason: "stop"})
				for _, s := range []string{text.String(), reasoning.String(), all.String()} {
					if leaks(s, key) {
						t.Fatalf("%s cut at %d (reasoning %v): key shown in %q", name, cut, kinds, s)
					}
				}
				if _, ok := events[len(events)-1].(Done); !ok {
					t.Fatalf("%s: last event %#v", name, events[len(events)-1])
				}
				if !strings.HasPrefix(all.String(), "a ") || !strings.Contains(all.String(), "[redacted]") {
					t.Fatalf("%s cut at %d: %q", name, cut, all.String())
				}
			}
		}
	}
}

// TestGuardKeepsOrder: events behind a held tail wait for it; a held tail
// that is not the key comes out unchanged before Done.
func TestGuardKeepsOrder(t *testing.T) {
	tr := NewTransport(Options{APIKey: "sk-abcdef"})
	var got []string
	emit := tr.Guard(func(ev Event) {
		b, _ := MarshalEvent(ev)
		got = append(got, string(b))
	})
	emit(TextDelta{Text: "one sk-a"})
	emit(Source{URL: "https://a"})
	emit(TextDelta{Text: "x two \x1b[1msk-"})
	emit(ToolCallEvent{ToolCall: ToolCall{ID: "c", Name: "f", Arguments: "{}"}})
	emit(Done{FinishReason: "stop"})
	want := []string{
		`{"type":"text","text":"one "}`,
		`{"type":"text","text":"sk-a"}`,
		`{"type":"source","url":"https://a"}`,
		`{"type":"text","text":"x two \u001b[1m"}`,
		`{"type":"text","text":"sk-"}`,
		`{"type":"tool_call","id":"c","name":"f","arguments":"{}"}`,
		`{"type":"done","finish_reason":"stop"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestGuardHoldIsBounded: a tail that could begin the key but is followed
// by megabytes of what the sanitizer removes is not held whole.
func TestGuardHoldIsBounded(t *testing.T) {
	const key = "sk-abcdef0123"
	var out strings.Builder
	g := &guard{r: NewRedactor(key), emit: func(ev Event) {
		if d, ok := ev.(TextDelta); ok {
			out.WriteString(d.Text)
		}
	}}
	g.event(TextDelta{Text: "x sk-ab\x1b]0;"})
	for i := 0; i < 4; i++ {
		g.event(TextDelta{Text: strings.Repeat("z", 64<<10)})
		held := 0
		for _, q := range g.queue {
			held += len(q.text)
		}
		if held > maxHeld+64<<10 {
			t.Fatalf("holding %d bytes", held)
		}
	}
	g.event(TextDelta{Text: "\x07cdef0123 y"})
	g.event(Done{})
	if leaks(out.String(), key) {
		t.Fatalf("key shown: %q", out.String())
	}
}

// FuzzGuard: whatever the text around the key and wherever the stream is
// cut, the screen never shows the key, and the text that comes out is the
// text cleaned whole (cutting it changes nothing).
func FuzzGuard(f *testing.F) {
	const key = "sk-Fz9_q2W-7xLp"
	forms := keyForms(key)
	names := make([]string, 0, len(forms))
	for n := range forms {
		names = append(names, n)
	}
	sort.Strings(names)
	f.Add("hello ", uint8(0), " world", uint16(3), uint16(9), false)
	f.Add("\x1b]0;", uint8(5), "\x07", uint16(1), uint16(20), true)
	f.Add("s", uint8(9), "k-", uint16(0), uint16(40), false)
	f.Add("<b", uint8(11), "%2", uint16(7), uint16(8), true)
	f.Fuzz(func(t *testing.T, before string, form uint8, after string, cut1, cut2 uint16, split bool) {
		in := before + forms[names[int(form)%len(names)]] + after
		a, b := int(cut1)%(len(in)+1), int(cut2)%(len(in)+1)
		if a > b {
			a, b = b, a
		}
		r := NewRedactor(key)
		var out strings.Builder
		g := &guard{r: r, emit: func(ev Event) {
			switch e := ev.(type) {
			case TextDelta:
				out.WriteString(e.Text)
			case ReasoningDelta:
				out.WriteString(e.Text)
			}
		}}
		g.event(TextDelta{Text: in[:a]})
		if split {
			g.event(ReasoningDelta{Text: in[a:b]})
		} else {
			g.event(TextDelta{Text: in[a:b]})
		}
		g.event(Usage{})
		g.event(TextDelta{Text: in[b:]})
		g.event(Done{})
		whole := r.Clean(in)
		// A match cut between answer and reasoning shows a marker in each.
		once := func(s string) string {
			for strings.Contains(s, redacted+redacted) {
				s = strings.ReplaceAll(s, redacted+redacted, redacted)
			}
			return s
		}
		if once(out.String()) != once(whole) {
			t.Fatalf("cut at %d and %d: %q, cleaned whole %q", a, b, out.String(), whole)
		}
		if leaks(whole, key) {
			t.Fatalf("%q cleaned to %q shows the key", in, whole)
		}
		if r.Clean(whole) != whole {
			t.Fatalf("cleaning %q again changes it", whole)
		}
	})
}
