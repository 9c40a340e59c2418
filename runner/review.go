package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/claude-bridge/claude-bridge/runner/checkpoint"
	"github.com/claude-bridge/claude-bridge/runner/edits"
	"github.com/claude-bridge/claude-bridge/runner/stream"
)

// Reviewing the agent's changes (the review setting): edits held before
// they are written (beforeWrite), and checkpoints of every file a task
// changes (afterTurn and beforeWrite), through hooks claude calls back.
//
// The bridge registers hooks with claude's initialize control request,
// {"hooks": {"PreToolUse": [{"matcher", "hookCallbackIds", "timeout"}],
// …}}, as the Agent SDKs do; claude then sends {"type":"control_request",
// "request":{"subtype":"hook_callback","callback_id","input",
// "tool_use_id"}} and waits for the answer. Measured on claude 2.1.332:
//   - PreToolUse fires before every matching tool call in every permission
//     mode (default, acceptEdits, bypassPermissions), before claude's own
//     permission check: an answer of {} leaves the call to the permission
//     mode (in default mode claude then sends can_use_tool as usual);
//     {"hookSpecificOutput": {"hookEventName": "PreToolUse",
//     "permissionDecision": "allow", "updatedInput": {...}}} runs the tool
//     with that input and asks nothing more (no can_use_tool, even in
//     default mode); "deny" with "permissionDecisionReason" gives the model
//     an error tool result "PreToolUse:Edit hook error: <reason>" and
//     writes nothing. Input validation comes first: NotebookEdit on a file
//     claude has not read fails before the hook.
//   - The input is {"session_id", "transcript_path", "cwd",
//     "permission_mode", "hook_event_name", "tool_name", "tool_input",
//     "tool_use_id", …}; PostToolUse adds "tool_response" (the tool's
//     tool_use_result). PostToolUse fires after the tool ran, before its
//     result goes to the model.
//   - A PostToolUse answer with "additionalContext" reaches the model as a
//     message of its own right after the tool result ("PostToolUse:Edit
//     hook additional context: …"); "updatedToolOutput" replaces the
//     tool's output when it has the tool's output shape (a string is
//     ignored): an Edit or Write output with "userModified": true makes
//     the tool result read "… has been updated successfully.  The user
//     modified your proposed changes before accepting them."
//   - A matcher's "timeout" is in seconds; a PreToolUse callback not
//     answered by then is withdrawn (control_cancel_request) and the call
//     refused ("PreToolUse hook did not respond before its timeout").
//
// Hooks are registered on the claudes of tasks with review on
// (Options.ReviewHooks, part of a process's launch): a task with review off
// runs a claude without them, as before, and pays no round trip per tool
// call (which would also widen the moment between claude's write and its
// tool result, where the directory watcher may see the change first).

// The hook callback ids the bridge registers.
const (
	hookPreFile      = "bridge-pre-file"
	hookPostFile     = "bridge-post-file"
	hookPreBash      = "bridge-pre-bash"
	hookPostBash     = "bridge-post-bash"
	hookPostBashFail = "bridge-post-bash-failure"
)

// Review modes (Spec.Review).
const (
	ReviewOff         = "off"
	ReviewBeforeWrite = "beforeWrite"
	ReviewAfterTurn   = "afterTurn"
)

// HooksFor reports whether a task with review mode registers the review
// hooks (Options.ReviewHooks): any mode but off ("" is off). The options
// warm claudes are started with (Config.Defaults) use it too, so that a
// task with the configured review takes one.
func HooksFor(mode string) bool { return mode != "" && mode != ReviewOff }

// ValidReview reports whether mode is a review mode ("" is off).
func ValidReview(mode string) error {
	switch mode {
	case "", ReviewOff, ReviewBeforeWrite, ReviewAfterTurn:
		return nil
	}
	return fmt.Errorf("unknown review %q (want off, beforeWrite or afterTurn)", mode)
}

// Hook timeouts, in seconds (claude refuses a call whose hook is not
// answered by then): a held edit waits for a person (the server gives up
// after 10 minutes itself); a snapshot is bounded by checkpoint.WarmLimit.
const (
	reviewHookTimeout   = 3600
	snapshotHookTimeout = 120
)

