package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/parley-chat/parley/themes"
)

// maxInputLines is the tallest the prompt editor grows before it scrolls.
const maxInputLines = 8

// input is the prompt editor: a textarea with prompt history and folded
// pastes (see paste.go). Its height follows the text's display rows (soft
// wraps and wide characters counted) up to maxInputLines, and it always
// shows the rows around the cursor, so what is typed, pasted or brought
// back from the editor is visible as it will be sent. The text is cached:
// reading it costs nothing per keystroke.
type input struct {
	ta      textarea.Model
	val     string       // ta.Value(), refreshed after every change
	pastes  []attachment // folded pastes whose tokens the text may hold
	pasteNo int          // number of the last paste folded
	history []entry      // oldest first
	// recall is the history index being shown, or len(history) when the
	// user is editing their own draft.
	recall int
	draft  entry
	// onRemember, when set, is told of each prompt added to history, as
	// it was sent (folded pastes expanded).
	onRemember func(string)
}

// entry is a prompt as the editor held it: its text and the folded pastes
// its tokens stand for.
type entry struct {
	value  string
	pastes []attachment
}

func newInput(th *themes.Theme) input {
	ta := textarea.New()
	ta.Placeholder = "Ask anything · enter sends · alt+enter new line · ? help"
	ta.ShowLineNumbers = false
	ta.Prompt = "> "
	ta.CharLimit = 0
	// The textarea sizes itself to its display rows (soft wraps and wide
	// characters counted) and keeps its scroll offset within them, so a
	// taller box never keeps the offset of a shorter one. It is left
	// without a MaxHeight, which would shrink its cache of wrapped lines
	// to that many lines and re-wrap every other line on every key; fit
	// caps the height instead.
	ta.DynamicHeight = true
	ta.MinHeight = 1
	ta.MaxHeight = 0
	ta.SetVirtualCursor(false)
	// Enter sends and newline keys are handled by the chat; the textarea
	// must not insert on Enter. ctrl+t belongs to the chat too; ctrl+d
	// deletes forward in a non-empty editor (the chat quits on an empty
	// one).
	ta.KeyMap.InsertNewline = key.NewBinding(key.WithDisabled())
	ta.KeyMap.TransposeCharacterBackward = key.NewBinding(key.WithDisabled())
	ta.KeyMap.DeleteCharacterForward = key.NewBinding(key.WithKeys("delete", "ctrl+d"))
	ta.KeyMap.LinePrevious = key.NewBinding(key.WithKeys("up"))
	ta.KeyMap.LineNext = key.NewBinding(key.WithKeys("down"))
	ta.KeyMap.PageUp = key.NewBinding(key.WithDisabled())
	ta.KeyMap.PageDown = key.NewBinding(key.WithDisabled())
	ta.SetStyles(inputStyles(th))
	ta.SetHeight(1)
	ta.Focus()
	return input{ta: ta}
}

// inputStyles styles the editor from the theme: the prompt and the
// placeholder in the theme's input colours, the text in the terminal's
// default colours, and no background anywhere (textarea's defaults paint
// the cursor line black or light grey, a bar on any other background). The
// cursor keeps the terminal's own colour, which the terminal keeps visible
// on its background.
func inputStyles(th *themes.Theme) textarea.Styles {
	plain := lipgloss.NewStyle()
	state := textarea.StyleState{
		Base:             plain,
		Text:             plain,
		CursorLine:       plain,
		EndOfBuffer:      plain,
		LineNumber:       th.Dim,
		CursorLineNumber: th.Dim,
		Placeholder:      th.InputPlaceholder,
		Prompt:           th.InputPrompt,
		Selection:        th.Selection,
	}
	s := textarea.Styles{Focused: state, Blurred: state}
	s.Blurred.Prompt = th.Dim
	s.Cursor = textarea.CursorStyle{Shape: tea.CursorBlock, Blink: true}
	return s
}

// Value is the text as the editor shows it, folded pastes as tokens.
func (in *input) Value() string { return in.val }

// Empty reports whether the editor holds no text.
func (in *input) Empty() bool { return in.val == "" }

// Text is the prompt as it will be sent: the editor's text with every
// folded paste's token replaced by its text.
func (in *input) Text() string { return expand(in.val, in.pastes) }

// changed refreshes the cached text after the textarea changed, and caps
// its height.
func (in *input) changed() {
	in.val = in.ta.Value()
	in.fit()
}

// fit caps the editor at maxInputLines rows. The textarea has just grown
// to all its rows with its scroll offset at the top; capping it scrolls
// just enough to show the cursor, so the view ends at the cursor's row or
// starts at the first. The textarea scrolls only within the text it last
// laid out, which a change made outside its Update (a paste, a text set)
// has not: an empty message lays it out first.
func (in *input) fit() {
	if in.ta.Height() > maxInputLines {
		in.ta, _ = in.ta.Update(nil)
		in.ta.SetHeight(maxInputLines)
	}
}

