// Package dialects is the one place that turns a dialect name into a
// Provider: it maps each provider.Dialect to its package's constructor.
// Commands import it to build a provider; the chat screen never does, and
// sees only provider.Provider and its capabilities.
package dialects

import (
	"fmt"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/cuadra"
	"github.com/parley-chat/parley/provider/gemini"
	"github.com/parley-chat/parley/provider/openai"
)

// constructor builds a dialect's Provider from its options.
type constructor func(provider.Options) (provider.Provider, error)

// registry maps each dialect to its constructor. A new dialect is one
// constant in package provider and one line here.
var registry = map[provider.Dialect]constructor{
	provider.DialectOpenAI: adapt(openai.New),
	provider.DialectCuadra: adapt(cuadra.New),
	provider.DialectGemini: adapt(gemini.New),
}

// adapt turns a dialect's typed constructor into a constructor, taking
// care that a failed construction yields a nil interface, not a typed nil.
func adapt[P provider.Provider](f func(provider.Options) (P, error)) constructor {
	return func(o provider.Options) (provider.Provider, error) {
		p, err := f(o)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
}

// New constructs the Provider of dialect d from opts. An unknown dialect is
// an error naming the known ones; the returned Provider's Dialect is d.
func New(d provider.Dialect, opts provider.Options) (provider.Provider, error) {
	ctor, ok := registry[d]
	if !ok {
		if _, err := provider.ParseDialect(string(d)); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("dialect %q has no constructor in this build", d)
	}
	return ctor(opts)
}
