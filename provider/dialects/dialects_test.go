package dialects

import (
	"strings"
	"testing"

	"github.com/parley-chat/parley/provider"
)

// TestEveryDialectConstructs checks that each known dialect has a
// constructor whose provider reports that dialect, and that the
// capabilities are where the dialects' gateways offer them.
func TestEveryDialectConstructs(t *testing.T) {
	want := map[provider.Dialect]struct{ models, images, usage bool }{
		provider.DialectOpenAI: {models: true, images: true},
		provider.DialectCuadra: {models: true, usage: true},
		provider.DialectGemini: {models: true},
	}
	for _, d := range provider.Dialects() {
		p, err := New(d, provider.Options{Name: "x", BaseURL: "http://127.0.0.1:1/v1", APIKey: "k"})
		if err != nil {
			t.Errorf("%s: %v", d, err)
			continue
		}
		if p.Dialect() != d {
			t.Errorf("dialect %q constructs a provider of dialect %q", d, p.Dialect())
		}
		_, models := p.(provider.ModelLister)
		_, images := p.(provider.ImageGenerator)
		_, usage := p.(provider.UsageReporter)
		if w := want[d]; models != w.models || images != w.images || usage != w.usage {
			t.Errorf("%s: models %v images %v usage %v, want %+v", d, models, images, usage, w)
		}
	}
	if len(registry) != len(provider.Dialects()) {
		t.Errorf("registry has %d dialects, provider knows %d", len(registry), len(provider.Dialects()))
	}
}

func TestNewErrors(t *testing.T) {
	if p, err := New("klingon", provider.Options{BaseURL: "http://127.0.0.1:1/v1"}); err == nil || p != nil ||
		!strings.Contains(err.Error(), `unknown dialect "klingon"`) || !strings.Contains(err.Error(), "openai, cuadra, gemini") {
		t.Errorf("unknown dialect: %v, %v", p, err)
	}
	// A failed construction is a nil interface, not a typed nil.
	if p, err := New(provider.DialectOpenAI, provider.Options{BaseURL: "ftp://x"}); err == nil || p != nil {
		t.Errorf("bad base URL: %#v, %v", p, err)
	}
}
