// Package review is reviewing an agent's changes, for the server and the
// terminal (`claude-bridge run --review`, `claude-bridge revert`) alike:
// an edit held for review as the user sees it and the verdict from the
// user's answer (Proposal); the hunks a finished task made in a file,
// where they are today, which are still the task's (nothing changed them
// since) and the file a revert of some of them leaves (Analyze, State);
// reading a checkpoint's files and writing reverted ones (files.go); and
// unified diffs. Open buffers are the server's business, not this
// package's.
//
// Texts are files as editors show them (documents.DiskOf: no UTF-8
// byte-order mark, UTF-16 decoded, line breaks as in the file); a file that
// is not text (Latin-1, binary) is handled whole.
package review

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"unicode/utf16"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Content is a file's bytes at one moment.
type Content struct {
	Exists bool
	Data   []byte
}

// File is one file of a task's checkpoint, and what it holds now.
type File struct {
	Path string
	// Index is the file's place among the task's files, from 1: its hunk
	// ids are f<Index>h1, f<Index>h2, …
	Index int
	// Before is the file before the task, After when the task ended, Now
	// on disk now.
	Before, After, Now Content
	// Reverted are the ids of hunks taken back since.
	Reverted []string
	// Mode is the file's permission bits before the task (for a file a
	// revert creates again).
	Mode fs.FileMode
}

// Hunk is one change a task made to a file.
type Hunk struct {
	ID string
	// OriginalText is what the lines were before the task, NewText what the
	// task made of them.
	OriginalText, NewText string
	// Intact is true when nothing changed the hunk's lines since the task
	// (nor the lines next to them): a revert can take it back.
	Intact bool
	// Range is where the hunk is in the file now (UTF-16), when intact.
	Range protocol.Range
	// now: the hunk's byte range in the file's text now, when intact.
	nowStart, nowEnd int
}

// State is what a task's change of one file looks like today.
type State struct {
	File   File
	Status lspext.ChangeStatus
	// Binary: one of the versions is not text; the file is reverted whole.
	Binary bool
	// Hunks are the task's hunks not reverted yet, in order.
	Hunks []Hunk
	// Unchanged is true when the file is now exactly as the task left it.
	Unchanged bool

	before, after, now string
	nowEnc             documents.Encoding
}

// text decodes c as an editor does; ok false for a file that is not text.
func text(c Content) (string, documents.Encoding, bool) {
	if !c.Exists {
		return "", documents.UTF8, true
	}
	d := documents.DiskOf(c.Data)
	return d.Text, d.Encoding, d.Decoded
}

// Analyze finds the task's hunks in f and where each is today.
func Analyze(f File) State {
	st := State{File: f, Status: lspext.ChangeModified}
	switch {
	case !f.Before.Exists:
		st.Status = lspext.ChangeAdded
	case !f.After.Exists:
		st.Status = lspext.ChangeDeleted
	}
	st.Unchanged = f.Now.Exists == f.After.Exists && bytes.Equal(f.Now.Data, f.After.Data)
	var ok1, ok2, ok3 bool
	st.before, _, ok1 = text(f.Before)
	st.after, _, ok2 = text(f.After)
	st.now, st.nowEnc, ok3 = text(f.Now)
	if !ok1 || !ok2 || !ok3 {
		st.Binary = true
		return st
	}
	reverted := map[string]bool{}
	for _, id := range f.Reverted {
		reverted[id] = true
	}
	since := textedit.Hunks(st.after, st.now) // what changed the file since the task
	for i, h := range textedit.Hunks(st.before, st.after) {
		id := fmt.Sprintf("f%dh%d", f.Index, i+1)
		if reverted[id] {
			continue
		}
		hk := Hunk{ID: id, OriginalText: st.before[h.OldStart:h.OldEnd], NewText: st.after[h.NewStart:h.NewEnd], Intact: true}
		// Lines changed since that overlap the hunk, or touch it (the line
		// before or after it), make it no longer the task's: the same
		// conservative line Merge3 draws for carries.
		shift := 0
		for _, d := range since {
			if d.OldEnd < h.NewStart {
				shift += (d.NewEnd - d.NewStart) - (d.OldEnd - d.OldStart)
				continue
			}
			if d.OldStart > h.NewEnd {
				break
			}
			hk.Intact = false
			break
		}
		if hk.Intact {
			hk.nowStart, hk.nowEnd = h.NewStart+shift, h.NewEnd+shift
			hk.Range = protocol.Range{Start: textedit.PositionAt(st.now, hk.nowStart), End: textedit.PositionAt(st.now, hk.nowEnd)}
		}
		st.Hunks = append(st.Hunks, hk)
	}
	return st
}

