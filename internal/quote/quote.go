// Package quote quotes a value an editor sent for an error message that
// repeats it: cut to a length that fits a message, so a 10 MB task id
// sent by mistake comes back as a few dozen characters and its length,
// not as 10 MB of error.
package quote

import (
	"strconv"
	"unicode/utf8"
)

// Max is the most characters (code points) of a value a message repeats.
const Max = 64

// String is s in Go's (and JSON's, for printable text) double-quoted form,
// cut to Max characters with "…" and the full length after the quote when
// longer: "abc", or "TTTT…" (10000000 characters).
func String(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= Max {
		return strconv.Quote(s)
	}
	cut := 0
	for i := range s {
		if cut == Max {
			s = s[:i]
			break
		}
		cut++
	}
	return strconv.Quote(s+"…") + " (" + strconv.Itoa(n) + " characters)"
}

// Text is s cut to Max characters with "…", unquoted (JSON text of a
// number or of a literal a message repeats).
func Text(s string) string {
	if utf8.RuneCountInString(s) <= Max {
		return s
	}
	cut := 0
	for i := range s {
		if cut == Max {
			return s[:i] + "…"
		}
		cut++
	}
	return s
}
