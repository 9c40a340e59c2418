package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.lsp.dev/protocol"
	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner"
	"github.com/claude-bridge/claude-bridge/server/documents"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/review"
	"github.com/claude-bridge/claude-bridge/server/textedit"
)

// The answers of an edit to review asked with window/showMessageRequest.
const (
	actionAccept   = "Accept"
	actionReject   = "Reject"
	actionShowDiff = "Show diff"
)

// ReviewEdit implements runner.EditReviewer.
func (v *taskView) ReviewEdit(ctx context.Context, t *runner.Task, req runner.EditReview) runner.EditVerdict {
	return v.s.reviewEdit(ctx, v.id, req)
}

// OpenFiles implements runner.OpenFiles.
func (v *taskView) OpenFiles() []string { return v.s.bufs.docs.Paths() }

// proposal is an edit as the user sees it: the file before and after, as
// an editor shows them (documents.EditorText), and its hunks.
type proposal struct {
	uri, name          string
	original, proposed string
	hunks              []textedit.Hunk
	// disk is the file on disk now in the same representation; original
	// differs from it when it is the open buffer with unsaved changes.
	disk string
	// out is how the result goes back to disk: the proposal's line breaks
	// and encoding.
	eol string
	enc documents.Encoding
	// newFile: claude creates the file.
	newFile bool
}

// propose computes what the user reviews: the file as it is open in the
// editor (unsaved changes included, when claude's change merges with
// them), else as it is on disk.
func (s *Server) propose(ctx context.Context, req runner.EditReview) proposal {
	p := proposal{uri: s.editorURI(req.Path), name: s.displayPath(req.Path), newFile: !req.Before.Exists}
	disk := documents.NoFile()
	if req.Before.Exists {
		disk = documents.DiskOf(req.Before.Data)
	}
	after := documents.DiskOf(req.After)
	p.eol, p.enc = textedit.LineEnding(after.Text), after.Encoding
	buffer, open := "", false
	if docs, err := s.bufs.docs.Find(ctx, req.Path); err == nil && len(docs) > 0 {
		if d, err := s.bufs.docs.WaitLoaded(ctx, docs[0].URI); err == nil {
			buffer, open = d.Text, true
		}
	}
	// What the user sees of the file on disk, and of claude's version.
	diskText, ok := documents.EditorText(disk, buffer)
	if !ok {
		diskText = "" // not text (a Write over a binary file): shown as new
	}
	proposed, _ := documents.EditorText(after, buffer)
	if !open {
		diskText, proposed = disk.Text, after.Text
	}
	p.disk, p.original, p.proposed = diskText, diskText, proposed
	if open && buffer != diskText {
		if merged, conflicts := textedit.Merge3(diskText, buffer, proposed); len(conflicts) == 0 {
			p.original, p.proposed = buffer, merged
		}
	}
	p.hunks = textedit.Hunks(p.original, p.proposed)
	return p
}

// hunkID names hunk i of a proposal.
func hunkID(i int) string { return fmt.Sprintf("h%d", i+1) }

// reviewEdit shows an edit claude is about to write and returns the
// user's verdict: with claude/reviewEdit to an editor that declares
// lspext.ClientCapabilities.reviewEdit, else with
// window/showMessageRequest (Accept, Reject, Show diff).
func (s *Server) reviewEdit(ctx context.Context, taskID string, req runner.EditReview) runner.EditVerdict {
	p := s.propose(ctx, req)
	s.mu.Lock()
	caps := s.caps
	s.mu.Unlock()
	var res *lspext.ReviewEditResult
	var reason string
	if caps.bridge.ReviewEdit {
		res, reason = s.askReviewEdit(ctx, taskID, req, p)
	} else {
		res, reason = s.askReviewMessage(ctx, taskID, req, p, caps.showDocument)
	}
	return p.verdict(res, reason)
}

