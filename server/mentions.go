package server

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// inlineLimit caps the text of a context file put into the prompt itself
// (for a name claude cannot mention).
const inlineLimit = 64 << 10

// inlineReadTimeout bounds the read of such a file.
const inlineReadTimeout = 2 * time.Second

// withMentions appends the context to the prompt the way claude resolves
// file references: @path, @path#L5 or @path#L5-10 (lines 1-based; a range
// ending at character 0 of a line does not include that line), separated by
// spaces. claude then attaches those lines of the file to the request.
//
// Measured on claude 2.1.332 (the request the Messages API received):
//   - @"a b.txt#L2-3" attaches lines 2-3 of "a b.txt"; @"a b.txt"#L2-3 the
//     whole file (the range outside the quotes is ignored); @a b.txt#L2-3
//     nothing. Quotes work for any name without '"' or '#': spaces, tabs,
//     umlauts, emoji, + ' ` , ; ( ) [ ] & $ and absolute paths.
//   - Unquoted, a name must have no white space and end in a letter or digit
//     (@tail+ attaches nothing, @"tail+" does).
//   - A name with '#' cannot be mentioned at all (quoted, escaped \# or %23),
//     nor one with both '"' and white space; q"t.txt works unquoted.
//
// For a name that cannot be mentioned, the selected lines are put into the
// prompt as text (read from disk, as claude would), so they still reach the
// model.
func withMentions(ctx context.Context, prompt string, refs []lspext.ContextRef, root string) (string, error) {
	if len(refs) == 0 {
		return prompt, nil
	}
	var mentions, inline []string
	for _, r := range refs {
		p, err := fileuri.ToPath(r.URI)
		if err != nil {
			return "", invalidParams("context: %v", err)
		}
		rel := runner.RelPath(p, root)
		if m, ok := mention(rel, r.Range); ok {
			mentions = append(mentions, m)
		} else {
			inline = append(inline, inlineContext(ctx, p, rel, r.Range))
		}
	}
	out := prompt
	if len(mentions) > 0 {
		out += "\n\n" + strings.Join(mentions, " ")
	}
	for _, in := range inline {
		out += "\n\n" + in
	}
	return out, nil
}

// lineSpan is the 1-based first and last line of a context range.
func lineSpan(r *lspext.Range) (start, end int) {
	start = int(r.Start.Line) + 1
	end = int(r.End.Line) + 1
	if r.End.Character == 0 && r.End.Line > r.Start.Line {
		end-- // a selection ending at the start of a line stops before it
	}
	return start, max(start, end)
}

func linesSuffix(r *lspext.Range) string {
	if r == nil {
		return ""
	}
	if start, end := lineSpan(r); end > start {
		return fmt.Sprintf("#L%d-%d", start, end)
	} else {
		return fmt.Sprintf("#L%d", start)
	}
}

// mention is the @-mention of the file rel (relative to the task's folder,
// or absolute), quoted when its name needs it; ok is false when claude
// cannot resolve any mention of that name (see withMentions).
func mention(rel string, r *lspext.Range) (string, bool) {
	lines := linesSuffix(r)
	hasSpace := strings.IndexFunc(rel, unicode.IsSpace) >= 0
	switch {
	case rel == "" || strings.ContainsRune(rel, '#') || strings.IndexFunc(rel, func(c rune) bool { return unicode.IsControl(c) && c != '\t' }) >= 0:
		return "", false
	case strings.ContainsRune(rel, '"'):
		if hasSpace || lines == "" && !endsInWordChar(rel) {
			return "", false
		}
		return "@" + rel + lines, true
	case plainName(rel) && (lines != "" || endsInWordChar(rel)):
		return "@" + rel + lines, true
	}
	return `@"` + rel + lines + `"`, true
}

// plainName: only characters that need no quoting.
func plainName(s string) bool {
	for _, c := range s {
		if !(c < 0x80 && (unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("._-/+", c))) {
			return false
		}
	}
	return true
}

func endsInWordChar(s string) bool {
	c := s[len(s)-1]
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// inlineContext puts a context file that cannot be mentioned into the
// prompt: the selected lines (or the whole file) as a fenced block, or, if
// the file cannot be read, its name and lines for the model to read itself.
func inlineContext(ctx context.Context, path, rel string, r *lspext.Range) string {
	what := fmt.Sprintf("the file %q", rel)
	if r != nil {
		if start, end := lineSpan(r); end > start {
			what = fmt.Sprintf("lines %d-%d of %q", start, end, rel)
		} else {
			what = fmt.Sprintf("line %d of %q", start, rel)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, inlineReadTimeout)
	defer cancel()
	d, err := documents.ReadDisk(rctx, path)
	if err != nil || !d.Known || !d.Exists || !d.Decoded {
		return fmt.Sprintf("Context: %s (its name cannot be written as an @-mention; read it).", what)
	}
	text := d.Text
	if r != nil {
		start, end := lineSpan(r)
		lines := strings.SplitAfter(text, "\n")
		end = min(end, len(lines))
		text = ""
		if start <= end {
			text = strings.Join(lines[start-1:end], "")
		}
	}
	note := ""
	if len(text) > inlineLimit {
		text = strings.ToValidUTF8(text[:inlineLimit], "")
		note = " (cut to its first 64 KiB)"
	}
	fence := "```"
	for strings.Contains(text, fence) {
		fence += "`"
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return fmt.Sprintf("Context: %s%s (its name cannot be written as an @-mention, so here is its text):\n%s\n%s%s", what, note, fence, text, fence)
}
