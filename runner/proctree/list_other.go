//go:build !linux && !darwin

package proctree

func list() ([]Proc, error) { return nil, ErrUnsupported }
