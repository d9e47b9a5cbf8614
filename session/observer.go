package session

// Change says why a conversation changed other than by an answer.
type Change int

// The ways a conversation changes besides its answers.
const (
	ChangePrompt     Change = iota // the user sent a prompt (unanswered tool calls got a "not run" result first)
	ChangeRetry                    // the last answer was dropped to be answered again; its turns are superseded
	ChangeReset                    // a new conversation began: new ID, no messages
	ChangeSettings                 // the model or the system prompt changed
	ChangeToolResult               // a tool call got its result
)

// String is the change's lower-case name.
func (c Change) String() string {
	switch c {
	case ChangePrompt:
		return "prompt"
	case ChangeRetry:
		return "retry"
	case ChangeReset:
		return "reset"
	case ChangeSettings:
		return "settings"
	case ChangeToolResult:
		return "tool result"
	}
	return "unknown"
}

// Observer learns everything that happens to a Chat, so a store can record
// conversations without the screen knowing. Its methods are called
// synchronously on the chat owner's goroutine, in the order things
// happen: keep them cheap, and do any I/O off that goroutine.
//
// For one turn the order is TurnStarted, TurnEvent for each event, then
// TurnFinished (when its terminal event arrives, or at once when the user
// cancels). Events of a run the chat gave up on still arrive as TurnEvent
// on their own turn, after its TurnFinished and possibly after a Reset:
// tell turns apart by pointer or by Turn.ID, not by the chat's current
// conversation.
type Observer interface {
	// TurnStarted: a request was sent; the conversation holds what it sent.
	TurnStarted(c *Chat, t *Turn)
	// TurnEvent: ev was folded into t (or only recorded, for a stale run).
	TurnEvent(c *Chat, t *Turn, ev Stamped)
	// TurnFinished: t ended and its answer, even a partial one, joined the
	// conversation.
	TurnFinished(c *Chat, t *Turn)
	// ConversationChanged: the messages or settings changed other than by
	// an answer.
	ConversationChanged(c *Chat, what Change)
}

// ObserverFuncs is an Observer made of optional functions; a nil one is
// not called.
type ObserverFuncs struct {
	Started  func(*Chat, *Turn)
	Event    func(*Chat, *Turn, Stamped)
	Finished func(*Chat, *Turn)
	Changed  func(*Chat, Change)
}

// TurnStarted calls Started.
func (f ObserverFuncs) TurnStarted(c *Chat, t *Turn) {
	if f.Started != nil {
		f.Started(c, t)
	}
}

// TurnEvent calls Event.
func (f ObserverFuncs) TurnEvent(c *Chat, t *Turn, ev Stamped) {
	if f.Event != nil {
		f.Event(c, t, ev)
	}
}

// TurnFinished calls Finished.
func (f ObserverFuncs) TurnFinished(c *Chat, t *Turn) {
	if f.Finished != nil {
		f.Finished(c, t)
	}
}

// ConversationChanged calls Changed.
func (f ObserverFuncs) ConversationChanged(c *Chat, what Change) {
	if f.Changed != nil {
		f.Changed(c, what)
	}
}
