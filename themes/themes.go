// Package themes holds Parley's named themes as data: the lipgloss styles the
// TUI uses, the glamour style for markdown and the chroma style for code.
// Themes are immutable after construction and safe to share between
// goroutines; callers must not modify a Theme returned by Lookup.
package themes

import (
	"fmt"
	"image/color"
	"strings"

	"charm.land/glamour/v2/ansi"
	"charm.land/glamour/v2/styles"
	"charm.land/lipgloss/v2"
)

// Theme is one named set of styles.
type Theme struct {
	// Name is the theme's name as accepted by Lookup.
	Name string
	// Dark reports whether the theme is meant for a dark background.
	Dark bool
	// Markdown is the glamour style for rendered markdown. Its document has
	// no margin and its code blocks have no margin or indent, so code copied
	// from the screen pastes as valid code.
	Markdown ansi.StyleConfig
	// Chroma is the name of the chroma style used to highlight code blocks;
	// empty means no highlighting (plain text).
	Chroma string
	// Color reports whether the theme uses colours at all (false for ascii).
	Color bool

	UserLabel       lipgloss.Style // the "you" label above a user prompt
	AssistantLabel  lipgloss.Style // the label above an assistant answer
	ReasoningBorder lipgloss.Style // border of the (dimmed) reasoning block
	ReasoningText   lipgloss.Style // text inside the reasoning block
	StatusBar       lipgloss.Style // base style of the status bar
	StatusOK        lipgloss.Style // a status segment reporting success/idle
	StatusWarn      lipgloss.Style // a status segment reporting a warning (retry, rate limit)
	StatusError     lipgloss.Style // a status segment reporting an error
	Dim             lipgloss.Style // dim/muted text: hints, timestamps, token counts
	Accent          lipgloss.Style // accent colour: focused pane, key names
	CodeLabel       lipgloss.Style // the "─ [3] go" line above a code block
	HelpBorder      lipgloss.Style // border of the help overlay
	Selection       lipgloss.Style // the selected message or list item
}

// Names returns the accepted theme names, including "auto".
func Names() []string {
	return []string{"auto", "dark", "light", "ascii"}
}

// Lookup returns the named theme: "dark", "light", "ascii" (no colours), or
// "auto", which picks dark or light by hasDarkBackground. Names are matched
// case-insensitively; an unknown name is an error listing the valid names.
//
// NO_COLOR is honoured by the caller, not here: when the NO_COLOR environment
// variable is set to a non-empty value, or the terminal has the ASCII colour
// profile, the TUI asks for Lookup("ascii", …) regardless of the configured
// theme.
func Lookup(name string, hasDarkBackground bool) (*Theme, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "auto", "":
		if hasDarkBackground {
			return dark, nil
		}
		return light, nil
	case "dark":
		return dark, nil
	case "light":
		return light, nil
	case "ascii":
		return asciiTheme, nil
	}
	return nil, fmt.Errorf("themes: unknown theme %q (valid: %s)", name, strings.Join(Names(), ", "))
}

var (
	dark       = newDark()
	light      = newLight()
	asciiTheme = newASCII()
)

func uintPtr(u uint) *uint { return &u }

// adapt turns one of glamour's style configs into Parley's: no document
// margin, code blocks flush left, and headings without '#' prefixes. The
// configs are copied by value; pointers that are changed are replaced, never
// written through, so glamour's package-level configs stay untouched.
func adapt(c ansi.StyleConfig) ansi.StyleConfig {
	c.Document.Margin = uintPtr(0)
	c.Document.Indent = nil
	c.CodeBlock.Margin = uintPtr(0)
	c.CodeBlock.Indent = uintPtr(0)
	c.CodeBlock.Chroma = nil
	c.CodeBlock.Theme = ""
	for _, h := range []*ansi.StyleBlock{&c.H2, &c.H3, &c.H4, &c.H5, &c.H6} {
		h.Prefix = ""
	}
	if strings.Contains(c.H1.Prefix, "#") {
		c.H1.Prefix = ""
	}
	// Glamour narrows quoted text by the quote's Indent (1) but draws the
	// indent token that many times, so a two-column token ("│ ") makes
	// every full line one column too wide, and the quote is wrapped a
	// second time with orphaned words and no bar. A one-column bar keeps
	// the arithmetic right: a left half block, whose empty right half
	// keeps the text off the bar, or a plain bar in ASCII.
	if tok := c.BlockQuote.IndentToken; tok != nil {
		bar := strings.TrimRight(*tok, " ")
		if bar == "│" {
			bar = "▌"
		}
		c.BlockQuote.IndentToken = &bar
	}
	return c
}

