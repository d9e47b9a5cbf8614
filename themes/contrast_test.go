package themes

import (
	"fmt"
	"image/color"
	"math"
	"reflect"
	"sort"
	"strings"
	"testing"

	"charm.land/glamour/v2/ansi"
	"charm.land/lipgloss/v2"
	"github.com/alecthomas/chroma/v2"
	chromastyles "github.com/alecthomas/chroma/v2/styles"
	"github.com/charmbracelet/colorprofile"
	xansi "github.com/charmbracelet/x/ansi"
)

// WCAG 2 AA minimum contrast ratios.
const (
	minText       = 4.5 // any text, dim text included
	minDecorative = 3.0 // marks that carry no words: borders, rules
)

// decorative names the pairs held to minDecorative: styles used only for
// the colour of a border or a rule.
var decorative = map[string]bool{
	"ReasoningBorder":         true,
	"HelpBorder":              true,
	"Markdown.HorizontalRule": true,
}

// terminal is what a theme assumes about the terminal it is drawn on: the
// default backgrounds it must read well on and the default foregrounds
// drawn on a background-only style. Every pair is checked against each,
// and the worst case counts.
type terminal struct {
	bgs, fgs []string
}

var (
	// darkTerminal: pure black, VS Code's #1e1e1e and One Dark's #282c34;
	// text as xterm's grey and One Dark's.
	darkTerminal = terminal{bgs: []string{"#000000", "#1e1e1e", "#282c34"}, fgs: []string{"#d0d0d0", "#abb2bf"}}
	// lightTerminal: white, One Light's #fafafa and Solarized Light's
	// #fdf6e3; text black and One Light's.
	lightTerminal = terminal{bgs: []string{"#ffffff", "#fafafa", "#fdf6e3"}, fgs: []string{"#000000", "#383a42"}}
)

// pair is one foreground drawn on one background; nil means the
// terminal's default.
type pair struct {
	name   string
	fg, bg color.Color
}

func (p pair) min() float64 {
	if decorative[p.name] {
		return minDecorative
	}
	return minText
}

// TestContrast checks that every text/background pair of every coloured
// theme reaches WCAG AA, computing each ratio from the theme's own colours:
// its lipgloss styles (status bar segments with their bar, input prompt and
// placeholder), every coloured element of its glamour style in every
// context that has a background of its own, and every token colour of its
// chroma style (code is drawn on the terminal's background).
func TestContrast(t *testing.T) {
	for _, name := range []string{"dark", "light"} {
		t.Run(name, func(t *testing.T) {
			th, err := Lookup(name, true)
			if err != nil {
				t.Fatal(err)
			}
			term := lightTerminal
			if th.Dark {
				term = darkTerminal
			}
			pairs := themePairs(th)
			if len(pairs) < 40 {
				t.Fatalf("only %d pairs found: the walk over the theme is broken", len(pairs))
			}
			for _, p := range pairs {
				ratio, fg, bg := worst(p, term)
				msg := fmt.Sprintf("%-34s %-9s on %-9s %5.2f:1 (min %.1f)", p.name, fg, bg, ratio, p.min())
				if ratio < p.min() {
					t.Error("too low: " + msg)
				} else if testing.Verbose() {
					t.Log(msg)
				}
			}
		})
	}
}

// TestThemeColoursAreWellDefined checks that coloured themes use only
// 256-colour indexes from 16 up or true colours: the basic 16 differ from
// terminal to terminal, so their contrast cannot be known.
func TestThemeColoursAreWellDefined(t *testing.T) {
	for _, name := range []string{"dark", "light"} {
		th, _ := Lookup(name, true)
		for _, p := range themePairs(th) {
			for _, c := range []color.Color{p.fg, p.bg} {
				if b, ok := c.(xansi.BasicColor); ok {
					t.Errorf("%s: %s uses basic colour %d", name, p.name, b)
				}
			}
		}
	}
}

