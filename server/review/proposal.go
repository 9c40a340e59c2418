package review

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/runner/edits"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// Proposal is an edit held for review (review beforeWrite) as the user
// sees it: the file before and after, as an editor shows them
// (documents.EditorText), and its hunks, named h1, h2, …
type Proposal struct {
	// Name is the file's name for people (relative to its folder).
	Name string
	// Original is the file as the user sees it now, Proposed as claude
	// would leave it, in the same representation.
	Original, Proposed string
	Hunks              []textedit.Hunk
	// NewFile: claude creates the file.
	NewFile bool
	// AgainstBuffer: Original is an open buffer whose unsaved changes touch
	// the lines claude changes (a three-way merge of the two conflicts), and
	// Proposed is claude's call applied to the buffer itself. What is
	// accepted goes into the buffer as accepted (BufferText), and to disk
	// without the user's unsaved changes where they can be told apart.
	AgainstBuffer bool
	// Notice tells the user what the review cannot do as they would expect
	// ("" when nothing): the buffer's unsaved changes overlap claude's
	// change so that it is shown against the file as saved.
	Notice string

	// disk is the file on disk now in Original's representation; Original
	// differs from it when it is an open buffer with unsaved changes.
	disk string
	// diskProposed is claude's proposal applied to the disk, in Original's
	// representation (AgainstBuffer only).
	diskProposed string
	// eol and enc are how a result goes back to disk: the proposal's line
	// breaks and encoding.
	eol string
	enc documents.Encoding
}

// Propose computes what the user reviews of req: against buffer, the
// text of the open buffer on the file (open: there is one), unsaved
// changes included when claude's change merges with them; else against
// the file on disk. Both as an editor shows them (no byte-order mark, the
// buffer's line breaks).
func Propose(req runner.EditReview, name, buffer string, open bool) Proposal {
	p := Proposal{Name: name, NewFile: !req.Before.Exists}
	disk := documents.NoFile()
	if req.Before.Exists {
		disk = documents.DiskOf(req.Before.Data)
	}
	after := documents.DiskOf(req.After)
	p.eol, p.enc = textedit.LineEnding(after.Text), after.Encoding
	diskText, ok := documents.EditorText(disk, buffer)
	if !ok {
		diskText = "" // not text (a Write over a binary file): shown as new
	}
	proposed, _ := documents.EditorText(after, buffer)
	if !open {
		diskText, proposed = disk.Text, after.Text
	}
	p.disk, p.Original, p.Proposed = diskText, diskText, proposed
	if open && buffer != diskText {
		if merged, conflicts := textedit.Merge3(diskText, buffer, proposed); len(conflicts) == 0 {
			p.Original, p.Proposed = buffer, merged
		} else if onBuffer, ok := applyToBuffer(req, disk, buffer); ok {
			// The user's unsaved lines touch claude's: the review is of
			// claude's call applied to the buffer they see.
			p.Original, p.Proposed, p.AgainstBuffer, p.diskProposed = buffer, onBuffer, true, proposed
		} else {
			p.Notice = fmt.Sprintf("Your unsaved changes to %s overlap the lines Claude changes, so this review shows the file as saved on disk. "+
				"What you accept is written to disk; your buffer keeps your version without it (reload the file, or copy the change in, before you save).", name)
		}
	}
	p.Hunks = textedit.Hunks(p.Original, p.Proposed)
	return p
}

// applyToBuffer is the buffer's text as claude's call would leave it, were
// the buffer the file (its unsaved changes saved, in the file's line breaks
// and encoding); ok false when the call does not apply to it (the user
// changed the text claude replaces).
func applyToBuffer(req runner.EditReview, disk documents.Disk, buffer string) (string, bool) {
	if !req.Before.Exists || !disk.Decoded {
		return "", false
	}
	asFile := encodeAs(textedit.ConvertLineEndings(buffer, textedit.LineEnding(disk.Text)), disk.Encoding)
	after, err := edits.Apply(req.Tool, req.Input, edits.File{Exists: true, Data: asFile})
	if err != nil {
		return "", false
	}
	return documents.EditorText(documents.DiskOf(after), buffer)
}