// SetValue replaces the text and puts the cursor at its end. Folded
// pastes are kept only if their tokens are still in s.
func (in *input) SetValue(s string) {
	in.ta.SetValue(s)
	in.ta.MoveToEnd()
	in.changed()
	in.pastes = used(in.val, in.pastes)
}

// setEntry shows a prompt with its folded pastes.
func (in *input) setEntry(e entry) {
	in.pastes = e.pastes
	in.SetValue(e.value)
}

// entry is what the editor holds.
func (in *input) entry() entry {
	return entry{value: in.val, pastes: used(in.val, in.pastes)}
}

// Reset clears the editor and leaves history browsing.
func (in *input) Reset() {
	in.ta.Reset()
	in.changed()
	in.pastes = nil
	in.recall = len(in.history)
	in.draft = entry{}
}

// Remember appends the prompt in the editor to the history (not repeating
// the last).
func (in *input) Remember() { in.remember(in.entry()) }

// remember appends e to the history (not repeating the last).
func (in *input) remember(e entry) {
	if strings.TrimSpace(e.value) == "" {
		return
	}
	if n := len(in.history); n == 0 || in.history[n-1].value != e.value {
		in.history = append(in.history, e)
		if in.onRemember != nil {
			in.onRemember(expand(e.value, e.pastes))
		}
	}
	in.recall = len(in.history)
}

// Browsing reports whether the editor shows a recalled prompt unchanged.
func (in *input) Browsing() bool {
	return in.recall < len(in.history) && in.val == in.history[in.recall].value
}

// Prev recalls the previous prompt: from an empty editor, or while
// browsing. It reports whether it did.
func (in *input) Prev() bool {
	if in.val != "" && !in.Browsing() {
		return false
	}
	if in.recall == 0 || len(in.history) == 0 {
		return in.Browsing() // at the oldest: swallow the key
	}
	if !in.Browsing() {
		in.draft = in.entry()
		in.recall = len(in.history)
	}
	in.recall--
	in.setEntry(in.history[in.recall])
	return true
}

// Next moves forward in the history while browsing, back to the draft at
// the end. It reports whether it did.
func (in *input) Next() bool {
	if !in.Browsing() {
		return false
	}
	in.recall++
	if in.recall >= len(in.history) {
		in.recall = len(in.history)
		in.setEntry(in.draft)
		return true
	}
	in.setEntry(in.history[in.recall])
	return true
}

// InsertNewline adds a line break at the cursor.
func (in *input) InsertNewline() {
	in.ta.InsertRune('\n')
	in.changed()
}

// Paste inserts pasted text at the cursor: inline when it is short, else
// folded into a token (see paste.go).
func (in *input) Paste(text string) {
	text = normalizeNewlines(text)
	if text == "" {
		return
	}
	if !shouldFold(text, in.val) {
		in.ta.InsertString(text)
		in.changed()
		return
	}
	in.fold("pasted", text)
}

// SetText replaces the text by s (the text back from $EDITOR), folded
// into one token when it is more than the editor holds inline.
func (in *input) SetText(s string) {
	in.pastes = nil
	if !tooLong(s) {
		in.SetValue(s)
		return
	}
	in.SetValue("")
	in.fold("edited", s)
}

// fold inserts text at the cursor as a token.
func (in *input) fold(kind, text string) {
	in.pasteNo++
	a := newAttachment(kind, in.pasteNo, text)
	in.pastes = append(in.pastes, a)
	in.ta.InsertString(a.token)
	in.changed()
}

// Update passes a message to the textarea; pastes go through Paste.
func (in *input) Update(msg tea.Msg) tea.Cmd {
	if p, ok := msg.(tea.PasteMsg); ok {
		in.Paste(p.Content)
		return nil
	}
	var cmd tea.Cmd
	in.ta, cmd = in.ta.Update(msg)
	in.changed()
	return cmd
}

// SetWidth sets the editor's width; its height follows.
func (in *input) SetWidth(w int) {
	if w = max(w, 4); w != in.ta.Width()+lipgloss.Width(in.ta.Prompt) {
		in.ta.SetWidth(w)
		in.fit()
	}
}

// SetTheme restyles the editor.
func (in *input) SetTheme(th *themes.Theme) { in.ta.SetStyles(inputStyles(th)) }

// Height is the editor's height in rows.
func (in *input) Height() int { return in.ta.Height() }

// View renders the editor.
func (in *input) View() string { return in.ta.View() }

// Cursor is the real terminal cursor position inside the editor.
func (in *input) Cursor() *tea.Cursor { return in.ta.Cursor() }