// hooksConfig is the hooks of the initialize request.
func hooksConfig() map[string]any {
	matcher := func(m, id string, timeout int) []map[string]any {
		return []map[string]any{{"matcher": m, "hookCallbackIds": []string{id}, "timeout": timeout}}
	}
	fileTools := "Edit|MultiEdit|Write|NotebookEdit"
	return map[string]any{
		"PreToolUse":         append(matcher(fileTools, hookPreFile, reviewHookTimeout), matcher("Bash", hookPreBash, snapshotHookTimeout)...),
		"PostToolUse":        append(matcher(fileTools, hookPostFile, 30), matcher("Bash", hookPostBash, snapshotHookTimeout)...),
		"PostToolUseFailure": matcher("Bash", hookPostBashFail, snapshotHookTimeout),
	}
}

// hookInput is the part of a hook's input the bridge reads.
type hookInput struct {
	Event          string          `json:"hook_event_name"`
	ToolName       string          `json:"tool_name"`
	ToolInput      json.RawMessage `json:"tool_input"`
	ToolUseID      string          `json:"tool_use_id"`
	PermissionMode string          `json:"permission_mode"`
	ToolResponse   json.RawMessage `json:"tool_response"`
}

// EditReview is an edit claude is about to write, held for the user's
// review (review beforeWrite).
type EditReview struct {
	ToolUseID string
	Tool      string // Edit, MultiEdit, Write or NotebookEdit
	Input     json.RawMessage
	Path      string // absolute
	// Before is the file on disk now (claude has not written yet).
	Before edits.File
	// After is the file's bytes as the call would leave them.
	After []byte
}

// EditVerdict is the user's answer to an EditReview.
type EditVerdict struct {
	// Accept is true when something is to be written.
	Accept bool
	// Result is the file's bytes to write (accept): nil writes After as it
	// is; otherwise the hunks kept, or the user's own version.
	Result []byte
	// Edited is true when Result is the user's own version.
	Edited bool
	// Accepted and Rejected are the ids of the hunks written and left out.
	Accepted, Rejected []string
	// Summary tells claude which hunks went where, in a few words:
	// "written h1 (lines 2-3); rejected h2 (line 5: …)".
	Summary string
	// Feedback is what the user tells claude.
	Feedback string
	// Reason says why nobody decided ("" when the user did).
	Reason string
}

// EditReviewer is an Observer that can show an edit for review. A task
// whose observer is not one writes without review.
type EditReviewer interface {
	// ReviewEdit shows the edit and returns the user's verdict; ctx ends
	// when the task is cancelled or claude withdraws the call.
	ReviewEdit(ctx context.Context, t *Task, req EditReview) EditVerdict
}

// OpenFiles is an Observer that knows the files the user has open; their
// changes by Bash commands are checkpointed even where the folder cannot
// be snapshotted (no git).
type OpenFiles interface {
	OpenFiles() []string
}

// ReviewEvent reports how a held edit was reviewed.
type ReviewEvent struct {
	EditReview
	EditVerdict
}

// postNote is what the PostToolUse hook of a reviewed call tells claude.
type postNote struct {
	userModified bool
	context      string
}

// bashBefore is the state before a Bash command: the folders' snapshots,
// and the files watched besides (the open files of the folders that have
// none, the files outside them their symbolic links point to).
type bashBefore struct {
	command string    // the command, for people ("Bash: sed -i …")
	start   time.Time // when the hook came
	snaps   []checkpoint.Snapshot
	files   checkpoint.FileSet
}

// hookCallback answers one of claude's hook_callback requests.
func (t *Task) hookCallback(ctx context.Context, req *stream.ControlRequest) any {
	var in hookInput
	if err := json.Unmarshal(req.Input, &in); err != nil {
		return map[string]any{}
	}
	if in.ToolUseID == "" {
		in.ToolUseID = req.ToolUseID
	}
	switch req.CallbackID {
	case hookPreFile:
		return t.beforeFileTool(ctx, in)
	case hookPostFile:
		return t.afterFileTool(in)
	case hookPreBash:
		t.beforeBash(ctx, in)
	case hookPostBash, hookPostBashFail:
		// What the command changed is recorded even if claude withdraws
		// the call or the task ends meanwhile (endControls waits for it,
		// then finishCheckpoint): bounded as finishCheckpoint's own is.
		bctx, cancel := context.WithTimeout(context.Background(), checkpoint.WarmLimit)
		t.afterBash(bctx, in.ToolUseID)
		cancel()
	}
	return map[string]any{}
}

// reviewMode is the task's review mode ("off" for none).
func (t *Task) reviewMode() string {
	if t.Spec.Review == "" {
		return ReviewOff
	}
	return t.Spec.Review
}

