// Package edits models claude's file tools (Edit, MultiEdit, Write,
// NotebookEdit) as pure transformations of a file's bytes: what a call
// would leave on disk (Apply), and the input of the same tool that would
// leave a given content instead (Rewrite). The bridge uses them to hold an
// edit for review before claude writes it (review beforeWrite): it shows
// the user what Apply gives, and hands claude, as the hook's updatedInput,
// what Rewrite gives for the version the user accepted, so that claude
// writes that version itself.
//
// How claude 2.1.332 writes, measured (and modelled here):
//   - Edit reads the file as UTF-8 (a UTF-8 byte-order mark stays, as
//     U+FEFF at the start of its text) or UTF-16 LE behind its byte-order
//     mark, with CRLF line breaks turned into LF; old_string must occur
//     once in that text (or replace_all); curly quotes in the file match
//     straight ones in old_string. It writes the result back in the file's
//     encoding, with CRLF again when the file had CRLF line breaks (the
//     LF of new_string included).
//   - Write writes content as given, line breaks included (LF content over
//     a CRLF file leaves an LF file), keeping the byte-order mark of the
//     file it replaces. (A reviewed Write keeps a CRLF file's line breaks:
//     KeepBreaks.)
//   - NotebookEdit parses the notebook (JSON), replaces, inserts (after
//     cell_id, or first) or deletes a cell, and writes the notebook with
//     one space of indentation per level and a final line break, as
//     JavaScript's JSON.stringify(nb, null, 1) does; a replaced cell's
//     source becomes one string, an inserted cell gets a random 8-digit
//     hex id (so Apply's id for an inserted cell is not claude's).
//   - There is no MultiEdit tool in 2.1.332; its input ({file_path,
//     edits: [{old_string, new_string, replace_all}]}) is modelled as
//     Edits applied in order, for clients of other versions.
package edits

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// File is a file as claude finds it before a call.
type File struct {
	// Exists is false for a file that is not there (Data is then empty).
	Exists bool
	// Data is the file's bytes.
	Data []byte
}

// ErrCannotExpress is returned by Rewrite when no input of the tool leaves
// the target (a notebook changed beyond the edited cell, a change of line
// breaks an Edit cannot make): the caller writes the target itself.
var ErrCannotExpress = errors.New("the tool cannot write that content")

// Tools are the tools this package models.
var Tools = map[string]bool{"Edit": true, "MultiEdit": true, "Write": true, "NotebookEdit": true}

// input is the union of the file tools' inputs.
type input struct {
	FilePath     string     `json:"file_path"`
	NotebookPath string     `json:"notebook_path"`
	OldString    *string    `json:"old_string"`
	NewString    *string    `json:"new_string"`
	ReplaceAll   bool       `json:"replace_all"`
	Content      *string    `json:"content"`
	Edits        []editSpec `json:"edits"`
	CellID       string     `json:"cell_id"`
	NewSource    *string    `json:"new_source"`
	CellType     string     `json:"cell_type"`
	EditMode     string     `json:"edit_mode"`
}

type editSpec struct {
	OldString  string `json:"old_string"`
	NewString  string `json:"new_string"`
	ReplaceAll bool   `json:"replace_all,omitempty"`
}

// Path is the file a call of tool writes ("" when the input names none).
func Path(tool string, raw json.RawMessage) string {
	var in input
	_ = json.Unmarshal(raw, &in)
	if tool == "NotebookEdit" && in.NotebookPath != "" {
		return in.NotebookPath
	}
	return in.FilePath
}

// Apply returns the file's bytes as a call of tool with input raw would
// leave them, starting from f. Its errors read like claude's own (the
// bridge tells the model when it cannot show an edit).
func Apply(tool string, raw json.RawMessage, f File) ([]byte, error) {
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("the %s input is not an object: %v", tool, err)
	}
	switch tool {
	case "Write":
		if in.Content == nil {
			return nil, errors.New("the Write input has no content")
		}
		return writeContent(f, *in.Content)
	case "Edit":
		if in.OldString == nil || in.NewString == nil {
			return nil, errors.New("the Edit input needs old_string and new_string")
		}
		return applyEdits(f, []editSpec{{*in.OldString, *in.NewString, in.ReplaceAll}})
	case "MultiEdit":
		if len(in.Edits) == 0 {
			return nil, errors.New("the MultiEdit input has no edits")
		}
		return applyEdits(f, in.Edits)
	case "NotebookEdit":
		return applyNotebook(f, in)
	}
	return nil, fmt.Errorf("%s is not a file tool", tool)
}

