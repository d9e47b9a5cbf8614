package cli

import (
	"github.com/parley-chat/parley/provider"
	"github.com/parley-chat/parley/provider/demo"
)

// startDemo starts the built-in demo gateway on loopback (pacing from
// PARLEY_DEMO_SPEED and PARLEY_DEMO_QUEUE_EVERY) and returns its base URL,
// its models (the default first) and a function that stops it.
func startDemo() (baseURL string, models []string, stop func(), err error) {
	srv, err := demo.Start(demo.OptionsFromEnv())
	if err != nil {
		return "", nil, nil, err
	}
	return srv.URL, demo.Models(), func() { _ = srv.Close() }, nil
}

// demoTools are the tools offered to the demo gateway's models.
func demoTools() []provider.Tool { return demo.Tools() }
