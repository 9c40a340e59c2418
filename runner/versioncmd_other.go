//go:build !unix

package runner

import "os/exec"

// ownGroup leaves cmd as it is: only its own process is killed when its
// context ends.
func ownGroup(*exec.Cmd) {}
