package pathid

import "os"

// FileKey is the identity of the file itself rather than of a path to it:
// its device and inode number (symbolic links followed), which every hard
// link to the file shares. Two paths with equal file keys name the same
// file now; a file replaced by another (a rename over it, as some editors
// save) gets a new one, and a deleted file's inode number may be reused, so
// compare file keys looked up at the same moment. ok is false when the file
// does not exist, the file system did not answer within LookupTimeout, or
// the platform has no inode numbers (Windows). A file key never equals a
// Key or a SpellingKey.
func FileKey(path string) (key string, ok bool) {
	path = absClean(path)
	var fi os.FileInfo
	var err error
	if e := lookUp(path, func() { fi, err = os.Stat(path) }); e != nil || err != nil {
		return "", false
	}
	return fileKeyOf(fi)
}

// SameFile reports whether a and b name the same file: the same path (Same)
// or, for two names of one file, the same file key (hard links).
func SameFile(a, b string) bool {
	if Same(a, b) {
		return true
	}
	ka, ok := FileKey(a)
	if !ok {
		return false
	}
	kb, ok := FileKey(b)
	return ok && ka == kb
}
