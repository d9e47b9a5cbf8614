//go:build !unix

package tools

import "os/exec"

// killGroup leaves the default: cancelling kills the process itself
// (WaitDelay bounds the wait for anything it started).
func killGroup(*exec.Cmd) {}