// TestContrastRatio pins the ratio arithmetic to known values.
func TestContrastRatio(t *testing.T) {
	tests := []struct {
		a, b string
		want float64
	}{
		{"#000000", "#ffffff", 21},
		{"#ffffff", "#ffffff", 1},
		{"#767676", "#ffffff", 4.54},
		{"231", "16", 21},        // xterm white and black
		{"244", "#ffffff", 3.95}, // xterm grey #808080
		{"63", "#000000", 4.57},  // xterm #5f5fff
	}
	for _, tt := range tests {
		got := contrast(lipgloss.Color(tt.a), lipgloss.Color(tt.b))
		if math.Abs(got-tt.want) > 0.01 {
			t.Errorf("contrast(%s, %s) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}

// worst returns the lowest ratio of p over the terminal's defaults, with
// the colours that gave it. A true-colour foreground counts also as the
// 256-colour index it becomes in a terminal without true colour (tmux
// without RGB, for one).
func worst(p pair, term terminal) (float64, string, string) {
	fgs, bgs := []color.Color{p.fg}, []color.Color{p.bg}
	if p.fg == nil {
		fgs = colours(term.fgs)
	} else if _, ok := p.fg.(color.RGBA); ok {
		fgs = append(fgs, colorprofile.ANSI256.Convert(p.fg))
	}
	if p.bg == nil {
		bgs = colours(term.bgs)
	}
	low, lf, lb := math.Inf(1), "", ""
	for _, f := range fgs {
		for _, b := range bgs {
			if r := contrast(f, b); r < low {
				low, lf, lb = r, hex(f), hex(b)
			}
		}
	}
	return low, lf, lb
}

func colours(hexes []string) []color.Color {
	out := make([]color.Color, len(hexes))
	for i, h := range hexes {
		out[i] = lipgloss.Color(h)
	}
	return out
}

// themePairs lists every colour pair the theme draws.
func themePairs(th *Theme) []pair {
	var ps []pair
	ps = append(ps, stylePairs(th)...)
	ps = append(ps, markdownPairs(th.Markdown)...)
	ps = append(ps, chromaPairs(th.Chroma)...)
	return ps
}

// stylePairs walks every lipgloss.Style field of the Theme, so a style
// added later is checked without changing this test.
func stylePairs(th *Theme) []pair {
	var ps []pair
	v := reflect.ValueOf(*th)
	for i := range v.NumField() {
		s, ok := v.Field(i).Interface().(lipgloss.Style)
		if !ok {
			continue
		}
		fg, bg := setColour(s.GetForeground()), setColour(s.GetBackground())
		if s.GetReverse() {
			fg, bg = bg, fg
		}
		if fg == nil && bg == nil {
			continue
		}
		ps = append(ps, pair{name: v.Type().Field(i).Name, fg: fg, bg: bg})
	}
	return ps
}

// setColour returns nil for lipgloss's "no colour".
func setColour(c color.Color) color.Color {
	if c == nil {
		return nil
	}
	if _, ok := c.(lipgloss.NoColor); ok {
		return nil
	}
	return c
}

// markdownInline names the glamour elements drawn inside a block's text
// (a paragraph, a heading, a table cell), so inside any background a
// block has.
var markdownInline = map[string]bool{
	"Text": true, "Emph": true, "Strong": true, "Strikethrough": true, "Link": true, "LinkText": true,
	"Image": true, "ImageText": true, "Code": true, "HTMLSpan": true,
}

// markdownPairs lists each coloured glamour element as it is drawn: its
// colours cascaded from the document (and, for H1–H6, from Heading), and
// each inline element also inside every block that has a background of
// its own (such as H1).
func markdownPairs(md ansi.StyleConfig) []pair {
	doc := md.Document.StylePrimitive
	els := map[string]ansi.StylePrimitive{}
	collectPrimitives("Markdown", reflect.ValueOf(md), els)
	for _, h := range []string{"H1", "H2", "H3", "H4", "H5", "H6"} {
		els["Markdown."+h] = cascade(md.Heading.StylePrimitive, els["Markdown."+h])
	}
	blocksWithBackground := map[string]ansi.StylePrimitive{}
	for name, p := range els {
		if p.BackgroundColor != nil && !markdownInline[strings.TrimPrefix(name, "Markdown.")] {
			blocksWithBackground[name] = cascade(doc, p)
		}
	}
	var ps []pair
	for _, name := range sortedKeys(els) {
		p := els[name]
		if p.Color == nil && p.BackgroundColor == nil && name != "Markdown.Document" {
			continue
		}
		eff := cascade(doc, p)
		ps = append(ps, pair{name: name, fg: glamourColour(eff.Color), bg: glamourColour(eff.BackgroundColor)})
		if !markdownInline[strings.TrimPrefix(name, "Markdown.")] {
			continue
		}
		for _, bname := range sortedKeys(blocksWithBackground) {
			eff := cascade(blocksWithBackground[bname], p)
			ps = append(ps, pair{name: name + " in " + strings.TrimPrefix(bname, "Markdown."),
				fg: glamourColour(eff.Color), bg: glamourColour(eff.BackgroundColor)})
		}
	}
	return ps
}

// collectPrimitives finds every ansi.StylePrimitive in v (a StyleConfig
// or one of its element types), named by its field path.
func collectPrimitives(path string, v reflect.Value, out map[string]ansi.StylePrimitive) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	if p, ok := v.Interface().(ansi.StylePrimitive); ok {
		out[path] = p
		return
	}
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		sub := path + "." + f.Name
		if f.Anonymous {
			sub = path // an embedded StyleBlock/StylePrimitive is the element itself
		}
		collectPrimitives(sub, v.Field(i), out)
	}
}

// cascade applies glamour's colour inheritance: the child's colours where
// set, else the parent's.
func cascade(parent, child ansi.StylePrimitive) ansi.StylePrimitive {
	if child.Color == nil {
		child.Color = parent.Color
	}
	if child.BackgroundColor == nil {
		child.BackgroundColor = parent.BackgroundColor
	}
	return child
}

func glamourColour(s *string) color.Color {
	if s == nil || *s == "" {
		return nil
	}
	return setColour(lipgloss.Color(*s))
}

// chromaPairs lists the colour of every token type of the named chroma
// style. Code blocks are drawn without the style's own background, so each
// colour is paired with the terminal's.
func chromaPairs(name string) []pair {
	if name == "" {
		return nil
	}
	style, ok := chromastyles.Registry[strings.ToLower(name)]
	if !ok {
		return []pair{{name: "chroma style " + name + " is not registered", fg: lipgloss.Color("#ffffff"), bg: lipgloss.Color("#ffffff")}}
	}
	var types []chroma.TokenType
	for tt := range chroma.StandardTypes {
		// Negative types style the wrapper, not tokens; Error marks
		// input the lexer could not read, drawn like any token.
		if tt >= 0 || tt == chroma.Error {
			types = append(types, tt)
		}
	}
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	var ps []pair
	for _, tt := range types {
		e := style.Get(tt)
		if !e.Colour.IsSet() {
			continue
		}
		c := color.RGBA{R: e.Colour.Red(), G: e.Colour.Green(), B: e.Colour.Blue(), A: 0xff}
		ps = append(ps, pair{name: "Chroma." + tt.String(), fg: c})
	}
	return ps
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// contrast is the WCAG 2 contrast ratio of two colours, from 1 to 21.
func contrast(a, b color.Color) float64 {
	la, lb := luminance(a), luminance(b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// luminance is the WCAG relative luminance of a colour, with ANSI colours
// resolved through the xterm palette.
func luminance(c color.Color) float64 {
	r, g, b := rgb(c)
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(r) + 0.7152*lin(g) + 0.0722*lin(b)
}

// rgb resolves a colour to 8-bit RGB; 256-colour indexes and the basic 16
// go through the xterm palette.
func rgb(c color.Color) (uint8, uint8, uint8) {
	switch v := c.(type) {
	case xansi.BasicColor:
		return xterm(int(v))
	case xansi.IndexedColor:
		return xterm(int(v))
	}
	r, g, b, _ := c.RGBA()
	return uint8(r >> 8), uint8(g >> 8), uint8(b >> 8)
}

// xterm returns the RGB value of an xterm 256-colour index: the 16 basic
// colours as xterm's defaults, the 6×6×6 cube, then the grey ramp.
func xterm(i int) (uint8, uint8, uint8) {
	basic := [16][3]uint8{
		{0x00, 0x00, 0x00}, {0xcd, 0x00, 0x00}, {0x00, 0xcd, 0x00}, {0xcd, 0xcd, 0x00},
		{0x00, 0x00, 0xee}, {0xcd, 0x00, 0xcd}, {0x00, 0xcd, 0xcd}, {0xe5, 0xe5, 0xe5},
		{0x7f, 0x7f, 0x7f}, {0xff, 0x00, 0x00}, {0x00, 0xff, 0x00}, {0xff, 0xff, 0x00},
		{0x5c, 0x5c, 0xff}, {0xff, 0x00, 0xff}, {0x00, 0xff, 0xff}, {0xff, 0xff, 0xff},
	}
	switch {
	case i < 16:
		return basic[i][0], basic[i][1], basic[i][2]
	case i < 232:
		i -= 16
		level := func(n int) uint8 {
			if n == 0 {
				return 0
			}
			return uint8(55 + 40*n)
		}
		return level(i / 36), level(i / 6 % 6), level(i % 6)
	default:
		g := uint8(8 + 10*(i-232))
		return g, g, g
	}
}

func hex(c color.Color) string {
	r, g, b := rgb(c)
	return fmt.Sprintf("#%02x%02x%02x", r, g, b)
}
