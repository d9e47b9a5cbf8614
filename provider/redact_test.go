package provider

import (
	"strings"
	"testing"
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