// BufferText is the buffer's text a verdict's acceptance leaves when the
// review was of the buffer (AgainstBuffer): what the user accepted, as
// they saw it; ok false otherwise (the carry merges the disk's change into
// the buffer as for any edit).
func (p Proposal) BufferText(res *lspext.ReviewEditResult, v runner.EditVerdict) (string, bool) {
	if !p.AgainstBuffer || !v.Accept || res == nil {
		return "", false
	}
	return p.accepted(res), true
}

// HunkID names hunk i of a proposal.
func HunkID(i int) string { return fmt.Sprintf("h%d", i+1) }

// ReviewHunks are the hunks as claude/reviewEdit carries them.
func (p Proposal) ReviewHunks() []lspext.ReviewHunk {
	out := make([]lspext.ReviewHunk, len(p.Hunks))
	for i, h := range p.Hunks {
		out[i] = lspext.ReviewHunk{ID: HunkID(i), Range: lspext.Range{
			Start: lspext.Position{Line: h.Range.Start.Line, Character: h.Range.Start.Character},
			End:   lspext.Position{Line: h.Range.End.Line, Character: h.Range.End.Character},
		}, OriginalText: p.Original[h.OldStart:h.OldEnd], ProposedText: p.Proposed[h.NewStart:h.NewEnd]}
	}
	return out
}

