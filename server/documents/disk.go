package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/internal/fsbound"
	"github.com/claude-bridge/claude-bridge/internal/saferead"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// MaxFileSize is the largest file the bridge reads (64 MiB). A larger file
// is Known=false: its changes are not carried, the user is told to reload.
const MaxFileSize = 64 << 20

// Encoding is how a file's bytes hold its text.
type Encoding string

// The encodings the bridge decodes. Editors detect all four the same way
// (a byte-order mark, else valid UTF-8); claude 2.1.332 edits UTF-8 files
// and UTF-16 LE behind its byte-order mark, and refuses the others ("File is
// not valid UTF-8 ... legacy encoding such as Windows-1252, Shift-JIS").
const (
	UTF8    Encoding = "UTF-8"
	UTF8BOM Encoding = "UTF-8 with BOM"
	UTF16LE Encoding = "UTF-16 LE"
	UTF16BE Encoding = "UTF-16 BE"
)

const bom = "\ufeff"

// Disk is what the bridge knows of a document's file on disk.
type Disk struct {
	// Known is false until the file has been read, and when it could not be
	// read (Problem says why: not a regular file, too large, a read that
	// did not finish in time).
	Known bool
	// Exists is false for a file that is not on disk (not created yet, or
	// deleted).
	Exists bool
	// Decoded is true when Text holds the file's text: UTF-8, or UTF-16
	// behind a byte-order mark. It is false for any other encoding (Latin-1,
	// Shift-JIS, binary): the editor decoded such a file itself, and the
	// bridge can neither compare it with the buffer nor merge into it.
	Decoded bool
	// Text is the file's text without its byte-order mark, with the line
	// breaks the file has.
	Text     string
	Encoding Encoding
	Problem  string // why !Known or !Decoded, worded to follow "the bridge cannot read <file>: "
	// sum is the SHA-256 of the bytes of a file that is not Decoded, to
	// notice that its content changed.
	sum [sha256.Size]byte
}

// NoFile is the Disk of a file that does not exist.
func NoFile() Disk { return Disk{Known: true} }

// Unreadable is the Disk of a file that could not be read, and why.
func Unreadable(problem string) Disk { return Disk{Problem: problem} }

// DiskOf decodes the bytes of a file: a UTF-8 byte-order mark is taken off
// (editors never put it in the document text), UTF-16 behind its
// byte-order mark is decoded, and anything else must be valid UTF-8 to be
// Decoded.
func DiskOf(b []byte) Disk {
	d := Disk{Known: true, Exists: true}
	switch {
	case bytes.HasPrefix(b, []byte(bom)):
		if utf8.Valid(b[len(bom):]) {
			d.Decoded, d.Text, d.Encoding = true, string(b[len(bom):]), UTF8BOM
		}
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		d.Text, d.Decoded = decodeUTF16(b[2:], false)
		d.Encoding = UTF16LE
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		d.Text, d.Decoded = decodeUTF16(b[2:], true)
		d.Encoding = UTF16BE
	case utf8.Valid(b):
		d.Decoded, d.Text, d.Encoding = true, string(b), UTF8
	}
	if !d.Decoded {
		d.Text, d.Encoding = "", ""
		d.Problem = "it is not UTF-8 text (the editor decoded it with its own encoding)"
		d.sum = sha256.Sum256(b)
	}
	return d
}

