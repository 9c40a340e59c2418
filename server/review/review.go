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
	"strings"
	"unicode/utf16"

	"go.lsp.dev/protocol"

	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Content is what is at a path at one moment (runner/checkpoint): a
// file's bytes and permission bits, a symbolic link, or nothing.
type Content = checkpoint.Content

// File is one file of a task's checkpoint, and what it holds now.
type File struct {
	Path string
	// Index is the file's place among the task's files, from 1: its hunk
	// ids are f<Index>h1, f<Index>h2, …
	Index int
	// Before is the file before the task (its permission bits: for a file
	// a revert creates again, or puts back whole), After when the task
	// ended, Now on disk now.
	Before, After, Now Content
	// Reverted are the ids of hunks taken back since.
	Reverted []string
	// Others are the changes other tasks running at the same time made to
	// the file, in order (checkpoint.Other, with their contents).
	Others []Other
}

// Other is a change another task made to a task's file while both ran.
type Other struct {
	Task          string
	Before, After Content
	// Unknown: what it changed is not known; Shared: it may be the task's
	// own change as well (checkpoint.Other).
	Unknown, Shared bool
	// User: the user's own change, saved in the editor while the task ran
	// (Task is empty).
	User bool
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
	// Others names the other tasks (running at the same time) that changed
	// these lines too, or may have made this change: a revert leaves it,
	// and Note says why ("" when the hunk is the task's alone). The user's
	// own saves leave it too.
	Others []string
	Note   string
	// now: the hunk's byte range in the file's text now, when intact.
	nowStart, nowEnd int
}

// State is what a task's change of one file looks like today.
type State struct {
	// File is the file; its Before is what the file would be had the task
	// not run: other tasks' changes made meanwhile are in it (folded), so
	// that they are neither listed as the task's nor taken back.
	File   File
	Status lspext.ChangeStatus
	// Binary: one of the versions is not text; Link: one is a symbolic
	// link. Either way the file is reverted whole.
	Binary, Link bool
	// Hunks are the task's hunks not reverted yet, in order.
	Hunks []Hunk
	// Unchanged is true when the file is now exactly as the task left it.
	Unchanged bool
	// ModeChanged is true when the task changed the file's permission
	// bits (Before.Mode to After.Mode).
	ModeChanged bool
	// NotTheTasks is true when every change of the file was another
	// task's: nothing of it is this task's to review or revert.
	NotTheTasks bool
	// Others are the other tasks whose changes to the file cannot be told
	// from this task's (a whole file, or changes that overlap): a revert
	// of the whole file leaves it. User: the user's own saves are among
	// them.
	Others []string
	User   bool

	before, after, now string
	nowEnc             documents.Encoding
}

// text decodes c as an editor does; ok false for a file that is not text
// (a symbolic link is not).
func text(c Content) (string, documents.Encoding, bool) {
	if !c.Exists {
		return "", documents.UTF8, true
	}
	if c.IsLink() {
		return "", documents.UTF8, false
	}
	d := documents.DiskOf(c.Data)
	return d.Text, d.Encoding, d.Decoded
}

// Whole reports whether the file is reverted whole, not by hunks.
func (st State) Whole() bool { return st.Binary || st.Link }

