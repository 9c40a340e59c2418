package server

import (
	"context"
	"encoding/base64"
	"fmt"
	"path/filepath"
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

// diagnosticsText lists the context's diagnostics, one line each:
// "main.go:5:3: error: undefined: foo (compiler, UndeclaredName)" (lines
// and columns 1-based).
func diagnosticsText(refs []lspext.ContextRef, root string) string {
	var lines []string
	for _, r := range refs {
		if len(r.Diagnostics) == 0 {
			continue
		}
		name := r.URI
		if p, err := fileuri.ToPath(r.URI); err == nil {
			name = runner.RelPath(p, root)
		}
		for _, d := range r.Diagnostics {
			line := fmt.Sprintf("%s:%d:%d: %s: %s", name, d.Range.Start.Line+1, d.Range.Start.Character+1, severityName(d.Severity), oneLineText(d.Message))
			var from []string
			if d.Source != "" {
				from = append(from, d.Source)
			}
			if d.Code != nil {
				from = append(from, fmt.Sprint(d.Code))
			}
			if len(from) > 0 {
				line += " (" + strings.Join(from, ", ") + ")"
			}
			lines = append(lines, line)
		}
	}
	if len(lines) == 0 {
		return ""
	}
	return "Diagnostics the editor shows there:\n" + strings.Join(lines, "\n")
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
