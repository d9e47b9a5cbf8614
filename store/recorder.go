package store

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
)

// Origins say where a conversation was started.
const (
	OriginChat    = "chat"    // the chat screen
	OriginPrint   = "print"   // print mode (parley -p)
	OriginCompare = "compare" // a column of parley compare
	OriginImport  = "import"  // parley sessions import
)

// RecorderOptions describe the conversations a Recorder records.
type RecorderOptions struct {
	// Provider is the profile name (or the gateway's host), Dialect its
	// dialect; both are saved with each conversation, and Provider keys
	// the prompt history.
	Provider string
	Dialect  provider.Dialect
	// Origin is OriginChat, OriginPrint or OriginCompare.
	Origin string
	// Comparison is the ID of the comparison whose column Position (from
	// 0) the chat is; Label names the column when it is not its model.
	// The chat's first conversation is saved as that column (a /new
	// after it starts one of its own). "" outside a comparison.
	Comparison string
	Position   int
	Label      string
	// Resumed is the saved conversation the chat was restored from (with
	// session.RestoreChat); nil for a chat that starts empty. Recording
	// carries on after its messages and turns.
	Resumed *Conversation
	// OnError is told when saving fails (from the store's goroutine); the
	// store keeps what it could not write and tries again.
	OnError func(error)
}

// Recorder saves one chat's conversations as they happen. It is a
// session.Observer: add it with Chat.Observe. Its observer methods run on
// the chat owner's goroutine and only queue what changed (events are
// encoded and written by the store's writer goroutine, in small batches:
// at a prompt, at the end of an answer, and every flushInterval while an
// answer streams). Observer calls must come from one goroutine; Flush,
// Remember and Rename may be called from any.
type Recorder struct {
	s    *Store
	w    *writer
	opts RecorderOptions

	// Owner goroutine state.
	cur   *convState
	turns map[*session.Turn]*turnState

	last lastID // the latest conversation saved, for the resume hint

	join *columnOf // the comparison the next new conversation is a column of
}

// columnOf places a conversation in a comparison.
type columnOf struct {
	comparison string
	position   int
	label      string
}

// convState is what the recorder has queued for one conversation.
type convState struct {
	id       string
	saved    bool // its row is queued
	messages int  // messages queued
	title    string
	model    string
	settings session.Settings
	column   *columnOf // nil outside a comparison
}

// turnState ties a live turn to its row.
type turnState struct {
	conv     string
	seq      int
	finished bool // TurnFinished was seen
	ended    bool // its terminal event was seen
}

// Recorder returns a recorder that saves into s. The first recorder
// starts the store's writer goroutine.
func (s *Store) Recorder(o RecorderOptions) *Recorder {
	r := &Recorder{s: s, w: s.writer(o.OnError), opts: o, turns: map[*session.Turn]*turnState{}}
	if o.Comparison != "" {
		r.join = &columnOf{comparison: o.Comparison, position: o.Position, label: o.Label}
	}
	if c := o.Resumed; c != nil {
		r.cur = &convState{id: c.ID, saved: true, messages: len(c.Messages), title: c.Title,
			model: c.Settings.Model, settings: c.Settings}
		r.w.enqueue(false, opClaim{conv: c.ID})
		r.last.set(c.ID)
	}
	return r
}

// LastID is the ID of the latest conversation this recorder saved (one
// with at least one prompt); "" when none.
func (r *Recorder) LastID() string { return r.last.get() }

// Flush returns once everything queued so far is written, or with the
// error that kept it from being written.
func (r *Recorder) Flush() error { return r.w.flush() }

// maxHistoryPrompt is the longest prompt the history keeps: a pasted
// file is in its conversation, and ↑ need not bring it back.
const maxHistoryPrompt = 64 << 10

// Remember adds a prompt to the provider's history (what ↑ recalls in the
// next session). Blank prompts, and prompts longer than 64 KB, are not
// kept.
func (r *Recorder) Remember(prompt string) {
	if strings.TrimSpace(prompt) == "" || len(prompt) > maxHistoryPrompt {
		return
	}
	r.w.enqueue(false, opHistory{provider: r.opts.Provider, text: prompt, at: r.s.now()})
}

