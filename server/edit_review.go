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
	"github.com/claude-bridge/claude-bridge/server/bufsync"
	"github.com/claude-bridge/claude-bridge/server/lspext"
	"github.com/claude-bridge/claude-bridge/server/review"
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

// propose computes what the user reviews: the file as it is open in the
// editor (unsaved changes included, when claude's change merges with
// them), else as it is on disk.
func (s *Server) propose(ctx context.Context, req runner.EditReview) review.Proposal {
	buffer, open := "", false
	if docs, err := s.bufs.docs.Find(ctx, req.Path); err == nil && len(docs) > 0 {
		if d, err := s.bufs.docs.WaitLoaded(ctx, docs[0].URI); err == nil {
			buffer, open = d.Text, true
		}
	}
	return review.Propose(req, s.displayPath(req.Path), buffer, open)
}

// reviewEdit shows an edit claude is about to write and returns the
// user's verdict: with claude/reviewEdit to an editor that declares
// lspext.ClientCapabilities.reviewEdit, else with
// window/showMessageRequest (Accept, Reject, Show diff).
func (s *Server) reviewEdit(ctx context.Context, taskID string, req runner.EditReview) runner.EditVerdict {
	p := s.propose(ctx, req)
	uri := s.editorURI(req.Path)
	s.mu.Lock()
	caps := s.caps
	s.mu.Unlock()
	var res *lspext.ReviewEditResult
	var reason string
	if caps.bridge.ReviewEdit {
		res, reason = s.askReviewEdit(ctx, taskID, req, p, uri)
	} else {
		res, reason = s.askReviewMessage(ctx, taskID, req, p, caps.showDocument)
	}
	v := p.Verdict(res, reason)
	if unknown := p.UnknownHunks(res); len(unknown) > 0 {
		s.ShowMessage(protocol.MessageTypeWarning, fmt.Sprintf("claude-bridge: the answer to the review of %s accepted hunks it does not have (%s): nothing was written, and Claude was told the answer could not be used.",
			p.Name, strings.Join(unknown, ", ")))
	}
	if text, ok := p.BufferText(res, v); ok {
		s.bufs.reviewed(req.ToolUseID, bufsync.Reviewed{Shown: p.Original, Accepted: text})
	}
	if p.SavesUnsaved(res, v) {
		s.ShowMessage(protocol.MessageTypeWarning, fmt.Sprintf("claude-bridge: %s: your unsaved changes touch the lines of the change you accepted, so the file on disk now has the whole version you accepted, your unsaved changes included.", p.Name))
	}
	return v
}

// askReviewEdit sends claude/reviewEdit (answered at once or deferred).
func (s *Server) askReviewEdit(ctx context.Context, taskID string, req runner.EditReview, p review.Proposal, uri string) (*lspext.ReviewEditResult, string) {
	params := &lspext.ReviewEditParams{TaskID: taskID, ToolUseID: req.ToolUseID, URI: uri, Tool: req.Tool,
		Original: p.Original, Proposed: p.Proposed, Hunks: p.ReviewHunks(), Notice: p.Notice}
	later, forget := s.deferred.open(ctx, lspext.MethodReviewEdit, taskID, req.ToolUseID)
	defer forget()
	var res *lspext.ReviewEditResult
	if err := s.callReply(ctx, lspext.MethodReviewEdit, params, &res); err != nil {
		return nil, s.unanswered(ctx, lspext.MethodReviewEdit, err)
	}
	if res != nil && res.Deferred {
		a, err := s.awaitDeferred(ctx, lspext.MethodReviewEdit, later)
		if err != nil {
			return nil, s.unanswered(ctx, lspext.MethodReviewEdit, err)
		}
		res = nil
		if r := a.Review; r != nil && !a.Dismissed {
			res = &lspext.ReviewEditResult{Decision: r.Decision, AcceptedHunks: r.AcceptedHunks, Text: r.Text, Feedback: r.Feedback}
		}
	}
	if res == nil {
		return nil, "dismissed in the editor"
	}
	return res, ""
}

// askReviewMessage asks with window/showMessageRequest: Accept, Reject
// and (with window/showDocument) Show diff, which opens the change as a
// unified diff and asks again.
func (s *Server) askReviewMessage(ctx context.Context, taskID string, req runner.EditReview, p review.Proposal, showDocument bool) (*lspext.ReviewEditResult, string) {
	actions := []lspext.MessageActionItem{{Title: actionAccept}, {Title: actionReject}}
	msg := p.Message()
	if p.Notice != "" {
		msg += "\n\n" + p.Notice
	}
	diff := review.Unified(p.Name, p.Original, p.Proposed, 3)
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
			path, err := s.writeReview(taskID, req.ToolUseID, p, diff)
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
				msg = p.Message() + "\n\n" + truncate(diff, 2000)
				actions = actions[:2]
			}
		default:
			return nil, fmt.Sprintf("the editor answered %q, which is not one of the choices", answer.Title)
		}
	}
}

// writeReview writes what "Show diff" shows under <state>/reviews/: the
// proposal itself (<taskId>-<toolUseId>-<file name>, with the file's own
// extension, so that an editor highlights it and can compare it with the
// file) and the change as a unified diff (<taskId>-<toolUseId>.diff, whose
// header names both), which is what is opened. 0600 in a 0700 folder,
// atomically; files older than planKeep are dropped. It returns the diff's
// path.
func (s *Server) writeReview(taskID, toolUseID string, p review.Proposal, diff string) (string, error) {
	dir := filepath.Join(s.stateDir(), "reviews")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	forgetOldPlans(dir)
	base := safeName(taskID) + "-" + safeName(toolUseID)
	proposal := filepath.Join(dir, base+"-"+filepath.Base(p.Name))
	if err := writePrivate(proposal, p.Proposed); err != nil {
		return "", err
	}
	path := filepath.Join(dir, base+".diff")
	head := fmt.Sprintf("# Claude's proposed change to %s (the whole proposal: %s)\n", p.Name, proposal)
	return path, writePrivate(path, head+diff)
}
