// Package e2e tests the real parley binary: print mode against loopback
// gateways, configuration errors, and (in tui_test.go) the chat screen in
// tmux. TestMain builds the binary once for every test in the package,
// with the race detector when the tests run with it.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	// Linking the command's packages into this test binary makes go test's
	// result cache notice when any of them changes; the tests themselves
	// run the binary built below.
	_ "github.com/parley-chat/parley/cli"
)

// parleyBin is the path of the parley binary built by TestMain.
var parleyBin string

func TestMain(m *testing.M) {
	if os.Getenv(mcpHelperEnv) != "" { // started by parley as an MCP server (tools_test.go)
		os.Exit(runMCPHelper())
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "parley-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	parleyBin = filepath.Join(dir, "parley")
	args := []string{"build", "-o", parleyBin}
	if raceBuild {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Dir = root
	build.Stdout = os.Stderr
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: building parley:", err)
		return 1
	}
	return m.Run()
}

// moduleRoot finds the directory holding go.mod above the working
// directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}
