//go:build !linux

package proctree

import "os/exec"

// start starts cmd; there is no Pdeathsig here: the watchdog covers a
// bridge killed outright.
func start(cmd *exec.Cmd) error { return cmd.Start() }
