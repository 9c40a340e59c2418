package review

import (
	"fmt"
	"strings"

	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Unified renders the change from old to new as a unified diff with
// context lines of context around each hunk (hunks whose context meets are
// one block), as `diff -u` shows it: "--- a/name", "+++ b/name", "@@ -l,n
// +l,n @@", then " ", "-" and "+" lines.
func Unified(name, old, new string, context int) string {
	hs := textedit.Hunks(old, new)
	if len(hs) == 0 {
		return ""
	}
	ol, nl := lines(old), lines(new)
	var b strings.Builder
	fmt.Fprintf(&b, "--- a/%s\n+++ b/%s\n", name, name)
	for i := 0; i < len(hs); {
		j := i
		for j+1 < len(hs) && hs[j+1].Old.Start-hs[j].Old.End <= 2*context {
			j++
		}
		first, last := hs[i], hs[j]
		o0, o1 := max(first.Old.Start-context, 0), min(last.Old.End+context, len(ol))
		n0 := first.New.Start - (first.Old.Start - o0)
		n1 := last.New.End + (o1 - last.Old.End)
		fmt.Fprintf(&b, "@@ -%s +%s @@\n", span(o0, o1), span(n0, n1))
		pos := o0
		for k := i; k <= j; k++ {
			h := hs[k]
			for ; pos < h.Old.Start; pos++ {
				writeLine(&b, ' ', ol[pos])
			}
			for _, l := range ol[h.Old.Start:h.Old.End] {
				writeLine(&b, '-', l)
			}
			for _, l := range nl[h.New.Start:h.New.End] {
				writeLine(&b, '+', l)
			}
			pos = h.Old.End
		}
		for ; pos < o1; pos++ {
			writeLine(&b, ' ', ol[pos])
		}
		i = j + 1
	}
	return b.String()
}

// span is a hunk header's "start,count" (1-based start; after the line
// before it for an empty one, as diff writes it).
func span(from, to int) string {
	if to == from {
		return fmt.Sprintf("%d,0", from)
	}
	return fmt.Sprintf("%d,%d", from+1, to-from)
}

func writeLine(b *strings.Builder, op byte, line string) {
	b.WriteByte(op)
	trimmed := strings.TrimRight(line, "\r\n")
	b.WriteString(trimmed)
	b.WriteByte('\n')
	if len(trimmed) == len(line) {
		b.WriteString("\\ No newline at end of file\n")
	}
}

// lines cuts s into lines, each with its line break.
func lines(s string) []string {
	var out []string
	for len(s) > 0 {
		i := strings.IndexAny(s, "\r\n")
		if i < 0 {
			out = append(out, s)
			break
		}
		end := i + 1
		if s[i] == '\r' && end < len(s) && s[end] == '\n' {
			end++
		}
		out = append(out, s[:end])
		s = s[end:]
	}
	return out
}

// Encode writes text in a file's encoding (documents.Encoding): a UTF-8
// byte-order mark put back, UTF-16 encoded behind its mark.
func Encode(text string, enc documents.Encoding) []byte {
	return encodeAs(text, enc)
}