// Changes is the file's entry of claude/changes: its intact hunks, ranges
// in the file now.
func (st State) Changes(uri string) lspext.FileChanges {
	fc := lspext.FileChanges{URI: uri, Status: st.Status, Hunks: []lspext.ChangeHunk{}, Binary: st.Binary}
	for _, h := range st.Hunks {
		if h.Intact {
			fc.Hunks = append(fc.Hunks, lspext.ChangeHunk{ID: h.ID, Range: lspext.Range{
				Start: lspext.Position{Line: h.Range.Start.Line, Character: h.Range.Start.Character},
				End:   lspext.Position{Line: h.Range.End.Line, Character: h.Range.End.Character},
			}, OriginalText: h.OriginalText, NewText: h.NewText})
		}
	}
	return fc
}

// Pending reports whether the file has anything left to review: an intact
// hunk, or (binary) the task's version still on disk.
func (st State) Pending() bool {
	if st.Binary {
		return st.Unchanged
	}
	for _, h := range st.Hunks {
		if h.Intact {
			return true
		}
	}
	return false
}

// ChangedSince is the reason a hunk is not reverted when its lines
// changed after the task.
const ChangedSince = "changed since the task (by a later task or by you): its lines are not as the task left them"

// Revert is what taking back some hunks of a file does.
type Revert struct {
	// Content is the file as the revert leaves it (Exists false: deleted).
	Content Content
	// Reverted are the hunks taken back; NotReverted those left, and why.
	Reverted    []string
	NotReverted []lspext.NotReverted
	// Restored is true when the file is now as before the task.
	Restored bool
	// Changed is false when the revert leaves the file as it is.
	Changed bool
	// Reason says why a binary file was not reverted ("" otherwise).
	Reason string
}

// Revert takes back the hunks named in ids (all of them when ids is nil)
// that are intact; the others are reported.
func (st State) Revert(ids map[string]bool) Revert {
	var r Revert
	if st.Binary {
		if ids != nil && len(ids) == 0 {
			return Revert{Content: st.File.Now}
		}
		if !st.Unchanged {
			return Revert{Content: st.File.Now, Reason: "it is not text and " + ChangedSince}
		}
		return Revert{Content: st.File.Before, Restored: true, Changed: true}
	}
	var b strings.Builder
	pos := 0
	for _, h := range st.Hunks {
		if ids != nil && !ids[h.ID] {
			continue
		}
		if !h.Intact {
			r.NotReverted = append(r.NotReverted, lspext.NotReverted{ID: h.ID, Reason: ChangedSince})
			continue
		}
		b.WriteString(st.now[pos:h.nowStart])
		b.WriteString(h.OriginalText)
		pos = h.nowEnd
		r.Reverted = append(r.Reverted, h.ID)
	}
	if len(r.Reverted) == 0 {
		r.Content = st.File.Now
		return r
	}
	b.WriteString(st.now[pos:])
	newText := b.String()
	r.Changed = true
	if !st.File.Before.Exists && newText == "" && len(r.Reverted) == len(st.Hunks) {
		r.Content = Content{} // the task created it: every hunk back, it goes
		r.Restored = true
		return r
	}
	r.Content = Content{Exists: true, Data: encode(newText, st.nowEnc, st.File)}
	r.Restored = st.File.Before.Exists && bytes.Equal(r.Content.Data, st.File.Before.Data)
	return r
}

// RevertText is the text (as an editor shows it) the file has after
// reverting ids, for checking against an open buffer.
func (st State) RevertText(ids map[string]bool) string {
	r := st.Revert(ids)
	t, _, _ := text(r.Content)
	return t
}

// NowText is the file's text now, as an editor shows it.
func (st State) NowText() string { return st.now }

// encode writes text in the encoding the file has now (for a file that
// does not exist now, the one it had before the task).
func encode(text string, enc documents.Encoding, f File) []byte {
	if !f.Now.Exists {
		_, enc, _ = textOf(f.Before)
	}
	return encodeAs(text, enc)
}

func encodeAs(text string, enc documents.Encoding) []byte {
	switch enc {
	case documents.UTF8BOM:
		return []byte("\ufeff" + text)
	case documents.UTF16LE, documents.UTF16BE:
		u := utf16.Encode([]rune(text))
		out := make([]byte, 2+2*len(u))
		if enc == documents.UTF16LE {
			out[0], out[1] = 0xff, 0xfe
			for i, c := range u {
				out[2+2*i], out[3+2*i] = byte(c), byte(c>>8)
			}
		} else {
			out[0], out[1] = 0xfe, 0xff
			for i, c := range u {
				out[2+2*i], out[3+2*i] = byte(c>>8), byte(c)
			}
		}
		return out
	}
	return []byte(text)
}

func textOf(c Content) (string, documents.Encoding, bool) { return text(c) }