func fg(c color.Color) lipgloss.Style { return lipgloss.NewStyle().Foreground(c) }

// palette is the handful of colours a coloured theme is made of.
type palette struct {
	text, dim, accent, user, assistant, ok, warn, bar, border, selection color.Color
}

// colored builds a coloured theme from a glamour base style, a chroma
// style and a palette; the dark and light themes differ only in those.
func colored(name string, dark bool, base ansi.StyleConfig, chroma string, p palette) *Theme {
	return &Theme{
		Name:            name,
		Dark:            dark,
		Markdown:        adapt(base),
		Chroma:          chroma,
		Color:           true,
		UserLabel:       fg(p.user).Bold(true),
		AssistantLabel:  fg(p.assistant).Bold(true),
		ReasoningBorder: fg(p.border),
		ReasoningText:   fg(p.dim).Italic(true),
		StatusBar:       lipgloss.NewStyle().Foreground(p.text).Background(p.bar),
		StatusOK:        lipgloss.NewStyle().Foreground(p.ok).Background(p.bar),
		StatusWarn:      lipgloss.NewStyle().Foreground(p.warn).Background(p.bar).Bold(true),
		StatusError:     lipgloss.NewStyle().Foreground(lipgloss.Color("231")).Background(lipgloss.Color("160")).Bold(true),
		Dim:             fg(p.dim),
		Accent:          fg(p.accent).Bold(true),
		CodeLabel:       fg(lipgloss.Color("244")),
		HelpBorder:      fg(p.accent),
		Selection:       lipgloss.NewStyle().Background(p.selection),
	}
}

func newDark() *Theme {
	return colored("dark", true, styles.DarkStyleConfig, "monokai", palette{
		text: lipgloss.Color("252"), dim: lipgloss.Color("243"), accent: lipgloss.Color("63"),
		user: lipgloss.Color("39"), assistant: lipgloss.Color("212"), ok: lipgloss.Color("42"),
		warn: lipgloss.Color("214"), bar: lipgloss.Color("236"), border: lipgloss.Color("240"),
		selection: lipgloss.Color("237"),
	})
}

func newLight() *Theme {
	return colored("light", false, styles.LightStyleConfig, "github", palette{
		text: lipgloss.Color("235"), dim: lipgloss.Color("245"), accent: lipgloss.Color("57"),
		user: lipgloss.Color("27"), assistant: lipgloss.Color("162"), ok: lipgloss.Color("28"),
		warn: lipgloss.Color("130"), bar: lipgloss.Color("254"), border: lipgloss.Color("250"),
		selection: lipgloss.Color("253"),
	})
}

func newASCII() *Theme {
	md := adapt(styles.ASCIIStyleConfig)
	plain := lipgloss.NewStyle()
	return &Theme{
		Name:            "ascii",
		Dark:            true,
		Markdown:        md,
		Chroma:          "",
		Color:           false,
		UserLabel:       plain.Bold(true),
		AssistantLabel:  plain.Bold(true),
		ReasoningBorder: plain,
		ReasoningText:   plain,
		StatusBar:       plain,
		StatusOK:        plain,
		StatusWarn:      plain.Bold(true),
		StatusError:     plain.Bold(true).Reverse(true),
		Dim:             plain,
		Accent:          plain.Bold(true),
		CodeLabel:       plain,
		HelpBorder:      plain,
		Selection:       plain.Reverse(true),
	}
}
