// Package pathid says whether two file paths name the same file, and
// whether a path lies inside a folder, by the file's identity rather than
// its spelling: symbolic links are followed (macOS's /tmp is /private/tmp, a
// project folder may be a link), on Windows letter case does not count, and
// hard links to one file share its FileKey (device and inode).
//
// The claude CLI resolves its working directory to the real path, so the
// paths it reports (tool inputs, tool results) are real paths while the
// editor keeps the spelling it opened; both sides of the bridge compare paths
// through this package. Every function does file system look-ups (lstat,
// readlink) and none caches: call them off any loop that must stay
// responsive.
//
// No look-up waits longer than LookupTimeout: on a hung mount (an NFS server
// gone away) a path cannot be resolved, and the functions say so (Resolve's
// ok, Within's error) or fall back to the path's spelling (Key, Same, Rel).
// A path whose look-up hung is not looked up again until that look-up
// returns (see internal/fsbound).
package pathid

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
)

// LookupTimeout bounds the file system look-ups of one call.
var LookupTimeout = 2 * time.Second

// ErrUnresolved is returned (wrapped) by Within when a path could not be
// resolved in time.
var ErrUnresolved = errors.New("the file system did not answer (a hung network mount?)")

// maxLinks bounds the symbolic links followed for one path, as the kernel's
// ELOOP does (40 on Linux); past it the path is taken as it is written.
const maxLinks = 40

// Resolve returns the real path of path: absolute, cleaned, every symbolic
// link in it followed. A path that does not exist (a file about to be
// created, a folder deleted meanwhile) resolves as far as it exists and keeps
// the rest as written, so a new file in a linked folder resolves into the
// link's target, and a dangling link resolves to where it points (creating
// the file would write there).
//
// ok is false when the file system did not answer within LookupTimeout: then
// real is path, absolute and cleaned, as written.
func Resolve(path string) (real string, ok bool) {
	path = absClean(path)
	var resolved string
	if err := lookUp(path, func() { resolved = resolve(path) }); err != nil {
		return path, false
	}
	return resolved, true
}

// absClean is path made absolute (against the working directory) and
// cleaned.
func absClean(path string) string {
	if !filepath.IsAbs(path) {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
	}
	return filepath.Clean(path)
}

// lookUp runs f, a look-up of path, within LookupTimeout (see doLookup).
func lookUp(path string, f func()) error {
	ctx, cancel := context.WithTimeout(context.Background(), LookupTimeout)
	defer cancel()
	return doLookup(ctx, path, f)
}

// lookupHook, when set (tests), runs before each look-up: it may block like
// a hung mount.
var lookupHook func(path string)

// doLookup runs f, a look-up of path, bounded by ctx (internal/fsbound),
// after lookupHook.
func doLookup(ctx context.Context, path string, f func()) error {
	return fsbound.Do(ctx, path, func() {
		if lookupHook != nil {
			lookupHook(path)
		}
		f()
	})
}

// resolve is Resolve without the time limit.
func resolve(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real
	}
	// Something does not exist: walk the components, following links by
	// hand, and keep the remainder lexically from the first one missing.
	vol := filepath.VolumeName(path)
	resolved := vol + string(filepath.Separator)
	rest := split(path[len(vol):])
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := filepath.Join(resolved, c)
		fi, err := os.Lstat(next)
		if err != nil {
			return filepath.Join(append([]string{next}, rest...)...)
		}
		if fi.Mode()&os.ModeSymlink == 0 {
			resolved = next
			continue
		}
		target, err := os.Readlink(next)
		links++
		if err != nil || links > maxLinks {
			return filepath.Join(append([]string{next}, rest...)...)
		}
		if filepath.IsAbs(target) {
			tvol := filepath.VolumeName(target)
			resolved = tvol + string(filepath.Separator)
			target = target[len(tvol):]
		}
		rest = append(split(target), rest...)
	}
	return resolved
}

func split(p string) []string {
	var out []string
	for _, c := range strings.Split(filepath.ToSlash(p), "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// Key is the identity of the file at path, for map keys and comparisons:
// its resolved path, case-folded on Windows (editors and claude spell drive
// letters differently, c: and C:). Two paths name the same file when their
// keys are equal (hard links aside: see FileKey). A path that cannot be resolved in time
// has its SpellingKey.
func Key(path string) string {
	real, _ := Resolve(path)
	return fold(real)
}

// SpellingKey is the key of path as it is written, without looking at the
// file system: cleaned, case-folded on Windows. Equal spelling keys name the
// same file; different ones may too (compare Keys).
func SpellingKey(path string) string {
	return fold(filepath.Clean(path))
}

// Same reports whether a and b name the same file.
func Same(a, b string) bool {
	return SpellingKey(a) == SpellingKey(b) || Key(a) == Key(b)
}

// Within reports whether path lies inside root (or is root), both resolved:
// a symbolic link inside root that points outside it is outside, and the real
// path of a file in a root opened through a link is inside. When either
// cannot be resolved in time it returns false and an error wrapping
// ErrUnresolved: nobody can tell where a write to path would land.
func Within(path, root string) (bool, error) {
	real, ok := Resolve(path)
	if !ok {
		return false, fmt.Errorf("looking up %s: %w", path, ErrUnresolved)
	}
	realRoot, ok := Resolve(root)
	if !ok {
		return false, fmt.Errorf("looking up %s: %w", root, ErrUnresolved)
	}
	_, in := relative(fold(real), fold(realRoot))
	return in, nil
}

// Rel returns path relative to root, by spelling when path is spelled under
// root, else by identity (the real path of path under the real path of root).
// ok is false when path is not inside root.
func Rel(path, root string) (rel string, ok bool) {
	if rel, ok := relative(filepath.Clean(path), filepath.Clean(root)); ok {
		return rel, true
	}
	real, ok := Resolve(path)
	if !ok {
		return "", false
	}
	realRoot, ok := Resolve(root)
	if !ok {
		return "", false
	}
	if rel, ok := relative(fold(real), fold(realRoot)); ok {
		if rel == "." || fold(real) == real {
			return rel, true
		}
		// Keep the case of the real path: fold is only for comparing.
		return strings.TrimLeft(real[len(realRoot):], string(filepath.Separator)), true
	}
	return "", false
}

// relative is the lexical part of Rel: rel is "." for root itself.
func relative(path, root string) (string, bool) {
	if path == root {
		return ".", true
	}
	prefix := root
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if strings.HasPrefix(path, prefix) {
		return path[len(prefix):], true
	}
	return "", false
}

func fold(p string) string {
	if runtime.GOOS == "windows" {
		return strings.ToLower(p)
	}
	return p
}
