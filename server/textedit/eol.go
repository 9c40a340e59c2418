package textedit

import "strings"

// LineEnding returns the line break text uses throughout: "\n", "\r\n" or
// "\r", or "" when it has no line break or mixes them.
//
// Editors keep one line break per buffer: VS Code normalises a file's line
// breaks to one (the majority) when it loads it and converts the breaks of
// every inserted text to it; Neovim keeps its 'fileformat' (dos: "\r\n") and
// splits inserted text into lines. A buffer that mixes them is Neovim's
// 'fileformat' unix on a file with some CRLF lines, whose "\r" is then part of
// the line's text.
func LineEnding(text string) string {
	lf := strings.Count(text, "\n")
	cr := strings.Count(text, "\r")
	crlf := 0
	if cr > 0 {
		crlf = strings.Count(text, "\r\n")
	}
	switch {
	case lf == 0 && cr == 0:
		return ""
	case cr == 0:
		return "\n"
	case lf == 0:
		return "\r"
	case crlf == lf && crlf == cr:
		return "\r\n"
	}
	return ""
}

// ConvertLineEndings returns text with every line break ("\n", "\r\n", "\r")
// replaced by eol. An empty eol returns text unchanged.
func ConvertLineEndings(text, eol string) string {
	if eol == "" || !strings.ContainsAny(text, "\r\n") || LineEnding(text) == eol {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + countBreaks(text)*(len(eol)-1))
	for off := 0; off < len(text); {
		brk, next := nextBreak(text, off)
		b.WriteString(text[off:brk])
		if brk < next {
			b.WriteString(eol)
		}
		off = next
	}
	return b.String()
}

// EqualIgnoringLineEndings reports whether a and b differ at most in their
// line breaks.
func EqualIgnoringLineEndings(a, b string) bool {
	if a == b {
		return true
	}
	return ConvertLineEndings(a, "\n") == ConvertLineEndings(b, "\n")
}
