package themes

import (
	"strings"
	"testing"

	glamourstyles "charm.land/glamour/v2/styles"
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

func TestASCIIHasNoColour(t *testing.T) {
	th, _ := Lookup("ascii", true)
	if th.Color || th.Chroma != "" {
		t.Fatal("ascii theme uses colour")
	}
	for i, s := range []string{
		th.UserLabel.Render("x"), th.StatusBar.Render("x"), th.Dim.Render("x"), th.CodeLabel.Render("x"),
		th.StatusError.Render("x"), th.Selection.Render("x"), th.Accent.Render("x"),
	} {
		if strings.Contains(s, "38;") || strings.Contains(s, "48;") {
			t.Errorf("ascii style %d renders colour: %q", i, s)
		}
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
	if d.CodeBlock.Chroma == nil {
		t.Error("glamour's dark code block chroma config was cleared")
	}
}
