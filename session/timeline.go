package session

import (
	"encoding/binary"
	"time"

	"github.com/parley-chat/parley/provider"
)

// timeline is a turn's events in a compact form. A stream is mostly text
// and reasoning deltas of a few bytes each, which as TimedEvents cost
// several times their text; here a delta whose text the turn appended to
// its answer or reasoning is kept as its offset and length only (its text
// is the turn's), a few bytes in all, and every other event as it is.
//
// Entries are varints in log: the offset's difference from the previous
// entry's (zigzag), then a head, n<<2|kind: for a text or reasoning delta
// n is its length; for another event the event is the next in others.
type timeline struct {
	log    []byte
	others []provider.Event
	last   time.Duration // offset of the last entry
	n      int           // number of entries
}

// The kinds of timeline entries.
const (
	entryText      = 0 // a text delta, the next n bytes of the turn's text
	entryReasoning = 1 // a reasoning delta, the next n bytes of its reasoning
	entryOther     = 2 // the next event of others
)

// add records ev at offset; kind says whether it is a delta whose text the
// turn appended (entryText, entryReasoning) or any other event.
func (tl *timeline) add(offset time.Duration, kind int, ev provider.Event) {
	tl.log = binary.AppendVarint(tl.log, int64(offset-tl.last))
	tl.last = offset
	switch kind {
	case entryText:
		tl.log = binary.AppendUvarint(tl.log, uint64(len(ev.(provider.TextDelta).Text))<<2|entryText)
	case entryReasoning:
		tl.log = binary.AppendUvarint(tl.log, uint64(len(ev.(provider.ReasoningDelta).Text))<<2|entryReasoning)
	default:
		tl.log = binary.AppendUvarint(tl.log, entryOther)
		tl.others = append(tl.others, ev)
	}
	tl.n++
}

// events returns the timeline as TimedEvents, with the deltas' texts cut
// from text and reasoning (the turn's, which the deltas were appended to
// in order).
func (tl *timeline) events(text, reasoning string) []TimedEvent {
	if tl.n == 0 {
		return nil
	}
	out := make([]TimedEvent, 0, tl.n)
	var at time.Duration
	textAt, reasonAt, other := 0, 0, 0
	for b := tl.log; len(b) > 0; {
		d, k := binary.Varint(b)
		head, l := binary.Uvarint(b[k:])
		b = b[k+l:]
		at += time.Duration(d)
		n := int(head >> 2)
		var ev provider.Event
		switch head & 3 {
		case entryText:
			ev = provider.TextDelta{Text: text[textAt : textAt+n]}
			textAt += n
		case entryReasoning:
			ev = provider.ReasoningDelta{Text: reasoning[reasonAt : reasonAt+n]}
			reasonAt += n
		default:
			ev = tl.others[other]
			other++
		}
		out = append(out, TimedEvent{Offset: at, Event: ev})
	}
	return out
}