// Rename sets the title of the conversation id. The chat's current
// conversation, when it is not saved yet (no prompt so far), takes the
// title when it is. Call it from the chat owner's goroutine.
func (r *Recorder) Rename(id, title string) error {
	title = cleanTitle(title)
	if title == "" {
		return errors.New("a title needs some text")
	}
	if cs := r.cur; cs != nil && cs.id == id && !cs.saved {
		cs.title = title
		return nil
	}
	if cs := r.cur; cs != nil && cs.id == id {
		cs.title = title
	}
	r.w.enqueue(true, opTitle{conv: id, title: title})
	return nil
}

// JoinComparison makes the chat's current conversation column position
// (from 0) of comparison, label naming the column when it is not its
// model: the conversation a comparison opened beside. A chat with no
// conversation yet joins with its first. Call it from the chat owner's
// goroutine.
func (r *Recorder) JoinComparison(comparison string, position int, label string) {
	col := &columnOf{comparison: comparison, position: position, label: label}
	cs := r.cur
	switch {
	case cs == nil:
		r.join = col
	case !cs.saved:
		cs.column = col
	default:
		cs.column = col
		r.w.enqueue(true, opJoin{conv: cs.id, column: *col})
	}
}

// TurnStarted records the start of an answer.
func (r *Recorder) TurnStarted(c *session.Chat, t *session.Turn) {
	cs := r.sync(c)
	seq := len(c.Turns()) - 1
	r.turns[t] = &turnState{conv: cs.id, seq: seq}
	r.w.enqueue(true, opTurnStart{conv: cs.id, seq: seq, sent: t.Sent, model: c.Settings().Model, start: t.Start})
}

// TurnEvent queues one event of an answer's timeline.
func (r *Recorder) TurnEvent(c *session.Chat, t *session.Turn, ev session.Stamped) {
	ts := r.turns[t]
	if ts == nil {
		return
	}
	r.w.enqueue(false, opEvent{conv: ts.conv, seq: ts.seq, offset: ev.At.Sub(t.Start), ev: ev.Event})
	if session.Terminal(ev.Event) {
		ts.ended = true
		r.forget(t, ts)
	}
}

// TurnFinished records how an answer ended and the answer joining the
// conversation.
func (r *Recorder) TurnFinished(c *session.Chat, t *session.Turn) {
	ts := r.turns[t]
	if ts == nil {
		return
	}
	ts.finished = true
	r.w.enqueue(false, opTurnEnd{conv: ts.conv, seq: ts.seq, row: turnRowOf(t)})
	r.forget(t, ts)
	if cs := r.cur; cs != nil && cs.id == ts.conv {
		r.sync(c)
		conv := c.Conversation()
		r.w.enqueue(true, opConvUpdate{conv: cs.id, model: cs.model, settings: cs.settings,
			chatID: conv.ChatID, known: conv.KnownMessages, chatSystem: conv.ChatSystem(), at: r.s.now()})
	}
}

// ConversationChanged records prompts, tool results, retries and
// settings; a reset moves on to the next conversation.
func (r *Recorder) ConversationChanged(c *session.Chat, what session.Change) {
	cs := r.sync(c)
	switch what {
	case session.ChangeRetry:
		var seqs []int
		for i, t := range c.Turns() {
			if t.Superseded {
				seqs = append(seqs, i)
			}
		}
		r.w.enqueue(true, opSupersede{conv: cs.id, seqs: seqs})
	case session.ChangeSettings:
		s := c.Settings()
		cs.model, cs.settings = s.Model, s
		if cs.saved {
			conv := c.Conversation()
			r.w.enqueue(true, opConvUpdate{conv: cs.id, model: s.Model, settings: s,
				chatID: conv.ChatID, known: conv.KnownMessages, chatSystem: conv.ChatSystem(), at: r.s.now()})
		}
	}
}

