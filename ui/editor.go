package ui

import (
	"os"
	"os/exec"
	"strings"

	tea "charm.land/bubbletea/v2"
)

// Editing the prompt in $VISUAL or $EDITOR (ctrl+o): the draft goes to a
// temporary file in a command, the editor runs with the terminal, and the
// file's text comes back as the new draft. Update does no I/O.
type (
	editorReadyMsg struct {
		path string
		err  error
	}
	editorClosedMsg struct {
		path string
		err  error
	}
	editorDoneMsg struct {
		text string
		err  error
	}
)

// openEditor writes the draft to a temporary file in a command.
func (m *Model) openEditor() tea.Cmd {
	draft := m.in.Text() // folded pastes unfolded: the editor shows it all
	return func() tea.Msg {
		f, err := os.CreateTemp("", "parley-prompt-*.md")
		if err != nil {
			return editorReadyMsg{err: err}
		}
		_, err = f.WriteString(draft)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return editorReadyMsg{path: f.Name(), err: err}
	}
}

// onEditorMsg runs the editor on the draft file, reads the file back when
// the editor closes, and puts its text in the input.
func (m *Model) onEditorMsg(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case editorReadyMsg:
		if msg.err != nil {
			m.setFlash("editor: "+msg.err.Error(), true)
			return nil
		}
		args := strings.Fields(editorCommand())
		c := exec.Command(args[0], append(args[1:], msg.path)...)
		path := msg.path
		return tea.ExecProcess(c, func(err error) tea.Msg { return editorClosedMsg{path: path, err: err} })
	case editorClosedMsg:
		path, exitErr := msg.path, msg.err
		return func() tea.Msg {
			b, err := os.ReadFile(path)
			_ = os.Remove(path)
			if exitErr != nil {
				err = exitErr
			}
			return editorDoneMsg{text: strings.TrimRight(string(b), "\n"), err: err}
		}
	case editorDoneMsg:
		if msg.err != nil {
			m.setFlash("editor: "+msg.err.Error()+" — draft unchanged", true)
		} else {
			m.in.SetText(msg.text)
			m.layout()
		}
	}
	return nil
}

func editorCommand() string {
	for _, v := range []string{"VISUAL", "EDITOR"} {
		if e := strings.TrimSpace(os.Getenv(v)); e != "" {
			return e
		}
	}
	return "vi"
}
