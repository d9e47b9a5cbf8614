// Command parley is a terminal chat client for LLM API gateways. See
// README.md, or run parley --help.
package main

import (
	"os"

	"github.com/parley-chat/parley/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.OSEnv()))
}
