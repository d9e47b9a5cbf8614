package ui

import (
	"fmt"

	"github.com/parley-chat/parley/session"
)

// pageAnswers shows, in place of the last answer, the answer before it
// (later with next) among those given to the same request: the ones
// /retry replaced and the current one. Only what is shown changes; the
// conversation carries on from the current answer.
func (m *Model) pageAnswers(next bool) {
	p := m.focused()
	rc := m.rc(p)
	it, alts, at := p.lastAlternatives()
	if len(alts) < 2 {
		m.setFlash("the last answer has no alternatives (/retry makes one)", false)
		return
	}
	switch {
	case next && at < len(alts)-1:
		at++
	case !next && at > 0:
		at--
	}
	t := alts[at]
	it.turn, it.md = t, t.Text()
	it.sv, it.mdKey = nil, renderKey{}
	it.showStructured()
	it.blocks = countCodeBlocks(it.md)
	p.nextBlock = it.firstBlock + it.blocks
	it.alt = fmt.Sprintf("answer %d of %d", at+1, len(alts))
	if t.Superseded {
		it.alt += " · replaced by /retry"
	}
	it.invalidate()
	p.layout(rc)
	m.setFlash(it.alt+" · [ and ] page", false)
}

// lastAlternatives finds the last answer of the transcript and the
// answers given to the same request (same messages sent), in the order
// they were given, with the position of the one shown. It finds nothing
// while an answer streams.
func (p *Pane) lastAlternatives() (*item, []*session.Turn, int) {
	if p.live != nil {
		return nil, nil, 0
	}
	for i := len(p.items) - 1; i >= 0; i-- {
		it := p.items[i]
		if it.kind != kindAssistant || it.turn == nil {
			continue
		}
		var alts []*session.Turn
		at := 0
		for _, t := range p.chat.Turns() {
			if t.Sent != it.turn.Sent || !t.Answered() && t.Err == nil {
				continue
			}
			if t == it.turn {
				at = len(alts)
			}
			alts = append(alts, t)
		}
		return it, alts, at
	}
	return nil, nil, 0
}