// askReviewEdit sends claude/reviewEdit (answered at once or deferred).
func (s *Server) askReviewEdit(ctx context.Context, taskID string, req runner.EditReview, p proposal) (*lspext.ReviewEditResult, string) {
	params := &lspext.ReviewEditParams{TaskID: taskID, ToolUseID: req.ToolUseID, URI: p.uri, Tool: req.Tool,
		Original: p.original, Proposed: p.proposed, Hunks: make([]lspext.ReviewHunk, len(p.hunks))}
	for i, h := range p.hunks {
		params.Hunks[i] = lspext.ReviewHunk{ID: hunkID(i), Range: rangeOf(h.Range),
			OriginalText: p.original[h.OldStart:h.OldEnd], ProposedText: p.proposed[h.NewStart:h.NewEnd]}
	}
	later, forget := s.deferred.open(taskID, req.ToolUseID)
	defer forget()
	var res *lspext.ReviewEditResult
	if err := s.call(ctx, lspext.MethodReviewEdit, params, &res); err != nil {
		return nil, s.unanswered(ctx, lspext.MethodReviewEdit, err)
	}
	if res != nil && res.Deferred {
		a, err := s.awaitDeferred(ctx, lspext.MethodReviewEdit, later)
		if err != nil {
			return nil, s.unanswered(ctx, lspext.MethodReviewEdit, err)
		}
		res = a.Review
		if a.Dismissed {
			res = nil
		}
	}
	if res == nil {
		return nil, "dismissed in the editor"
	}
	return res, ""
}

func rangeOf(r protocol.Range) lspext.Range {
	return lspext.Range{Start: lspext.Position{Line: r.Start.Line, Character: r.Start.Character},
		End: lspext.Position{Line: r.End.Line, Character: r.End.Character}}
}

// askReviewMessage asks with window/showMessageRequest: Accept, Reject
// and (with window/showDocument) Show diff, which opens the change as a
// unified diff and asks again.
func (s *Server) askReviewMessage(ctx context.Context, taskID string, req runner.EditReview, p proposal, showDocument bool) (*lspext.ReviewEditResult, string) {
	actions := []lspext.MessageActionItem{{Title: actionAccept}, {Title: actionReject}}
	msg := reviewMessage(p)
	diff := review.Unified(p.name, p.original, p.proposed, 3)
	if showDocument {
		actions = append(actions, lspext.MessageActionItem{Title: actionShowDiff})
	} else {
		msg += "\n\n" + truncate(diff, 2000)
	}
	for {
		params := &lspext.PermissionRequestParams{Type: int(protocol.MessageTypeInfo), Message: msg, Actions: actions,
			TaskID: taskID, ToolUseID: req.ToolUseID, ToolName: req.Tool}
		var answer *protocol.MessageActionItem
		if err := s.call(ctx, lspext.MethodShowMessageRequest, params, &answer); err != nil {
			return nil, s.unanswered(ctx, lspext.MethodShowMessageRequest, err)
		}
		switch {
		case answer == nil || answer.Title == "":
			return nil, "dismissed in the editor"
		case answer.Title == actionAccept:
			return &lspext.ReviewEditResult{Decision: lspext.ReviewAccept}, ""
		case answer.Title == actionReject:
			return &lspext.ReviewEditResult{Decision: lspext.ReviewReject}, ""
		case answer.Title == actionShowDiff:
			path, err := s.writeDiff(taskID, req.ToolUseID, diff)
			if err == nil {
				var res struct {
					Success bool `json:"success"`
				}
				err = s.call(ctx, "window/showDocument", map[string]any{"uri": pathToURI(path), "takeFocus": true}, &res)
			}
			if err != nil {
				if ctx.Err() != nil {
					return nil, "the question was withdrawn"
				}
				s.log.Warn("could not show the diff", zap.Error(err))
				msg = reviewMessage(p) + "\n\n" + truncate(diff, 2000)
				actions = actions[:2]
			}
		default:
			return nil, fmt.Sprintf("the editor answered %q, which is not one of the choices", answer.Title)
		}
	}
}

