//go:build unix

package pathid

import (
	"fmt"
	"os"
	"syscall"
)

// fileKeyOf is "file-id:<device>:<inode>" (no path starts so).
func fileKeyOf(fi os.FileInfo) (string, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("file-id:%d:%d", uint64(st.Dev), uint64(st.Ino)), true // their types differ between platforms
}
