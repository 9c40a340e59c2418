// Package fsbound runs file system calls that may never return with a time
// limit, without letting the calls that hung starve the others.
//
// A stat, open, read or path lookup on a hung mount (an NFS server that went
// away, a stalled SMB share or FUSE daemon) blocks in the kernel and cannot
// be interrupted: its goroutine stays stuck until the file system answers,
// which may be never. Do runs each call on a goroutine of its own and stops
// waiting for it when the caller's context ends; the stuck call is then
// remembered:
//   - a file with a call still stuck is not tried again until that call
//     returns (Do fails at once with ErrStuck), so a document on a hung mount
//     costs one stuck goroutine, not one per task;
//   - a mount with maxStuckPerMount calls stuck takes no new calls until one
//     returns, which bounds the goroutines (and kernel threads) a hung mount
//     holds;
//   - a stuck call no longer counts against the maxRunning calls allowed at
//     once, so healthy files are never kept waiting by hung ones.
//
// The mount of a path is found in /proc/self/mountinfo (Linux), which never
// touches the mounts themselves; elsewhere the path's directory stands in
// for it.
package fsbound

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrHung is matched (errors.Is) by every error of Do that means the file
// system did not answer: ErrTimeout and ErrStuck.
var ErrHung = errors.New("the file system did not answer")

// ErrTimeout: the call did not return before the caller's context ended (it
// goes on, and is remembered as stuck).
var ErrTimeout = fmt.Errorf("%w in time (a hung network mount?)", ErrHung)

// ErrStuck: the call was not made, because an earlier call on the same file,
// or too many on the same mount, have not returned yet.
var ErrStuck = fmt.Errorf("%w: an earlier call on it is still waiting (a hung network mount?)", ErrHung)

const (
	// maxRunning bounds the calls in progress at once that are not stuck.
	maxRunning = 16
	// maxStuckPerMount bounds the stuck calls of one mount.
	maxStuckPerMount = 4
)

// state is the package's bookkeeping; mu guards every field.
var state = struct {
	mu      sync.Mutex
	running int            // calls in progress that are not stuck
	slot    chan struct{}  // closed and replaced when running drops
	stuck   map[string]int // path → its stuck calls
	mounts  map[string]int // mount → its stuck calls
	table   []string       // mount points, longest first
	tableAt time.Time      // when table was read
}{slot: make(chan struct{}), stuck: map[string]int{}, mounts: map[string]int{}}

// Do runs fn, a file system call concerning path (any spelling: it is only
// the key of the bookkeeping), and returns once fn has returned (nil), or
// when ctx ends first (an error matching ErrTimeout, and fn goes on running
// on its own goroutine; whatever it writes after that is the caller's to
// ignore or take). It returns ErrStuck without calling fn when path or its
// mount has calls stuck (see the package doc), and ctx's error if ctx ends
// while waiting for a free slot.
//
// fn must not call Do (a stuck outer call would hold the inner one's slot).
func Do(ctx context.Context, path string, fn func()) error {
	path = filepath.Clean(path)
	mount, err := admit(ctx, path)
	if err != nil {
		return err
	}
	done := make(chan struct{})
	var mu sync.Mutex // guards abandoned and mount
	abandoned := false
	go func() { // owned by Do's caller until ctx ends, then by the stuck bookkeeping; ends when fn returns
		fn()
		mu.Lock()
		gaveUp, m := abandoned, mount
		mu.Unlock()
		if gaveUp {
			unstick(path, m)
		} else {
			release()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	mu.Lock()
	defer mu.Unlock()
	select {
	case <-done:
		return nil
	default:
	}
	abandoned = true
	mount = stick(path, mount)
	return fmt.Errorf("%s: %w", path, ErrTimeout)
}

// Stuck reports whether path has a call stuck, or its mount as many as it
// may have: Do would fail at once with ErrStuck.
func Stuck(path string) bool {
	path = filepath.Clean(path)
	state.mu.Lock()
	defer state.mu.Unlock()
	return stuckLocked(path, mountOfLocked(path))
}

func stuckLocked(path, mount string) bool {
	return state.stuck[path] > 0 || state.mounts[mount] >= maxStuckPerMount
}

// admit waits for a free slot and takes it, unless path or its mount is
// stuck. It returns path's mount.
func admit(ctx context.Context, path string) (string, error) {
	for {
		state.mu.Lock()
		mount := ""
		if len(state.stuck) > 0 {
			// Only needed, and only looked up, while something is stuck.
			mount = mountOfLocked(path)
			if stuckLocked(path, mount) {
				state.mu.Unlock()
				return "", fmt.Errorf("%s: %w", path, ErrStuck)
			}
		}
		if state.running < maxRunning {
			state.running++
			state.mu.Unlock()
			return mount, nil
		}
		wait := state.slot
		state.mu.Unlock()
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-wait:
		}
	}
}

// release gives back the slot of a call that returned in time.
func release() {
	state.mu.Lock()
	defer state.mu.Unlock()
	state.running--
	close(state.slot)
	state.slot = make(chan struct{})
}

// stick moves a call that did not return in time out of the running ones
// into the stuck ones, and returns the mount it was counted against.
func stick(path, mount string) string {
	state.mu.Lock()
	defer state.mu.Unlock()
	if mount == "" {
		mount = mountOfLocked(path)
	}
	state.stuck[path]++
	state.mounts[mount]++
	state.running--
	close(state.slot)
	state.slot = make(chan struct{})
	return mount
}

// unstick forgets a stuck call that returned at last.
func unstick(path, mount string) {
	state.mu.Lock()
	defer state.mu.Unlock()
	if state.stuck[path]--; state.stuck[path] <= 0 {
		delete(state.stuck, path)
	}
	if state.mounts[mount]--; state.mounts[mount] <= 0 {
		delete(state.mounts, mount)
	}
}

// mountOfLocked returns the mount point holding path, by spelling, from
// /proc/self/mountinfo read at most every two seconds; without it (not
// Linux), path's directory.
func mountOfLocked(path string) string {
	if mountOfHook != nil {
		return mountOfHook(path)
	}
	if time.Since(state.tableAt) > 2*time.Second {
		state.table = readMounts()
		state.tableAt = time.Now()
	}
	for _, m := range state.table {
		if m == "/" || path == m || strings.HasPrefix(path, m+string(filepath.Separator)) {
			return m
		}
	}
	return filepath.Dir(path)
}

// mountOfHook replaces the mount table in tests.
var mountOfHook func(path string) string

// readMounts reads the mount points of this process, longest first.
func readMounts() []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		// "36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw": the fifth field.
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		out = append(out, unescapeMount(f[4]))
	}
	// Longest first, so that the innermost mount wins.
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
