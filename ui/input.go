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

// input is the prompt editor: a textarea with prompt history.
type input struct {
	ta      textarea.Model
	history []string // oldest first
	// recall is the history index being shown, or len(history) when the
	// user is editing their own draft.
	recall int
	draft  string
	// onRemember, when set, is told of each prompt added to history.
	onRemember func(string)
}

func newInput(th *themes.Theme) input {
	ta := textarea.New()
	ta.Placeholder = "Ask anything · enter sends · alt+enter new line · ? help"
	ta.ShowLineNumbers = false
	ta.Prompt = "> "
	ta.CharLimit = 0
	ta.MaxHeight = 0
	ta.SetVirtualCursor(false)
	// Enter sends and newline keys are handled by the chat; the textarea
	// must not insert on Enter. ctrl+t and ctrl+d belong to the chat too.
	ta.KeyMap.InsertNewline = key.NewBinding(key.WithDisabled())
	ta.KeyMap.TransposeCharacterBackward = key.NewBinding(key.WithDisabled())
	ta.KeyMap.DeleteCharacterForward = key.NewBinding(key.WithKeys("delete"))
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

// Value is the text being edited.
func (in *input) Value() string { return in.ta.Value() }

// SetValue replaces the text and puts the cursor at its end.
func (in *input) SetValue(s string) {
	in.ta.SetValue(s)
	in.ta.MoveToEnd()
	in.fit()
}

// Reset clears the editor and leaves history browsing.
func (in *input) Reset() {
	in.ta.Reset()
	in.recall = len(in.history)
	in.draft = ""
	in.fit()
}

// Remember appends a sent prompt to the history (not repeating the last).
func (in *input) Remember(s string) {
	if strings.TrimSpace(s) == "" {
		return
	}
	if n := len(in.history); n == 0 || in.history[n-1] != s {
		in.history = append(in.history, s)
		if in.onRemember != nil {
			in.onRemember(s)
		}
	}
	in.recall = len(in.history)
}

// Browsing reports whether the editor shows a recalled prompt unchanged.
func (in *input) Browsing() bool {
	return in.recall < len(in.history) && in.ta.Value() == in.history[in.recall]
}

// Prev recalls the previous prompt: from an empty editor, or while
// browsing. It reports whether it did.
func (in *input) Prev() bool {
	if in.ta.Value() != "" && !in.Browsing() {
		return false
	}
	if in.recall == 0 || len(in.history) == 0 {
		return in.Browsing() // at the oldest: swallow the key
	}
	if !in.Browsing() {
		in.draft = in.ta.Value()
		in.recall = len(in.history)
	}
	in.recall--
	in.SetValue(in.history[in.recall])
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
		in.SetValue(in.draft)
		return true
	}
	in.SetValue(in.history[in.recall])
	return true
}

// InsertNewline adds a line break at the cursor.
func (in *input) InsertNewline() {
	in.ta.InsertRune('\n')
	in.fit()
}

// Update passes a message to the textarea.
func (in *input) Update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	in.ta, cmd = in.ta.Update(msg)
	in.fit()
	return cmd
}

// SetWidth sets the editor's width.
func (in *input) SetWidth(w int) {
	in.ta.SetWidth(max(w, 4))
	in.fit()
}

// SetTheme restyles the editor.
func (in *input) SetTheme(th *themes.Theme) { in.ta.SetStyles(inputStyles(th)) }

// fit grows the editor with its content up to maxInputLines.
func (in *input) fit() {
	n := in.ta.LineCount()
	// Count soft-wrapped rows too.
	if w := in.ta.Width(); w > 0 {
		n = 0
		for _, l := range strings.Split(in.ta.Value(), "\n") {
			n += max(1, (len([]rune(l))+w-1)/w)
		}
	}
	h := min(max(n, 1), maxInputLines)
	if h != in.ta.Height() {
		in.ta.SetHeight(h)
	}
}

// Height is the editor's height in rows.
func (in *input) Height() int { return in.ta.Height() }

// View renders the editor.
func (in *input) View() string { return in.ta.View() }

// Cursor is the real terminal cursor position inside the editor.
func (in *input) Cursor() *tea.Cursor { return in.ta.Cursor() }
