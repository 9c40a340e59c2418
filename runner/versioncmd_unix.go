//go:build unix

package runner

import (
	"os/exec"
	"syscall"
)

// ownGroup puts cmd in a process group of its own, killed whole when its
// context ends: a claude that hangs on --version (a wrapper script that
// starts something) leaves nothing behind.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
