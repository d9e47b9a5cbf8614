//go:build unix

package tools

import (
	"os/exec"
	"syscall"
)

// killGroup puts the command in a process group of its own and makes
// cancelling it kill the whole group, so that `sh -c "sleep 100"` stops
// with its shell instead of holding the output pipe open.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