// reviewMessage is the question of an edit to review: "Claude wants to
// edit main.go: +3 −1 in 2 hunks".
func reviewMessage(p proposal) string {
	added, removed := 0, 0
	for _, h := range p.hunks {
		added += textedit.LineCount(p.proposed[h.NewStart:h.NewEnd])
		removed += textedit.LineCount(p.original[h.OldStart:h.OldEnd])
	}
	if p.newFile {
		return fmt.Sprintf("Claude wants to create %s: +%d %s", p.name, added, plural(added, "line", "lines"))
	}
	return fmt.Sprintf("Claude wants to edit %s: +%d \u2212%d in %d %s", p.name, added, removed, len(p.hunks), plural(len(p.hunks), "hunk", "hunks"))
}

// writeDiff writes a review's diff to <state>/reviews/<taskId>-<toolUseId>.diff
// (0600 in a 0700 folder, atomically; files older than planKeep dropped).
func (s *Server) writeDiff(taskID, toolUseID, diff string) (string, error) {
	dir := filepath.Join(s.stateDir(), "reviews")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	forgetOldPlans(dir)
	path := filepath.Join(dir, safeName(taskID)+"-"+safeName(toolUseID)+".diff")
	return path, writePrivate(path, diff)
}

// verdict turns the editor's answer into the runner's verdict: what to
// write (in the file's bytes on disk), and what to tell claude.
func (p proposal) verdict(res *lspext.ReviewEditResult, reason string) runner.EditVerdict {
	all := make([]string, len(p.hunks))
	for i := range p.hunks {
		all[i] = hunkID(i)
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
	accepted := p.proposed
	switch {
	case res.Text != nil:
		accepted = *res.Text
		v.Edited = accepted != p.proposed
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
		accepted = textedit.ApplyHunks(p.original, p.proposed, p.hunks, func(i int) bool { return keep[hunkID(i)] })
		if len(v.Rejected) > 0 {
			v.Summary = "written " + p.describe(v.Accepted) + "; left out " + p.describe(v.Rejected)
		}
	default:
		v.Accepted = all
	}
	if accepted == p.proposed {
		return v // as proposed: claude writes its own input
	}
	if len(v.Accepted) == 0 && !v.Edited {
		v.Accept, v.Summary = false, "rejected "+p.describe(v.Rejected)
		return v
	}
	// Back to the file on disk: the user's changes to the buffer that the
	// review showed (unsaved ones) stay out of it.
	target := accepted
	if p.original != p.disk {
		if merged, conflicts := textedit.Merge3(p.original, p.disk, accepted); len(conflicts) == 0 {
			target = merged
		}
	}
	v.Result = review.Encode(textedit.ConvertLineEndings(target, p.eol), p.enc)
	return v
}

// describe names hunks for claude: "h2 (line 5: `LINE5`)".
func (p proposal) describe(ids []string) string {
	var parts []string
	for _, id := range ids {
		var i int
		if _, err := fmt.Sscanf(id, "h%d", &i); err != nil || i < 1 || i > len(p.hunks) {
			continue
		}
		h := p.hunks[i-1]
		where := h.New.String()
		if h.New.End <= h.New.Start {
			where = "deleting " + h.Old.String()
		}
		text := firstLine(p.proposed[h.NewStart:h.NewEnd], 60)
		if text == "" {
			parts = append(parts, fmt.Sprintf("%s (%s)", id, where))
		} else {
			parts = append(parts, fmt.Sprintf("%s (%s: `%s`)", id, where, text))
		}
	}
	return strings.Join(parts, ", ")
}

// edits says where the user's version differs from claude's proposal, in
// the user's version: "lines 4-5 are now `…`".
func (p proposal) edits(accepted string) string {
	var parts []string
	size := 0
	for _, h := range textedit.Hunks(p.proposed, accepted) {
		text := accepted[h.NewStart:h.NewEnd]
		var part string
		if h.New.End <= h.New.Start {
			part = fmt.Sprintf("your %s removed", h.Old.String())
		} else {
			part = fmt.Sprintf("%s read:\n%s", h.New.String(), truncate(text, 400))
		}
		if size += len(part); size > 1500 {
			parts = append(parts, "and more")
			break
		}
		parts = append(parts, part)
	}
	return "in their version " + strings.Join(parts, "; ")
}