// preDecision is a PreToolUse answer.
func preDecision(allow bool, reason string, input json.RawMessage) map[string]any {
	out := map[string]any{"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": reason}
	if allow {
		out["permissionDecision"] = "allow"
		if input != nil {
			out["updatedInput"] = input
		}
	}
	return map[string]any{"hookSpecificOutput": out}
}

// beforeFileTool is the moment before claude writes a file: the file is
// checkpointed, and with review beforeWrite the edit is held for review.
func (t *Task) beforeFileTool(ctx context.Context, in hookInput) any {
	mode := t.reviewMode()
	path := edits.Path(in.ToolName, in.ToolInput)
	if mode == ReviewOff || path == "" || isPlanFile(path) {
		return map[string]any{}
	}
	if !filepath.IsAbs(path) {
		path = filepath.Join(t.Spec.Workspace, path)
	}
	if inRoot, _ := within(path, t.roots()); !inRoot {
		return map[string]any{} // the permission decision denies it (or says the look-up hung)
	}
	// A symbolic link is written through: the file it points to is what
	// changes (and what a Bash command's snapshot sees change).
	path = throughLink(path)
	review := mode == ReviewBeforeWrite && in.PermissionMode != "plan" && !t.disallowed(in.ToolName)
	if t.ckpt == nil && !review {
		return map[string]any{}
	}
	// The file as it is now, read once: the checkpoint's content before the
	// task's first change (written while the user reviews: claude writes
	// only after both), what the edit is computed from, and what the task
	// tells other tasks the file was before its write (attribution.go).
	at := time.Now()
	now, err := checkpoint.Read(ctx, path, checkpoint.DefaultMaxFile)
	if err == nil && now.IsLink() {
		err = errors.New("it is a symbolic link to a file that does not exist")
	}
	before := edits.File{Exists: now.Exists, Data: now.Data}
	if err == nil {
		t.notePreRead(in.ToolUseID, now)
	}
	captured := make(chan struct{})
	go func() { // ends when the checkpoint is written; waited for below
		defer close(captured)
		t.capture(path, now, at, err)
	}()
	defer func() { <-captured }()
	if !review {
		return map[string]any{}
	}
	if err != nil {
		return preDecision(false, fmt.Sprintf("claude-bridge cannot read %s to show this edit for review (%s), so nothing was written.", RelPath(path, t.Spec.Workspace), checkpoint.Unreadable(err)), nil)
	}
	return t.holdEdit(ctx, in, path, before)
}

// throughLink is the file a symbolic link at path points to (path itself
// when it is no link, or a dangling one).
func throughLink(path string) string {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			return real
		}
	}
	return path
}

// capture checkpoints path's content before the task's first change to it
// (c: what is there, read at at; readErr why it could not be read).
func (t *Task) capture(path string, c checkpoint.Content, at time.Time, readErr error) {
	if t.ckpt == nil || t.ckpt.Captured(path) {
		return
	}
	if readErr != nil {
		t.ckpt.Uncover(fmt.Sprintf("%s is not checkpointed: %s.", RelPath(path, t.Spec.Workspace), checkpoint.Unreadable(readErr)))
		return
	}
	if err := t.ckpt.CaptureContent(path, c, at); err != nil {
		// The checkpoint says which file and why (Uncovered): the task's
		// reply and claude/changes carry it.
		t.log.Warn("checkpoint not written", zap.String("path", path), zap.Error(err))
		t.status("The checkpoint of " + RelPath(path, t.Spec.Workspace) + " could not be written: " + checkpoint.Problem(err, filepath.Dir(t.ckptStore().Dir())))
	}
}

// ckptStore is the store of the task's checkpoint.
func (t *Task) ckptStore() *checkpoint.Store { return t.mgr.cfg().Checkpoints }

func (t *Task) roots() []string {
	if len(t.Spec.Roots) > 0 {
		return t.Spec.Roots
	}
	return []string{t.Spec.Workspace}
}

func (t *Task) disallowed(tool string) bool {
	for _, d := range t.Spec.DisallowedTools {
		if d == tool {
			return true
		}
	}
	return false
}

