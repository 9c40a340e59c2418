package review

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/claude-bridge/claude-bridge/runner"
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

	// disk is the file on disk now in Original's representation; Original
	// differs from it when it is an open buffer with unsaved changes.
	disk string
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
		}
	}
	p.Hunks = textedit.Hunks(p.Original, p.Proposed)
	return p
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
	v.Accept = true
	accepted := p.Proposed
	switch {
	case res.Text != nil:
		accepted = *res.Text
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
		accepted = textedit.ApplyHunks(p.Original, p.Proposed, p.Hunks, func(i int) bool { return keep[HunkID(i)] })
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
	// Back to the file on disk: the user's unsaved changes to the buffer
	// the review showed stay out of it.
	target := accepted
	if p.Original != p.disk {
		if merged, conflicts := textedit.Merge3(p.Original, p.disk, accepted); len(conflicts) == 0 {
			target = merged
		}
	}
	v.Result = Encode(textedit.ConvertLineEndings(target, p.eol), p.enc)
	return v
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
