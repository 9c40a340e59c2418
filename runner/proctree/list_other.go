//go:build !linux && !darwin

package proctree

func list() ([]Proc, error) { return nil, ErrUnsupported }

func statOf(int) (Proc, bool) { return Proc{}, false }

func now() uint64 { return 0 }

func uidOf(int) int { return -1 }