// Message is the question of the proposal: "Claude wants to edit main.go:
// +3 −1 in 2 hunks", "Claude wants to create notes.md: +12 lines".
func (p Proposal) Message() string {
	added, removed := 0, 0
	for _, h := range p.Hunks {
		added += textedit.LineCount(p.Proposed[h.NewStart:h.NewEnd])
		removed += textedit.LineCount(p.Original[h.OldStart:h.OldEnd])
	}
	if p.NewFile {
		return fmt.Sprintf("Claude wants to create %s: +%d %s", p.Name, added, plural(added, "line", "lines"))
	}
	return fmt.Sprintf("Claude wants to edit %s: +%d \u2212%d in %d %s", p.Name, added, removed, len(p.Hunks), plural(len(p.Hunks), "hunk", "hunks"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Verdict turns the user's answer (nil: none, and reason why) into the
// runner's verdict: what to write, in the file's bytes on disk, and what
// to tell claude.
func (p Proposal) Verdict(res *lspext.ReviewEditResult, reason string) runner.EditVerdict {
	all := make([]string, len(p.Hunks))
	for i := range p.Hunks {
		all[i] = HunkID(i)
	}
	if res == nil {
		return runner.EditVerdict{Reason: reason, Rejected: all}
	}
	v := runner.EditVerdict{Feedback: strings.TrimSpace(res.Feedback)}
	if res.Decision != lspext.ReviewAccept || (res.AcceptedHunks != nil && len(res.AcceptedHunks) == 0 && res.Text == nil) {
		v.Rejected = all
		v.Summary = "rejected " + p.describe(all)
		return v
	}
	if unknown := p.UnknownHunks(res); len(unknown) > 0 {
		return runner.EditVerdict{Rejected: all, Feedback: v.Feedback,
			Reason: fmt.Sprintf("the editor's answer accepted hunks this edit does not have (%s; it has %s), so it was not taken as the user's decision",
				strings.Join(unknown, ", "), strings.Join(all, ", "))}
	}
	accepted := p.accepted(res)
	if res.Text != nil && accepted == p.Original && p.Original != p.Proposed {
		// The user's version is the file as it was: every hunk left out,
		// nothing to write. A reject, and said as one.
		v.Rejected = all
		v.Summary = "rejected " + p.describe(all) + ": their version is the file as it was"
		return v
	}
	v.Accept = true
	switch {
	case res.Text != nil:
		v.Edited = accepted != p.Proposed
		v.Accepted = all
		if v.Edited {
			v.Summary = p.edits(accepted)
		}
	case res.AcceptedHunks != nil:
		keep := map[string]bool{}
		for _, id := range res.AcceptedHunks {
			keep[id] = true
		}
		for _, id := range all {
			if keep[id] {
				v.Accepted = append(v.Accepted, id)
			} else {
				v.Rejected = append(v.Rejected, id)
			}
		}
		if len(v.Rejected) > 0 {
			v.Summary = "written " + p.describe(v.Accepted) + "; left out " + p.describe(v.Rejected)
		}
	default:
		v.Accepted = all
	}
	if accepted == p.Proposed {
		return v // as proposed: claude writes its own input
	}
	if len(v.Accepted) == 0 && !v.Edited {
		v.Accept, v.Summary = false, "rejected "+p.describe(v.Rejected)
		return v
	}
	v.Result = Encode(textedit.ConvertLineEndings(p.toDisk(accepted), p.eol), p.enc)
	return v
}

// accepted is the text the user accepted, in Original's representation.
func (p Proposal) accepted(res *lspext.ReviewEditResult) string {
	switch {
	case res.Text != nil:
		return *res.Text
	case res.AcceptedHunks != nil:
		keep := map[string]bool{}
		for _, id := range res.AcceptedHunks {
			keep[id] = true
		}
		return textedit.ApplyHunks(p.Original, p.Proposed, p.Hunks, func(i int) bool { return keep[HunkID(i)] })
	}
	return p.Proposed
}

// toDisk is what goes to disk of an accepted text: the user's unsaved
// changes to the buffer the review showed stay out of it (merged from the
// buffer onto the disk, else, for a review of the buffer, the difference
// from the proposal merged onto claude's proposal on disk). When neither
// merges, the accepted text is written whole, the user's unsaved lines
// with it (they saw and accepted that whole text).
func (p Proposal) toDisk(accepted string) string {
	if p.Original == p.disk {
		return accepted
	}
	if merged, conflicts := textedit.Merge3(p.Original, p.disk, accepted); len(conflicts) == 0 {
		return merged
	}
	if p.AgainstBuffer {
		if merged, conflicts := textedit.Merge3(p.Proposed, p.diskProposed, accepted); len(conflicts) == 0 {
			return merged
		}
	}
	return accepted
}

// SavesUnsaved reports whether what goes to disk of an accepted answer
// holds the buffer's unsaved changes too (toDisk could not tell them
// apart): the user must be told.
func (p Proposal) SavesUnsaved(res *lspext.ReviewEditResult, v runner.EditVerdict) bool {
	if !v.Accept || v.Result == nil || p.Original == p.disk || res == nil {
		return false
	}
	accepted := p.accepted(res)
	return p.toDisk(accepted) == accepted
}

// UnknownHunks are the ids an accept's acceptedHunks names that the
// proposal does not have (nil when all are its own, or it names none).
func (p Proposal) UnknownHunks(res *lspext.ReviewEditResult) []string {
	if res == nil || res.Decision != lspext.ReviewAccept || res.Text != nil {
		return nil
	}
	var out []string
	for _, id := range res.AcceptedHunks {
		var i int
		if n, err := fmt.Sscanf(id, "h%d", &i); n != 1 || err != nil || i < 1 || i > len(p.Hunks) || HunkID(i-1) != id {
			out = append(out, id)
		}
	}
	return out
}

// describe names hunks for claude: "h2 (line 5: `LINE5`)".
func (p Proposal) describe(ids []string) string {
	var parts []string
	for _, id := range ids {
		var i int
		if _, err := fmt.Sscanf(id, "h%d", &i); err != nil || i < 1 || i > len(p.Hunks) {
			continue
		}
		h := p.Hunks[i-1]
		where := h.New.String()
		if h.New.End <= h.New.Start {
			where = "deleting " + h.Old.String()
		}
		if text := firstLine(p.Proposed[h.NewStart:h.NewEnd], 60); text != "" {
			parts = append(parts, fmt.Sprintf("%s (%s: `%s`)", id, where, text))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%s)", id, where))
		}
	}
	return strings.Join(parts, ", ")
}

// edits says where the user's version differs from claude's proposal, in
// the user's version.
func (p Proposal) edits(accepted string) string {
	var parts []string
	size := 0
	for _, h := range textedit.Hunks(p.Proposed, accepted) {
		var part string
		if h.New.End <= h.New.Start {
			part = fmt.Sprintf("your %s removed", h.Old.String())
		} else {
			part = fmt.Sprintf("%s read:\n%s", h.New.String(), cut(accepted[h.NewStart:h.NewEnd], 400))
		}
		if size += len(part); size > 1500 {
			parts = append(parts, "and more")
			break
		}
		parts = append(parts, part)
	}
	return "in their version " + strings.Join(parts, "; ")
}

// firstLine is the first line of s (trimmed), cut to n characters.
func firstLine(s string, n int) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	return cut(s, n)
}

// cut shortens s to n characters, saying how many were left out.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + fmt.Sprintf("… [%d more characters]", len(r)-n)
}
