package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/fileuri"
	"github.com/claude-bridge/claude-bridge/server/lspext"
)

// What a command's user message is made of beyond its text: context
// mentions (mentions.go), the editor's diagnostics of the context, the
// files open in the editor, images.

// maxOpenFiles bounds the open files named in a prompt.
const maxOpenFiles = 50

// input is the parts of a message as a command gives them.
type input struct {
	prompt    string
	context   []lspext.ContextRef
	images    []lspext.ImageRef
	openFiles []string
}

// userMessage builds the message claude gets: the prompt, the context as
// mentions, its diagnostics, the open files, and the images (given, and
// those named in the context). Bad input is a -32602 error naming the
// command, the JSON path of the value in arguments[0] and the value as
// sent (argError).
func userMessage(ctx context.Context, cmd string, in input, root string, docs *documents.Store) (runner.UserMessage, error) {
	var text []lspext.ContextRef
	var textAt []int // the index in in.context of each of text
	var images []imageInput
	for i, r := range in.images {
		images = append(images, imageInput{r, fmt.Sprintf("images[%d]", i)})
	}
	for i, c := range in.context {
		if c.Range == nil && isImageName(c.URI) {
			images = append(images, imageInput{lspext.ImageRef{URI: c.URI}, fmt.Sprintf("context[%d]", i)})
			continue
		}
		text = append(text, c)
		textAt = append(textAt, i)
	}
	prompt, err := withMentions(ctx, in.prompt, text, root, docs)
	if bad, ok := err.(*badContext); ok {
		return runner.UserMessage{}, argError(cmd, fmt.Sprintf("context[%d].uri", textAt[bad.index]), text[bad.index].URI, bad.problem)
	}
	if err != nil {
		return runner.UserMessage{}, err
	}
	if d := diagnosticsText(text, root); d != "" {
		prompt += "\n\n" + d
	}
	if o := openFilesText(in.openFiles, root); o != "" {
		prompt += "\n\n" + o
	}
	imgs, err := readImages(ctx, cmd, images)
	if err != nil {
		return runner.UserMessage{}, err
	}
	return runner.UserMessage{Text: prompt, Images: imgs}, nil
}

// Bounds of the diagnostics that go into a prompt: an editor may send
// thousands (measured: 3,000 made an 86 KB prompt), and claude reads the
// code itself.
const (
	maxDiagnostics       = 50  // lines in all, errors first
	maxDiagnosticMessage = 200 // characters of one message
)

// diagnosticsText lists the context's diagnostics, one line each:
// "main.go:5:3: error: undefined: foo (compiler, UndeclaredName)" (lines
// and columns 1-based): those of each entry's range only (the whole file
// without one), at most maxDiagnostics (errors first, then warnings, …;
// the rest counted), each message cut to maxDiagnosticMessage characters.
func diagnosticsText(refs []lspext.ContextRef, root string) string {
	type diag struct {
		line     string
		severity int
	}
	var all []diag
	for _, r := range refs {
		if len(r.Diagnostics) == 0 {
			continue
		}
		name := r.URI
		if p, err := fileuri.ToPath(r.URI); err == nil {
			name = runner.RelPath(p, root)
		}
		for _, d := range r.Diagnostics {
			if r.Range != nil && !overlaps(d.Range, *r.Range) {
				continue
			}
			line := fmt.Sprintf("%s:%d:%d: %s: %s", name, d.Range.Start.Line+1, d.Range.Start.Character+1, severityName(d.Severity),
				truncate(oneLineText(d.Message), maxDiagnosticMessage))
			var from []string
			if d.Source != "" {
				from = append(from, truncate(oneLineText(d.Source), 60))
			}
			if c := diagnosticCode(d.Code); c != "" {
				from = append(from, truncate(oneLineText(c), 60))
			}
			if len(from) > 0 {
				line += " (" + strings.Join(from, ", ") + ")"
			}
			sev := d.Severity
			if sev < 1 || sev > 4 {
				sev = 5 // unknown: after hints
			}
			all = append(all, diag{line, sev})
		}
	}
	if len(all) == 0 {
		return ""
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].severity < all[j].severity })
	var lines []string
	for i, d := range all {
		if i == maxDiagnostics {
			lines = append(lines, fmt.Sprintf("(and %d more)", len(all)-maxDiagnostics))
			break
		}
		lines = append(lines, d.line)
	}
	return "Diagnostics the editor shows there:\n" + strings.Join(lines, "\n")
}

