package cli

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/parley-chat/parley/config"
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/cuadra"
	"github.com/parley-chat/parley/provider/gemini"
	"github.com/parley-chat/parley/provider/openai"
)

// constructor builds a dialect's Provider from its options.
type constructor func(provider.Options) (provider.Provider, error)

// dialects maps each dialect name to its constructor. A new dialect is one
// line here (its name must also be in config.Dialects).
var dialects = map[string]constructor{
	"openai": adapt(openai.New),
	"cuadra": adapt(cuadra.New),
	"gemini": adapt(gemini.New),
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

// checkDialect reports whether name is a dialect this build can speak,
// with a usage-level message when it is not.
func checkDialect(name string) error {
	if _, ok := dialects[name]; ok {
		return nil
	}
	if slices.Contains(config.Dialects, name) {
		return usageErrorf("dialect %q is not available in this build (available: %s)", name, availableDialects())
	}
	return usageErrorf("unknown dialect %q (one of %s)", name, strings.Join(config.Dialects, ", "))
}

func availableDialects() string {
	names := make([]string, 0, len(dialects))
	for n := range dialects {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// newProvider constructs the Provider of a dialect.
func newProvider(dialect string, opts provider.Options) (provider.Provider, error) {
	if err := checkDialect(dialect); err != nil {
		return nil, err
	}
	p, err := dialects[dialect](opts)
	if err != nil {
		return nil, usageErrorf("%s", redact(fmt.Sprint(err), opts.APIKey))
	}
	return p, nil
}
