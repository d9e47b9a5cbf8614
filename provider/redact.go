package provider

import "strings"

// minSecret is the shortest key Parley redacts; shorter strings would
// match ordinary text.
const minSecret = 4

// redacted replaces a key wherever it appears.
const redacted = "[redacted]"

// Guard wraps emit so that the API key never reaches a consumer, however
// a gateway echoes it: in an answer, in reasoning (even split across
// deltas), in tool arguments, sources, retry messages or errors. Every
// dialect passes its events through it. Deltas are watched as streams: a
// tail that could begin the key is held back and released with the next
// event, so a key split across deltas is caught too. The returned
// function is not safe for concurrent use, like the emit it wraps.
func (t *Transport) Guard(emit func(Event)) func(Event) {
	if len(t.secret) < minSecret {
		return emit
	}
	g := &guard{secret: t.secret, emit: emit}
	return g.event
}

type guard struct {
	secret string
	emit   func(Event)
	text   string // held-back tail of the answer
	reason string // held-back tail of the reasoning
}

func (g *guard) event(ev Event) {
	switch e := ev.(type) {
	case TextDelta:
		g.flushReasoning()
		if out := g.delta(&g.text, e.Text); out != "" {
			g.emit(TextDelta{Text: out})
		}
		return
	case ReasoningDelta:
		g.flushText()
		if out := g.delta(&g.reason, e.Text); out != "" {
			g.emit(ReasoningDelta{Text: out})
		}
		return
	}
	g.flushReasoning()
	g.flushText()
	switch e := ev.(type) {
	case ToolCallEvent:
		e.ID, e.Name, e.Arguments, e.Opaque = g.clean(e.ID), g.clean(e.Name), g.clean(e.Arguments), g.clean(e.Opaque)
		ev = e
	case ToolResult:
		e.Output = g.clean(e.Output)
		ev = e
	case Source:
		e.URL, e.Title = g.clean(e.URL), g.clean(e.Title)
		ev = e
	case Retry:
		e.Message = g.clean(e.Message)
		ev = e
	case Error:
		if e.Err != nil {
			e.Err.Redact(g.secret)
		}
	}
	g.emit(ev)
}

func (g *guard) clean(s string) string { return strings.ReplaceAll(s, g.secret, redacted) }

// delta appends s to the held tail and returns what can be shown: the
// key replaced, minus a new tail that could be the start of the key.
func (g *guard) delta(held *string, s string) string {
	buf := g.clean(*held + s)
	hold := 0
	for k := min(len(g.secret)-1, len(buf)); k > 0; k-- {
		if strings.HasSuffix(buf, g.secret[:k]) {
			hold = k
			break
		}
	}
	*held = buf[len(buf)-hold:]
	return buf[:len(buf)-hold]
}

func (g *guard) flushText() {
	if g.text != "" {
		s := g.text
		g.text = ""
		g.emit(TextDelta{Text: s})
	}
}

func (g *guard) flushReasoning() {
	if g.reason != "" {
		s := g.reason
		g.reason = ""
		g.emit(ReasoningDelta{Text: s})
	}
}
