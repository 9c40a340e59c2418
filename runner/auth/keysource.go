package auth

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// FileStamp identifies the content of the file at path cheaply, without
// reading it: its size, modification time (nanoseconds) and inode, or "-"
// when it cannot be stat'ed (absent). A file rewritten, or replaced by
// another (a rename), gets another stamp.
func FileStamp(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return "-"
	}
	return StampOf(fi)
}

// StampOf is FileStamp of the file fi describes.
func StampOf(fi os.FileInfo) string {
	var ino uint64
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		ino = uint64(st.Ino)
	}
	return fmt.Sprintf("%d.%d.%d", fi.Size(), fi.ModTime().UnixNano(), ino)
}

// KeySourceGeneration identifies, without running anything, where a
// claude launched now gets its key: the generation of the auth settings
// (each Reconfigure is one) and, in helper mode, the stamps (FileStamp) of
// the helper and of the key file and each link on the way to it. A claude
// launched when it was g holds the key g gave; once the value differs (a
// key file rotated, new settings) it may hold another key than a claude
// launched now would, before the Manager itself has noticed (its watcher
// waits out a debounce, and only its check changes Fingerprint). A key
// command's output is not covered: it is known only by running it.
func (m *Manager) KeySourceGeneration() string {
	m.mu.Lock()
	cfg, gen := m.cfg, m.gen
	m.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "%d", gen)
	if cfg.mode == ModeHelper {
		b.WriteString("|" + FileStamp(cfg.helperPath))
		for _, p := range linkChain(cfg.keyFile) {
			b.WriteString("|" + FileStamp(p))
		}
	}
	return b.String()
}
