package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/sanitize"
	"github.com/parley-chat/parley/session"
	"github.com/parley-chat/parley/store"
	"github.com/parley-chat/parley/themes"
	"github.com/parley-chat/parley/ui/markdown"
)

// showWidth is the width of a transcript shown on a terminal whose size
// is unknown.
const showWidth = 100

// showConversation writes a saved conversation's transcript: on a
// terminal, prompts wrapped and answers rendered as markdown in the
// configured theme; otherwise plain text, the answers' markdown as it
// came.
func (a *app) showConversation(c *store.Conversation) error {
	var b strings.Builder
	tty := a.env.StdoutIsTerminal
	var th *themes.Theme
	var r *markdown.Renderer
	width := showWidth
	if tty {
		width = a.terminalWidth()
		th = a.showTheme()
		var err error
		if r, err = markdown.New(width, th); err != nil {
			return err
		}
	}
	style := func(s string, st func(string) string) string {
		if tty {
			return st(s)
		}
		return s
	}
	text := func(s string) string {
		if tty {
			return ansi.Wrap(sanitize.Text(s), width, "")
		}
		return s
	}
	title := c.Title
	if title == "" {
		title = "(untitled)"
	}
	b.WriteString(style(sanitize.Line(title), func(s string) string { return th.Accent.Render(s) }) + "\n")
	meta := []string{c.ID, c.Created.Local().Format("2006-01-02 15:04")}
	for _, s := range []string{c.Provider, c.Model} {
		if s != "" {
			meta = append(meta, sanitize.Line(s))
		}
	}
	b.WriteString(style(strings.Join(meta, " · "), func(s string) string { return th.Dim.Render(s) }) + "\n")
	models := map[*session.Turn]string{}
	for _, t := range c.Turns {
		models[t.Turn] = t.Model
	}
	answer := func(t *session.Turn, body string) {
		label := "◆ assistant"
		if t != nil {
			if m := orModel(t.Model, models[t]); m != "" {
				label += " · " + sanitize.Line(m)
			}
		}
		b.WriteString("\n" + style(label, func(s string) string { return th.AssistantLabel.Render(s) }) + "\n")
		if t != nil && t.Reasoning() != "" {
			note := "▸ reasoning: " + strconv.Itoa(t.ReasoningTokens()) + " tokens"
			b.WriteString(style(note, func(s string) string { return th.Dim.Render(s) }) + "\n")
		}
		if body != "" {
			if tty {
				out, _ := r.Render(body, 1)
				b.WriteString(strings.TrimRight(out, "\n") + "\n")
			} else {
				b.WriteString(strings.TrimRight(body, "\n") + "\n")
			}
		}
		if t == nil {
			return
		}
		for _, tc := range t.ToolCalls {
			b.WriteString(text("⚙ tool call "+tc.Name+" "+tc.Arguments) + "\n")
		}
		switch {
		case t.Err != nil:
			b.WriteString(style(text("✗ "+t.Err.Error()), func(s string) string { return th.StatusError.Render(s) }) + "\n")
		case t.Interrupted:
			b.WriteString(style("■ interrupted — the answer above is incomplete", func(s string) string { return th.StatusWarn.Render(s) }) + "\n")
		}
	}
	for _, e := range c.Saved().Transcript() {
		m := e.Message
		switch {
		case e.Index < 0:
			answer(e.Turn, e.Turn.Text())
		case m.Role == provider.RoleUser:
			b.WriteString("\n" + style("▌ you", func(s string) string { return th.UserLabel.Render(s) }) + "\n")
			b.WriteString(text(m.Content) + "\n")
			if n := len(e.Replaced); n > 0 {
				b.WriteString(style(fmt.Sprintf("(%d earlier answer(s) replaced by /retry)", n), func(s string) string { return th.Dim.Render(s) }) + "\n")
			}
		case m.Role == provider.RoleAssistant:
			answer(e.Turn, m.Content)
		case m.Role == provider.RoleTool:
			b.WriteString("\n" + style(text("⚙ tool result "+orModel(m.Name, m.ToolCallID)), func(s string) string { return th.Dim.Render(s) }) + "\n")
			b.WriteString(text(m.Content) + "\n")
		}
	}
	_, err := fmt.Fprint(a.env.Stdout, b.String())
	return err
}

// showComparison writes a saved comparison: its title and columns, then
// each column's transcript under a header naming it.
func (a *app) showComparison(cmp *store.Comparison) error {
	tty := a.env.StdoutIsTerminal
	var th *themes.Theme
	if tty {
		th = a.showTheme()
	}
	style := func(s string, st func(string) string) string {
		if tty {
			return st(s)
		}
		return s
	}
	title := cmp.Title
	if title == "" {
		title = "(untitled)"
	}
	head := style(sanitize.Line(title), func(s string) string { return th.Accent.Render(s) }) + "\n" +
		style(strings.Join([]string{cmp.ID, cmp.Created.Local().Format("2006-01-02 15:04"), sanitize.Line(cmp.Model),
			fmt.Sprintf("%d columns", len(cmp.Columns))}, " · "), func(s string) string { return th.Dim.Render(s) }) + "\n"
	if _, err := fmt.Fprint(a.env.Stdout, head); err != nil {
		return err
	}
	for i, c := range cmp.Columns {
		rule := fmt.Sprintf("\n══ column %d · %s ══\n", i+1, sanitize.Line(c.ColumnName()))
		if _, err := fmt.Fprint(a.env.Stdout, style(rule, func(s string) string { return th.Accent.Render(s) })); err != nil {
			return err
		}
		if err := a.showConversation(c); err != nil {
			return err
		}
	}
	return nil
}

func orModel(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// terminalWidth is stdout's width when it is the process's terminal,
// else $COLUMNS, else showWidth.
func (a *app) terminalWidth() int {
	if a.env.Stdout == os.Stdout {
		if w, _, err := term.GetSize(os.Stdout.Fd()); err == nil && w > 0 {
			return w
		}
	}
	if n, err := strconv.Atoi(a.env.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return showWidth
}

// showTheme is the configured theme for printing to the terminal (auto
// taken as dark, since the terminal is not asked), ascii under NO_COLOR.
func (a *app) showTheme() *themes.Theme {
	name := config.DefaultTheme
	if cfg, err := config.Load(a.f.configPath, a.env.Getenv); err == nil && cfg.Theme != "" {
		name = cfg.Theme
	}
	if a.env.Getenv("NO_COLOR") != "" {
		name = "ascii"
	}
	th, err := themes.Lookup(name, true)
	if err != nil {
		th, _ = themes.Lookup("dark", true)
	}
	return th
}