// Rewrite returns an input of tool, based on raw (its other fields kept),
// that makes claude leave target, starting from f. It checks its answer
// with Apply; ErrCannotExpress when no such input was found.
func Rewrite(tool string, raw json.RawMessage, f File, target []byte) (json.RawMessage, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return nil, fmt.Errorf("the %s input is not an object", tool)
	}
	set := func(name string, v any) {
		b, _ := json.Marshal(v)
		fields[name] = b
	}
	switch tool {
	case "Write":
		enc, err := decode(f)
		if err != nil {
			return nil, err
		}
		text, ok := decodeAs(target, enc)
		if !ok {
			return nil, ErrCannotExpress
		}
		if enc.bom {
			text = strings.TrimPrefix(text, bom)
		}
		set("content", text)
	case "Edit", "MultiEdit":
		old, neu, err := editRegion(f, target)
		if err != nil {
			return nil, err
		}
		if tool == "Edit" {
			set("old_string", old)
			set("new_string", neu)
			set("replace_all", false)
		} else {
			set("edits", []editSpec{{OldString: old, NewString: neu}})
		}
	case "NotebookEdit":
		src, err := notebookSource(raw, f, target)
		if err != nil {
			return nil, err
		}
		set("new_source", src)
	default:
		return nil, fmt.Errorf("%s is not a file tool", tool)
	}
	out, _ := json.Marshal(fields)
	if got, err := Apply(tool, out, f); err != nil || !bytes.Equal(got, target) {
		return nil, ErrCannotExpress
	}
	return out, nil
}

const bom = "\ufeff"

// encoding is how claude holds a file's text: UTF-8 or UTF-16 LE, with or
// without a byte-order mark, and whether it writes CRLF.
type encoding struct {
	utf16 bool
	bom   bool
	crlf  bool
}

// decode reads f's bytes the way claude does: its text (a byte-order mark
// kept as U+FEFF) and encoding. A file that is neither UTF-8 nor UTF-16 LE
// behind its mark is refused, as claude refuses it.
func decode(f File) (encoding, error) {
	var enc encoding
	if !f.Exists {
		return enc, nil
	}
	text, enc, err := decodeText(f.Data)
	if err != nil {
		return enc, err
	}
	enc.crlf = isCRLF(text)
	return enc, nil
}

func decodeText(b []byte) (string, encoding, error) {
	var enc encoding
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) {
		if len(b)%2 != 0 {
			return "", enc, errors.New("the file is not valid UTF-16")
		}
		u := make([]uint16, (len(b)-2)/2)
		for i := range u {
			u[i] = uint16(b[2+2*i]) | uint16(b[3+2*i])<<8
		}
		enc.utf16, enc.bom = true, true
		return bom + string(utf16.Decode(u)), enc, nil
	}
	if !utf8.Valid(b) {
		return "", enc, errors.New("the file is not valid UTF-8 (claude edits UTF-8 and UTF-16 files only)")
	}
	enc.bom = bytes.HasPrefix(b, []byte(bom))
	return string(b), enc, nil
}

// decodeAs is target's text in enc (ok false when it is not in enc).
func decodeAs(target []byte, enc encoding) (string, bool) {
	text, got, err := decodeText(target)
	if err != nil || got.utf16 != enc.utf16 {
		return "", false
	}
	return text, true
}

// isCRLF reports whether claude writes text back with CRLF: more CRLF line
// breaks than lone LF ones.
func isCRLF(text string) bool {
	crlf := strings.Count(text, "\r\n")
	return crlf > 0 && crlf >= strings.Count(text, "\n")-crlf
}

