package markdown

import (
	"strings"
	"testing"
)

// TestPrinterMatchesRender: an answer printed piece by piece as it
// streams in reads exactly as a render of the whole answer, and finished
// pieces are written before the answer ends.
func TestPrinterMatchesRender(t *testing.T) {
	for name, doc := range map[string]string{"generated": genDoc(16<<10, 7), "hostile": testDocs["hostile"]} {
		r := testRenderer(t, 60, "dark")
		want, _ := r.Render(doc, 1)
		p := NewPrinter(r, nil)
		var got strings.Builder
		early := 0
		for i := 0; i < len(doc); i += 7 {
			out := p.Append(doc[i:min(i+7, len(doc))])
			got.WriteString(out)
			if out != "" && i+7 < len(doc) {
				early++
			}
		}
		got.WriteString(p.Finish())
		if got.String() != want+"\n" {
			t.Fatalf("%s: printed answer differs from Render:\n%s\n---\n%s", name, got.String(), want)
		}
		if name == "generated" && early < 10 {
			t.Errorf("%s: only %d writes before the answer ended", name, early)
		}
	}
}

// TestPrinterReferences: once a footnote (or link reference) definition
// arrives, the rest is rendered as one document, so its references
// resolve; the clean hook sees every byte of source.
func TestPrinterReferences(t *testing.T) {
	r := testRenderer(t, 60, "ascii")
	doc := "First paragraph.\n\nA claim[^1] with SECRET inside.\n\n[^1]: The source.\n"
	p := NewPrinter(r, func(s string) string { return strings.ReplaceAll(s, "SECRET", "[redacted]") })
	var got strings.Builder
	for i := 0; i < len(doc); i += 3 {
		got.WriteString(p.Append(doc[i:min(i+3, len(doc))]))
	}
	got.WriteString(p.Finish())
	v := visible(got.String())
	for _, want := range []string{"First paragraph.", "A claim[1] with [redacted] inside.", "[1] The source."} {
		if !strings.Contains(v, want) {
			t.Errorf("printed answer lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "SECRET") || strings.Contains(v, "[^1]") {
		t.Errorf("printed answer shows the secret or a raw footnote:\n%s", v)
	}
	if empty := NewPrinter(r, nil); empty.Finish() != "" {
		t.Error("an empty answer printed something")
	}
}
