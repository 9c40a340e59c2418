//go:build !unix

package pathid

import "os"

// fileKeyOf: no inode numbers here.
func fileKeyOf(os.FileInfo) (string, bool) { return "", false }