// decodeUTF16 decodes UTF-16; ok is false for an odd length or an unpaired
// surrogate, which would not survive being written back.
func decodeUTF16(b []byte, bigEndian bool) (string, bool) {
	if len(b)%2 != 0 {
		return "", false
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	for i := 0; i < len(u); i++ {
		switch {
		case u[i] >= 0xd800 && u[i] < 0xdc00: // high surrogate: a low one must follow
			if i+1 >= len(u) || u[i+1] < 0xdc00 || u[i+1] >= 0xe000 {
				return "", false
			}
			i++
		case u[i] >= 0xdc00 && u[i] < 0xe000:
			return "", false
		}
	}
	return string(utf16.Decode(u)), true
}

// Same reports whether d and o say the same of the file: both absent, the
// same text (whatever its byte-order mark), or the same bytes of a file
// that cannot be decoded.
func (d Disk) Same(o Disk) bool {
	switch {
	case d.Known != o.Known || d.Exists != o.Exists || d.Decoded != o.Decoded:
		return false
	case !d.Known || !d.Exists:
		return true
	case d.Decoded:
		return d.Text == o.Text
	}
	return d.sum == o.sum
}

// EditorText is the file's text as an editor shows it in buffer: without
// the byte-order mark (unless buffer starts with one: a client that keeps
// it), and with buffer's line break when buffer uses one throughout.
//
// That is how the editors measured present a file:
//   - VS Code keeps "\r\n" in the document text of a CRLF file, normalises a
//     file of mixed line breaks to one, never shows a byte-order mark, and
//     converts the line breaks of inserted text to the document's.
//   - Neovim 0.7.2 sends didOpen and didChange text with "\r\n" for
//     'fileformat' dos (didOpen "a\r\nb\r\n", didChange "B\r\nB2"); a file
//     with some CRLF lines opens as 'fileformat' unix and its text is
//     exactly the file's ("a\r\nb\nc\r\n", the "\r" part of the line); a
//     byte-order mark sets 'bomb' and is not in the text; a Latin-1 file is
//     sent decoded ("café"); inserted "\r\n" becomes the buffer's line break.
//
// ok is false when the file's text is not known (not read, unreadable, not
// decodable). A file that does not exist is the empty text.
func EditorText(d Disk, buffer string) (text string, ok bool) {
	if !d.Known {
		return "", false
	}
	if !d.Exists {
		return "", true
	}
	if !d.Decoded {
		return "", false
	}
	text = d.Text
	if d.Encoding != UTF8 && strings.HasPrefix(buffer, bom) {
		text = bom + text
	}
	return textedit.ConvertLineEndings(text, textedit.LineEnding(buffer)), true
}

// Editor says how the editor represents a file in its buffer's text, where
// that differs between editors (see NeovimText).
type Editor int

const (
	// AnyEditor: an LSP client the bridge knows nothing more of: the
	// buffer's text is the file's (EditorText), its positions count lines
	// as LSP does (textedit.LSPBreaks).
	AnyEditor Editor = iota
	// VSCode (and its forks): like AnyEditor, and its texts never hold a
	// lone "\r" (it makes one a line break when it loads the file).
	VSCode
	// Neovim: the buffer's text is Neovim's (NeovimText), its positions
	// count only "\n" as a line break (textedit.LFBreaks).
	Neovim
)

// EditorNamed is the Editor of a client by the name in its initialize
// request's clientInfo.
func EditorNamed(name string) Editor {
	switch {
	case name == "Neovim":
		return Neovim
	case strings.Contains(name, "Visual Studio Code"), strings.Contains(name, "VSCodium"), name == "code-server", name == "Cursor":
		return VSCode
	}
	return AnyEditor
}

// Breaks is how the editor counts the lines of a position.
func (ed Editor) Breaks() textedit.Breaks {
	if ed == Neovim {
		return textedit.LFBreaks
	}
	return textedit.LSPBreaks
}

// KnowsLoneCR reports whether the bridge knows how the editor treats a "\r"
// that is not part of a "\r\n" (measured for VS Code and Neovim); for
// other clients a buffer holding one is not edited (LSP 3.16 makes it a
// line break, but clients that keep it in the text count it as a
// character).
func (ed Editor) KnowsLoneCR() bool { return ed != AnyEditor }

// Text is EditorText for this editor.
func (ed Editor) Text(d Disk, buffer string) (string, bool) {
	text, ok := EditorText(d, buffer)
	if ok && ed == Neovim {
		text = NeovimText(text, buffer)
	}
	return text, ok
}

// Unsaved reports whether buffer holds changes the file d lacks, compared
// as the editor represents the file (Text: its line breaks, byte-order
// mark, and for Neovim the final line break and the one empty line of an
// empty file); ok is false when the file's text is not known. It is the
// one comparison the bridge makes of a buffer and its file (Doc.Modified,
// and whether a change found on disk is the user's save).
func (ed Editor) Unsaved(d Disk, buffer string) (unsaved, ok bool) {
	text, ok := ed.Text(d, buffer)
	return ok && buffer != text, ok
}

// FileText is the text (without a byte-order mark: the encoding puts it
// back) the editor writes to the file when it saves buffer over the file
// d: Text's inverse. A buffer that holds d unchanged (Unsaved false) is d's
// own text, whatever the editor's representation ("\n" for Neovim's empty
// file). Otherwise the buffer, for a client the bridge knows nothing of in
// d's line break when d uses one throughout and the buffer too (such an
// editor is taken to write a file in the line break it read it with: a
// buffer with "\n" for a CRLF file writes "\r\n"; Neovim and VS Code write
// their buffer's own), and
// for Neovim with a final line break ('fixeol', its default). A file not
// known, or not existing, is the buffer as it is (a BOM it starts with
// kept only for UTF-8 files, where it is text).
func (ed Editor) FileText(d Disk, buffer string) string {
	if !d.Known || !d.Exists || !d.Decoded {
		return buffer
	}
	if unsaved, ok := ed.Unsaved(d, buffer); ok && !unsaved {
		return d.Text
	}
	text := buffer
	if d.Encoding != UTF8 {
		text = strings.TrimPrefix(text, bom)
	}
	// Neovim and VS Code send their buffer in the line break they write
	// it with ('fileformat', the document's EOL), which the user may have
	// changed ("ff=unix" then ":w" over a CRLF file writes LF): theirs is
	// kept. Only an editor the bridge knows nothing of is taken to write
	// the line break it read the file with.
	if eol := textedit.LineEnding(d.Text); ed == AnyEditor && eol != "" && textedit.LineEnding(text) != "" {
		text = textedit.ConvertLineEndings(text, eol)
	}
	if ed == Neovim && text != "" && !strings.HasSuffix(text, "\n") {
		nl := textedit.LineEnding(d.Text)
		if nl != "\r\n" {
			nl = "\n"
		}
		text += nl
	}
	return text
}

// NeovimText is text, a file's text in buffer's line breaks, as Neovim holds
// it in buffer. Neovim sends its buffer as its lines joined by the
// 'fileformat' line break, plus one more when 'eol' is set (0.7.2,
// lsp.lua buf_get_full_text), so, measured on 0.7.2:
//   - an empty file (or one that does not exist yet) is one empty line with
//     'eol' set: "\n" (":set noeol" makes it "");
//   - a file without a final line break has 'eol' off and is sent as it is
//     ("a\nb"); written with 'fixeol' (the default) it gets one ("a\nb\n")
//     while 'eol' stays off, so the buffer "a\nb" holds the file "a\nb\n"
//     as much as "a\nb";
//   - an edit cannot add or remove the final line break of a buffer
//     (util.apply_text_edits drops an empty last line when 'eol' or
//     'fixeol' is set).
//
// So the final line break follows the buffer: present when buffer ends
// with one (or is empty), absent when it does not.
func NeovimText(text, buffer string) string {
	nl := "\n"
	if strings.HasSuffix(buffer, "\r\n") || textedit.LineEnding(buffer) == "\r\n" {
		nl = "\r\n"
	}
	if text == "" {
		if buffer == "" {
			return ""
		}
		return nl
	}
	ends := buffer == "" || strings.HasSuffix(buffer, "\n")
	switch {
	case ends && !strings.HasSuffix(text, "\n"):
		return text + nl
	case !ends && strings.HasSuffix(text, nl):
		return strings.TrimSuffix(text, nl)
	}
	return text
}

// ReadDisk reads the file at path the safe way (see readDisk), giving up
// when ctx ends: then it returns an Unreadable Disk and an error matching
// fsbound.ErrHung. A read stuck in the kernel is left to finish on its own
// goroutine, and the file is not read again until it has (fsbound.Do): a
// later ReadDisk of it fails at once.
func ReadDisk(ctx context.Context, path string) (Disk, error) {
	var d Disk
	if err := fsbound.Do(ctx, path, func() { d = readDisk(path) }); err != nil {
		return Unreadable(hungProblem(err, 0)), err
	}
	return d, nil
}

// hungProblem words a read that did not answer, to follow "the bridge
// cannot read <file>: "; limit is how long it was given (0: unsaid).
func hungProblem(err error, limit time.Duration) string {
	switch {
	case errors.Is(err, fsbound.ErrStuck):
		return "an earlier read of it has not finished (a hung network mount?)"
	case limit > 0:
		return fmt.Sprintf("reading it took longer than %v (a hung network mount?)", limit)
	case errors.Is(err, fsbound.ErrHung):
		return "reading it did not finish in time (a hung network mount?)"
	}
	return err.Error()
}

// readDisk reads a document's file without ever blocking on something that
// is not a regular file, and at most MaxFileSize bytes (saferead.Regular).
func readDisk(path string) Disk {
	b, err := saferead.Regular(path, MaxFileSize)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return NoFile()
	case err != nil:
		return Unreadable(err.Error())
	}
	return DiskOf(b)
}
