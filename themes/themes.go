// Package themes holds Parley's named themes as data: the lipgloss styles the
// TUI uses, the glamour style for markdown and the chroma style for code.
// Themes are immutable after construction and safe to share between
// goroutines; callers must not modify a Theme returned by Lookup.
//
// Every text colour of the coloured themes reaches WCAG AA contrast (4.5:1,
// 3:1 for borders and rules) on the backgrounds the theme is meant for, dark
// ones from black to #282c34 and light ones from white to #fdf6e3, and on
// the background a style sets itself. The colours are 256-colour indexes
// from 16 up or true colours, whose values are the same in every terminal,
// never the basic 16, which each terminal picks for itself.
package themes

import (
	"errors"
	"fmt"
	"image/color"
	"reflect"
	"strings"

	"charm.land/glamour/v2/ansi"
	"charm.land/glamour/v2/styles"
	"charm.land/lipgloss/v2"
	"github.com/alecthomas/chroma/v2"
	chromastyles "github.com/alecthomas/chroma/v2/styles"
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
	// Chroma is the name of the chroma style used to highlight code blocks,
	// registered in chroma's style registry; empty means no highlighting
	// (plain text). Code is drawn with the style's token colours on the
	// terminal's own background, never the style's.
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
	DiffDelete      lipgloss.Style // words a diff removes (the ascii theme marks them [-so-])
	DiffInsert      lipgloss.Style // words a diff adds (the ascii theme marks them {+so+})

	// The prompt editor draws on the terminal's default background: these
	// styles set a foreground only.
	InputPrompt      lipgloss.Style // the "> " before each line of the prompt editor
	InputPlaceholder lipgloss.Style // the hint shown in the empty prompt editor
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
	return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknown, name, strings.Join(Names(), ", "))
}

// ErrUnknown is wrapped by the error Lookup returns for a name that is not
// a theme. That error reads as a whole sentence, `unknown theme "x" (valid:
// auto, dark, light, ascii)`, for a caller to prefix with where the name
// came from.
var ErrUnknown = errors.New("unknown theme")

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
	// Without '#' prefixes the levels differ by their attributes alone,
	// so each of the first three looks different in every theme, with or
	// without colour: H1 a band, H2 underlined, H3 bold; H4 bold italic,
	// H5 and H6 italic.
	t, f := true, false
	c.H2.Underline = &t
	c.H4.Italic = &t
	c.H5.Italic, c.H5.Bold = &t, &f
	c.H6.Italic, c.H6.Bold = &t, &f
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
	del, ins                                                             color.Color // a diff's removed and added words
}

// markdownPalette is the colours Parley sets on top of a glamour base
// style, as glamour colour strings (256-colour indexes).
type markdownPalette struct {
	codeBlock    string // code without highlighting
	h1, h1Bg     string // the top heading's band
	code, codeBg string // inline code
	link         string // a link's URL
	linkText     string // a link's text
	image        string // an image's URL
	imageText    string // an image's alt text
	rule         string // horizontal rules
}

// recolour returns c with the colours of m. Every colour is a new
// pointer, so glamour's package-level configs stay untouched.
func recolour(c ansi.StyleConfig, m markdownPalette) ansi.StyleConfig {
	str := func(s string) *string { return &s }
	c.CodeBlock.Color = str(m.codeBlock)
	c.H1.Color, c.H1.BackgroundColor = str(m.h1), str(m.h1Bg)
	c.Code.Color, c.Code.BackgroundColor = str(m.code), str(m.codeBg)
	c.Link.Color = str(m.link)
	c.LinkText.Color = str(m.linkText)
	c.Image.Color = str(m.image)
	c.ImageText.Color = str(m.imageText)
	c.HorizontalRule.Color = str(m.rule)
	return c
}

// colored builds a coloured theme from a glamour base style and its
// colours, a chroma style and a palette; the dark and light themes differ
// only in those.
func colored(name string, dark bool, base ansi.StyleConfig, md markdownPalette, chroma string, p palette) *Theme {
	return &Theme{
		Name:             name,
		Dark:             dark,
		Markdown:         recolour(adapt(base), md),
		Chroma:           chroma,
		Color:            true,
		UserLabel:        fg(p.user).Bold(true),
		AssistantLabel:   fg(p.assistant).Bold(true),
		ReasoningBorder:  fg(p.border),
		ReasoningText:    fg(p.dim).Italic(true),
		StatusBar:        lipgloss.NewStyle().Foreground(p.text).Background(p.bar),
		StatusOK:         lipgloss.NewStyle().Foreground(p.ok).Background(p.bar),
		StatusWarn:       lipgloss.NewStyle().Foreground(p.warn).Background(p.bar).Bold(true),
		StatusError:      lipgloss.NewStyle().Foreground(lipgloss.Color("231")).Background(lipgloss.Color("160")).Bold(true),
		Dim:              fg(p.dim),
		Accent:           fg(p.accent).Bold(true),
		CodeLabel:        fg(p.dim),
		HelpBorder:       fg(p.accent),
		Selection:        lipgloss.NewStyle().Background(p.selection),
		DiffDelete:       fg(p.del).Strikethrough(true),
		DiffInsert:       fg(p.ins).Underline(true),
		InputPrompt:      fg(p.user),
		InputPlaceholder: fg(p.dim),
	}
}

