// Package jsondepth measures how deeply JSON text nests, without parsing
// it: recursive decoders given millions of levels overflow the stack (an
// unrecoverable crash in Go), so input from a peer is checked first.
package jsondepth

// TooDeep reports whether JSON text b nests arrays and objects deeper than
// max. It is a byte scan (strings and escapes skipped), not a parse: it
// never recurses and never allocates.
func TooDeep(b []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}