// holdEdit computes what the call would write to the file (before: as it
// is now), has the user review it and tells claude the verdict.
func (t *Task) holdEdit(ctx context.Context, in hookInput, path string, before edits.File) any {
	rel := RelPath(path, t.Spec.Workspace)
	after, err := edits.Apply(in.ToolName, in.ToolInput, before)
	if err != nil {
		return preDecision(false, err.Error(), nil)
	}
	// A Write over a CRLF file is proposed with the file's line breaks
	// (claude's content has LF): hunks per changed line, and the file
	// stays CRLF; claude is told so once it wrote.
	kept := false
	if in.ToolName == "Write" {
		after, kept = edits.KeepBreaks(before, after)
	}
	if before.Exists && bytes.Equal(after, before.Data) {
		return map[string]any{} // nothing to review: claude reports the no-op itself
	}
	reviewer, ok := t.obs.(EditReviewer)
	if !ok {
		return map[string]any{}
	}
	req := EditReview{ToolUseID: in.ToolUseID, Tool: in.ToolName, Input: in.ToolInput, Path: path, Before: before, After: after}
	done := t.waitingFor()
	t.emit(Event{Kind: EventActivity, Message: "Waiting for your review: " + rel})
	v := reviewer.ReviewEdit(ctx, t, req)
	done()
	if ctx.Err() != nil {
		v = EditVerdict{Reason: EndReason(ctx), Rejected: append(v.Accepted, v.Rejected...)}
	}
	if v.Accept && v.Result != nil && before.Exists && bytes.Equal(v.Result, before.Data) {
		// Every hunk left out (or the user's version is the file as it
		// was): nothing to write, a reject of every hunk.
		v.Accept, v.Edited, v.Result = false, false, nil
		v.Rejected, v.Accepted = append(v.Accepted, v.Rejected...), nil
	}
	answer := t.verdictAnswer(in, req, v, rel, kept)
	t.emit(Event{Kind: EventReview, Review: &ReviewEvent{EditReview: req, EditVerdict: v}})
	return answer
}

// keptBreaksNote tells claude that its Write kept the file's CRLF line
// breaks (edits.KeepBreaks), %s the file's name.
const keptBreaksNote = "%s keeps its CRLF line breaks: your content was written with CRLF line breaks, not the LF ones you sent."

// verdictAnswer is claude's answer for a verdict: allow (with the input
// that writes what was accepted) or deny, and what the PostToolUse hook
// will add.
func (t *Task) verdictAnswer(in hookInput, req EditReview, v EditVerdict, rel string, keptBreaks bool) any {
	feedback := ""
	if f := strings.TrimSpace(v.Feedback); f != "" {
		feedback = " Their feedback: " + f
	}
	if !v.Accept {
		if v.Reason != "" {
			return preDecision(false, fmt.Sprintf("The edit of %s was not written: %s.%s", rel, v.Reason, feedback), nil)
		}
		what := ""
		if v.Summary != "" {
			what = " (" + v.Summary + ")"
		}
		return preDecision(false, fmt.Sprintf("The user rejected this edit of %s%s; nothing was written.%s", rel, what, feedback), nil)
	}
	breaks := ""
	if keptBreaks {
		breaks = " " + fmt.Sprintf(keptBreaksNote, rel)
	}
	if v.Result == nil || bytes.Equal(v.Result, req.After) {
		switch {
		case feedback != "":
			t.notePost(in.ToolUseID, postNote{context: fmt.Sprintf("The user accepted this edit of %s.%s%s", rel, breaks, feedback)})
		case keptBreaks:
			t.notePost(in.ToolUseID, postNote{context: strings.TrimSpace(breaks)})
		}
		// The input that writes exactly what the user saw: claude's own
		// Edit may differ where this package's model of it is not exact
		// (the quote style it keeps when curly quotes matched straight
		// ones). A notebook keeps claude's input (its new cells' ids).
		var exact json.RawMessage
		if in.ToolName != "NotebookEdit" {
			exact, _ = edits.Rewrite(in.ToolName, in.ToolInput, req.Before, req.After)
		}
		return preDecision(true, "accepted in review", exact)
	}
	note := fmt.Sprintf("The user reviewed this edit of %s and kept only part of it: %s. The file has only what was kept.%s%s", rel, v.Summary, breaks, feedback)
	if v.Edited {
		note = fmt.Sprintf("The user edited your proposed change to %s before accepting it: the file now has their version, not yours (%s). Read it again before editing it further.%s%s", rel, v.Summary, breaks, feedback)
	}
	input, err := edits.Rewrite(in.ToolName, in.ToolInput, req.Before, v.Result)
	if err == nil {
		t.notePost(in.ToolUseID, postNote{userModified: true, context: note})
		return preDecision(true, "accepted in review, changed", input)
	}
	// No input of this tool writes the user's version (a notebook changed
	// beyond its cell): the bridge writes it, and claude's call is refused.
	if err := writeFile(req.Path, v.Result); err != nil {
		return preDecision(false, fmt.Sprintf("The user accepted a changed version of this edit of %s, but claude-bridge could not write it (%v); nothing was written.%s", rel, err, feedback), nil)
	}
	s := string(v.Result)
	t.mu.Lock()
	if t.bridgeWrote == nil {
		t.bridgeWrote = map[string]FileChange{}
	}
	t.bridgeWrote[in.ToolUseID] = FileChange{Path: req.Path, after: readKnown(&s), Label: "Claude: " + in.ToolName + " " + rel + " (reviewed)"}
	t.mu.Unlock()
	return preDecision(false, note+" (claude-bridge wrote the user's version itself: this is not an error of yours.)", nil)
}

