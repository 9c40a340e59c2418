package stream

import "errors"

// MaxDepth caps the nesting of a stream line's JSON. The deepest line the
// real CLI prints is a tool input inside a message inside a line, a dozen
// levels or so; a recursive decoder given millions of levels would blow
// the stack (an unrecoverable crash in Go), so deeper lines are refused
// before decoding.
const MaxDepth = 512

// ErrTooDeep is returned by Decode for a line nested deeper than MaxDepth.
var ErrTooDeep = errors.New("stream line nested too deeply")

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
