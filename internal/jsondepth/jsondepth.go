// Package jsondepth measures how deeply JSON text nests, without parsing
// it: recursive decoders given millions of levels overflow the stack (an
// unrecoverable crash in Go), so input from a peer is checked first.
package jsondepth

import (
	"bytes"
	"encoding/json"
	"strings"
)

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

// Member returns the raw value of the member named key of the object b
// is, when that value is a string or a number; nil otherwise (no such
// member, another kind of value, b not an object). Like TooDeep it is a
// byte scan that never recurses, so it reads the id of a message too
// deeply nested to decode.
func Member(b []byte, key string) []byte {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil
	}
	depth := 0
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			end := stringEnd(b, i)
			if end < 0 {
				return nil
			}
			if depth == 1 {
				// A key at the top: what follows is its value.
				name := b[i : end+1]
				j := skipSpace(b, end+1)
				if j >= len(b) || b[j] != ':' {
					return nil
				}
				j = skipSpace(b, j+1)
				if j >= len(b) {
					return nil
				}
				if keyIs(name, key) {
					switch v := b[j]; {
					case v == '"':
						if e := stringEnd(b, j); e >= 0 {
							return b[j : e+1]
						}
					case v == '-' || v >= '0' && v <= '9':
						e := j
						for e < len(b) && strings.IndexByte("+-.eE0123456789", b[e]) >= 0 {
							e++
						}
						return b[j:e]
					}
					return nil
				}
				// Another key: past its value (a string here; an object,
				// an array or a literal by the scan).
				i = j
				if b[j] == '"' {
					if e := stringEnd(b, j); e >= 0 {
						i = e + 1
					}
				}
				continue
			}
			i = end + 1
			continue
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
		i++
	}
	return nil
}

// stringEnd is the index of the quote that ends the string starting at
// b[start], or -1.
func stringEnd(b []byte, start int) int {
	for i := start + 1; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// keyIs reports whether the JSON string name (quotes included) is key.
func keyIs(name []byte, key string) bool {
	if bytes.IndexByte(name, '\\') < 0 {
		return string(name[1:len(name)-1]) == key
	}
	var s string
	return json.Unmarshal(name, &s) == nil && s == key
}