// overlaps reports whether a diagnostic's range d touches the context's
// range r. A range that ends at character 0 of a line does not include
// that line (as for the mention of the range); an empty range (a point)
// counts where it is.
func overlaps(d, r lspext.Range) bool {
	before := func(a, b lspext.Position) bool {
		return a.Line < b.Line || a.Line == b.Line && a.Character < b.Character
	}
	return !before(lastPosition(d), r.Start) && !before(lastPosition(r), d.Start)
}

// lastPosition is where a range ends, inclusively: a range that ends at
// character 0 of a later line ends with the line before.
func lastPosition(r lspext.Range) lspext.Position {
	if r.End.Character == 0 && r.End.Line > r.Start.Line {
		return lspext.Position{Line: r.End.Line - 1, Character: math.MaxUint32}
	}
	return r.End
}

// diagnosticCode is an LSP Diagnostic's code as text: a string as it is,
// a number without an exponent, VS Code's {value, target} by its value; ""
// for anything else.
func diagnosticCode(c any) string {
	switch c := c.(type) {
	case string:
		return c
	case float64:
		return strconv.FormatFloat(c, 'f', -1, 64)
	case map[string]any:
		if v, ok := c["value"]; ok {
			switch v.(type) {
			case string, float64:
				return diagnosticCode(v)
			}
		}
	}
	return ""
}

func severityName(s int) string {
	switch s {
	case 1:
		return "error"
	case 2:
		return "warning"
	case 3:
		return "info"
	case 4:
		return "hint"
	}
	return "problem"
}

// oneLineText joins a message's lines with "; ".
func oneLineText(s string) string {
	var parts []string
	for _, l := range strings.Split(strings.TrimSpace(s), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, "; ")
}

// openFilesText names the files open in the editor (relative to root when
// inside it), at most maxOpenFiles.
func openFilesText(uris []string, root string) string {
	var names []string
	for _, u := range uris {
		p, err := fileuri.ToPath(u)
		if err != nil {
			continue
		}
		names = append(names, runner.RelPath(p, root))
		if len(names) == maxOpenFiles {
			break
		}
	}
	if len(names) == 0 {
		return ""
	}
	more := ""
	if len(uris) > len(names) {
		more = fmt.Sprintf(" (and %d more)", len(uris)-len(names))
	}
	return "Files open in the editor: " + strings.Join(names, ", ") + more
}

// isImageName reports whether a URI names an image file by its extension.
func isImageName(uri string) bool {
	switch strings.ToLower(filepath.Ext(uri)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".webp":
		return true
	}
	return false
}

// imageInput is an image of a message and the JSON path it was sent at
// ("images[0]", or "context[2]" for a context entry that is an image file).
type imageInput struct {
	ref  lspext.ImageRef
	path string
}

// readImages reads and checks the images of a message (runner.NewImage,
// runner.ReadImage, runner.CheckImages). lspext.Decode has checked their
// shape: a uri, or data with a mediaType of the four claude takes.
func readImages(ctx context.Context, cmd string, in []imageInput) ([]runner.Image, error) {
	var out []runner.Image
	for _, im := range in {
		r := im.ref
		var img runner.Image
		if r.URI != "" {
			p, err := fileuri.ToPath(r.URI)
			if err == nil {
				img, err = runner.ReadImage(ctx, p)
			}
			if err != nil {
				return nil, argError(cmd, im.path+".uri", r.URI, err.Error())
			}
		} else {
			if base64.StdEncoding.DecodedLen(len(r.Data)) > runner.MaxImageBytes+3 {
				return nil, argError(cmd, im.path+".data", r.Data, fmt.Sprintf("is an image larger than %d MiB", runner.MaxImageBytes>>20))
			}
			data, err := base64.StdEncoding.DecodeString(r.Data)
			if err != nil {
				return nil, argError(cmd, im.path+".data", r.Data, "is not base64 ("+err.Error()+")")
			}
			if img, err = runner.NewImage(data); err != nil {
				return nil, argError(cmd, im.path+".data", r.Data, err.Error())
			}
		}
		out = append(out, img)
	}
	if err := runner.CheckImages(out); err != nil {
		return nil, invalidParams("%s: arguments[0].images: %v", cmd, err)
	}
	return out, nil
}