func (t *Task) notePost(toolUseID string, n postNote) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.postNotes == nil {
		t.postNotes = map[string]postNote{}
	}
	t.postNotes[toolUseID] = n
}

// afterFileTool tells claude what the review changed, once its tool ran.
func (t *Task) afterFileTool(in hookInput) any {
	t.mu.Lock()
	n, ok := t.postNotes[in.ToolUseID]
	delete(t.postNotes, in.ToolUseID)
	t.mu.Unlock()
	if !ok {
		return map[string]any{}
	}
	out := map[string]any{"hookEventName": "PostToolUse", "additionalContext": n.context}
	if n.userModified {
		var resp map[string]any
		if json.Unmarshal(in.ToolResponse, &resp) == nil && resp != nil {
			resp["userModified"] = true
			out["updatedToolOutput"] = resp
		}
	}
	return map[string]any{"hookSpecificOutput": out}
}

// writeFile writes data over path atomically, keeping its mode, through
// a symbolic link to the file it names.
func writeFile(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return checkpoint.WriteAtomic(path, data, mode)
}

// maxOutsideLinks bounds the files outside the task's folders that its
// folders' symbolic links point to and that are read before each Bash
// command (a write through such a link changes a file no snapshot holds).
const maxOutsideLinks = 200

// beforeBash snapshots the task's folders before a Bash command runs, and
// reads the files outside them that their symbolic links point to.
func (t *Task) beforeBash(ctx context.Context, in hookInput) {
	if t.ckpt == nil {
		return
	}
	b := &bashBefore{command: bashCommand(in.ToolInput), start: time.Now()}
	var watch []string
	for _, root := range t.roots() {
		snap, err := t.mgr.cfg().Snapshots.Take(ctx, root)
		if err == nil {
			b.snaps = append(b.snaps, snap)
			watch = append(watch, t.outsideLinks(snap.Links)...)
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, checkpoint.ErrWarming) {
			t.ckpt.Uncover(fmt.Sprintf("Changes of Bash commands run in %s before its first snapshot was ready are checkpointed only for files open in the editor (and files Claude edits with its file tools).", root))
		} else {
			t.ckpt.Uncover(fmt.Sprintf("Changes Bash commands make in %s are checkpointed only for files open in the editor (and files Claude edits with its file tools): %v.", root, err))
		}
		if of, ok := t.obs.(OpenFiles); ok {
			for _, p := range of.OpenFiles() {
				if inRoot, _ := within(p, []string{root}); inRoot {
					watch = append(watch, p)
				}
			}
		}
	}
	if len(watch) > 0 {
		b.files = checkpoint.TakeFiles(ctx, watch, checkpoint.DefaultMaxFile)
	}
	t.mu.Lock()
	if t.bashBefore == nil {
		t.bashBefore = map[string]*bashBefore{}
	}
	t.bashBefore[in.ToolUseID] = b
	t.mu.Unlock()
}

// outsideLinks are the regular files outside the task's folders that the
// symbolic links given point to (at most maxOutsideLinks; the checkpoint
// says when there are more).
func (t *Task) outsideLinks(links []string) []string {
	var out []string
	for _, l := range links {
		real, err := filepath.EvalSymlinks(l)
		if err != nil {
			continue
		}
		if in, _ := within(real, t.roots()); in {
			continue
		}
		if fi, err := os.Stat(real); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if len(out) == maxOutsideLinks {
			t.ckpt.Uncover(fmt.Sprintf("More than %d symbolic links in the task's folders point to files outside them: what Bash commands write through the others is not checkpointed.", maxOutsideLinks))
			break
		}
		out = append(out, real)
	}
	return out
}

// bashCommand is the command of a Bash call's input, cut to a line and
// quoted ("`sed -i s/a/b/ a.txt`").
func bashCommand(input json.RawMessage) string {
	if c := decodeInput(input).Command; c != "" {
		return "`" + oneLine(c, 80) + "`"
	}
	return "(its command unknown)"
}