// Analyze finds the task's hunks in f and where each is today.
func Analyze(f File) State {
	st := State{File: f, Status: lspext.ChangeModified}
	var taints []Other
	st.File.Before, taints = fold(f.Before, f.Others)
	switch {
	case !st.File.Before.Exists:
		st.Status = lspext.ChangeAdded
	case !f.After.Exists:
		st.Status = lspext.ChangeDeleted
	}
	st.Link = st.File.Before.IsLink() || f.After.IsLink() || f.Now.IsLink()
	st.Unchanged = f.Now.Same(f.After) && (f.Now.Mode == 0 || f.After.Mode == 0 || f.Now.Mode == f.After.Mode)
	st.ModeChanged = st.File.Before.Exists && f.After.Exists && !st.Link && st.File.Before.Mode != 0 && f.After.Mode != 0 && st.File.Before.Mode != f.After.Mode
	for _, o := range taints {
		switch {
		case o.User:
			st.User = true
		default:
			st.Others = appendOnce(st.Others, o.Task)
		}
	}
	// Nothing of the file is the task's when what the others did, folded
	// in, leaves it as the task left it: also when some of them could not
	// be told apart (a user's save another running task's command saw too
	// is one): with no hunk left, listing it would only keep the task
	// unreviewed.
	if st.File.Before.Same(f.After) && !st.ModeChanged {
		st.NotTheTasks = true
	}
	var ok1, ok2, ok3 bool
	st.before, _, ok1 = text(st.File.Before)
	st.after, _, ok2 = text(f.After)
	st.now, st.nowEnc, ok3 = text(f.Now)
	if !ok1 || !ok2 || !ok3 {
		st.Binary = !st.Link
		return st
	}
	reverted := map[string]bool{}
	for _, id := range f.Reverted {
		reverted[id] = true
	}
	marks := footprints(st.after, taints)
	since := textedit.Hunks(st.after, st.now) // what changed the file since the task
	for i, h := range textedit.Hunks(st.before, st.after) {
		id := fmt.Sprintf("f%dh%d", f.Index, i+1)
		if reverted[id] {
			continue
		}
		hk := Hunk{ID: id, OriginalText: st.before[h.OldStart:h.OldEnd], NewText: st.after[h.NewStart:h.NewEnd], Intact: true}
		for _, m := range marks {
			if m.all || touches(h.New, m.lines) {
				if m.other.Task != "" {
					hk.Others = appendOnce(hk.Others, m.other.Task)
				}
				hk.Note = otherNote(m.other)
			}
		}
		// Lines changed since that overlap the hunk make it no longer the
		// task's. A change next to it (the line before or after it, lines
		// inserted right before or after it) leaves its own lines as the
		// task left them: its revert merges cleanly with that change, as a
		// three-way merge of the lines would. Only an insertion at the very
		// point of a hunk that is itself an insertion or a deletion is
		// ambiguous (which comes first?), and is taken for an overlap. A
		// deletion (it has no lines) whose neighbours on both sides were
		// deleted since keeps its point: where the deleted lines were.
		shift := 0
		for _, d := range since {
			samePoint := d.OldStart == d.OldEnd && h.NewStart == h.NewEnd && d.OldStart == h.NewStart
			if d.OldEnd <= h.NewStart && !samePoint {
				shift += (d.NewEnd - d.NewStart) - (d.OldEnd - d.OldStart)
				continue
			}
			if h.NewStart == h.NewEnd && d.NewStart == d.NewEnd && d.OldStart < h.NewStart && h.NewStart < d.OldEnd {
				shift = d.NewStart - h.NewStart
				continue
			}
			if d.OldStart >= h.NewEnd && !samePoint {
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

// fold takes the changes others made to the file meanwhile into before, in
// order: one that starts from exactly what before has become replaces it;
// one whose lines merge with the task's changes (Merge3, as carries do) is
// merged in. The changes that cannot be (unknown, shared, or overlapping
// the task's own) are returned: the task's changes they touch are not the
// task's alone.
func fold(before Content, others []Other) (Content, []Other) {
	var taints []Other
	for _, o := range others {
		switch {
		case o.Unknown || o.Shared:
			taints = append(taints, o)
		case o.Before.Same(before):
			mode := before.Mode
			before = o.After
			if before.Exists && before.Mode == 0 {
				before.Mode = mode
			}
		default:
			base, _, ok1 := text(o.Before)
			theirs, _, ok2 := text(o.After)
			ours, enc, ok3 := text(before)
			if !ok1 || !ok2 || !ok3 || !o.Before.Exists || !o.After.Exists || !before.Exists {
				taints = append(taints, o)
				continue
			}
			merged, conflicts := textedit.Merge3(base, ours, theirs)
			if len(conflicts) > 0 {
				taints = append(taints, o)
				continue
			}
			before = Content{Exists: true, Data: encodeAs(merged, enc), Mode: before.Mode}
		}
	}
	return before, taints
}

// mark is where another task's change is in the file as the task left it
// (lines of after), or all of it.
type mark struct {
	other Other
	lines []textedit.LineRange
	all   bool
}

// footprints finds, for each of others, the lines of after that hold its
// change: undoing its change on after (a merge of its reverse) shows them,
// and where the task changed its lines further the conflict does.
func footprints(after string, others []Other) []mark {
	var out []mark
	for _, o := range others {
		m := mark{other: o}
		base, _, ok1 := text(o.After)
		theirs, _, ok2 := text(o.Before)
		if o.Unknown || !ok1 || !ok2 || !o.Before.Exists || !o.After.Exists {
			m.all = true
			out = append(out, m)
			continue
		}
		undone, conflicts := textedit.Merge3(base, after, theirs)
		for _, h := range textedit.Hunks(undone, after) {
			m.lines = append(m.lines, h.New)
		}
		for _, c := range conflicts {
			m.lines = append(m.lines, c.Ours)
		}
		out = append(out, m)
	}
	return out
}

// touches reports whether the line ranges a and any of bs overlap or touch
// (one ends where the other starts).
func touches(a textedit.LineRange, bs []textedit.LineRange) bool {
	for _, b := range bs {
		if a.Start <= b.End && b.Start <= a.End {
			return true
		}
	}
	return false
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// otherNote says why a change that another task may share is left alone.
func otherNote(o Other) string {
	switch {
	case o.User:
		return "you changed these lines too (saved in the editor) while the task ran: reverting them would undo your work"
	case o.Unknown && o.Shared:
		return fmt.Sprintf("task %s ran a Bash command at the same time, whose changes are not known: this change may be %s's", o.Task, o.Task)
	case o.Shared:
		return fmt.Sprintf("task %s's Bash command ran at the same time and saw this change too: it may be %s's", o.Task, o.Task)
	case o.Unknown:
		return fmt.Sprintf("task %s changed this file too while this task ran, in a way the bridge does not know", o.Task)
	}
	return fmt.Sprintf("task %s changed these lines too while this task ran: reverting them would undo its work", o.Task)
}

// Changes is the file's entry of claude/changes: its intact hunks, ranges
// in the file now.
func (st State) Changes(uri string) lspext.FileChanges {
	fc := lspext.FileChanges{URI: uri, Status: st.Status, Hunks: []lspext.ChangeHunk{}, Binary: st.Binary, Note: st.Note()}
	for _, h := range st.Hunks {
		if h.Intact {
			fc.Hunks = append(fc.Hunks, lspext.ChangeHunk{ID: h.ID, Range: lspext.Range{
				Start: lspext.Position{Line: h.Range.Start.Line, Character: h.Range.Start.Character},
				End:   lspext.Position{Line: h.Range.End.Line, Character: h.Range.End.Character},
			}, OriginalText: h.OriginalText, NewText: h.NewText, Note: h.Note})
		}
	}
	return fc
}

// Note says, for people, what a file's change is beyond its hunks: a
// symbolic link, permission bits, another task's share ("" when nothing).
func (st State) Note() string {
	var parts []string
	f := st.File
	if st.Link {
		parts = append(parts, fmt.Sprintf("before the task %s; when it ended %s", linkWords(f.Before), linkWords(f.After)))
	}
	if st.ModeChanged {
		parts = append(parts, fmt.Sprintf("permissions %04o → %04o", f.Before.Mode, f.After.Mode))
	}
	if st.Whole() && len(st.Others) > 0 {
		parts = append(parts, fmt.Sprintf("changed by task %s too while this task ran: a revert leaves it", strings.Join(st.Others, ", ")))
	}
	if st.Whole() && st.User {
		parts = append(parts, "you saved changes to it in the editor while the task ran: a revert leaves it")
	}
	var since []string
	for _, h := range st.Hunks {
		if !h.Intact {
			since = append(since, h.ID)
		}
	}
	if len(since) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s %s: not listed, and a revert leaves %s", plural(len(since), "hunk", "hunks"), strings.Join(since, ", "),
			ChangedSince, plural(len(since), "it", "them")))
	}
	return strings.Join(parts, "; ")
}

// linkWords describes c for a note on symbolic links.
func linkWords(c Content) string {
	switch {
	case !c.Exists:
		return "nothing"
	case c.IsLink():
		return "a symbolic link to " + c.Link
	}
	return "a file"
}

// Pending reports whether the file has anything left to review: an intact
// hunk, changed permissions, or (reverted whole) the task's version still
// on disk.
func (st State) Pending() bool {
	if st.NotTheTasks {
		return false
	}
	if st.Whole() {
		return st.Unchanged
	}
	if st.ModeChanged && st.File.Now.Mode == st.File.After.Mode {
		return true
	}
	for _, h := range st.Hunks {
		if h.Intact {
			return true
		}
	}
	return false
}

// Lists reports whether the change from → to (a save of the user's, text
// files) is among the task's changes as st lists them: the file as the
// task left it has every line of it, the file as it was before the task
// (others' changes folded in) does not. A save made while the task ran
// whose didSave came after it ended is one (checkpoint.Task.AddUserSave);
// a save made after the task ended is not (the task's file lacks it).
func (st State) Lists(from, to Content) bool {
	if st.Whole() || !from.Exists || !to.Exists || from.Same(to) {
		return false
	}
	base, _, ok1 := text(from)
	theirs, _, ok2 := text(to)
	if !ok1 || !ok2 {
		return false
	}
	inAfter, c1 := textedit.Merge3(base, st.after, theirs)
	inBefore, c2 := textedit.Merge3(base, st.before, theirs)
	return len(c1) == 0 && inAfter == st.after && (len(c2) > 0 || inBefore != st.before)
}

// ChangedSince is the reason a hunk is not reverted when its lines
// changed after the task.
const ChangedSince = "changed since the task (by a later task or by you): its lines are not as the task left them"

// Revert is what taking back some hunks of a file does.
type Revert struct {
	// Content is the file as the revert leaves it (Exists false: deleted;
	// a symbolic link; its Mode the permission bits to give it, 0: as they
	// are).
	Content Content
	// Reverted are the hunks taken back; NotReverted those left, and why.
	Reverted    []string
	NotReverted []lspext.NotReverted
	// Restored is true when the file is now as before the task.
	Restored bool
	// Changed is false when the revert leaves the file as it is.
	Changed bool
	// Reason says why a file reverted whole was not ("" otherwise).
	Reason string
}

// Revert takes back the hunks named in ids (all of them when ids is nil)
// that are intact and the task's alone; the others are reported. A file
// reverted whole (binary, a symbolic link) is restored when ids is nil.
// With ids nil, or every hunk taken back, permission bits the task changed
// are put back too (unless they changed since).
func (st State) Revert(ids map[string]bool) Revert {
	var r Revert
	if st.NotTheTasks {
		return Revert{Content: st.File.Now}
	}
	if st.Whole() {
		switch {
		case ids != nil:
			return Revert{Content: st.File.Now}
		case len(st.Others) > 0:
			return Revert{Content: st.File.Now, Reason: fmt.Sprintf("task %s changed it too while this task ran: restoring it would undo that task's work", strings.Join(st.Others, ", "))}
		case st.User:
			return Revert{Content: st.File.Now, Reason: "you saved changes to it in the editor while the task ran: restoring it would undo them"}
		case !st.Unchanged:
			what := "it is not text"
			if st.Link {
				what = "it is a symbolic link (or was)"
			}
			return Revert{Content: st.File.Now, Reason: what + " and " + ChangedSince}
		}
		return Revert{Content: st.File.Before, Restored: true, Changed: true}
	}
	var b strings.Builder
	pos := 0
	left := 0 // hunks of the task's not taken back
	for _, h := range st.Hunks {
		if ids != nil && !ids[h.ID] {
			left++
			continue
		}
		switch {
		case !h.Intact:
			r.NotReverted = append(r.NotReverted, lspext.NotReverted{ID: h.ID, Reason: ChangedSince})
			left++
			continue
		case h.Note != "":
			r.NotReverted = append(r.NotReverted, lspext.NotReverted{ID: h.ID, Reason: h.Note})
			left++
			continue
		}
		b.WriteString(st.now[pos:h.nowStart])
		b.WriteString(h.OriginalText)
		pos = h.nowEnd
		r.Reverted = append(r.Reverted, h.ID)
	}
	modeBack := left == 0 && st.ModeChanged && st.File.Now.Exists && st.File.Now.Mode == st.File.After.Mode
	if len(r.Reverted) == 0 && !modeBack {
		r.Content = st.File.Now
		return r
	}
	b.WriteString(st.now[pos:])
	newText := b.String()
	r.Changed = true
	if !st.File.Before.Exists && newText == "" && left == 0 {
		r.Content = Content{} // the task created it: every hunk back, it goes
		r.Restored = true
		return r
	}
	r.Content = Content{Exists: true, Data: encode(newText, st.nowEnc, st.File), Mode: st.File.Now.Mode}
	if len(r.Reverted) == 0 {
		r.Content.Data = st.File.Now.Data // permission bits alone
	}
	if modeBack || !st.File.Now.Exists {
		r.Content.Mode = st.File.Before.Mode
	}
	r.Restored = st.File.Before.Exists && bytes.Equal(r.Content.Data, st.File.Before.Data) && (!st.ModeChanged || modeBack)
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