// forget drops a turn once both its end and its terminal event are seen.
func (r *Recorder) forget(t *session.Turn, ts *turnState) {
	if ts.finished && ts.ended {
		delete(r.turns, t)
	}
}

// sync brings the queued copy of the chat's current conversation up to
// date: a new conversation is saved from its first prompt on (with a
// title from that prompt), and its messages are queued as they are added
// or dropped. It returns the conversation's state.
func (r *Recorder) sync(c *session.Chat) *convState {
	conv := c.Conversation()
	cs := r.cur
	if cs == nil || cs.id != conv.ID {
		s := c.Settings()
		cs = &convState{id: conv.ID, model: s.Model, settings: s, column: r.join}
		r.cur = cs
		r.join = nil
	}
	msgs := conv.Messages
	if len(msgs) == 0 && !cs.saved {
		return cs
	}
	if !cs.saved {
		cs.saved = true
		if cs.title == "" {
			cs.title = titleFrom(msgs)
		}
		r.w.enqueue(true, opConv{conv: cs.id, created: conv.Created, origin: r.opts.Origin,
			provider: r.opts.Provider, dialect: string(r.opts.Dialect), model: cs.model, settings: cs.settings,
			title: cs.title, column: cs.column})
		r.last.set(cs.id)
	}
	switch n := len(msgs); {
	case n < cs.messages:
		r.w.enqueue(true, opMessages{conv: cs.id, keep: n, at: r.s.now()})
		cs.messages = n
	case n > cs.messages:
		r.w.enqueue(true, opMessages{conv: cs.id, keep: cs.messages, add: slices.Clone(msgs[cs.messages:]), at: r.s.now()})
		cs.messages = n
	}
	return cs
}

// turnRowOf is the summary of a finished turn as its row keeps it.
func turnRowOf(t *session.Turn) turnRow {
	row := turnRow{
		status: statusOf(t), reportedModel: t.Model, chatID: t.ChatID, finishReason: t.FinishReason,
		started: ms(t.Start), firstToken: ms(t.FirstToken), firstText: ms(t.FirstText),
		reasoningStart: ms(t.ReasoningStart), reasoningEnd: ms(t.ReasoningEnd), ended: ms(t.End),
		text: t.Text(), reasoning: t.Reasoning(),
		toolCalls: slices.Clone(t.ToolCalls), toolResults: slices.Clone(t.ToolResults), sources: slices.Clone(t.Sources),
		err: t.Err,
	}
	if t.HasUsage {
		u := t.Usage
		row.usage = &u
	}
	return row
}

// statusOf is how a finished turn ended.
func statusOf(t *session.Turn) Status {
	switch {
	case t.Interrupted:
		return StatusInterrupted
	case t.Err != nil:
		return StatusError
	case !t.Finished():
		return StatusStreaming
	}
	return StatusDone
}

// maxTitle is the longest title taken from a prompt, in characters.
const maxTitle = 80

// titleFrom makes a title of the first user message: its first line of
// text, cut at maxTitle characters.
func titleFrom(msgs []provider.Message) string {
	for _, m := range msgs {
		if m.Role == provider.RoleUser {
			for _, line := range strings.Split(m.Content, "\n") {
				if t := cleanTitle(line); t != "" {
					return t
				}
			}
			return ""
		}
	}
	return ""
}

// cleanTitle is s as a title: one line without control characters or
// escapes, spaces collapsed, at most maxTitle characters.
func cleanTitle(s string) string {
	s = strings.Join(strings.Fields(sanitize.Line(s)), " ")
	if utf8.RuneCountInString(s) <= maxTitle {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:maxTitle-1])) + "…"
}

// lastID is a string set on the owner's goroutine and read from others.
type lastID struct {
	mu sync.Mutex
	id string
}

func (l *lastID) set(id string) {
	l.mu.Lock()
	l.id = id
	l.mu.Unlock()
}

func (l *lastID) get() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.id
}
