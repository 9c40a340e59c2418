package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/textedit"
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
// The selected lines are put into the prompt as text instead (inline), so
// that the model sees what the user selected:
//   - for a name that cannot be mentioned;
//   - for a file open in the editor with unsaved changes (claude reads the
//     disk, whose lines are not the ones selected in the buffer): the text
//     comes from the buffer, and the model is told it is unsaved;
//   - for a file whose line breaks claude counts differently from the
//     editor (a lone "\r", which claude 2.1.332 does not count and VS Code
//     does: @cr.txt#L2-3 attached none of the selected lines).
//
// The text comes from the buffer when the file is open, else from the disk
// (read the bounded way), its lines counted as the editor counts them. A
// context entry that is no file (untitled:, git:) is put into the prompt
// from the document the editor opened under that URI. A URI it cannot use
// (none open under it, not a file URI, …) is a *badContext naming it.
func withMentions(ctx context.Context, prompt string, refs []lspext.ContextRef, root string, docs *documents.Store) (string, error) {
	if len(refs) == 0 {
		return prompt, nil
	}
	breaks := textedit.LSPBreaks
	if docs != nil {
		breaks = docs.Editor().Breaks()
	}
	var mentions, inline []string
	for i, r := range refs {
		p, err := fileuri.ToPath(r.URI)
		if errors.Is(err, fileuri.ErrNotFile) {
			// A document with no file of its own (an unsaved new one,
			// untitled:; a version from source control, git:): its text
			// is what the editor sent with didOpen and didChange.
			if d, ok := openDocument(docs, r.URI); ok {
				name, why := notAFile(r.URI)
				inline = append(inline, inlineText(name, r.Range, d.Text, breaks, why))
				continue
			}
			return "", &badContext{i, err.Error() + ", and no document with that URI is open in the editor"}
		}
		if err != nil {
			return "", &badContext{i, err.Error()}
		}
		rel := runner.RelPath(p, root)
		buf, open := openBuffer(ctx, docs, p)
		m, ok := mention(rel, r.Range)
		switch {
		case open && buf.Modified:
			inline = append(inline, inlineText(rel, r.Range, buf.Text, breaks, "its unsaved text in the editor, which differs from the file on disk"))
		case !ok:
			inline = append(inline, inlineContext(ctx, p, rel, r.Range, buf, open, breaks, "its name cannot be written as an @-mention"))
		case r.Range != nil && breaks == textedit.LSPBreaks && loneCR(ctx, p, buf, open):
			inline = append(inline, inlineContext(ctx, p, rel, r.Range, buf, open, breaks, "its line breaks are counted differently by Claude"))
		default:
			mentions = append(mentions, m)
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

// badContext is a context entry (refs[index]) whose URI the bridge cannot
// use, and why: fileuri's error, which starts with the URI.
type badContext struct {
	index   int
	problem string
}

func (e *badContext) Error() string { return e.problem }

// openBuffer returns the document open on path, if any (by identity).
func openBuffer(ctx context.Context, docs *documents.Store, path string) (documents.Doc, bool) {
	if docs == nil {
		return documents.Doc{}, false
	}
	fctx, cancel := context.WithTimeout(ctx, inlineReadTimeout)
	defer cancel()
	found, err := docs.Find(fctx, path)
	if err != nil || len(found) == 0 {
		return documents.Doc{}, false
	}
	return found[0], true
}

// openDocument returns the document the editor opened under the URI u
// exactly as it spelt it.
func openDocument(docs *documents.Store, u string) (documents.Doc, bool) {
	if docs == nil {
		return documents.Doc{}, false
	}
	return docs.Get(protocol.DocumentURI(u))
}

// notAFile names a document that is not a file (by its URI; an untitled
// one by its title, as the editor shows it) and says what it is.
func notAFile(u string) (name, why string) {
	scheme, rest, _ := strings.Cut(u, ":")
	if strings.EqualFold(scheme, "untitled") && rest != "" && !strings.HasPrefix(rest, "/") {
		return rest, "an unsaved new document, open only in the editor"
	}
	return u, "a document open in the editor, not a file on disk"
}

// loneCR reports whether the file (its buffer when open) holds a "\r" that
// is not part of a "\r\n".
func loneCR(ctx context.Context, path string, buf documents.Doc, open bool) bool {
	if open && buf.Disk.Known && buf.Disk.Decoded {
		return textedit.HasLoneCR(buf.Disk.Text) || textedit.HasLoneCR(buf.Text)
	}
	rctx, cancel := context.WithTimeout(ctx, inlineReadTimeout)
	defer cancel()
	d, err := documents.ReadDisk(rctx, path)
	return err == nil && d.Decoded && textedit.HasLoneCR(d.Text)
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

// inlineContext puts a context file into the prompt: the selected lines (or
// the whole file) of its buffer when it is open, else of the file on disk,
// or, if the file cannot be read, its name and lines for the model to read
// itself. why says why it is not @-mentioned.
func inlineContext(ctx context.Context, path, rel string, r *lspext.Range, buf documents.Doc, open bool, breaks textedit.Breaks, why string) string {
	if open {
		return inlineText(rel, r, buf.Text, breaks, why)
	}
	rctx, cancel := context.WithTimeout(ctx, inlineReadTimeout)
	defer cancel()
	d, err := documents.ReadDisk(rctx, path)
	if err != nil || !d.Known || !d.Exists || !d.Decoded {
		return fmt.Sprintf("Context: %s (%s; read it).", what(rel, r), why)
	}
	return inlineText(rel, r, d.Text, breaks, why)
}

// what names the selection: the file, a line or lines of it.
func what(rel string, r *lspext.Range) string {
	if r == nil {
		return fmt.Sprintf("the file %q", rel)
	}
	if start, end := lineSpan(r); end > start {
		return fmt.Sprintf("lines %d-%d of %q", start, end, rel)
	} else {
		return fmt.Sprintf("line %d of %q", start, rel)
	}
}

// inlineText is the selected lines of text (lines counted with breaks) as a
// fenced block; a selection past the end of the text says so instead of
// showing an empty block.
func inlineText(rel string, r *lspext.Range, text string, breaks textedit.Breaks, why string) string {
	if r != nil {
		start, end := lineSpan(r)
		from := breaks.OffsetAt(text, protocol.Position{Line: uint32(start - 1)})
		to := breaks.OffsetAt(text, protocol.Position{Line: uint32(end)})
		lines := breaks.PositionAt(text, len(text)).Line + 1
		if strings.HasSuffix(text, "\n") || breaks == textedit.LSPBreaks && strings.HasSuffix(text, "\r") {
			lines-- // no line after the last line break
		}
		if from >= len(text) || int(lines) < start {
			return fmt.Sprintf("Context: %s (%s): past its end, it has %d lines.", what(rel, r), why, lines)
		}
		text = text[from:to]
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
	return fmt.Sprintf("Context: %s%s (%s, so here is its text):\n%s\n%s%s", what(rel, r), note, why, fence, text, fence)
}
