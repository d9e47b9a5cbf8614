package themes

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"charm.land/glamour/v2/ansi"
	glamourstyles "charm.land/glamour/v2/styles"
	"charm.land/lipgloss/v2"
	"github.com/alecthomas/chroma/v2/styles"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name string
		dark bool
		want string
	}{
		{"dark", false, "dark"},
		{"light", true, "light"},
		{"ascii", true, "ascii"},
		{"auto", true, "dark"},
		{"auto", false, "light"},
		{"", false, "light"},
		{" Dark ", false, "dark"},
	}
	for _, tt := range tests {
		th, err := Lookup(tt.name, tt.dark)
		if err != nil {
			t.Fatalf("Lookup(%q): %v", tt.name, err)
		}
		if th.Name != tt.want {
			t.Errorf("Lookup(%q, %v) = %q, want %q", tt.name, tt.dark, th.Name, tt.want)
		}
	}
}

func TestLookupUnknownListsNames(t *testing.T) {
	_, err := Lookup("solarized", true)
	if err == nil {
		t.Fatal("no error for an unknown theme")
	}
	for _, n := range Names() {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not list %q", err, n)
		}
	}
}

func TestNamesAreAllLookupable(t *testing.T) {
	for _, n := range Names() {
		if _, err := Lookup(n, true); err != nil {
			t.Errorf("Lookup(%q): %v", n, err)
		}
	}
}

func TestMarkdownStyles(t *testing.T) {
	for _, n := range []string{"dark", "light", "ascii"} {
		th, _ := Lookup(n, true)
		md := th.Markdown
		if md.Document.Margin == nil || *md.Document.Margin != 0 {
			t.Errorf("%s: document margin is not 0", n)
		}
		if md.CodeBlock.Margin == nil || *md.CodeBlock.Margin != 0 || md.CodeBlock.Indent == nil || *md.CodeBlock.Indent != 0 {
			t.Errorf("%s: code block has margin or indent", n)
		}
		for i, h := range []string{md.H1.Prefix, md.H2.Prefix, md.H3.Prefix, md.H4.Prefix, md.H5.Prefix, md.H6.Prefix} {
			if strings.Contains(h, "#") {
				t.Errorf("%s: H%d prefix %q contains '#'", n, i+1, h)
			}
		}
		if th.Chroma != "" {
			if _, ok := styles.Registry[th.Chroma]; !ok {
				t.Errorf("%s: chroma style %q does not exist", n, th.Chroma)
			}
		}
	}
}

// TestASCIIHasNoColour checks every style of the ascii theme (the one
// NO_COLOR selects): no lipgloss style sets a colour, no glamour element
// has one, and code is not highlighted.
func TestASCIIHasNoColour(t *testing.T) {
	th, _ := Lookup("ascii", true)
	if th.Color || th.Chroma != "" {
		t.Fatal("ascii theme uses colour")
	}
	v := reflect.ValueOf(*th)
	styles := 0
	for i := range v.NumField() {
		s, ok := v.Field(i).Interface().(lipgloss.Style)
		if !ok {
			continue
		}
		styles++
		name := v.Type().Field(i).Name
		if setColour(s.GetForeground()) != nil || setColour(s.GetBackground()) != nil {
			t.Errorf("ascii style %s sets a colour", name)
		}
		if out := s.Render("x"); strings.Contains(out, "38;") || strings.Contains(out, "48;") {
			t.Errorf("ascii style %s renders colour: %q", name, out)
		}
	}
	if styles < 15 {
		t.Fatalf("only %d styles found", styles)
	}
	els := map[string]ansi.StylePrimitive{}
	collectPrimitives("Markdown", reflect.ValueOf(th.Markdown), els)
	for name, p := range els {
		if p.Color != nil || p.BackgroundColor != nil {
			t.Errorf("ascii %s has a colour", name)
		}
	}
}

func TestUnknownThemeMessage(t *testing.T) {
	_, err := Lookup("neon", true)
	if !errors.Is(err, ErrUnknown) {
		t.Fatalf("error %v does not wrap ErrUnknown", err)
	}
	if want := `unknown theme "neon" (valid: auto, dark, light, ascii)`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestGlamourConfigsNotMutated(t *testing.T) {
	// Building the themes must not write through glamour's shared pointers.
	if _, err := Lookup("dark", true); err != nil {
		t.Fatal(err)
	}
	d := glamourstyles.DarkStyleConfig
	if d.Document.Margin == nil || *d.Document.Margin == 0 || d.H2.Prefix != "## " {
		t.Error("glamour's dark style config was modified")
	}
	if d.H1.BackgroundColor == nil || *d.H1.BackgroundColor != "63" || *glamourstyles.LightStyleConfig.Code.Color != "203" {
		t.Error("glamour's colours were overwritten")
	}
	if d.CodeBlock.Chroma == nil {
		t.Error("glamour's dark code block chroma config was cleared")
	}
}