// Parley's chroma styles: monokai and github with the token colours that
// fall short of 4.5:1 on the theme's backgrounds replaced. Code is drawn
// without the style's background, so colours that relied on one (github's
// error token, white whitespace) get a foreground that stands alone.
var (
	chromaDark = registerChroma("parley-dark", "monokai", chroma.StyleEntries{
		chroma.Comment:           "#9a957f",
		chroma.GenericSubheading: "#9a957f",
		chroma.KeywordNamespace:  "#ff5f8f",
		chroma.NameTag:           "#ff5f8f",
		chroma.Operator:          "#ff5f8f",
		chroma.GenericDeleted:    "#ff5f8f",
		chroma.Error:             "#ff5f5f",
	})
	chromaLight = registerChroma("parley-light", "github", chroma.StyleEntries{
		chroma.NameBuiltinPseudo: "#57606a",
		chroma.Error:             "#82071e",
		chroma.TextWhitespace:    "#1f2328",
	})
)

// registerChroma derives a chroma style from a built-in one, registers it
// under name and returns the name. It runs once, at package
// initialisation, before any renderer looks a style up.
func registerChroma(name, base string, changes chroma.StyleEntries) string {
	b := chromastyles.Get(base).Builder()
	for tt, entry := range changes {
		b.Add(tt, entry)
	}
	st, err := b.Build()
	if err != nil {
		panic(fmt.Sprintf("themes: chroma style %s: %v", name, err)) // the entries above are constant
	}
	st.Name = name
	chromastyles.Register(st)
	return name
}

func newDark() *Theme {
	return colored("dark", true, styles.DarkStyleConfig, markdownPalette{
		codeBlock: "252", h1: "228", h1Bg: "55", code: "210", codeBg: "236",
		link: "44", linkText: "42", image: "212", imageText: "249", rule: "244",
	}, chromaDark, palette{
		text: lipgloss.Color("252"), dim: lipgloss.Color("246"), accent: lipgloss.Color("105"),
		user: lipgloss.Color("39"), assistant: lipgloss.Color("212"), ok: lipgloss.Color("42"),
		warn: lipgloss.Color("214"), bar: lipgloss.Color("236"), border: lipgloss.Color("244"),
		selection: lipgloss.Color("237"), del: lipgloss.Color("203"), ins: lipgloss.Color("114"),
	})
}

func newLight() *Theme {
	return colored("light", false, styles.LightStyleConfig, markdownPalette{
		codeBlock: "234", h1: "55", h1Bg: "189", code: "124", codeBg: "254",
		link: "24", linkText: "23", image: "125", imageText: "240", rule: "245",
	}, chromaLight, palette{
		text: lipgloss.Color("235"), dim: lipgloss.Color("242"), accent: lipgloss.Color("57"),
		user: lipgloss.Color("27"), assistant: lipgloss.Color("162"), ok: lipgloss.Color("22"),
		warn: lipgloss.Color("94"), bar: lipgloss.Color("254"), border: lipgloss.Color("245"),
		selection: lipgloss.Color("253"), del: lipgloss.Color("160"), ins: lipgloss.Color("22"),
	})
}

// uncoloured returns c with every colour removed, keeping the attributes
// (bold, italic, underline, reverse): the dark layout without colour. The
// H1 band and inline code, which a background marks in colour, are drawn
// in reverse video instead.
func uncoloured(c ansi.StyleConfig) ansi.StyleConfig {
	clearColours(reflect.ValueOf(&c).Elem())
	t := true
	c.H1.Inverse = &t
	c.Code.Inverse = &t
	return c
}

// clearColours sets every Color and BackgroundColor field under v (a
// settable struct) to nil. Only the pointers are replaced, so glamour's
// configs stay untouched.
func clearColours(v reflect.Value) {
	for i := range v.NumField() {
		f := v.Field(i)
		switch name := v.Type().Field(i).Name; {
		case (name == "Color" || name == "BackgroundColor") && f.Type() == reflect.TypeFor[*string]():
			f.SetZero()
		case f.Kind() == reflect.Struct:
			clearColours(f)
		}
	}
}

func newASCII() *Theme {
	md := uncoloured(adapt(styles.DarkStyleConfig))
	plain := lipgloss.NewStyle()
	return &Theme{
		Name:             "ascii",
		Dark:             true,
		Markdown:         md,
		Chroma:           "",
		Color:            false,
		UserLabel:        plain.Bold(true),
		AssistantLabel:   plain.Bold(true),
		ReasoningBorder:  plain,
		ReasoningText:    plain,
		StatusBar:        plain,
		StatusOK:         plain,
		StatusWarn:       plain.Bold(true),
		StatusError:      plain.Bold(true).Reverse(true),
		Dim:              plain,
		Accent:           plain.Bold(true),
		CodeLabel:        plain,
		HelpBorder:       plain,
		Selection:        plain.Reverse(true),
		DiffDelete:       plain,
		DiffInsert:       plain,
		InputPrompt:      plain,
		InputPlaceholder: plain,
	}
}