// afterBash compares the folders with their snapshots from before the
// Bash command, checkpoints what it changed, and tells the other tasks
// running what it changed (attribution.go).
func (t *Task) afterBash(ctx context.Context, toolUseID string) {
	t.mu.Lock()
	b := t.bashBefore[toolUseID]
	delete(t.bashBefore, toolUseID)
	t.mu.Unlock()
	if b == nil || t.ckpt == nil {
		return
	}
	snaps := t.mgr.cfg().Snapshots
	var changes []checkpoint.Change
	for _, before := range b.snaps {
		now, err := snaps.Take(ctx, before.Folder)
		if err == nil {
			var cs []checkpoint.Change
			if cs, err = snaps.Changes(ctx, before, now, checkpoint.DefaultMaxFile); err == nil {
				changes = append(changes, cs...)
				continue
			}
		}
		t.ckpt.Uncover(fmt.Sprintf("What the Bash command %s changed in %s is not checkpointed: %s.", b.command, before.Folder, checkpoint.SnapshotProblem(err)))
	}
	changes = append(changes, b.files.Changes(ctx, checkpoint.DefaultMaxFile)...)
	start := b.start
	if len(b.snaps) > 0 {
		start = b.snaps[0].At
	}
	if len(b.snaps) == 0 {
		// Its changes are not known: for other tasks, it may have changed
		// anything in the folders.
		t.noteWrite(checkpoint.Write{Task: t.ID, Bash: true, Start: start, End: time.Now()})
	}
	for _, c := range changes {
		if isPlanFile(c.Path) {
			continue
		}
		switch {
		case c.Uncovered != "":
			t.ckpt.Uncover(c.Uncovered)
			continue
		case c.TooLarge:
			t.ckpt.Uncover(fmt.Sprintf("%s is not checkpointed: it is larger than %d MiB.", RelPath(c.Path, t.Spec.Workspace), checkpoint.DefaultMaxFile>>20))
			continue
		}
		after, err := checkpoint.Read(ctx, c.Path, checkpoint.DefaultMaxFile)
		known := err == nil
		t.noteWrite(checkpoint.Write{Task: t.ID, Path: c.Path, Bash: true, Start: start, End: time.Now(), Before: c.Before,
			After: func() (checkpoint.Content, bool) { return after, known }})
		if err := t.ckpt.CaptureContent(c.Path, c.Before, start); err != nil {
			t.log.Warn("checkpoint not written", zap.String("path", c.Path), zap.Error(err))
		}
	}
}

// beginCheckpoint starts the task's checkpoint (review afterTurn or
// beforeWrite, with a store configured) and warms the snapshots of its
// folders.
func (t *Task) beginCheckpoint() {
	cfg := t.mgr.cfg()
	if t.reviewMode() == ReviewOff || cfg.Checkpoints == nil {
		return
	}
	cp, err := cfg.Checkpoints.Begin(t.ID, t.Spec.Workspace, t.reviewMode())
	if err != nil {
		// cp keeps nothing and says why (its Uncovered, in the task's
		// reply and claude/changes).
		t.log.Warn("checkpoint not started", zap.Error(err))
		t.status("The task's changes cannot be checkpointed: " + checkpoint.Problem(err, filepath.Dir(cfg.Checkpoints.Dir())))
	}
	t.mu.Lock()
	t.ckpt = cp
	t.mu.Unlock()
	for _, root := range t.roots() {
		cfg.Snapshots.Warm(root)
	}
}

// finishCheckpoint records the task's files as it ends: a Bash command
// whose end was not seen (an interrupt) is compared now.
func (t *Task) finishCheckpoint() {
	if t.ckpt == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), checkpoint.WarmLimit)
	defer cancel()
	t.mu.Lock()
	var pending []string
	for id := range t.bashBefore {
		pending = append(pending, id)
	}
	t.mu.Unlock()
	for _, id := range pending {
		t.afterBash(ctx, id)
	}
	if err := t.ckpt.Finish(ctx); err != nil {
		t.log.Warn("checkpoint not finished", zap.Error(err))
	}
}

// Checkpoint is the task's checkpoint (nil with review off, or before the
// task started).
func (t *Task) Checkpoint() *checkpoint.Task {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ckpt
}

// CheckpointTask is a task's checkpoint (runner/checkpoint).
type CheckpointTask = checkpoint.Task