// view is claude's text of f: decoded, CRLF turned into LF.
func view(f File) (string, encoding, error) {
	if !f.Exists {
		return "", encoding{}, nil
	}
	text, enc, err := decodeText(f.Data)
	if err != nil {
		return "", enc, err
	}
	enc.crlf = isCRLF(text)
	return strings.ReplaceAll(text, "\r\n", "\n"), enc, nil
}

// encode writes claude's text back in enc.
func encode(text string, enc encoding) []byte {
	if enc.crlf {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	if !enc.utf16 {
		return []byte(text)
	}
	u := utf16.Encode([]rune(strings.TrimPrefix(text, bom)))
	out := make([]byte, 2+2*len(u))
	out[0], out[1] = 0xff, 0xfe
	for i, c := range u {
		out[2+2*i], out[3+2*i] = byte(c), byte(c>>8)
	}
	return out
}

// KeepBreaks is what a Write of content over f leaves (after: Apply's
// answer) with the file's own line breaks kept: when every line break of
// f is CRLF and content has plain LF ones (no CR at all), content's LF
// become CRLF; the byte-order mark f has stays (Write keeps it already).
// It reports whether it changed after. Claude writes content as given
// (an LF file over a CRLF one), so a review of a Write would otherwise be
// one hunk of the whole file; the bridge proposes this instead, and hands
// claude the content with CRLF (Rewrite).
func KeepBreaks(f File, after []byte) ([]byte, bool) {
	if !f.Exists {
		return after, false
	}
	text, enc, err := decodeText(f.Data)
	if err != nil {
		return after, false
	}
	crlf := strings.Count(text, "\r\n")
	if crlf == 0 || crlf != strings.Count(text, "\n") {
		return after, false // LF, or mixed: Write's content as given
	}
	content, got, err := decodeText(after)
	if err != nil || got.utf16 != enc.utf16 || strings.Contains(content, "\r") || !strings.Contains(content, "\n") {
		return after, false
	}
	enc.crlf = true
	return encode(content, enc), true
}

func writeContent(f File, content string) ([]byte, error) {
	if !f.Exists {
		return []byte(content), nil
	}
	_, enc, err := decodeText(f.Data)
	if err != nil {
		return nil, err
	}
	if enc.bom && !strings.HasPrefix(content, bom) {
		content = bom + content
	}
	enc.crlf = false // Write writes its line breaks as given
	return encode(content, enc), nil
}

func applyEdits(f File, specs []editSpec) ([]byte, error) {
	text, enc, err := view(f)
	if err != nil {
		return nil, err
	}
	for i, e := range specs {
		if !f.Exists && i == 0 && e.OldString == "" {
			text = e.NewString // a new file
			continue
		}
		if e.OldString == "" {
			if text != "" {
				return nil, errors.New("Cannot create new file - file already exists.")
			}
			text = e.NewString
			continue
		}
		if !f.Exists {
			return nil, errors.New("File does not exist.")
		}
		text, err = replace(text, e)
		if err != nil {
			return nil, err
		}
	}
	return encode(text, enc), nil
}

// replace is one Edit on claude's text.
func replace(text string, e editSpec) (string, error) {
	old := e.OldString
	n := strings.Count(text, old)
	if n == 0 {
		// claude matches curly quotes in the file with straight ones.
		if at := quoteMatches(text, old); len(at) > 0 {
			if len(at) > 1 && !e.ReplaceAll {
				return "", fmt.Errorf("Found %d matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance.\nString: %s", len(at), old)
			}
			var b strings.Builder
			pos := 0
			for _, m := range at {
				b.WriteString(text[pos:m[0]])
				b.WriteString(e.NewString)
				pos = m[1]
			}
			b.WriteString(text[pos:])
			return b.String(), nil
		}
		return "", fmt.Errorf("String to replace not found in file.\nString: %s", old)
	}
	if n > 1 && !e.ReplaceAll {
		return "", fmt.Errorf("Found %d matches of the string to replace, but replace_all is false. To replace all occurrences, set replace_all to true. To replace only one occurrence, please provide more context to uniquely identify the instance.\nString: %s", n, old)
	}
	if e.ReplaceAll {
		return strings.ReplaceAll(text, old, e.NewString), nil
	}
	return strings.Replace(text, old, e.NewString, 1), nil
}

// quoteMatches finds old in text with curly quotes in either counted as
// straight ones; it returns the byte ranges of text matched.
func quoteMatches(text, old string) [][2]int {
	nt, no := straightQuotes(text), straightQuotes(old)
	if (nt == text && no == old) || no == "" {
		return nil
	}
	// Both sides map rune for rune, so rune offsets carry over.
	offs := make([]int, 0, len(text)+1) // byte offset in text of each rune, and the end
	for i := range text {
		offs = append(offs, i)
	}
	offs = append(offs, len(text))
	var out [][2]int
	runes, from := 0, 0 // runes of nt before from
	for {
		i := strings.Index(nt[from:], no)
		if i < 0 {
			return out
		}
		runes += utf8.RuneCountInString(nt[from : from+i])
		n := utf8.RuneCountInString(no)
		out = append(out, [2]int{offs[runes], offs[runes+n]})
		runes += n
		from += i + len(no)
	}
}

func straightQuotes(s string) string {
	return strings.NewReplacer("\u2018", "'", "\u2019", "'", "\u201c", `"`, "\u201d", `"`).Replace(s)
}

// editRegion finds the Edit that turns f into target: the lines that
// differ, widened by whole lines until old_string occurs once in the file.
func editRegion(f File, target []byte) (old, neu string, err error) {
	text, enc, err := view(f)
	if err != nil {
		return "", "", err
	}
	tt, ok := decodeAs(target, enc)
	if !ok || !f.Exists || text == "" {
		return "", "", ErrCannotExpress
	}
	if !enc.crlf && strings.Contains(tt, "\r\n") || enc.crlf && strings.Count(tt, "\r\n") != strings.Count(tt, "\n") {
		return "", "", ErrCannotExpress // line breaks an Edit cannot write
	}
	tt = strings.ReplaceAll(tt, "\r\n", "\n")
	if tt == text {
		return "", "", ErrCannotExpress
	}
	p := 0
	for p < len(text) && p < len(tt) && text[p] == tt[p] {
		p++
	}
	s := 0
	for s < len(text)-p && s < len(tt)-p && text[len(text)-1-s] == tt[len(tt)-1-s] {
		s++
	}
	// Whole lines: back to a line start, forward to a line end; never the
	// byte-order mark, which claude keeps out of the text it matches.
	minStart := 0
	if strings.HasPrefix(text, bom) {
		if p < len(bom) || !strings.HasPrefix(tt, bom) {
			return "", "", ErrCannotExpress
		}
		minStart = len(bom)
	}
	start := max(strings.LastIndexByte(text[:p], '\n')+1, minStart)
	end := len(text) - s
	if i := strings.IndexByte(text[end:], '\n'); i >= 0 {
		end += i + 1
	} else {
		end = len(text)
	}
	tEnd := len(tt) - (len(text) - end)
	for {
		old = text[start:end]
		if old != "" && once(text, old) {
			return old, tt[start:tEnd], nil
		}
		if start <= minStart && end == len(text) {
			return "", "", ErrCannotExpress
		}
		if start > minStart {
			start = max(strings.LastIndexByte(text[:start-1], '\n')+1, minStart)
		}
		if end < len(text) {
			if i := strings.IndexByte(text[end:], '\n'); i >= 0 {
				end += i + 1
			} else {
				end = len(text)
			}
			tEnd = len(tt) - (len(text) - end)
		}
	}
}

// once reports whether s occurs exactly once in text, overlapping
// occurrences counted ("a\na\n" occurs twice in "a\na\na\n"): an old_string
// that occurs once only without overlaps is not where claude would put it.
func once(text, s string) bool {
	i := strings.Index(text, s)
	return i >= 0 && !strings.Contains(text[i+1:], s)
}
