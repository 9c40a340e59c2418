//go:build !linux

package proctree

// Subreap does nothing where there is no child subreaper: orphans go to
// launchd (macOS), which reaps them; the bridge still finds and kills
// them by their tag.
func Subreap() error { return nil }

// reap has nothing to do: killed orphans are launchd's children.
func reap([]Proc) {}

// reapOrphans has nothing to do: orphans are launchd's children.
func reapOrphans() {}
