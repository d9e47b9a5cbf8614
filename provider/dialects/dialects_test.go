package dialects

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
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

// TestOnlyHereImportsTheDialects: outside this package, no Parley package
// (tests aside) imports a dialect package, and the chat screen does not
// import this one; everyone else sees provider.Provider and its
// capabilities.
func TestOnlyHereImportsTheDialects(t *testing.T) {
	const module = "github.com/parley-chat/parley/"
	dialectPkgs := map[string]bool{}
	for _, d := range provider.Dialects() {
		dialectPkgs[module+"provider/"+string(d)] = true
	}
	root := filepath.Join("..", "..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := module + filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if dialectPkgs[p] && pkg != module+"provider/dialects" {
				t.Errorf("%s imports %s: build providers with dialects.New, find capabilities by interface", path, p)
			}
			if p == module+"provider/dialects" && (pkg == module+"ui" || strings.HasPrefix(pkg, module+"ui/")) {
				t.Errorf("%s imports %s: the chat screen is handed a provider", path, p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("checked only %d files: is the module root at %s?", checked, root)
	}
}
