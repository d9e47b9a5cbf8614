package cli

import (
	"fmt"

	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/dialects"
)

// newProvider constructs the Provider of a dialect; every failure is a
// usage error (exit 2) without the key.
func newProvider(dialect provider.Dialect, opts provider.Options) (provider.Provider, error) {
	p, err := dialects.New(dialect, opts)
	if err != nil {
		return nil, usageErrorf("%s", redact(fmt.Sprint(err), opts.APIKey))
	}
	return p, nil
}
