package cli

import "github.com/parley-chat/parley/internal/demogw"

// startDemo starts the built-in demo gateway on loopback (pacing from
// PARLEY_DEMO_SPEED and PARLEY_DEMO_QUEUE_EVERY) and returns its base URL,
// its models (the default first) and a function that stops it.
func startDemo() (baseURL string, models []string, stop func(), err error) {
	srv, err := demogw.Start(demogw.OptionsFromEnv())
	if err != nil {
		return "", nil, nil, err
	}
	return srv.URL, demogw.Models(), func() { _ = srv.Close() }, nil
}
