package ui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/atotto/clipboard"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/ui/markdown"
)

// codeBlock is a numbered code block of the transcript.
type codeBlock struct {
	n int
	markdown.CodeBlock
}

// codeBlocks lists the code blocks of the finished answers in the focused
// pane, numbered as the transcript labels them.
func (m *Model) codeBlocks() []codeBlock {
	var out []codeBlock
	for _, it := range m.focused().items {
		if it.kind != kindAssistant || it.live || it.blocks == 0 {
			continue
		}
		for i, b := range markdown.CodeBlocks(it.md) {
			out = append(out, codeBlock{n: it.firstBlock + i, CodeBlock: b})
		}
	}
	return out
}

// copyBlock copies code block n (0: the last one).
func (m *Model) copyBlock(n int) tea.Cmd {
	blocks := m.codeBlocks()
	if len(blocks) == 0 {
		m.setFlash("no code block to copy yet", true)
		return nil
	}
	b := blocks[len(blocks)-1]
	if n > 0 {
		found := false
		for _, c := range blocks {
			if c.n == n {
				b, found = c, true
			}
		}
		if !found {
			m.setFlash(fmt.Sprintf("no code block %d (blocks 1–%d)", n, blocks[len(blocks)-1].n), true)
			return nil
		}
	}
	return copyCmd(b.Code, inColumn(fmt.Sprintf("block %d", b.n), m.columnWhat()))
}

// copyAnswer copies the last finished answer's markdown source.
func (m *Model) copyAnswer() tea.Cmd {
	items := m.focused().items
	for i := len(items) - 1; i >= 0; i-- {
		if it := items[i]; it.kind == kindAssistant && !it.live && it.md != "" {
			return copyCmd(sanitize.Text(it.md), inColumn("the last answer", m.columnWhat()))
		}
	}
	m.setFlash("no answer to copy yet", true)
	return nil
}

// inColumn names the column what was copied from, in a comparison.
func inColumn(what, column string) string {
	if column == "" {
		return what
	}
	return what + " of " + column
}

// copyCmd copies text through OSC 52 (the terminal's clipboard, which
// works over SSH when the terminal allows it) and the system clipboard
// where one is reachable, then reports which paths were used.
func copyCmd(text, what string) tea.Cmd {
	return tea.Batch(tea.SetClipboard(text), func() tea.Msg {
		var err error
		if clipboard.Unsupported {
			err = fmt.Errorf("no system clipboard")
		} else {
			err = clipboard.WriteAll(text)
		}
		return copiedMsg{what: what, systemErr: err}
	})
}
